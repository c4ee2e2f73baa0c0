"""Track reps with one gate: 400 m repeats timed at the start/finish line.

One gate stands on the line. A rep starts either at a **go** (the dashboard's
countdown ends: its instant on the timing clock is given) or, armed for a
**rolling start**, at the athlete's first crossing of the gate. It ends at the
crossing that completes its distance; the crossings in between are lap splits.

Distances: a rep of whole laps (400, 800, 1200 m on a 400 m track) starts and
ends on the line, from a go or rolling. A rep that is not whole laps (a 200 or
a 600 on a 400 m track) can only start from a go, ``distance mod lap`` metres
before the gate (the 200 m start), and ends at the line; its first split is
that part-lap.

Nothing is dropped; what is not timed is kept with the reason, as an ``Anomaly``:

* a crossing that would make a split faster than ``max_velocity_mps`` (13 m/s)
  is a false trigger (or, just after a go, the athlete leaving the line);
* a crossing before the go is a false start, not timed;
* a crossing with no rep running or armed (a jog through the line) is not timed;
* a rep that waits for its next crossing longer than the split would take at
  ``min_velocity_mps`` (1.5 m/s) times out as *incomplete*.

``LapTimer`` works on crossings; ``LapTiming`` puts a ``GateDetector`` in
front of it, so that edges go in, exactly as ``Timing`` does for a line of gates.
The recovery before each rep (from the previous rep's end to this start) is timed too.

A ``Track`` names the gate of the day's layout that stands on the line, and the
lap. The coach's arms, goes and cancels are ``LapCommand`` values stamped with
how far the timing had got when they came, so ``time_laps`` can replay a
record of edges and commands into exactly the reps timed live.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import ClassVar

from gatectl.coaching.group_laps import Entrant, GroupLaps, GroupSettings, assign
from gatectl.coaching.paces import pace_velocity, to_seconds
from gatectl.coaching.quality import ON_TARGET_PER_400M_NS, TargetCheck, check_pace
from gatectl.errors import LayoutError, WorkoutError
from gatectl.jsonable import Wire
from gatectl.limits import LAP_VELOCITY_MPS
from gatectl.timing.detect import GateDetector
from gatectl.timing.model import NS_PER_S, Anomaly, Crossing, DetectionSettings, Edge, Gate, Layout, Method, RunStatus


@dataclass(frozen=True, slots=True)
class LapSettings:
    lap_m: float = 400.0
    max_velocity_mps: float = LAP_VELOCITY_MPS.high  # a split quicker than this: a false trigger
    min_velocity_mps: float = LAP_VELOCITY_MPS.low  # a split slower than this: the rep was abandoned
    on_target_per_400m_ns: int = ON_TARGET_PER_400M_NS  # ± for a rep to be on its target

    def __post_init__(self) -> None:
        if not 0 < self.lap_m < math.inf:
            raise WorkoutError(f"A lap must be a positive number of metres, not {self.lap_m!r}.")
        if not 0 < self.min_velocity_mps < self.max_velocity_mps < math.inf:
            raise WorkoutError(
                f"Lap velocities need 0 < min_velocity_mps < max_velocity_mps; got "
                f"{self.min_velocity_mps!r} and {self.max_velocity_mps!r}."
            )


class StartKind(StrEnum):
    GO = "go"  # at the end of the dashboard's countdown
    ROLLING = "rolling"  # at the first crossing of the gate


@dataclass(frozen=True, slots=True)
class LapStart:
    """A rep has started. ``crossings`` of the gate end it; ``recovery_ns`` is the rest before it."""

    number: int
    start: StartKind
    started_ns: int
    distance_m: float
    crossings: int
    recovery_ns: int | None


@dataclass(frozen=True, slots=True)
class LapSplit:
    """The athlete crossed the line: ``lap`` crossings so far, ``distance_m`` covered."""

    number: int
    lap: int
    t_ns: int
    split_ns: int
    elapsed_ns: int
    distance_m: float


@dataclass(frozen=True, slots=True)
class LapRep:
    """A rep that ended: complete, or incomplete with the reason.

    ``ended_ns`` is its last mark: the finish of a complete rep; the start or
    the last split of an incomplete one. ``check`` compares a complete rep with
    its target time, if it had one.
    """

    number: int
    start: StartKind
    distance_m: float
    started_ns: int
    ended_ns: int
    splits_ns: tuple[int, ...]
    status: RunStatus
    reason: str | None
    recovery_ns: int | None
    target_ns: int | None
    check: TargetCheck | None
    athlete_id: int | None = None  # a group rep: whose the lap timing took it to be
    ambiguous: bool = False  # a group rep: a crossing of it may have been another athlete's

    @property
    def time_ns(self) -> int | None:
        return self.ended_ns - self.started_ns if self.status is RunStatus.COMPLETE else None


@dataclass(frozen=True, slots=True)
class LapReport:
    """A stored lap rep as the dashboard shows it: its time, splits and the difference from its target.

    ``time_ns`` and ``check`` are None for an incomplete rep; seconds and
    velocities are properties, for display.
    """

    distance_m: float
    start: StartKind
    started_ns: int
    time_ns: int | None
    splits_ns: tuple[int, ...]
    target_ns: int | None
    check: TargetCheck | None
    recovery_ns: int | None  # the rest before it

    WIRE: ClassVar[Wire] = Wire(hide=("recovery_ns",), show=("time_s", "splits_s", "velocity_mps", "kmh", "target_s", "recovery_s"))

    @property
    def time_s(self) -> float | None:
        return to_seconds(self.time_ns)

    @property
    def splits_s(self) -> tuple[float, ...]:
        return tuple(s / NS_PER_S for s in self.splits_ns)

    @property
    def velocity_mps(self) -> float | None:
        return None if self.time_ns is None else pace_velocity(self.distance_m, self.time_ns)

    @property
    def kmh(self) -> float | None:
        return None if self.velocity_mps is None else self.velocity_mps * 3.6

    @property
    def target_s(self) -> float | None:
        return to_seconds(self.target_ns)

    @property
    def recovery_s(self) -> float | None:
        return to_seconds(self.recovery_ns)


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """An athlete of a group rep: when they leave (their wave's go), the rep, its target, the time expected."""

    athlete_id: int
    start_ns: int
    distance_m: float
    target_ns: int | None = None
    expected_ns: int | None = None  # what the lap timing expects them to run (the target, or their rep before)


@dataclass(frozen=True, slots=True)
class GroupStart:
    """A group rep has started: ``numbers`` are the athletes' reps, in the queue's order."""

    entries: tuple[GroupEntry, ...]
    numbers: tuple[int, ...]
    recovery_ns: int | None


@dataclass(frozen=True, slots=True)
class GroupProgress:
    """Whose each crossing of the group rep under way was taken to be, so far."""

    numbers: tuple[int, ...]
    laps: GroupLaps


@dataclass(frozen=True, slots=True)
class GroupRevision:
    """The coach's mark changed a finished group rep: its athletes' reps as they are now."""

    reps: tuple[LapRep, ...]
    laps: GroupLaps


LapEvent = LapStart | LapSplit | LapRep | GroupStart | GroupProgress | GroupRevision | Anomaly


@dataclass(frozen=True, slots=True)
class _Order:
    """What the next rep is to be: its distance and target, and the distance of each split."""

    distance_m: float
    target_ns: int | None
    splits_m: tuple[float, ...]


@dataclass(slots=True)
class _Open:
    number: int
    start: StartKind
    order: _Order
    started_ns: int
    recovery_ns: int | None
    marks: list[int] = field(default_factory=list)  # the split crossings so far

    @property
    def last_ns(self) -> int:
        return self.marks[-1] if self.marks else self.started_ns


@dataclass(slots=True)
class _Group:
    """A group rep: its athletes, the crossings it has had, the coach's marks."""

    entries: tuple[GroupEntry, ...]
    numbers: tuple[int, ...]
    entrants: tuple[Entrant, ...]
    recovery_ns: int | None
    crossings: list[int] = field(default_factory=list)
    marks: dict[int, int] = field(default_factory=dict)  # crossing t_ns → athlete id
    laps: GroupLaps | None = None
    stop: str | None = None  # why it was ended early (cancelled, the record ended), if it was


class LapTimerState(StrEnum):
    """What the lap timer is doing: waiting, armed for a rolling start, or timing a rep."""

    IDLE = "idle"
    ARMED = "armed"
    RUNNING = "running"


class LapTimer:
    """Lap reps from one gate's crossings, fed in time order, and the coach's go and arm."""

    def __init__(self, gate: str, settings: LapSettings | None = None) -> None:
        self.gate = gate
        self.settings = settings or LapSettings()
        self._armed: _Order | None = None
        self._rep: _Open | None = None
        self._now: int | None = None
        self._numbers = 0
        self._last_end: int | None = None
        self._group: _Group | None = None  # the group rep under way
        self._done: list[_Group] = []  # finished group reps: a mark may still change them
        self._preset: dict[int, int] = {}  # marks known before the record is replayed (time_laps)

    @property
    def state(self) -> LapTimerState:
        """Running a rep, armed for a rolling start, or idle."""
        if self._rep or self._group:
            return LapTimerState.RUNNING
        return LapTimerState.ARMED if self._armed else LapTimerState.IDLE

    @property
    def next_deadline_ns(self) -> int | None:
        """When the running rep times out, if no crossing comes first."""
        if self._rep is None:
            return None
        return self._rep.last_ns + self._slowest_ns(self._rep.order.splits_m[len(self._rep.marks)])

    def splits_m(self, distance_m: float) -> tuple[float, ...]:
        """The split distances of a rep: a part-lap first, when it is not whole laps.

        >>> LapTimer("L").splits_m(1000)
        (200.0, 400.0, 400.0)
        """
        lap = self.settings.lap_m
        if not 0 < distance_m < math.inf:
            raise WorkoutError(f"A rep must be a positive number of metres, not {distance_m!r}.")
        count = max(1, math.ceil(round(distance_m / lap, 6)))
        first = round(distance_m - (count - 1) * lap, 6)
        return (first,) + (lap,) * (count - 1)

    def arm(self, distance_m: float, target_ns: int | None = None) -> None:
        """The next crossing of the gate starts a rep of ``distance_m`` (whole laps only)."""
        if self._rep is not None or self._group is not None:
            raise WorkoutError("A rep is already running: wait for it to end, or cancel it.")
        order = self._order(distance_m, target_ns)
        if order.splits_m[0] != self.settings.lap_m:
            raise WorkoutError(
                f"A rolling start through the gate times whole laps; {distance_m:g} m is not a whole "
                f"number of {self.settings.lap_m:g} m laps. Start it with a go from "
                f"{order.splits_m[0]:g} m before the gate."
            )
        self._armed = order

    def go(self, start_ns: int, distance_m: float, target_ns: int | None = None) -> list[LapEvent]:
        """A rep of ``distance_m`` starts at ``start_ns``, the end of the countdown (now or later)."""
        if self._rep is not None or self._group is not None:
            raise WorkoutError("A rep is already running: wait for it to end, or cancel it.")
        if self._now is not None and start_ns < self._now:
            raise WorkoutError(
                f"The go at {start_ns} ns is before time already timed ({self._now} ns): give the "
                "instant the countdown ends, on the timing clock."
            )
        order = self._order(distance_m, target_ns)
        self._armed = None
        return [self._start(StartKind.GO, start_ns, order)]

    def go_group(self, entries: Sequence[GroupEntry]) -> list[LapEvent]:
        """A group rep: each athlete leaves at their ``start_ns`` (together, or in waves), in the queue's order."""
        if self._rep is not None or self._group is not None:
            raise WorkoutError("A rep is already running: wait for it to end, or cancel it.")
        if not entries:
            raise WorkoutError("A group rep needs at least one athlete.")
        first = min(e.start_ns for e in entries)
        if self._now is not None and first < self._now:
            raise WorkoutError(f"The go at {first} ns is before time already timed ({self._now} ns): give the instant the countdown ends.")
        entrants = []
        for e in entries:
            self._order(e.distance_m, e.target_ns)  # refuses a bad distance or target
            entrants.append(Entrant(e.athlete_id, e.start_ns, self.splits_m(e.distance_m), e.expected_ns))
        numbers = tuple(range(self._numbers + 1, self._numbers + 1 + len(entries)))
        self._numbers += len(entries)
        recovery = None if self._last_end is None else first - self._last_end
        self._armed = None
        self._group = _Group(tuple(entries), numbers, tuple(entrants), recovery)
        self._group.laps = self._assign(self._group, first)
        return [GroupStart(tuple(entries), numbers, recovery)]

    def preset_marks(self, marks: dict[int, int]) -> None:
        """The coach's marks (crossing t_ns → athlete), known before a record is replayed: applied as crossings come."""
        self._preset = dict(marks)

    def check_mark(self, crossing_ns: int, athlete_id: int) -> _Group:
        """The group rep whose crossing the coach marks; ``WorkoutError`` with why if the mark cannot apply."""
        group = next((g for g in (self._group, *reversed(self._done)) if g is not None and crossing_ns in g.crossings), None)
        if group is None:
            raise WorkoutError("That crossing is not one of a group rep's: only a group rep's crossings can be marked.")
        if athlete_id not in {e.athlete_id for e in group.entries}:
            raise WorkoutError(f"Athlete {athlete_id} did not run in that group rep.")
        now = self._now if self._now is not None else crossing_ns
        trial = assign(group.entrants, group.crossings, now, self._group_settings(), {**group.marks, crossing_ns: athlete_id})
        refused = next((why for t, why in trial.refused_marks if t == crossing_ns), None)
        if refused is not None:
            raise WorkoutError(refused)
        return group

    def mark(self, crossing_ns: int, athlete_id: int) -> list[LapEvent]:
        """The coach says the crossing at ``crossing_ns`` was ``athlete_id``'s: the group rep it belongs to is assigned again."""
        group = self.check_mark(crossing_ns, athlete_id)
        group.marks[crossing_ns] = athlete_id
        now = self._now if self._now is not None else crossing_ns
        if group is self._group:
            return self._progress_group(now)
        before = group.laps
        # A finished rep stays finished: whoever the mark leaves without a finish is incomplete.
        group.laps = self._assign(group, now, group.stop or "the coach's mark gave their crossing to another athlete,")
        if before is not None and group.laps.athletes == before.athletes and group.laps.calls == before.calls:
            return []  # already so (a replayed record knew the mark from the start)
        return [GroupRevision(self._group_reps(group, group.laps), group.laps)]

    @property
    def group_laps(self) -> GroupLaps | None:
        """The group rep under way, as assigned so far."""
        return None if self._group is None else self._group.laps

    def group_reps(self) -> list[tuple[GroupStart, GroupLaps]]:
        """Every group rep so far (the one under way last), as it started and as it is assigned now."""
        reps = [*self._done, *([self._group] if self._group is not None else [])]
        return [(GroupStart(g.entries, g.numbers, g.recovery_ns), g.laps) for g in reps if g.laps is not None]

    def cancel(self, now_ns: int, reason: str = "cancelled") -> list[LapEvent]:
        """Disarm a rolling start; a rep still running at ``now_ns`` ends incomplete with ``reason``."""
        self._armed = None
        events = self.advance(now_ns)
        if self._group is not None:
            return events + self._close_group(now_ns, reason)
        if self._rep is None:
            return events
        return events + [self._end(RunStatus.INCOMPLETE, f"{reason} waiting for {self._progress()}")]

    def feed(self, crossing: Crossing) -> list[LapEvent]:
        t = crossing.t_ns
        if crossing.gate != self.gate:
            return [Anomaly(crossing.gate, t, f"gate {crossing.gate} is not the lap gate {self.gate}: not timed")]
        events = self.advance(t)
        if self._group is not None:
            return events + self._feed_group(t)
        rep = self._rep
        if rep is None:
            if self._armed is None:
                return events + [Anomaly(self.gate, t, "no rep is armed or running: crossing not timed")]
            order, self._armed = self._armed, None
            return events + [self._start(StartKind.ROLLING, t, order)]
        if t < rep.started_ns:
            early = (rep.started_ns - t) / NS_PER_S
            return events + [Anomaly(self.gate, t, f"crossed {early:.2f} s before the go: a false start, not timed")]
        split_m = rep.order.splits_m[len(rep.marks)]
        elapsed = t - rep.last_ns
        if elapsed * self.settings.max_velocity_mps < split_m * NS_PER_S:
            speed = "instantly" if elapsed == 0 else f"at {split_m * NS_PER_S / elapsed:.1f} m/s"
            why = "the athlete leaving the line, or a false trigger" if rep.start is StartKind.GO and not rep.marks else "a false trigger"
            return events + [
                Anomaly(
                    self.gate, t,
                    f"{why}: {split_m:g} m to this crossing would be run {speed}, faster than "
                    f"{self.settings.max_velocity_mps:g} m/s; not timed",
                )
            ]  # fmt: skip
        rep.marks.append(t)
        covered = sum(rep.order.splits_m[: len(rep.marks)])
        events.append(LapSplit(rep.number, len(rep.marks), t, elapsed, t - rep.started_ns, covered))
        if len(rep.marks) == len(rep.order.splits_m):
            events.append(self._end(RunStatus.COMPLETE, None))
        return events

    def advance(self, now_ns: int) -> list[LapEvent]:
        """Time has reached ``now_ns``: a rep past its deadline is incomplete."""
        if self._now is None or now_ns > self._now:
            self._now = now_ns
        group = self._group
        if group is not None:
            assert group.laps is not None  # assigned at the go
            deadline = group.laps.deadline_ns
            return [] if deadline is None or now_ns <= deadline else self._progress_group(now_ns)
        deadline = self.next_deadline_ns
        if deadline is None or now_ns <= deadline:
            return []
        return [self._end(RunStatus.INCOMPLETE, f"timed out waiting for {self._progress()}")]

    def flush(self) -> list[LapEvent]:
        """The stream has ended: a running rep is incomplete."""
        if self._group is not None:
            return self._close_group(self._now or 0, "the record ended")
        if self._rep is None:
            return []
        return [self._end(RunStatus.INCOMPLETE, f"the record ended waiting for {self._progress()}")]

    # -- group reps

    def _group_settings(self) -> GroupSettings:
        return GroupSettings(max_velocity_mps=self.settings.max_velocity_mps, min_velocity_mps=self.settings.min_velocity_mps)

    def _assign(self, group: _Group, now_ns: int, stop: str | None = None) -> GroupLaps:
        return assign(group.entrants, group.crossings, now_ns, self._group_settings(), group.marks, stop)

    def _feed_group(self, t_ns: int) -> list[LapEvent]:
        group = self._group
        assert group is not None  # fed in a group rep only
        if t_ns < min(e.start_ns for e in group.entries):
            early = (min(e.start_ns for e in group.entries) - t_ns) / NS_PER_S
            return [Anomaly(self.gate, t_ns, f"crossed {early:.2f} s before the go: a false start, not timed")]
        group.crossings.append(t_ns)
        if t_ns in self._preset:
            group.marks[t_ns] = self._preset[t_ns]
        return self._progress_group(t_ns)

    def _progress_group(self, now_ns: int) -> list[LapEvent]:
        group = self._group
        assert group is not None  # a group rep is under way
        group.laps = self._assign(group, now_ns)
        events: list[LapEvent] = [GroupProgress(group.numbers, group.laps)]
        return events + (self._finish_group(group) if group.laps.done else [])

    def _close_group(self, now_ns: int, reason: str) -> list[LapEvent]:
        group = self._group
        assert group is not None  # a group rep is under way
        group.stop = reason
        group.laps = self._assign(group, now_ns, reason)
        return [GroupProgress(group.numbers, group.laps), *self._finish_group(group)]

    def _finish_group(self, group: _Group) -> list[LapEvent]:
        """The group is done: each athlete's rep, what the gate saw that was nobody's, what it missed."""
        laps = group.laps
        assert laps is not None and laps.done  # finished once every athlete is
        self._group = None
        self._done.append(group)
        self._last_end = max(a.ended_ns for a in laps.athletes)
        names = {e.athlete_id: i for i, e in enumerate(group.entries)}
        kept: list[LapEvent] = [Anomaly(self.gate, c.t_ns, c.reason) for c in laps.calls if c.athlete_id is None and c.reason]
        for a in laps.athletes:
            number = group.numbers[names[a.athlete_id]]
            kept += [
                Anomaly(self.gate, a.started_ns, f"rep {number}: no crossing for lap {k} of {len(a.marks_ns)}; the split after it covers both")
                for k in a.missed
            ]
        return [*kept, *self._group_reps(group, laps)]

    def _group_reps(self, group: _Group, laps: GroupLaps) -> tuple[LapRep, ...]:
        reps = []
        for entry, number, a in zip(group.entries, group.numbers, laps.athletes):
            status = a.status or RunStatus.INCOMPLETE
            check = None
            if a.time_ns is not None and entry.target_ns is not None:
                check = check_pace(a.time_ns, entry.target_ns, entry.distance_m, self.settings.on_target_per_400m_ns)
            reps.append(LapRep(
                number, StartKind.GO, entry.distance_m, a.started_ns, a.ended_ns, a.splits_ns, status, a.reason,
                group.recovery_ns, entry.target_ns, check, entry.athlete_id, a.ambiguous,
            ))  # fmt: skip
        return tuple(reps)

    def _order(self, distance_m: float, target_ns: int | None) -> _Order:
        if target_ns is not None and target_ns <= 0:
            raise WorkoutError(f"A target time must be above zero, not {target_ns} ns.")
        return _Order(distance_m, target_ns, self.splits_m(distance_m))

    def _slowest_ns(self, distance_m: float) -> int:
        return round(distance_m * NS_PER_S / self.settings.min_velocity_mps)

    def _progress(self) -> str:
        rep = self._rep
        assert rep is not None  # asked while a rep runs
        return f"crossing {len(rep.marks) + 1} of {len(rep.order.splits_m)}"

    def _start(self, kind: StartKind, t_ns: int, order: _Order) -> LapStart:
        self._numbers += 1
        recovery = None if self._last_end is None else t_ns - self._last_end
        self._rep = _Open(self._numbers, kind, order, t_ns, recovery)
        return LapStart(self._numbers, kind, t_ns, order.distance_m, len(order.splits_m), recovery)

    def _end(self, status: RunStatus, reason: str | None) -> LapRep:
        rep, self._rep = self._rep, None
        assert rep is not None  # only a running rep ends
        marks = [rep.started_ns, *rep.marks]
        self._last_end = marks[-1]
        order = rep.order
        check = None
        if status is RunStatus.COMPLETE and order.target_ns is not None:
            check = check_pace(marks[-1] - rep.started_ns, order.target_ns, order.distance_m, self.settings.on_target_per_400m_ns)
        return LapRep(
            rep.number, rep.start, order.distance_m, rep.started_ns, marks[-1],
            tuple(b - a for a, b in pairwise(marks)), status, reason, rep.recovery_ns, order.target_ns, check,
        )  # fmt: skip


LapTimingEvent = Crossing | LapEvent


class LapTiming:
    """One gate's edges → crossings → lap reps: what ``Timing`` is for a line of gates.

    A rep is timed out only up to the instant the gate has settled, so it is
    never ended while the crossing that finishes it is still being judged.

    >>> timing = LapTiming(Gate("L", 0.0, ("L",)))
    >>> [type(e).__name__ for e in timing.go(0, 400)]
    ['LapStart']
    """

    def __init__(
        self,
        gate: Gate,
        method: Method = Method.LONGEST,
        detection: DetectionSettings | None = None,
        laps: LapSettings | None = None,
    ) -> None:
        self.detector = GateDetector(gate, method, detection or DetectionSettings())
        self.timer = LapTimer(gate.name, laps)

    def feed(self, edge: Edge) -> list[LapTimingEvent]:
        return self._time(self.detector.feed(edge), edge.t_ns)

    def advance(self, now_ns: int) -> list[LapTimingEvent]:
        return self._time(self.detector.advance(now_ns), now_ns)

    def flush(self) -> list[LapTimingEvent]:
        return self._time(self.detector.flush(), None) + self.timer.flush()

    def arm(self, distance_m: float, target_ns: int | None = None) -> None:
        self.timer.arm(distance_m, target_ns)

    def go(self, start_ns: int, distance_m: float, target_ns: int | None = None) -> list[LapEvent]:
        return self.timer.go(start_ns, distance_m, target_ns)

    def go_group(self, entries: Sequence[GroupEntry]) -> list[LapEvent]:
        return self.timer.go_group(entries)

    def mark(self, crossing_ns: int, athlete_id: int) -> list[LapEvent]:
        return self.timer.mark(crossing_ns, athlete_id)

    def cancel(self, now_ns: int, reason: str = "cancelled") -> list[LapTimingEvent]:
        return self.advance(now_ns) + self.timer.cancel(self._settled(now_ns), reason)

    def _time(self, events: list[Crossing | Anomaly], now_ns: int | None) -> list[LapTimingEvent]:
        out: list[LapTimingEvent] = []
        for event in events:
            out.append(event)
            if isinstance(event, Crossing):
                out += self.timer.feed(event)
        if now_ns is not None:
            out += self.timer.advance(self._settled(now_ns))
        return out

    def _settled(self, now_ns: int) -> int:
        """No crossing earlier than this can still come from the gate."""
        since = self.detector.undecided_since()
        return now_ns if since is None else min(now_ns, since)


# ---- Track reps in a session: the gate, the coach's commands, a record replayed ---------------------


@dataclass(frozen=True, slots=True)
class Track:
    """Track reps: ``gate`` (one of the day's layout) on the start/finish line of a ``lap_m`` lap.

    >>> Track("M1", 400).describe()
    'gate M1 on the line, 400 m lap'
    """

    gate: str
    lap_m: float = 400.0

    def __post_init__(self) -> None:
        LapSettings(lap_m=self.lap_m)  # the lap is checked where lap timing checks it

    def describe(self) -> str:
        return f"gate {self.gate} on the line, {self.lap_m:g} m lap"

    def timing(self, layout: Layout) -> LapTiming:
        """Lap timing on the layout's gate, with its detection method and thresholds."""
        try:
            gate = layout.gate(self.gate)
        except LayoutError:
            raise LayoutError(
                f"Track reps need a gate of today's layout on the line; {self.gate!r} is not one of "
                f"{', '.join(g.name for g in layout.gates)}."
            ) from None
        return LapTiming(gate, layout.method, layout.settings, LapSettings(lap_m=self.lap_m))


class Command(StrEnum):
    ARM = "arm"  # the next crossing starts a rep: a rolling start
    GO = "go"  # a rep starts at the end of the countdown
    CANCEL = "cancel"  # disarm; a rep still running ends incomplete
    CLOSE = "close"  # the session closed: time had reached t_ns
    GROUP_GO = "group-go"  # a group rep: each athlete leaves at their wave's go
    MARK = "mark"  # the coach says whose a group rep's crossing was


@dataclass(frozen=True, slots=True)
class LapCommand:
    """An input to lap timing at ``t_ns``: how far the timing had got (edges fed, clock advanced)."""

    t_ns: int
    kind: Command
    distance_m: float | None = None
    target_ns: int | None = None
    start_ns: int | None = None  # a go: the instant the countdown ends
    reason: str = "cancelled"
    group: tuple[GroupEntry, ...] = ()  # a group go: who leaves when
    crossing_ns: int | None = None  # a mark: the crossing, and whose it was
    athlete_id: int | None = None

    def apply(self, timing: LapTiming) -> list[LapTimingEvent]:
        if self.kind is Command.ARM:
            if self.distance_m is None:
                raise WorkoutError("A lap arm needs the rep's distance.")
            timing.arm(self.distance_m, self.target_ns)
            return []
        if self.kind is Command.GO:
            if self.distance_m is None or self.start_ns is None:
                raise WorkoutError("A lap go needs the rep's distance and the instant its countdown ends.")
            return [*timing.go(self.start_ns, self.distance_m, self.target_ns)]
        if self.kind is Command.CANCEL:
            return timing.cancel(self.t_ns, self.reason)
        if self.kind is Command.GROUP_GO:
            return [*timing.go_group(self.group)]
        if self.kind is Command.MARK:
            if self.crossing_ns is None or self.athlete_id is None:
                raise WorkoutError("A mark needs the crossing and the athlete.")
            return [*timing.mark(self.crossing_ns, self.athlete_id)]
        return timing.advance(self.t_ns)


@dataclass(frozen=True, slots=True)
class LapResult:
    crossings: tuple[Crossing, ...]
    reps: tuple[LapRep, ...]
    anomalies: tuple[Anomaly, ...]


def time_laps(edges: Iterable[Edge], commands: Iterable[LapCommand], timing: LapTiming, *, flush: bool = True) -> LapResult:
    """A record replayed: each command after the edges up to its instant, as the daemon applied it.

    Edges of beams that are not the lap gate's (the day's other gates) are not timed. ``flush=False``
    leaves the rep under way open in ``timing`` (a daemon resuming the session after a restart).
    """
    beams = set(timing.detector.gate.beams)
    pending = sorted(commands, key=lambda c: c.t_ns)
    # The coach's marks settle group reps from the first crossing: the reps come out as they stand now.
    timing.timer.preset_marks({c.crossing_ns: c.athlete_id for c in pending if c.kind is Command.MARK and c.crossing_ns is not None and c.athlete_id is not None})
    events: list[LapTimingEvent] = []
    i = 0
    for beam, t_ns, broken in edges:  # Edge values, or rows shaped like them
        if beam not in beams:
            continue
        while i < len(pending) and pending[i].t_ns < t_ns:
            events += timing.advance(pending[i].t_ns) + pending[i].apply(timing)
            i += 1
        events += timing.feed(Edge(beam, t_ns, bool(broken)))
    for command in pending[i:]:
        events += timing.advance(command.t_ns) + command.apply(timing)
    if flush:
        events += timing.flush()
    return LapResult(
        tuple(e for e in events if isinstance(e, Crossing)),
        tuple(e for e in events if isinstance(e, LapRep)),
        tuple(e for e in events if isinstance(e, Anomaly)),
    )
