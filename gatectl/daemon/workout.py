"""A workout live: what the coach chose, the runner under way, and what the live page shows.

The daemon runs the workout on its thread (``Daemon.start_workout``): gate
events and the coach's taps reach the ``WorkoutRunner`` in the order they
happened. This module holds what is not the daemon's business:

* ``WorkoutPlan``: the session as chosen (notation, kind, group in running
  order, and for track reps the gate on the line, the lap and how reps start);
* ``group``: the athletes with their race times, read from the store;
* ``LiveWorkout``: the plan, its session and the runner as it stands;
* ``page_state``: the runner's view as the live page shows it (``WorkoutState``;
  ``gatectl.jsonable`` gives its JSON). Instants on the timing clock mean nothing
  to a browser, so a rest is sent as what is left of it *now* (``rest_left_ns``),
  and the browser counts down on its own clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from gatectl.coaching.fit import check_fits
from gatectl.coaching.group_laps import GroupLaps
from gatectl.coaching.laps import GroupStart, LapSplit, LapStart, LapTimerState, StartKind, Track
from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.notation import parse_workout, scale_rests
from gatectl.coaching.paces import to_seconds
from gatectl.coaching.quality import DistanceSummary, RepTarget
from gatectl.coaching.runner import (
    Athlete,
    AthleteSummary,
    AthleteView,
    Attempt,
    Effect,
    NextRep,
    Outcome,
    RunnerView,
    Status,
    WorkoutRunner,
)  # fmt: skip
from gatectl.errors import WorkoutError
from gatectl.jsonable import Wire
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S, Layout

DEFAULT_COUNTDOWN_NS = 5 * NS_PER_S


@dataclass(frozen=True, slots=True)
class WorkoutPlan:
    """A workout as the coach chose it; ``track`` set: reps on one gate, started ``start``."""

    text: str
    kind: WorkoutKind
    athletes: tuple[Athlete, ...]  # in running order
    slug: str | None = None  # the library session, if it is one
    track: Track | None = None
    start: StartKind = StartKind.ROLLING
    countdown_ns: int = DEFAULT_COUNTDOWN_NS  # a go: from the tap to the start
    waves_ns: int | None = None  # track reps as a group: None one at a time, 0 together, else waves this far apart

    def runner(self, rest_scale: float = 1.0) -> WorkoutRunner:
        """The runner for this plan; ``rest_scale`` shortens every timed rest (the demo's fast rests)."""
        workout = parse_workout(self.text)
        if rest_scale != 1.0:
            workout = scale_rests(workout, rest_scale)
        return WorkoutRunner.create(workout, self.kind, self.athletes, together=self.waves_ns is not None)

    def check_fits(self, layout: Layout) -> None:
        """Refuse a workout timed through the gates whose reps are not a distance they time."""
        if self.track is None:
            check_fits(parse_workout(self.text), layout)

    def timing(self) -> PlanTiming:
        """How it is timed, as stored with the workout and shown on the live page."""
        if self.track is None:
            return PlanTiming("line")
        return PlanTiming("track", self.track.gate, self.track.lap_m, self.start, self.countdown_ns, self.waves_ns)


@dataclass(frozen=True, slots=True)
class PlanTiming:
    """Through the line of gates (``mode`` "line"), or track reps on one gate started ``start``."""

    mode: str
    lap_gate: str | None = None
    lap_m: float | None = None
    start: StartKind | None = None
    countdown_ns: int | None = None  # a go: from the tap to the start
    waves_ns: int | None = None  # a group: None one at a time, 0 together, else waves this far apart

    WIRE: ClassVar[Wire] = Wire(hide=("countdown_ns", "waves_ns"), show=("countdown_s", "wave_s"))

    @property
    def countdown_s(self) -> float | None:
        return to_seconds(self.countdown_ns)

    @property
    def wave_s(self) -> float | None:
        """A group rep: the seconds between waves (0: together); None: one athlete at a time."""
        return to_seconds(self.waves_ns)


def group(store: Store, athlete_ids: Sequence[int]) -> tuple[Athlete, ...]:
    """The athletes in running order, with their best race times (they set the targets)."""
    athletes = []
    for athlete_id in athlete_ids:
        row = store.athlete(athlete_id)
        athletes.append(Athlete(athlete_id, row["name"], store.paces(athlete_id)))
    if not athletes:
        raise WorkoutError("A workout needs at least one athlete.")
    return tuple(athletes)


@dataclass(slots=True)
class LiveWorkout:
    """The workout under way in a session: changed on the daemon thread only."""

    plan: WorkoutPlan
    session_id: int
    runner: WorkoutRunner
    rest_scale: float = 1.0
    lap: LapStart | None = None  # track reps: the rep on the track, and its splits so far
    splits: list[LapSplit] = field(default_factory=list)
    armed_for: tuple[float, RepTarget] | None = None  # the rolling start the lap gate waits for
    groups: list[GroupStart] = field(default_factory=list)  # a group's track reps, as they started
    group_laps: dict[int, GroupLaps] = field(default_factory=dict)  # by a group rep's first number: whose each crossing was

    def next_rep_target(self, view: RunnerView) -> tuple[float, RepTarget] | None:
        """The distance and target of the next athlete's next rep, if anyone is waiting."""
        head = next((a for a in view.athletes if a.id == view.next_athlete), None)
        if head is None or head.next_rep is None:
            return None
        return head.next_rep.distance_m, head.next_rep.target


# ---- The live page's state --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AthleteState:
    """One member of the group at the instant the state was taken: rests are what is left *then*."""

    id: int
    name: str
    status: Status
    done: int
    planned: int
    next_rep: NextRep | None
    rest: str | None  # the recovery before the next rep as written
    # What is left now; the browser adds its own clock's time since it got this.
    rest_left_ns: int | None
    rest_max_left_ns: int | None
    rest_elapsed_ns: int | None
    jog_m: float | None
    suggest_end_set: bool
    last: Attempt | None  # the last rep run (skipped reps left out)
    bests: RepBests | None = None  # over the next rep's distance, once they have run it

    WIRE: ClassVar[Wire] = Wire(rename={"next_rep": "next"})


@dataclass(frozen=True, slots=True)
class RepBests:
    """An athlete's fastest counted rep over a distance: this session, and in the set under way (None: none yet).

    Beside a max-velocity target: beating 400 m pace is an easy bar, beating
    their own best of the day and of the set is the work.
    """

    distance_m: float
    session_ns: int
    set_ns: int | None

    WIRE: ClassVar[Wire] = Wire(hide=("session_ns", "set_ns"), show=("session_s", "set_s"))

    @property
    def session_s(self) -> float | None:
        return to_seconds(self.session_ns)

    @property
    def set_s(self) -> float | None:
        return to_seconds(self.set_ns)


def rep_bests(view: AthleteView) -> RepBests | None:
    """The athlete's bests over the distance of their next rep, from the reps that counted."""
    rep = view.next_rep
    if rep is None:
        return None
    timed = [a for a in view.attempts if a.outcome is Outcome.DONE and a.time_ns is not None and a.distance_m == rep.distance_m]
    if not timed:
        return None
    in_set = [a.time_ns for a in timed if a.set_no == rep.set_no and a.time_ns is not None]
    return RepBests(rep.distance_m, min(a.time_ns for a in timed if a.time_ns is not None), min(in_set) if in_set else None)


@dataclass(frozen=True, slots=True)
class LastRep:
    """The last rep anyone ran, and whose it was."""

    attempt: Attempt
    athlete: int
    name: str

    WIRE: ClassVar[Wire] = Wire(inline=("attempt",))


@dataclass(frozen=True, slots=True)
class LapState:
    """The track rep under way: ``elapsed_ns`` below zero is the countdown to a go."""

    number: int
    start: StartKind
    distance_m: float
    crossings: int
    elapsed_ns: int
    splits_ns: tuple[int, ...]

    WIRE: ClassVar[Wire] = Wire(hide=("splits_ns",), show=("splits_s",))

    @property
    def splits_s(self) -> tuple[float, ...]:
        return tuple(s / NS_PER_S for s in self.splits_ns)


@dataclass(frozen=True, slots=True)
class GroupAthlete:
    """One athlete in the group's rep: ``elapsed_ns`` below zero is the wait for their wave."""

    id: int
    name: str
    elapsed_ns: int  # from their start to now (the page counts on from it), or to their finish
    laps: int  # crossings of theirs so far
    of: int
    splits_ns: tuple[int, ...]
    time_ns: int | None  # their rep's time, once their finish is seen
    status: str  # running, complete, incomplete
    ambiguous: bool

    WIRE: ClassVar[Wire] = Wire(hide=("splits_ns", "time_ns"), show=("splits_s", "time_s"))

    @property
    def splits_s(self) -> tuple[float, ...]:
        return tuple(s / NS_PER_S for s in self.splits_ns)

    @property
    def time_s(self) -> float | None:
        return to_seconds(self.time_ns)


@dataclass(frozen=True, slots=True)
class Doubt:
    """A crossing the gate could not give for sure: whose it was taken to be, and who else it may have been."""

    crossing: str  # its instant in ns, as text: a browser's numbers cannot hold every nanosecond
    rep: int  # the group's rep it was in: 1 for the first the group ran
    at_ns: int  # from that rep's go
    athlete: int | None  # whose it was taken to be
    could_be: tuple[int, ...]  # everyone it may have been, the one it was taken to be first

    WIRE: ClassVar[Wire] = Wire(hide=("at_ns",), show=("at_s",))

    @property
    def at_s(self) -> float:
        return self.at_ns / NS_PER_S


@dataclass(frozen=True, slots=True)
class GroupState:
    """The group's track rep under way (or the last one): every athlete's laps, and the crossings in doubt."""

    number: int  # the first athlete's rep number: it changes with each group rep
    athletes: tuple[GroupAthlete, ...]
    doubts: tuple[Doubt, ...]  # of this rep and the group's earlier ones, until the coach settles them
    done: bool


def group_state(live: LiveWorkout, now_ns: int) -> GroupState | None:
    """The group's last rep, and every crossing of its reps still in doubt."""
    if not live.groups or (laps := live.group_laps.get(live.groups[-1].numbers[0])) is None:
        return None
    start = live.groups[-1]
    names = {a.id: a.name for a in live.plan.athletes}
    athletes = tuple(
        GroupAthlete(
            a.athlete_id, names.get(a.athlete_id, f"#{a.athlete_id}"),
            (a.ended_ns if a.status is not None else now_ns) - a.started_ns,
            len(a.seen_ns), len(a.marks_ns), a.splits_ns, a.time_ns,
            "running" if a.status is None else a.status.value, a.ambiguous,
        )
        for a in laps.athletes
    )  # fmt: skip
    doubts = tuple(
        Doubt(str(c.t_ns), k + 1, c.t_ns - min(e.start_ns for e in rep.entries), c.athlete_id,
              tuple(i for i in (c.athlete_id, *c.ambiguous_with) if i is not None))
        for k, rep in enumerate(live.groups) if (done := live.group_laps.get(rep.numbers[0])) is not None
        for c in done.calls if c.ambiguous
    )  # fmt: skip
    return GroupState(start.numbers[0], athletes, doubts, laps.done)


@dataclass(frozen=True, slots=True)
class DropOffNote:
    set_no: int
    rep_no: int
    percent_slower: float

    WIRE: ClassVar[Wire] = Wire(rename={"set_no": "set", "rep_no": "rep"})


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """An athlete's line of the workout summary, as shown and stored with the workout."""

    id: int
    name: str
    planned: int
    done: int
    skipped: int
    run_again: int
    on_target: int
    checked: int
    distances: tuple[DistanceSummary, ...]
    drop_offs: tuple[DropOffNote, ...]
    top_speed: str | None


@dataclass(frozen=True, slots=True)
class WorkoutState:
    """What the live page shows of a workout at one instant (``page_state``)."""

    session: int
    text: str
    slug: str | None
    kind: WorkoutKind
    timing: PlanTiming
    rest_scale: float
    status: Status
    next_up: AthleteState | None  # who runs next: called, or still resting
    running: int | None
    set_no: int | None  # of the next athlete's next rep
    rep_no: int | None
    athletes: tuple[AthleteState, ...]
    last: LastRep | None
    armed: bool  # track reps: the line waits for a rolling start
    needs_go: bool  # track reps: the next athlete waits for the coach's go
    lap: LapState | None
    effects: tuple[Effect, ...]
    finished: bool
    group: GroupState | None  # track reps run as a group: the rep under way, or the last
    summary: tuple[SummaryRow, ...] | None  # once finished

    WIRE: ClassVar[Wire] = Wire(rename={"next_up": "next", "set_no": "set", "rep_no": "rep"}, inline=("timing",))


def _athlete(view: AthleteView, now_ns: int) -> AthleteState:
    runs = [a for a in view.attempts if a.outcome is not Outcome.SKIPPED]
    return AthleteState(
        view.id, view.name, view.status, view.done, view.planned, view.next_rep, view.rest,
        None if view.rest_ends_ns is None else view.rest_ends_ns - now_ns,
        None if view.rest_max_ends_ns is None else view.rest_max_ends_ns - now_ns,
        None if view.rest_since_ns is None else now_ns - view.rest_since_ns,
        view.jog_m, view.suggest_end_set, runs[-1] if runs else None, rep_bests(view),
    )  # fmt: skip


def summary_rows(summary: Sequence[AthleteSummary]) -> tuple[SummaryRow, ...]:
    return tuple(
        SummaryRow(
            s.id, s.name, s.planned, s.done, s.skipped, s.run_again, s.on_target, s.checked, s.distances,
            tuple(DropOffNote(a.set_no, a.rep_no, a.drop_off.percent_slower) for a in s.drop_offs if a.drop_off is not None),
            None if s.top_speed is None else s.top_speed.message,
        )
        for s in summary
    )  # fmt: skip


def page_state(live: LiveWorkout, now_ns: int, *, timer: LapTimerState | None = None, effects: Sequence[Effect] = ()) -> WorkoutState:
    """The live page's workout state at ``now_ns``; ``timer`` is the lap timer's state in track mode."""
    runner, plan = live.runner, live.plan
    view = runner.view(now_ns)
    athletes = tuple(_athlete(a, now_ns) for a in view.athletes)
    head = next((a for a in athletes if a.id == view.next_athlete), None)
    ran = [(a, who) for who in view.athletes for a in who.attempts if a.outcome is not Outcome.SKIPPED and a.ended_ns is not None]
    last = max(ran, key=lambda pair: pair[0].ended_ns or 0, default=None)
    called = view.status is Status.READY and head is not None
    lap = live.lap
    finished = view.status is Status.FINISHED
    return WorkoutState(
        live.session_id, plan.text, plan.slug, plan.kind, plan.timing(), live.rest_scale, view.status, head,
        view.running, view.set_no, view.rep_no, athletes,
        None if last is None else LastRep(last[0], last[1].id, last[1].name),
        armed=timer is LapTimerState.ARMED,
        needs_go=plan.track is not None and called and timer is LapTimerState.IDLE,
        lap=None if lap is None else LapState(
            lap.number, lap.start, lap.distance_m, lap.crossings, now_ns - lap.started_ns, tuple(s.split_ns for s in live.splits),
        ),
        effects=tuple(effects),
        finished=finished,
        group=group_state(live, now_ns),
        summary=summary_rows(runner.summary()) if finished else None,
    )  # fmt: skip
