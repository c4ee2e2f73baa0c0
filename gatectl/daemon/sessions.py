"""A session under way: its layout, how it is timed, who ran each run; and the athlete queue.

A session times runs along the layout's line of gates (``LineTiming``), or
lap reps on one of its gates (``TrackTiming``, for a ``Track``). Both take
edges in time order and give crossings, anomalies and runs, behind one small
interface (``SessionTiming``); only a track session has ``laps``, the lap
timing the coach's commands steer.

The ``Lineup`` is the athlete queue and whether the gates are armed: the
head of the queue owns the next real run to end. It outlives sessions.
Everything here lives on the daemon thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gatectl.coaching.laps import GroupProgress, GroupRevision, GroupStart, LapRep, LapSplit, LapStart, LapTiming, Track
from gatectl.daemon.events import EventBus
from gatectl.timing.model import Anomaly, Crossing, Edge, Gate, Layout, Run, RunStatus
from gatectl.timing.pipeline import Timing

# What a session's timing gives; a group's track rep: its start, whose each crossing was, a mark's revision.
Derived = Crossing | Anomaly | Run | LapStart | LapSplit | LapRep | GroupStart | GroupProgress | GroupRevision


class SessionTiming(Protocol):
    """Edges (in time order) → crossings → runs, for one session."""

    @property
    def track(self) -> Track | None:
        """The track, when the session times lap reps on one gate."""

    @property
    def laps(self) -> LapTiming | None:
        """The lap timing the coach's commands steer (track reps only)."""

    @property
    def gates(self) -> tuple[Gate, ...]:
        """The gates the session times."""

    def feed(self, edge: Edge) -> Sequence[Derived]: ...

    def advance(self, now_ns: int) -> Sequence[Derived]: ...

    def flush(self) -> Sequence[Derived]: ...


class LineTiming:
    """Runs along the layout's line of gates: every gate's edges are timed."""

    track = None
    laps = None

    def __init__(self, layout: Layout) -> None:
        self.gates = layout.gates
        self._timing = Timing(layout)

    def feed(self, edge: Edge) -> Sequence[Derived]:
        return self._timing.feed(edge)

    def advance(self, now_ns: int) -> Sequence[Derived]:
        return self._timing.advance(now_ns)

    def flush(self) -> Sequence[Derived]:
        return self._timing.flush()


class TrackTiming:
    """Lap reps on the track's gate; the other gates' edges are in the raw log, nothing more."""

    def __init__(self, layout: Layout, track: Track) -> None:
        self.track = track
        self.laps = track.timing(layout)  # an unknown gate raises here
        self.gates = (layout.gate(track.gate),)
        self._beams = frozenset(self.gates[0].beams)

    def feed(self, edge: Edge) -> Sequence[Derived]:
        return self.laps.feed(edge) if edge.beam in self._beams else ()

    def advance(self, now_ns: int) -> Sequence[Derived]:
        return self.laps.advance(now_ns)

    def flush(self) -> Sequence[Derived]:
        return self.laps.flush()


def session_timing(layout: Layout, track: Track | None = None) -> SessionTiming:
    """How a session on ``layout`` is timed: along its line, or lap reps on ``track``'s gate."""
    return LineTiming(layout) if track is None else TrackTiming(layout, track)


@dataclass(slots=True)
class Session:
    """The session under way, as stored under ``id``."""

    id: int
    layout: Layout
    place: str
    timing: SessionTiming
    owners: dict[int, int] = field(default_factory=dict)  # run number → the athlete who ran it
    disarmed: set[int] = field(default_factory=set)  # numbers of runs made while the gates were disarmed

    @property
    def track(self) -> Track | None:
        return self.timing.track

    def counts(self, run: Run | LapRep) -> bool:
        """A real run made while the gates were armed."""
        return run.status is not RunStatus.REJECTED and run.number not in self.disarmed


class Lineup:
    """The athlete queue and the arm switch; every change is published on the bus."""

    def __init__(self, bus: EventBus) -> None:
        self.armed = True
        self.queue: list[int] = []
        self._bus = bus

    def set_armed(self, armed: bool) -> None:
        self.armed = armed
        self._bus.publish("armed", {"armed": armed})

    def set_queue(self, athlete_ids: Sequence[int]) -> None:
        self.queue = list(athlete_ids)
        self._bus.publish("queue", {"athletes": list(self.queue)})

    def decide_owner(self, session: Session, run: Run | LapRep) -> None:
        """Who ran: the head of the queue, taken when a real run ends while the gates are armed."""
        if run.status is RunStatus.REJECTED:
            return
        if not self.armed:
            session.disarmed.add(run.number)
            return
        if isinstance(run, LapRep) and run.athlete_id is not None:  # a group's rep: the lap timing told whose
            session.owners[run.number] = run.athlete_id
            return
        if self.queue:
            session.owners[run.number] = self.queue.pop(0)
            self._bus.publish("queue", {"athletes": list(self.queue)})
