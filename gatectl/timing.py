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

from .assemble import AssemblySettings, RunAssembler
from .detect import Event, LayoutDetector
from .model import Anomaly, Crossing, Edge, Layout, Run

TimingEvent = Crossing | Anomaly | Run


class Timing:
    def __init__(self, layout: Layout, assembly: AssemblySettings | None = None) -> None:
        self.layout = layout
        self.detector = LayoutDetector(layout)
        self.assembler = RunAssembler(layout, assembly)

    def feed(self, edge: Edge) -> list[TimingEvent]:
        return self._assemble(self.detector.feed(edge), edge.t_ns)

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
        mark = self.detector.watermark_ns()
        if now_ns is not None and mark is not None:
            out += self.assembler.advance(min(now_ns, mark))
        return out


@dataclass(frozen=True, slots=True)
class TimingResult:
    crossings: tuple[Crossing, ...]
    runs: tuple[Run, ...]  # in the order they started
    anomalies: tuple[Anomaly, ...]


def time_edges(edges: Iterable[Edge], layout: Layout, assembly: AssemblySettings | None = None) -> TimingResult:
    """Crossings, runs and anomalies of a whole record of edges."""
    timing = Timing(layout, assembly)
    events: list[TimingEvent] = []
    for edge in sorted(edges, key=lambda e: e.t_ns):
        events += timing.feed(edge)
    events += timing.flush()
    return TimingResult(
        crossings=tuple(e for e in events if isinstance(e, Crossing)),
        runs=tuple(sorted((e for e in events if isinstance(e, Run)), key=lambda r: (r.started_ns, r.number))),
        anomalies=tuple(sorted((e for e in events if isinstance(e, Anomaly)), key=lambda a: a.t_ns)),
    )
