"""The workout driver: a workout under way, on the daemon thread.

Its ``WorkoutRunner`` (pure, immutable) hears every run start and end, voids,
the coach's taps and the clock in the order they happen. After each input
(``step``) the driver makes the rest follow the runner: the athlete queue is
the runner's, the workout's summary is stored, the live page is told (a
``workout`` event), and for track reps the lap gate is armed for a rolling
start when the next athlete is called, or disarmed when nobody is.

What it needs of the daemon is a ``WorkoutHost``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from gatectl.coaching.laps import (
    Command,
    GroupEntry,
    GroupProgress,
    GroupRevision,
    GroupStart,
    LapCommand,
    LapRep,
    LapSplit,
    LapStart,
    LapTimerState,
    LapTiming,
    StartKind,
    Track,
)  # fmt: skip
from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.quality import TargetStyle
from gatectl.coaching.runner import Effect, Outcome, RunnerView, Status, Step, WorkoutRunner
from gatectl.daemon.events import EventBus
from gatectl.daemon.sessions import Derived, Lineup, Session
from gatectl.daemon.workout import DEFAULT_COUNTDOWN_NS, LiveWorkout, WorkoutPlan, WorkoutState, group, page_state, summary_rows
from gatectl.errors import WorkoutError
from gatectl.store import Store, StoreUnavailable
from gatectl.timing.model import NS_PER_S, Crossing, Run
from gatectl.timing.results import RunView

log = logging.getLogger(__name__)

# The coach's taps on a workout, about an athlete (None: whoever runs next), and "go" for track reps.
WORKOUT_STEPS: dict[str, Callable[[WorkoutRunner, int, int | None], Step]] = {
    "ready": lambda r, now, who: r.ready(who, now),
    "skip": lambda r, now, who: r.skip(now, who),
    "repeat": lambda r, now, who: r.repeat(now, who),
    "end-set": lambda r, now, who: r.end_set(now, who),
    "end": lambda r, now, who: r.end(now),
}
WORKOUT_ACTIONS = (*WORKOUT_STEPS, "go")


def _tap(name: str) -> Callable[[WorkoutRunner, dict[str, Any], Any], Step]:
    return lambda r, d, _: WORKOUT_STEPS[name](r, d["now"], d.get("who"))


# Every input the runner hears, by name: the driver keeps each (name and data) as a session event
# ("workout"), so that after a restart the runner, pure and immutable, is rebuilt by replaying them
# (``resume_workout``). The third argument is a finished run's result, read back from the store.
RUNNER_INPUTS: dict[str, Callable[[WorkoutRunner, dict[str, Any], Any], Step]] = {
    **{name: _tap(name) for name in WORKOUT_STEPS},
    "start": lambda r, d, _: r.start(d["now"]),
    "tick": lambda r, d, _: r.tick(d["now"]),
    "run-started": lambda r, d, _: r.run_started(d["now"], d.get("who")),
    # A group's rep is whose the lap timing (and the coach's marks) say, as stored now.
    "run-finished": lambda r, d, result: r.run_finished(
        d["run"], result.athlete_id if isinstance(result, LapRep) and result.athlete_id is not None else d.get("owner"), result, d["now"]
    ),
    "run-voided": lambda r, d, _: r.run_voided(d["run"], d["now"]),
}


class WorkoutHost(Protocol):
    """What the driver needs of the daemon thread."""

    @property
    def store(self) -> Store: ...

    @property
    def bus(self) -> EventBus: ...

    @property
    def lineup(self) -> Lineup: ...

    @property
    def horizon_ns(self) -> int:
        """How far the timing has got: a lap command is stamped with it."""

    def now_ns(self) -> int: ...

    def set_queue(self, athlete_ids: Sequence[int]) -> None: ...

    def lap_command(self, command: LapCommand) -> None:
        """Apply a command to the session's lap timing, keep it, and record what it gave."""


class WorkoutDriver:
    """The workout of ``session``; ``host`` is the daemon thread's side."""

    def __init__(self, live: LiveWorkout, session: Session, host: WorkoutHost) -> None:
        self.live = live
        self.session = session
        self._host = host
        self._unsaved: list[tuple[str, dict[str, Any]]] = []  # inputs the store refused: kept with the next

    @property
    def running(self) -> bool:
        """Reps are still to be run (a void can reopen a finished workout)."""
        return not self.live.runner.over

    def state(self, now_ns: int) -> WorkoutState:
        """The workout as the live page shows it."""
        return page_state(self.live, now_ns, timer=self._timer_state())

    # Inputs -------------------------------------------------------------------------------------

    def step(self, name: str, result: Any = None, **data: Any) -> None:
        """Give the runner one input (``RUNNER_INPUTS``), kept to be replayed; then the queue, the lap gate and the page follow it."""
        self.live.runner, effects = RUNNER_INPUTS[name](self.live.runner, data, result)
        self._unsaved.append((name, data))
        self.follow(effects)

    def follow(self, effects: Sequence[Effect] = ()) -> None:
        """The queue, the lap gate, the store and the page follow the runner as it stands."""
        live, host = self.live, self._host
        now = host.now_ns()
        view = live.runner.view(now)
        if list(view.queue) != host.lineup.queue:
            host.set_queue(view.queue)  # the daemon gives each finished run to its head
        if (laps := self.session.timing.laps) is not None:
            self._steer_lap_gate(laps, view)
        self._save(view)
        host.bus.publish("workout", page_state(live, now, timer=self._timer_state(), effects=effects))

    def _save(self, view: RunnerView) -> None:
        """Keep the inputs and the summary; a store that refuses now gets them with the next input."""
        store, session_id = self._host.store, self.live.session_id
        try:
            while self._unsaved:
                name, data = self._unsaved[0]
                store.add_session_event(session_id, data["now"], "workout", {"input": name, **data})
                self._unsaved.pop(0)
            store.update_workout(session_id, summary_rows(self.live.runner.summary()), ended=view.status is Status.FINISHED)
        except StoreUnavailable as exc:
            log.warning("workout inputs kept in memory for now: %s", exc)

    def coach(self, action: str, athlete_id: int | None, now_ns: int) -> WorkoutState:
        """The coach's tap (``WORKOUT_ACTIONS``), about the athlete or whoever runs next; the state after it."""
        if action == "go":
            self._go(now_ns)
        elif action in WORKOUT_STEPS:
            self.step(action, now=now_ns, who=athlete_id)
        else:
            raise WorkoutError(f"Unknown workout action {action!r}; use one of {', '.join(WORKOUT_ACTIONS)}.")
        return self.state(now_ns)

    def tick(self, now_ns: int) -> None:
        """The clock: rests end, calls and beeps fall due."""
        alarm = self.live.runner.alarm_ns
        if alarm is not None and now_ns >= alarm:
            self.step("tick", now=now_ns)

    def end(self) -> None:
        """The session is over: so is its workout, if the coach did not end it."""
        if self.live.runner.ended_ns is None:
            self.step("end", now=self._host.now_ns())

    def run_voided(self, run_id: int) -> None:
        self.step("run-voided", run=run_id, now=self._host.now_ns())

    def heard(self, event: Derived, armed: bool) -> None:
        """A crossing or lap event as the timing gave it: a rep may have started, or passed a split."""
        live, now = self.live, self._host.now_ns
        if isinstance(event, GroupStart):
            live.groups.append(event)
            laps = self.session.timing.laps
            if laps is not None and laps.timer.group_laps is not None:
                live.group_laps[event.numbers[0]] = laps.timer.group_laps
            for entry in event.entries:
                self.step("run-started", now=now(), who=entry.athlete_id)
        elif isinstance(event, (GroupProgress, GroupRevision)):
            live.group_laps[event.numbers[0] if isinstance(event, GroupProgress) else event.reps[0].number] = event.laps
            if isinstance(event, GroupRevision):
                self.rebuild()
            else:
                self._host.bus.publish("workout", page_state(live, now(), timer=self._timer_state()))
        elif isinstance(event, LapStart):
            live.lap, live.splits, live.armed_for = event, [], None
            self.step("run-started", now=now())
        elif isinstance(event, LapSplit):
            live.splits.append(event)
            self._host.bus.publish("workout", page_state(live, now(), timer=self._timer_state()))
        elif isinstance(event, Crossing) and self.session.timing.laps is None and armed and event.gate == self.session.layout.gates[0].name:
            self.step("run-started", now=now())

    def run_stored(self, run: Run | LapRep, run_id: int) -> None:
        """A stored run reaches the workout: an attempt at its owner's next rep, labelled with it."""
        if not self.session.counts(run):
            return
        live, store = self.live, self._host.store
        if isinstance(run, LapRep):
            live.lap, live.splits = None, []
        result = run if isinstance(run, LapRep) else store.run(run_id)
        owner = self.session.owners.get(run.number)
        group = {"group": True} if isinstance(run, LapRep) and run.athlete_id is not None else {}
        self.step("run-finished", result, run=run_id, owner=owner, now=self._host.now_ns(), **group)
        for attempt in (a for row in live.runner.attempts for a in row if a.run_id == run_id):
            store.set_run_rep(run_id, attempt.set_no, attempt.rep_no)

    # Track reps: the lap gate -------------------------------------------------------------------

    def _timer_state(self) -> LapTimerState | None:
        laps = self.session.timing.laps
        return None if laps is None else laps.timer.state

    def _steer_lap_gate(self, laps: LapTiming, view: RunnerView) -> None:
        """Arm the lap gate for a rolling start when the next athlete is called; disarm when nobody is."""
        live, timer, horizon = self.live, laps.timer, self._host.horizon_ns
        called = view.status is Status.READY and view.running is None
        upcoming = live.next_rep_target(view)
        rolling = live.plan.start is StartKind.ROLLING and live.plan.waves_ns is None  # a group leaves at the go
        if called and upcoming is not None and rolling and timer.state is not LapTimerState.RUNNING:
            distance, target = upcoming
            if timer.splits_m(distance)[0] == timer.settings.lap_m and live.armed_for != upcoming:  # else a go starts it
                target_ns = target.time_ns if target.style is TargetStyle.ON_PACE else None
                self._host.lap_command(LapCommand(horizon, Command.ARM, distance, target_ns))
                live.armed_for = upcoming
        elif timer.state is LapTimerState.ARMED or (timer.state is LapTimerState.RUNNING and view.status is Status.FINISHED):
            reason = "the workout ended" if view.status is Status.FINISHED else "nobody was called"
            self._host.lap_command(LapCommand(horizon, Command.CANCEL, reason=reason))
            live.armed_for = None

    def _go(self, now_ns: int) -> None:
        """The coach's go: the next athlete's rep starts when the countdown ends."""
        live, laps = self.live, self.session.timing.laps
        if laps is None:
            raise WorkoutError("Go starts track reps on one gate; this workout is timed through the layout's gates.")
        if laps.timer.state is LapTimerState.RUNNING:
            raise WorkoutError("A rep is already running: wait for it to end.")
        if live.runner.view(now_ns).status is not Status.READY:  # still resting: the coach's go says they are ready
            self.step("ready", now=now_ns, who=None)
        view = live.runner.view(now_ns)
        upcoming = live.next_rep_target(view)
        if upcoming is None:
            raise WorkoutError("Nobody is waiting to run.")
        distance, target = upcoming
        target_ns = target.time_ns if target.style is TargetStyle.ON_PACE else None
        start_ns = now_ns + live.plan.countdown_ns
        if live.plan.waves_ns is not None:
            group = self._group_entries(view, start_ns, live.plan.waves_ns)
            self._host.lap_command(LapCommand(self._host.horizon_ns, Command.GROUP_GO, group=group))
        else:
            self._host.lap_command(LapCommand(self._host.horizon_ns, Command.GO, distance, target_ns, start_ns=start_ns))
        live.armed_for = None

    @staticmethod
    def _group_entries(view: RunnerView, go_ns: int, waves_ns: int) -> tuple[GroupEntry, ...]:
        """Everyone with a rep left, in the queue's order, a wave each ``waves_ns`` apart (0: together).

        The lap timing expects each at their target, else at their last time over the distance.
        """
        by_id = {a.id: a for a in view.athletes}
        entries = []
        for k, athlete_id in enumerate(view.queue):
            athlete = by_id[athlete_id]
            rep = athlete.next_rep
            assert rep is not None  # the queue holds athletes with reps left
            target_ns = rep.target.time_ns if rep.target.style is TargetStyle.ON_PACE else None
            before = [a.time_ns for a in athlete.attempts if a.outcome is Outcome.DONE and a.distance_m == rep.distance_m and a.time_ns]
            expected = target_ns if target_ns is not None else (before[-1] if before else None)
            entries.append(GroupEntry(athlete_id, go_ns + k * waves_ns, rep.distance_m, target_ns, expected))
        return tuple(entries)

    def mark(self, crossing_ns: int, athlete_id: int) -> None:
        """The coach says whose a group rep's crossing was: kept, and the rep assigned again."""
        laps = self.session.timing.laps
        if laps is None or self.live.plan.waves_ns is None:
            raise WorkoutError("Only a group's track reps have crossings to mark.")
        laps.timer.check_mark(crossing_ns, athlete_id)  # refused before it is kept
        self._host.lap_command(LapCommand(self._host.horizon_ns, Command.MARK, crossing_ns=crossing_ns, athlete_id=athlete_id))

    def rebuild(self) -> None:
        """The stored runs changed (a mark revised a group rep, the coach corrected a run): the runner heard again
        from its inputs, as at a restart."""
        self.live.runner = _replayed(self._host.store, self.session.id, self.session.track, self.live.plan.runner(self.live.rest_scale))
        self.follow()


def resume_workout(store: Store, session: Session, host: WorkoutHost) -> WorkoutDriver | None:
    """The workout of a session carried on after a restart, its runner rebuilt from its inputs; None if none was running."""
    row = store.workout(session.id)
    if row is None or row["ended"]:
        return None
    plan, rest_scale = _stored_plan(store, row, session.track)
    runner = _replayed(store, session.id, session.track, plan.runner(rest_scale))  # parsed before: it ran
    live = LiveWorkout(plan, session.id, runner, rest_scale)
    laps = session.timing.laps
    for start, assigned in laps.timer.group_reps() if laps is not None else ():  # rebuilt from the record: the panel's too
        live.groups.append(start)
        live.group_laps[start.numbers[0]] = assigned
    if laps is not None and laps.timer.state is LapTimerState.ARMED:  # rebuilt armed from the lap commands: not armed again
        live.armed_for = live.next_rep_target(runner.view(host.now_ns()))
    driver = WorkoutDriver(live, session, host)
    driver.follow()
    return driver


def follow_runs(store: Store, session_id: int, driver: WorkoutDriver | None) -> None:
    """The session's runs changed (the coach corrected them, or a recompute rebuilt them): its workout's summary
    follows, the stored one and, if ``driver`` runs it, the live page's (the runner hears its inputs again, each
    run as it now stands)."""
    if driver is not None and driver.live.session_id == session_id:
        driver.rebuild()
        return
    row = store.workout(session_id)
    if row is None:
        return
    track = store.track(session_id)
    plan, rest_scale = _stored_plan(store, row, track)
    runner = _replayed(store, session_id, track, plan.runner(rest_scale))
    store.update_workout(session_id, summary_rows(runner.summary()), ended=row["ended"])


def _stored_plan(store: Store, row: dict[str, Any], track: Track | None) -> tuple[WorkoutPlan, float]:
    """The plan of a stored workout (``Store.workout``) and its rest scale."""
    options = row["options"]
    plan = WorkoutPlan(
        row["text"], WorkoutKind(row["kind"]), group(store, [a["id"] for a in row["athletes"]]), slug=row["slug"], track=track,
        start=StartKind(options["start"]) if options.get("start") else StartKind.ROLLING,
        countdown_ns=round(options["countdown_s"] * NS_PER_S) if options.get("countdown_s") else DEFAULT_COUNTDOWN_NS,
        waves_ns=None if options.get("wave_s") is None else round(options["wave_s"] * NS_PER_S),
    )  # fmt: skip
    return plan, options.get("rest_scale", 1.0)


def _replayed(store: Store, session_id: int, track: Track | None, runner: WorkoutRunner) -> WorkoutRunner:
    """``runner`` (fresh) given the session's workout inputs again, each finished run as it is stored now: a run the
    coach corrected, as the run that carries it on (its id, and who ran it); a run corrected away is not heard."""
    for event in store.session_events(session_id, "workout"):
        name, data = event.pop("input"), {k: v for k, v in event.items() if k != "t_ns"}
        result = None
        if "run" in data:
            run = store.carried(data["run"])
            if run is None:
                continue
            data["run"] = run.id
            if name == "run-finished":
                result = _stored_result(run, track, group=data.get("group", False))
                if track is None:
                    data["owner"] = run.athlete_id  # whose it is now: the coach may have said another athlete ran it
        runner, _ = RUNNER_INPUTS[name](runner, data, result)
    return runner


def _stored_result(view: RunView, track: Track | None, *, group: bool = False) -> RunView | LapRep:
    """A finished run as the runner heard it: the stored run, or for track reps the lap rep it was (a group's: whose it is now)."""
    if track is None or (lap := view.lap) is None:
        return view
    return LapRep(
        view.number, lap.start, lap.distance_m, lap.started_ns, lap.started_ns + sum(lap.splits_ns), lap.splits_ns,
        view.status, view.reason, None, lap.target_ns, None, view.athlete_id if group else None,
    )  # fmt: skip
