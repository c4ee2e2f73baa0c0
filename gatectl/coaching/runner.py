"""The session runner: a workout walked through rep by rep, for one athlete or a group.

A ``WorkoutRunner`` is a value. Each input takes ``now_ns``, an instant on the
timing clock, and returns a ``Step``: the runner after it, and the effects to
signal now (beeps, calls, drop-off warnings). ``view(now_ns)`` is what the live
page shows, ``summary()`` the session summary, ``alarm_ns`` when to ``tick`` next.
Nothing here reads a clock or does I/O: replaying the inputs rebuilds a session.

How the runner decides, for coaches and for whoever wires it to the dashboard:

* **Order** is rep-major: rep 1 for A, B and C, then rep 2 for A, B and C. The
  queue is sorted by each athlete's next rep, then by when their last run
  ended (an athlete who must run a rep again goes to the back of its round),
  then by the group's order. The daemon is given this queue and assigns each
  finished run to its head; the runner takes the athlete the daemon assigned,
  even out of order.
* **Rest** before a rep is the recovery written after the rep before it, timed
  from the end of the athlete's last run (its last crossing: a flying sprint's
  walk back is part of the rest). A timed rest counts down to its shortest
  (``R35-45s``: 35 s) with a beep 10 s before the end and one at the end. Full,
  jog and unwritten rests do not count down: the coach says when the athlete is
  ready. ``ready`` also cuts a countdown short. Whoever has not run yet is ready.
* **Calls** go to the next athlete in the queue only, when their rest is over
  and nobody is on the course (the runner follows one runner on it at a time).
* **Not a rep**: a voided run, a rep the coach wants again (``repeat``) and an
  incomplete run (a gate missed, a time-out) do not count. The athlete runs the
  rep again after the rest that came before it, so the second go is as fresh as
  the first (the workout's first rep: after its own recovery). Rejected runs
  (false triggers) belong to nobody and are ignored.
* **Skip** records the next rep as skipped (not while the athlete is running);
  ``end_set`` skips the rest of the set (what a drop-off suggests); ``end`` ends
  the workout for everyone.
* **Targets** (``quality.target_for``): flying sprints must beat 400 m pace;
  400 m-pace reps must be clearly (2 %) faster than 800 m pace (else mile pace);
  a rep with a target in the notation (``@ 1:20``, ``@ 3K pace``) is run on it,
  ±1 s per 400 m. Race paces resolve from each athlete's own race times, and a
  400 m sprinter's rests are lengthened for them alone (``Athlete.sprinter400``).
* **Quality** (``gatectl.coaching.quality``): a rep more than the margin slower than the
  best earlier rep it is compared with is a drop-off: a warning, and the
  suggestion to end the set while reps remain in it. A paced rep on or faster
  than its target is never a drop-off: it did what was asked.

Gate-driven inputs (``run_started``, ``run_finished``, ``run_voided``) that do not
fit (before the start, after the end, an athlete outside the group, a run seen
before) are ignored; a coach's input that cannot apply raises ``WorkoutError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from typing import ClassVar, NamedTuple, TypeVar

from gatectl.coaching.laps import LapRep
from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.notation import JogRest, Recovery, Rep, Rest, Workout, expand
from gatectl.coaching.paces import pace_velocity, to_seconds
from gatectl.coaching.quality import (
    CLEARLY,
    DEFAULT_MARGIN,
    ON_TARGET_PER_400M_NS,
    Against,
    DistanceSummary,
    DropOff,
    RepTarget,
    TargetCheck,
    TargetStyle,
    TopSpeedHint,
    Verdict,
    check_faster_than,
    check_pace,
    comparison_groups,
    drop_off,
    summarize,
    target_for,
    top_speed_hint,
)  # fmt: skip
from gatectl.errors import WorkoutError
from gatectl.jsonable import Wire
from gatectl.timing.model import NS_PER_S, RunStatus
from gatectl.timing.results import RunReport, RunView


@dataclass(frozen=True, slots=True)
class Athlete:
    """One member of the group: race times ``{distance_m: time_ns}`` set the targets."""

    id: int
    name: str
    races: Mapping[float, int] = field(default_factory=dict)
    sprinter400: bool = False  # rests after reps over 50 m are lengthened (expand's sprinter400)


@dataclass(frozen=True, slots=True)
class CoachingOptions:
    margin: float = DEFAULT_MARGIN  # slower than the reference by more than this: a drop-off
    against: Against = Against.BEST
    clearly: float = CLEARLY  # 400 m-pace reps must be this much faster than 800 m pace
    on_target_per_400m_ns: int = ON_TARGET_PER_400M_NS
    warning_ns: int = 10 * NS_PER_S  # the beep before the end of a rest
    sprinter_factor: float = 1.5

    def __post_init__(self) -> None:
        for name in ("margin", "clearly"):
            if not 0 <= getattr(self, name) < 1:
                raise WorkoutError(f"{name} must be a fraction from 0 to under 1 (0.02 is 2 %), not {getattr(self, name)!r}.")
        for name in ("on_target_per_400m_ns", "warning_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise WorkoutError(f"{name} must be a whole number of nanoseconds ≥ 0, not {value!r}.")


# ---- What happened to each rep ------------------------------------------------------------------


class Outcome(StrEnum):
    DONE = "done"
    VOIDED = "voided"  # the run was voided: the rep is run again
    REPEATED = "repeated"  # the coach asked for it again: kept, not counted
    INCOMPLETE = "incomplete"  # the gates could not time it: the rep is run again
    SKIPPED = "skipped"  # not run


_RUNS = (Outcome.DONE, Outcome.VOIDED, Outcome.REPEATED, Outcome.INCOMPLETE)  # outcomes with a run


@dataclass(frozen=True, slots=True)
class Attempt:
    """One go at a rep (or its skipping), in the order they happened.

    ``time_ns`` is over the rep distance, the stretch the gates timed (``timed_m``):
    the fly zone or the whole line, never a time rescaled from another distance.
    ``rest_ns`` is the rest taken before it, from the end of the athlete's previous run.
    """

    index: int  # the rep's place in the plan
    set_no: int
    rep_no: int
    distance_m: float
    outcome: Outcome
    run_id: int | None = None
    started_ns: int | None = None
    ended_ns: int | None = None
    time_ns: int | None = None
    velocity_mps: float | None = None
    timed_m: float | None = None
    splits_ns: tuple[int, ...] = ()
    rest_ns: int | None = None
    check: TargetCheck | None = None
    drop_off: DropOff | None = None
    reason: str | None = None

    WIRE: ClassVar[Wire] = Wire(
        hide=("index", "started_ns", "ended_ns", "time_ns", "timed_m", "splits_ns", "rest_ns"),
        rename={"set_no": "set", "rep_no": "rep", "run_id": "run"},
        show=("time_s", "splits_s", "rest_s"),
    )

    @property
    def time_s(self) -> float | None:
        return to_seconds(self.time_ns)

    @property
    def splits_s(self) -> tuple[float, ...]:
        return tuple(s / NS_PER_S for s in self.splits_ns)

    @property
    def rest_s(self) -> float | None:
        return to_seconds(self.rest_ns)


def _attempt(rep: Rep, index: int, run_id: int, result: RunReport | LapRep) -> Attempt | None:
    """A finished run as an attempt at ``rep``; None for a rejected run (nobody's)."""
    base = Attempt(index, rep.set_no, rep.rep_no, rep.distance_m, Outcome.DONE, run_id)
    if isinstance(result, LapRep):
        if result.status is not RunStatus.COMPLETE:
            return replace(base, outcome=Outcome.INCOMPLETE, started_ns=result.started_ns, ended_ns=result.ended_ns, reason=result.reason)
        stretch = (result.distance_m, result.ended_ns - result.started_ns)
        return _timed(base, result.started_ns, result.ended_ns, stretch, result.splits_ns)
    if result.status is RunStatus.REJECTED:
        return None
    times = sorted(result.crossings.values())  # a run has a crossing at least
    started, ended = times[0], times[-1]
    if isinstance(result, RunView) and result.voided:
        return replace(base, outcome=Outcome.VOIDED, started_ns=started, ended_ns=ended, reason=result.void_reason)
    if result.status is not RunStatus.COMPLETE:
        return replace(base, outcome=Outcome.INCOMPLETE, started_ns=started, ended_ns=ended, reason=result.reason)
    # The stretch that matches the rep: the fly zone (flying sprints), else the whole line (splits).
    # A time is never rescaled from another distance (``fit.check_fits`` refuses such a workout).
    segments = result.segments
    stretches = [(result.fly.distance_m, result.fly.time_ns)] if result.fly else []
    stretches.append((round(sum(s.distance_m for s in segments), 6), ended - started))
    matching = next((s for s in stretches if s[0] == rep.distance_m), None)
    if matching is None:
        timed = " or ".join(f"{m:g} m" for m, _ in stretches)
        reason = f"the gates timed {timed}, not the rep's {rep.distance_m:g} m"
        return replace(base, outcome=Outcome.INCOMPLETE, started_ns=started, ended_ns=ended, reason=reason)
    return _timed(base, started, ended, matching, tuple(s.time_ns for s in segments))


def _time_ns(attempt: Attempt) -> int:
    """A done attempt's time over the rep distance: ``_timed`` gives every done attempt one."""
    assert attempt.time_ns is not None, f"rep {attempt.index} is done without a time"
    return attempt.time_ns


def _timed(base: Attempt, started: int, ended: int, stretch: tuple[float, int], splits: tuple[int, ...]) -> Attempt:
    timed_m, timed_ns = stretch
    return replace(
        base, started_ns=started, ended_ns=ended, time_ns=timed_ns,
        velocity_mps=pace_velocity(timed_m, timed_ns), timed_m=timed_m, splits_ns=splits,
    )  # fmt: skip


# ---- Effects and views --------------------------------------------------------------------------


class Cue(StrEnum):
    REST_WARNING = "rest-warning"  # beep: 10 s of rest left
    REST_OVER = "rest-over"  # beep: the rest is over
    CALL = "call"  # the athlete's turn
    DROP_OFF = "drop-off"  # a rep dropped off: suggest ending the set
    FINISHED = "finished"  # the workout is over


@dataclass(frozen=True, slots=True)
class Effect:
    """Something to signal once: ``at_ns`` is when it fell due (a late tick signals it late)."""

    cue: Cue
    at_ns: int
    athlete_id: int | None
    message: str

    WIRE: ClassVar[Wire] = Wire(hide=("at_ns",), rename={"athlete_id": "athlete"})


class Status(StrEnum):
    NOT_STARTED = "not-started"
    READY = "ready"  # rest over (or none): called, or about to be once the course is clear
    RESTING = "resting"  # a timed rest is counting down
    RECOVERING = "recovering"  # full, jog or unwritten rest: waiting for the coach's "ready"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class NextRep:
    index: int
    set_no: int
    rep_no: int
    reps_in_set: int
    sets: int
    distance_m: float
    target: RepTarget

    WIRE: ClassVar[Wire] = Wire(hide=("index",), rename={"set_no": "set", "rep_no": "rep"})


@dataclass(frozen=True, slots=True)
class AthleteView:
    id: int
    name: str
    status: Status
    next_rep: NextRep | None
    rest: str | None  # the recovery before the next rep as written: "3:00", "full", "200 m jog"
    rest_since_ns: int | None  # the end of the last run
    rest_ends_ns: int | None  # a timed rest: the countdown's end
    rest_max_ends_ns: int | None  # the end of a range (R35-45s); equal to rest_ends_ns otherwise
    jog_m: float | None
    done: int
    planned: int
    attempts: tuple[Attempt, ...]
    suggest_end_set: bool  # the last rep dropped off and reps remain in its set


@dataclass(frozen=True, slots=True)
class RunnerView:
    """The live page's state; ``dataclasses.asdict`` makes it JSON-ready."""

    status: Status  # running if anyone is on the course, else that of the next athlete
    now_ns: int
    kind: WorkoutKind
    next_athlete: int | None  # id of who runs next (called, or still resting)
    running: int | None
    set_no: int | None  # of the next athlete's next rep
    rep_no: int | None
    queue: tuple[int, ...]  # athlete ids in running order: the daemon's athlete queue
    athletes: tuple[AthleteView, ...]
    alarm_ns: int | None  # tick at this instant: a beep or a call falls due


@dataclass(frozen=True, slots=True)
class AthleteSummary:
    id: int
    name: str
    planned: int
    done: int
    skipped: int
    run_again: int  # voided, repeated and incomplete runs
    on_target: int  # done reps that beat their pace or were on target
    checked: int  # done reps that had a target time
    distances: tuple[DistanceSummary, ...]
    drop_offs: tuple[Attempt, ...]
    top_speed: TopSpeedHint | None  # 400 m-pace work only


class Step(NamedTuple):
    runner: WorkoutRunner
    effects: tuple[Effect, ...]


@dataclass(frozen=True, slots=True)
class _Rest:
    recovery: Recovery | None  # as written
    since_ns: int | None
    ends_ns: int | None  # a countdown's end; None without one (or cut short by the coach)
    max_ends_ns: int | None
    coach_ready: bool

    def ready(self, now_ns: int) -> bool:
        if self.since_ns is None or self.coach_ready:
            return True
        return self.ends_ns is not None and now_ns >= self.ends_ns


class _Stage(IntEnum):
    """How far the signals of the next athlete's rest have gone."""

    NONE = 0
    WARNED = 1
    OVER = 2
    CALLED = 3


# ---- The runner ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkoutRunner:
    """A workout under way for a group. Build it with ``create``; inputs return a ``Step``.

    >>> from gatectl.coaching.notation import parse_workout
    >>> runner = WorkoutRunner.create(parse_workout("2 x 30m. 3:00 Rec"), WorkoutKind.MAX_VELOCITY,
    ...                               [Athlete(1, "Ada", {400: 50_000_000_000})])
    >>> runner, effects = runner.start(0)
    >>> [e.message for e in effects]
    ['Ada: your turn, set 1 rep 1 of 2, 30 m, faster than 400m pace (3.75 s)']
    """

    kind: WorkoutKind
    athletes: tuple[Athlete, ...]
    plans: tuple[tuple[Rep, ...], ...]  # each athlete's: their targets and rests
    targets: tuple[tuple[RepTarget, ...], ...]
    groups: tuple[int, ...]  # quality.comparison_groups of the plan
    options: CoachingOptions
    attempts: tuple[tuple[Attempt, ...], ...]
    ready_ns: tuple[int | None, ...]  # the coach said the athlete was ready, at
    started_ns: int | None = None
    ended_ns: int | None = None
    on_course: tuple[int, ...] = ()  # indices of the athletes running (a group rep: the group)
    together: bool = False  # the group runs each rep together (track reps on one gate): called as one, rested as one
    cue: tuple[int, int, int | None] | None = None  # the signalled rest: athlete, rep, countdown end
    stage: _Stage = _Stage.NONE
    over: bool = False  # every rep is settled (a void reopens the workout) or the coach ended it

    @classmethod
    def create(
        cls, workout: Workout, kind: WorkoutKind, athletes: Sequence[Athlete], options: CoachingOptions | None = None, *,
        together: bool = False,
    ) -> WorkoutRunner:
        options = options or CoachingOptions()
        if not athletes:
            raise WorkoutError("A workout needs at least one athlete.")
        ids = [a.id for a in athletes]
        if len(set(ids)) != len(ids):
            raise WorkoutError("Each athlete can be in the group once only.")
        plans = []
        for athlete in athletes:
            try:
                plans.append(expand(workout, athlete.races, sprinter400=athlete.sprinter400, sprinter_factor=options.sprinter_factor))
            except WorkoutError as error:
                raise WorkoutError(f"{athlete.name}: {error}") from None
        targets = tuple(tuple(target_for(kind, rep, a.races, options.clearly) for rep in plan) for a, plan in zip(athletes, plans))
        return cls(
            kind, tuple(athletes), tuple(plans), targets, comparison_groups(plans[0]), options,
            tuple(() for _ in athletes), tuple(None for _ in athletes), together=together,
        )  # fmt: skip

    # -- inputs from the coach

    def start(self, now_ns: int) -> Step:
        if self.started_ns is not None:
            raise WorkoutError("The workout has already started.")
        return replace(self, started_ns=now_ns)._signal(now_ns)

    def ready(self, athlete_id: int | None, now_ns: int) -> Step:
        """The coach says the athlete (a group running together: the whole group) has recovered: their rest ends now."""
        i = self._coach_target(athlete_id)
        ready = self.ready_ns
        for k in self._queue() if self.together and athlete_id is None else [i]:
            ready = _put(ready, k, now_ns)
        return replace(self, ready_ns=ready)._signal(now_ns)

    def skip(self, now_ns: int, athlete_id: int | None = None) -> Step:
        """The athlete's next rep (the next athlete's, by default) is recorded as skipped."""
        i = self._coach_target(athlete_id)
        nxt = self._next(i)
        assert nxt is not None  # _coach_target picks an athlete with reps left
        return self._skip(i, [nxt])._signal(now_ns)

    def end_set(self, now_ns: int, athlete_id: int | None = None) -> Step:
        """Skip what remains of the athlete's set: after a drop-off, their set is done."""
        i = self._coach_target(athlete_id)
        plan, nxt = self.plans[i], self._next(i)
        assert nxt is not None  # _coach_target picks an athlete with reps left
        remaining = [k for k in range(nxt, len(plan)) if plan[k].set_no == plan[nxt].set_no and not self._settled(i, k)]
        return self._skip(i, remaining)._signal(now_ns)

    def repeat(self, now_ns: int, athlete_id: int | None = None) -> Step:
        """Run a rep again: the athlete's last done rep (whoever ran last, by default) does not count."""
        self._require_live()
        who = None if athlete_id is None else self._member(athlete_id)
        done = [
            (a.ended_ns, i, k)
            for i, row in enumerate(self.attempts)
            for k, a in enumerate(row)
            if a.outcome is Outcome.DONE and who in (None, i)
        ]
        if not done:
            raise WorkoutError("There is no done rep to repeat yet.")
        _, i, k = max(done)
        return self._recount(i, k, Outcome.REPEATED, "the coach asked for it again")._signal(now_ns)

    def end(self, now_ns: int) -> Step:
        """The coach ends the workout, for everyone; reps not run stay not run."""
        self._require_live()
        effects = () if self.over else (Effect(Cue.FINISHED, now_ns, None, "The workout is over."),)
        return Step(replace(self, ended_ns=now_ns, on_course=(), over=True), effects)

    def tick(self, now_ns: int) -> Step:
        """Time has reached ``now_ns``: the beeps and calls that fell due."""
        return self._signal(now_ns)

    # -- inputs from the gates

    def run_started(self, now_ns: int, athlete_id: int | None = None) -> Step:
        """A run began (a crossing at the first gate, a lap rep's start): it is the next athlete's."""
        i = self._head() if athlete_id is None else self._index(athlete_id)
        if not self._live() or i is None or self._next(i) is None or i in self.on_course:
            return self._signal(now_ns)
        # One at a time, the runner follows whoever started last; a group running together is on the course as one.
        return replace(self, on_course=(*self.on_course, i) if self.together else (i,))._signal(now_ns)

    def run_finished(self, run_id: int, athlete_id: int | None, result: RunReport | LapRep, now_ns: int) -> Step:
        """A run ended: ``result`` is its ``results.report`` (or stored ``RunView``), or a ``LapRep``.

        A complete run is the athlete's next rep; an incomplete or voided one is
        an attempt that does not count.
        """
        i = None if athlete_id is None else self._index(athlete_id)
        seen = any(a.run_id == run_id for row in self.attempts for a in row)
        nxt = None if i is None else self._next(i)
        if not self._live() or i is None or seen or nxt is None:
            return self._signal(now_ns)
        attempt = _attempt(self.plans[i][nxt], nxt, run_id, result)
        if attempt is None:
            return self._signal(now_ns)
        if attempt.outcome is Outcome.DONE:
            last = self._last_end(i)
            assert attempt.started_ns is not None  # every run has a start
            rest = None if last is None else attempt.started_ns - last
            attempt = replace(attempt, rest_ns=rest, check=self._check(i, attempt))
        runner = replace(self, on_course=tuple(k for k in self.on_course if k != i))._with_attempts(i, self.attempts[i] + (attempt,))
        recorded = runner.attempts[i][-1]
        effects = [runner._drop_off_effect(i, recorded, now_ns)] if recorded.drop_off else []
        return runner._signal(now_ns, effects)

    def run_voided(self, run_id: int, now_ns: int) -> Step:
        """A run was voided (false start, wrong athlete): its rep is run again."""
        if self._live():
            for i, row in enumerate(self.attempts):
                for k, attempt in enumerate(row):
                    if attempt.run_id == run_id and attempt.outcome is Outcome.DONE:
                        return self._recount(i, k, Outcome.VOIDED, "voided")._signal(now_ns)
        return self._signal(now_ns)

    # -- what the page shows

    @property
    def alarm_ns(self) -> int | None:
        """When ``tick`` will next have a beep or a call to give for a countdown; None if none."""
        head = self._head() if self._live() else None
        if head is None:
            return None
        rest = self._rest(head)
        stage = self._stage_for(head, rest)
        if rest.ends_ns is None or rest.since_ns is None or stage >= _Stage.OVER:
            return None
        warn = rest.ends_ns - self.options.warning_ns
        return warn if stage < _Stage.WARNED and warn > rest.since_ns else rest.ends_ns

    def view(self, now_ns: int) -> RunnerView:
        athletes = tuple(self._athlete_view(i, now_ns) for i in range(len(self.athletes)))
        head = self._head() if self._live() else None
        if self.started_ns is None:
            status = Status.NOT_STARTED
        elif self.ended_ns is not None or not self._queue():
            status = Status.FINISHED
        elif self.on_course or head is None:
            status = Status.RUNNING
        elif self.together:  # the group is ready when everyone is: else as the first still resting
            status = next((athletes[i].status for i in self._queue() if athletes[i].status is not Status.READY), Status.READY)
        else:
            status = athletes[head].status
        upcoming = None if head is None else athletes[head].next_rep
        return RunnerView(
            status, now_ns, self.kind,
            None if head is None else self.athletes[head].id,
            self.athletes[self.on_course[0]].id if self.on_course else None,
            None if upcoming is None else upcoming.set_no,
            None if upcoming is None else upcoming.rep_no,
            tuple(self.athletes[i].id for i in self._queue()),
            athletes, self.alarm_ns,
        )  # fmt: skip

    def summary(self) -> tuple[AthleteSummary, ...]:
        out = []
        for athlete, plan, row in zip(self.athletes, self.plans, self.attempts):
            done = [a for a in row if a.outcome is Outcome.DONE]
            by_distance: dict[float, list[int]] = {}
            for a in done:
                by_distance.setdefault(a.distance_m, []).append(_time_ns(a))
            checked = [a.check for a in done if a.check is not None]
            hint = None
            if self.kind is WorkoutKind.PACE_400M:
                hint = top_speed_hint([(a.distance_m, _time_ns(a)) for a in done], athlete.races, self.options.clearly)
            out.append(AthleteSummary(
                athlete.id, athlete.name, len(plan), len(done),
                sum(a.outcome is Outcome.SKIPPED for a in row),
                sum(a.outcome in (Outcome.VOIDED, Outcome.REPEATED, Outcome.INCOMPLETE) for a in row),
                sum(c.verdict in (Verdict.BEAT, Verdict.ON_TARGET) for c in checked), len(checked),
                tuple(summarize(d, times) for d, times in sorted(by_distance.items())),
                tuple(a for a in done if a.drop_off), hint,
            ))  # fmt: skip
        return tuple(out)

    # -- the state, derived

    def _live(self) -> bool:
        return self.started_ns is not None and self.ended_ns is None

    def _require_live(self) -> None:
        if self.started_ns is None:
            raise WorkoutError("The workout has not started yet: start it first.")
        if self.ended_ns is not None:
            raise WorkoutError("The workout was ended.")

    def _member(self, athlete_id: int) -> int:
        i = self._index(athlete_id)
        if i is None:
            raise WorkoutError(f"Athlete {athlete_id} is not in this workout.")
        return i

    def _index(self, athlete_id: int) -> int | None:
        return next((i for i, a in enumerate(self.athletes) if a.id == athlete_id), None)

    def _coach_target(self, athlete_id: int | None) -> int:
        """The athlete a coach's input is about: the given one, or whoever runs next."""
        self._require_live()
        if athlete_id is None:
            i = self._head()
            if i is None:
                raise WorkoutError("Nobody is waiting to run: name the athlete.")
            return i
        i = self._member(athlete_id)
        if self._next(i) is None:
            raise WorkoutError(f"{self.athletes[i].name} has no reps left.")
        return i

    def _settled(self, i: int, index: int) -> bool:
        return any(a.index == index and a.outcome in (Outcome.DONE, Outcome.SKIPPED) for a in self.attempts[i])

    def _next(self, i: int) -> int | None:
        """The athlete's next rep: the first in the plan neither done nor skipped."""
        settled = {a.index for a in self.attempts[i] if a.outcome in (Outcome.DONE, Outcome.SKIPPED)}
        return next((k for k in range(len(self.plans[i])) if k not in settled), None)

    def _last_end(self, i: int) -> int | None:
        """When the athlete's last run ended; a group running together rests from its last finisher's end."""
        rows = self.attempts if self.together else (self.attempts[i],)
        return max((a.ended_ns for row in rows for a in row if a.outcome in _RUNS and a.ended_ns is not None), default=None)

    def _ready_to_go(self, head: int, rest: _Rest, now_ns: int) -> bool:
        """The next athlete's rest is over; a group running together: everyone's with reps left."""
        if not self.together:
            return rest.ready(now_ns)
        return all(self._rest(i).ready(now_ns) for i in self._queue())

    def _queue(self) -> list[int]:
        """Athletes with reps left, in running order; whoever is on the course first."""
        def order(i: int) -> tuple[bool, int | None, bool, int, int]:
            last = self._last_end(i)
            return (i not in self.on_course, self._next(i), last is not None, last or 0, i)

        if self.ended_ns is not None:
            return []
        return sorted((i for i in range(len(self.athletes)) if self._next(i) is not None), key=order)

    def _head(self) -> int | None:
        """Who runs next: the first in the queue not on the course."""
        return next((i for i in self._queue() if i not in self.on_course), None)

    def _rest(self, i: int) -> _Rest:
        """The rest before the athlete's next rep."""
        nxt, last = self._next(i), self._last_end(i)
        plan = self.plans[i]
        recovery = plan[nxt - 1].recovery if nxt else plan[0].recovery
        if last is None:
            return _Rest(recovery, None, None, None, False)
        ready = self.ready_ns[i]
        coach_ready = ready is not None and ready >= last
        if isinstance(recovery, Rest) and not coach_ready:
            return _Rest(recovery, last, last + recovery.min_ns, last + recovery.max_ns, False)
        return _Rest(recovery, last, None, None, coach_ready)

    def _check(self, i: int, attempt: Attempt) -> TargetCheck | None:
        target = self.targets[i][attempt.index]
        if target.time_ns is None:  # nothing to check against: a max effort, an unknown race time
            return None
        if target.style is TargetStyle.ON_PACE:
            return check_pace(_time_ns(attempt), target.time_ns, attempt.distance_m, self.options.on_target_per_400m_ns)
        if target.style is TargetStyle.FASTER_THAN:
            return check_faster_than(_time_ns(attempt), target.time_ns)
        return None

    # -- the state, changed

    def _with_attempts(self, i: int, row: tuple[Attempt, ...]) -> WorkoutRunner:
        """The athlete's attempts with drop-offs judged afresh: a void can change a set's best."""
        flagged: list[Attempt] = []
        for attempt in row:
            if attempt.outcome is Outcome.DONE:
                earlier = [_time_ns(a) for a in flagged if a.outcome is Outcome.DONE and self.groups[a.index] == self.groups[attempt.index]]
                paced_ok = self.targets[i][attempt.index].style is TargetStyle.ON_PACE and attempt.check is not None and attempt.check.verdict is not Verdict.SLOW
                found = None if paced_ok else drop_off(_time_ns(attempt), earlier, self.options.margin, self.options.against)
                attempt = replace(attempt, drop_off=found)
            flagged.append(attempt)
        return replace(self, attempts=_put(self.attempts, i, tuple(flagged)))

    def _recount(self, i: int, k: int, outcome: Outcome, reason: str) -> WorkoutRunner:
        row = list(self.attempts[i])
        row[k] = replace(row[k], outcome=outcome, reason=reason, drop_off=None)
        return self._with_attempts(i, tuple(row))

    def _skip(self, i: int, indices: list[int]) -> WorkoutRunner:
        if i in self.on_course:
            raise WorkoutError(f"{self.athletes[i].name} is running: wait for the run to end (then void it if it should not count).")
        plan = self.plans[i]
        skipped = tuple(Attempt(k, plan[k].set_no, plan[k].rep_no, plan[k].distance_m, Outcome.SKIPPED) for k in indices)
        return replace(self, attempts=_put(self.attempts, i, self.attempts[i] + skipped))

    def _stage_for(self, head: int, rest: _Rest) -> _Stage:
        return self.stage if self.cue == (head, self._next(head), rest.ends_ns) else _Stage.NONE

    def _signal(self, now_ns: int, effects: Sequence[Effect] = ()) -> Step:
        """Finish the workout when nobody has reps left; beep and call for the next athlete."""
        effects = list(effects)
        if not self._live():
            return Step(self, tuple(effects))
        head = self._head()
        if head is None:
            if self._queue() or self.over:  # the last athlete with reps left is on the course
                return Step(self, tuple(effects))
            effects.append(Effect(Cue.FINISHED, now_ns, None, "Every rep is done: the workout is over."))
            return Step(replace(self, over=True), tuple(effects))
        rest = self._rest(head)
        stage = self._stage_for(head, rest)
        athlete = self.athletes[head]
        if rest.ends_ns is not None and rest.since_ns is not None:
            warn = rest.ends_ns - self.options.warning_ns
            if now_ns >= rest.ends_ns and stage < _Stage.OVER:
                effects.append(Effect(Cue.REST_OVER, rest.ends_ns, athlete.id, f"{athlete.name}: rest over"))
                stage = _Stage.OVER
            elif warn > rest.since_ns and now_ns >= warn and stage < _Stage.WARNED:
                seconds = self.options.warning_ns / NS_PER_S
                effects.append(Effect(Cue.REST_WARNING, warn, athlete.id, f"{athlete.name}: {seconds:g} seconds"))
                stage = _Stage.WARNED
        if self._ready_to_go(head, rest, now_ns) and not self.on_course and stage < _Stage.CALLED:
            effects.append(Effect(Cue.CALL, now_ns, athlete.id, self._call_message(head)))
            stage = _Stage.CALLED
        nxt = self._next(head)
        assert nxt is not None  # the queue holds athletes with reps left
        runner = replace(self, cue=(head, nxt, rest.ends_ns), stage=stage, over=False)
        return Step(runner, tuple(effects))

    def _call_message(self, i: int) -> str:
        rep = self._next_rep(i)
        assert rep is not None  # only the head of the queue is called, and it has a rep left
        names = ", ".join(self.athletes[k].name for k in self._queue()) if self.together else self.athletes[i].name
        return (
            f"{names}: your turn, set {rep.set_no} rep {rep.rep_no} of {rep.reps_in_set}, "
            f"{rep.distance_m:g} m, {rep.target.text}"
        )

    def _drop_off_effect(self, i: int, attempt: Attempt, now_ns: int) -> Effect:
        found = attempt.drop_off
        assert found is not None  # signalled for a rep that dropped off only
        reference = "the best of the set" if found.against is Against.BEST else "the rep before"
        text = f"{self.athletes[i].name}: set {attempt.set_no} rep {attempt.rep_no} was {found.percent_slower:g} % slower than {reference}"
        if self._suggest_end_set(i):
            text += ": end the set?"
        return Effect(Cue.DROP_OFF, now_ns, self.athletes[i].id, text)

    def _suggest_end_set(self, i: int) -> bool:
        done = [a for a in self.attempts[i] if a.outcome is Outcome.DONE]
        nxt = self._next(i)
        return bool(done) and done[-1].drop_off is not None and nxt is not None and self.plans[i][nxt].set_no == done[-1].set_no

    def _next_rep(self, i: int) -> NextRep | None:
        nxt = self._next(i)
        if nxt is None:
            return None
        plan = self.plans[i]
        rep = plan[nxt]
        in_set = sum(1 for r in plan if r.set_no == rep.set_no)
        return NextRep(nxt, rep.set_no, rep.rep_no, in_set, plan[-1].set_no, rep.distance_m, self.targets[i][nxt])

    def _athlete_view(self, i: int, now_ns: int) -> AthleteView:
        athlete, row = self.athletes[i], self.attempts[i]
        upcoming = self._next_rep(i)
        rest = None if upcoming is None else self._rest(i)
        if rest is None or self.ended_ns is not None:  # no rest: no rep to come
            status = Status.FINISHED
        elif self.started_ns is None:
            status = Status.NOT_STARTED
        elif i in self.on_course:
            status = Status.RUNNING
        elif rest.ready(now_ns):
            status = Status.READY
        else:
            status = Status.RESTING if rest.ends_ns is not None else Status.RECOVERING
        return AthleteView(
            athlete.id, athlete.name, status, upcoming,
            None if rest is None or rest.recovery is None else str(rest.recovery),
            None if rest is None else rest.since_ns,
            None if rest is None else rest.ends_ns,
            None if rest is None else rest.max_ends_ns,
            rest.recovery.distance_m if rest is not None and isinstance(rest.recovery, JogRest) else None,
            sum(a.outcome is Outcome.DONE for a in row), len(self.plans[i]), row,
            self._suggest_end_set(i),
        )  # fmt: skip


_T = TypeVar("_T")


def _put(values: tuple[_T, ...], i: int, value: _T) -> tuple[_T, ...]:
    return values[:i] + (value,) + values[i + 1 :]
