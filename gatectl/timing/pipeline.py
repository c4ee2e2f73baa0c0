"""The timing pipeline: edges → crossings → runs, live or from a record.

``Timing`` joins the layout's gate detectors and the run assembler into one
state machine with the same three verbs: ``feed`` an edge, ``advance`` the
clock, ``flush`` at the end. ``time_edges`` runs a whole record through it;
because decisions depend on edge times only, a live session and a recompute
of its edges give the same crossings and runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gatectl.timing.assemble import AssemblySettings, RunAssembler
from gatectl.timing.detect import Event, LayoutDetector, detect_record
from gatectl.timing.model import Anomaly, Crossing, Edge, Layout, Run

TimingEvent = Crossing | Anomaly | Run


class Timing:
    def __init__(self, layout: Layout, assembly: AssemblySettings | None = None) -> None:
        self.layout = layout
        self.detector = LayoutDetector(layout)
        self.assembler = RunAssembler(layout, assembly)

    def feed(self, edge: Edge) -> list[TimingEvent]:
        events = self.detector.feed(edge)
        deadline = self.assembler.next_deadline_ns
        if not events and (deadline is None or edge.t_ns <= deadline):
            return []  # the common case: an edge that decides nothing yet
        return self._assemble(events, edge.t_ns)

    def advance(self, now_ns: int) -> list[TimingEvent]:
        return self._assemble(self.detector.advance(now_ns), now_ns)

    def flush(self) -> list[TimingEvent]:
        events: list[TimingEvent] = self._assemble(self.detector.flush(), None)
        return events + self.assembler.flush()

    def _assemble(self, events: list[Event], now_ns: int | None) -> list[TimingEvent]:
        out: list[TimingEvent] = []
        for event in events:
            out.append(event)
            if isinstance(event, Crossing):
                out += self.assembler.feed(event)
        # Runs time out only up to the earliest crossing still held back, so a
        # run is never timed out while the crossing that completes it waits.
        deadline = self.assembler.next_deadline_ns
        if now_ns is not None and deadline is not None and now_ns > deadline:
            mark = self.detector.watermark_ns()
            if mark is not None:
                out += self.assembler.advance(min(now_ns, mark))
        return out


@dataclass(frozen=True, slots=True)
class TimingResult:
    crossings: tuple[Crossing, ...]
    runs: tuple[Run, ...]  # in the order they started
    anomalies: tuple[Anomaly, ...]


def time_edges(edges: Iterable[Edge], layout: Layout, assembly: AssemblySettings | None = None) -> TimingResult:
    """Crossings, runs and anomalies of a whole record of edges: what ``Timing`` gives live."""
    crossings, anomalies, settled_ns = detect_record(edges, layout)
    assembler = RunAssembler(layout, assembly)
    runs: list[Run] = []
    for crossing in crossings:
        runs += assembler.feed(crossing)
    if settled_ns is not None:
        runs += assembler.advance(settled_ns)
    runs += assembler.flush()
    return TimingResult(
        crossings=tuple(crossings),
        runs=tuple(sorted(runs, key=lambda r: (r.started_ns, r.number))),
        anomalies=tuple(anomalies),
    )
