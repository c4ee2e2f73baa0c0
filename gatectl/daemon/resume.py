"""Carrying on after a crash or a power cut: the interrupted session, its runs, its clock.

A session the daemon has open names the boot it was opened on
(``boot_id``); a clean stop closes it. A daemon that finds one still open
carries on with it (``Timekeeper.opened``):

* its timing is rebuilt from the raw log (``rebuild``), so the run under way
  at the crash finishes if its crossings arrive (gate nodes send again what
  was not acknowledged);
* what the rebuild derived and the store lacks is stored, and what the store
  holds beyond it (derived before the crash, as the clock ran on) is not
  stored twice (``Resumed.drop_stored``);
* a run that was under way and ends incomplete says "interrupted by a
  restart" (``Resumed.mark``), and a recompute keeps saying it;
* the gates' clock: on the same boot ``CLOCK_MONOTONIC`` went on counting
  and instants carry on. After a reboot it starts again near zero, so the
  source's instants are shifted (``EpochShift``) to start ``EPOCH_GAP_NS``
  after the session's last instant: intervals inside each epoch stay exact,
  and the run under way at the power cut times out as interrupted (its
  crossings can never come).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from gatectl.coaching.laps import LapCommand, LapRep, time_laps
from gatectl.daemon.sessions import Derived, SessionTiming
from gatectl.sources import EdgeOrigin, EdgeSource, Emit
from gatectl.store import INTERRUPTED, StoredAhead
from gatectl.timing.model import NS_PER_S, Anomaly, Crossing, Edge, Run, RunStatus

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
# A new clock epoch starts this long after the last: longer than any run or window stays open.
EPOCH_GAP_NS = 3600 * NS_PER_S


def boot_id(path: Path = BOOT_ID) -> str:
    """This boot's id: the monotonic clock goes on counting as long as it is the same."""
    try:
        return path.read_text().strip()
    except OSError:  # not Linux: no boot is ever taken for this one, so a restart never trusts the clock
        return "unknown"


class EpochShift:
    """An ``EdgeSource`` whose instants are the source's plus ``offset_ns`` (set before ``start``)."""

    def __init__(self, source: EdgeSource) -> None:
        self.source = source
        self.name = source.name
        self.latency_ns = source.latency_ns
        self.offset_ns = 0

    def start(self, emit: Emit) -> None:
        offset = self.offset_ns
        self.source.start(emit if offset == 0 else lambda e: emit(Edge(e.beam, e.t_ns + offset, e.broken)))

    def stop(self) -> None:
        self.source.stop()

    def now_ns(self) -> int:
        return self.source.now_ns() + self.offset_ns

    def edges_stored(self, edges: Sequence[Edge]) -> None:
        """The edges are durable: a source that waits for it (gate nodes) hears of them as it sent them."""
        stored = getattr(self.source, "edges_stored", None)
        if stored is not None:
            stored(self._as_sent(edges))

    def origins(self, edges: Sequence[Edge]) -> list[EdgeOrigin | None]:
        """Where each edge came from, if the source says (gate nodes); else None for each."""
        told = getattr(self.source, "origins", None)
        return [None] * len(edges) if told is None else told(self._as_sent(edges))

    def _as_sent(self, edges: Sequence[Edge]) -> Sequence[Edge]:
        offset = self.offset_ns
        return edges if offset == 0 else [Edge(e.beam, e.t_ns - offset, e.broken) for e in edges]


def rebuild(timing: SessionTiming, edges: Sequence[Edge], commands: Sequence[LapCommand]) -> list[Derived]:
    """Feed a session's raw log (and the coach's lap commands) into fresh ``timing``, leaving what is under way open."""
    if timing.laps is not None:
        laps = time_laps(edges, commands, timing.laps, flush=False)
        return [*laps.crossings, *laps.anomalies, *laps.reps]
    events: list[Derived] = []
    for edge in edges:
        events += timing.feed(edge)
    return events


@dataclass(slots=True)
class Resumed:
    """What the daemon must remember about the session it carried on with."""

    last_ns: int  # the session's last instant before the restart (in the new epoch's terms)
    ahead: StoredAhead  # stored before the crash, not yet derived again

    def drop_stored(self, events: list[Derived]) -> list[Derived]:
        """The events not already stored before the crash (each stored one is dropped once)."""
        kept: list[Derived] = []
        for event in events:
            if isinstance(event, Crossing) and (event.gate, event.t_ns) in self.ahead.crossings:
                self.ahead.crossings.discard((event.gate, event.t_ns))
            elif isinstance(event, Anomaly) and (key := (event.source, event.t_ns, event.reason)) in self.ahead.anomalies:
                self.ahead.anomalies.discard(key)
            elif isinstance(event, (Run, LapRep)) and self.ahead.runs.get((event.started_ns, event.status.value)):
                self.ahead.runs[(event.started_ns, event.status.value)].pop(0)
            else:
                kept.append(event)
        return kept

    def mark(self, event: Derived) -> Derived:
        """A run under way at the restart that ends incomplete was cut short by it."""
        if isinstance(event, (Run, LapRep)) and event.status is RunStatus.INCOMPLETE and event.started_ns <= self.last_ns:
            return replace(event, reason=INTERRUPTED)
        return event
