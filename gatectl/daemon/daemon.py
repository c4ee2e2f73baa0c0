"""The daemon: source → raw log → timing core → store → live events.

One thread does all of it, in this order for every batch of edges: write the
raw edges durably, feed them (in time order) to the timing core, store what
the core derived, publish it. The source's callback only enqueues. Control
actions (new session, athlete queue, arm/disarm) reach the thread through the
same queue, so the core and the store are only ever touched by that thread.

Time comes from the source's clock only: the daemon asks the source what time
it is (``now_ns``) to close detection windows, time out runs and tell how
long a beam has been blocked.

A session times runs along the layout's line of gates, or, for track reps,
lap reps on one of its gates (``Track``). A workout (``start_workout``) runs
on this thread too: its runner hears every run start and end, voids, the
coach's taps and the clock in the order they happen, sets the athlete queue,
arms the lap gate for a rolling start, and publishes its state as
``workout`` events.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gatectl.coaching.laps import Command, LapCommand, LapRep, LapSplit, LapStart, StartKind, Track
from gatectl.coaching.quality import TargetStyle
from gatectl.coaching.runner import RunnerView, Status, Step, WorkoutRunner
from gatectl.daemon.events import EventBus
from gatectl.daemon.workout import LiveWorkout, WorkoutPlan, page_state, summary_json
from gatectl.errors import WorkoutError
from gatectl.sources import EdgeSource
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Anomaly, Crossing, Edge, Layout, Run, RunStatus
from gatectl.timing.pipeline import Timing

log = logging.getLogger(__name__)

STUCK_NS = 2 * NS_PER_S  # blocked longer than a body takes to pass: stuck or misaligned


@dataclass(slots=True)
class BeamStatus:
    broken: bool = False
    since_ns: int | None = None


@dataclass(slots=True)
class _Control:
    action: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class Daemon:
    """Runs a source into the store and the bus. ``start``, then ``stop``."""

    def __init__(
        self,
        source: EdgeSource,
        store_factory: Callable[[], Store],
        layout: Layout,
        *,
        bus: EventBus | None = None,
        place: str = "",
        tick_ns: int = 20 * NS_PER_MS,
        rest_scale: float = 1.0,
    ) -> None:
        self.source = source
        self.bus = bus or EventBus()
        self.layout = layout
        self.place = place
        self.rest_scale = rest_scale  # every workout rest times this: the demo's fast rests
        self.track: Track | None = None
        self.workout: LiveWorkout | None = None
        self._horizon = 0  # the timing has every edge up to here, and its clock has reached it
        self.tick_s = tick_ns / NS_PER_S
        self._store_factory = store_factory
        self._edges_stored = getattr(source, "edges_stored", None)  # gate nodes: acknowledged once durable
        self._inbox: queue.SimpleQueue[Edge | _Control | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._pending: list[tuple[int, int, Edge]] = []  # edges waiting out the source's latency
        self._seq = 0
        self.session_id: int | None = None
        self.armed = True
        self.athlete_queue: list[int] = []
        self.beams: dict[str, BeamStatus] = {}
        self._stuck_reported: set[str] = set()
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    # Lifecycle --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="gatectl-daemon", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error
        try:
            self.source.start(self._inbox.put)
        except BaseException:  # no gates (pin busy...): end the thread, close the store
            self._inbox.put(None)
            self._thread.join()
            self._thread = None
            raise

    def stop(self) -> None:
        """Stop the source, then record and time everything it delivered."""
        if self._thread is None:
            return
        self.source.stop()
        self._inbox.put(None)
        self._thread.join()
        self._thread = None

    # Control, from any thread -------------------------------------------------

    def call(self, action: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``action`` on the daemon thread and return its result."""
        control = _Control(action)
        self._inbox.put(control)
        if not control.done.wait(timeout):
            raise TimeoutError("the daemon did not answer")
        if control.error is not None:
            raise control.error
        return control.result

    def new_session(self, layout: Layout | None = None, place: str | None = None, track: Track | None = None) -> int:
        """Close the current session (and its workout) and start another: new layout, new day, track reps."""
        return self.call(lambda: self._new_session(layout or self.layout, self.place if place is None else place, track))

    def start_workout(self, plan: WorkoutPlan) -> dict:
        """Open a session for the workout (lap reps on ``plan.track``, if given) and start it; its state."""
        return self.call(lambda: self._start_workout(plan))

    def workout_input(self, action: str, athlete_id: int | None = None) -> dict:
        """The coach's tap (``WORKOUT_ACTIONS``), about the athlete or whoever runs next; the state after it."""
        return self.call(lambda: self._workout_input(action, athlete_id))

    def workout_state(self) -> dict | None:
        """The workout's state now, as the live page shows it; None if no workout was started this session."""
        return self.call(lambda: self._workout_state(self.source.now_ns()))

    def run_voided(self, run_id: int) -> None:
        """A run was voided in the store: the workout runs its rep again."""
        self.call(lambda: self._workout_step(lambda r: r.run_voided(run_id, self.source.now_ns())) if self.workout else None)

    def set_armed(self, armed: bool) -> None:
        self.call(lambda: self._set_armed(armed))

    def set_queue(self, athlete_ids: list[int]) -> None:
        self.call(lambda: self._set_queue(list(athlete_ids)))

    def edit_queue(self, edit: Callable[[list[int]], list[int]]) -> list[int]:
        """Change the queue on the daemon thread: a run ending meanwhile cannot undo its pop."""
        return self.call(lambda: self._set_queue(list(edit(list(self.athlete_queue)))) or list(self.athlete_queue))

    def gate_status(self) -> list[dict]:
        return self.call(self._gate_status)

    # The daemon thread --------------------------------------------------------

    def _main(self) -> None:
        try:
            self._store = self._store_factory()
            self._open_session(self.layout, self.place)
        except BaseException as exc:  # reported to start(), in the caller's thread
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        running = True
        while running:
            batch: list[Edge] = []
            controls: list[_Control] = []
            try:
                items = [self._inbox.get(timeout=self.tick_s)]
            except queue.Empty:
                items = []
            # Read the clock before draining: every edge stamped up to now is queued by
            # then, so the horizon never passes an edge that is still in the inbox.
            now = self.source.now_ns()
            try:
                while True:
                    items.append(self._inbox.get_nowait())
            except queue.Empty:
                pass
            for item in items:
                if item is None:
                    running = False
                elif isinstance(item, _Control):
                    controls.append(item)
                else:
                    batch.append(item)
            try:
                self._take(batch, now)
            except Exception:  # a fault in one batch must not stop the timing
                log.exception("could not process %d edges", len(batch))
            for control in controls:
                self._run_control(control)
        self._finish_session()
        self._store.close()

    def _run_control(self, control: _Control) -> None:
        try:
            control.result = control.action()
        except BaseException as exc:
            control.error = exc
        control.done.set()

    def _take(self, batch: list[Edge], now: int) -> None:
        if batch:
            self._store.add_edges(self.session_id, batch)  # durable before anything is derived
            if self._edges_stored is not None:
                self._edges_stored(batch)
            for edge in batch:
                self._seq += 1
                heapq.heappush(self._pending, (edge.t_ns, self._seq, edge))
                self._beam_changed(edge)
        horizon = now - self.source.latency_ns
        events = []
        while self._pending and self._pending[0][0] <= horizon:
            events += self._feed(heapq.heappop(self._pending)[2])
        events += self.timing.advance(horizon)
        self._horizon = max(self._horizon, horizon)
        self._record(events)
        self._check_stuck(now)
        if self.workout is not None and (alarm := self.workout.runner.alarm_ns) is not None and now >= alarm:
            self._workout_step(lambda r: r.tick(now))

    def _feed(self, edge: Edge) -> list:
        if self.track is not None and edge.beam not in self.timing.detector.gate.beams:
            return []  # track reps time one gate: the others' edges are in the raw log, nothing more
        return self.timing.feed(edge)

    def _record(self, events: list) -> None:
        if not events:
            return
        runs = [e for e in events if isinstance(e, (Run, LapRep))]
        for run in runs:
            self._decide_owner(run)
        run_ids = self._store.add_derived(self.session_id, events)
        for run, run_id in zip(runs, run_ids):
            if run.status is not RunStatus.REJECTED and self._owners.get(run.number) is not None:
                self._store.assign_run(run_id, self._owners[run.number])
            if self._disarmed_runs.get(run.number):
                self._store.void_run(run_id, "gates were disarmed")
        first_gate = self.layout.gates[0].name
        for event in events:
            if isinstance(event, Crossing):
                self.bus.publish("crossing", {"session": self.session_id, "gate": event.gate, "t_ns": event.t_ns, "method": event.method.value})
                if self.track is None and event.gate == first_gate and self.armed:
                    self._workout_step(lambda r: r.run_started(self.source.now_ns()))
            elif isinstance(event, Anomaly):
                self.bus.publish("anomaly", {"session": self.session_id, "source": event.source, "t_ns": event.t_ns, "reason": event.reason})
            elif isinstance(event, (LapStart, LapSplit)):
                self._lap_news(event)
        for run, run_id in zip(runs, run_ids):
            self._workout_run(run, run_id)  # first: the run is published with the workout rep it was
            self.bus.publish("run", self._store.run(run_id))

    def _decide_owner(self, run: Run | LapRep) -> None:
        """Who ran: the head of the athlete queue, taken when a real run ends."""
        if run.status is RunStatus.REJECTED:
            return
        if not self.armed:
            self._disarmed_runs[run.number] = True
            return
        if self.athlete_queue:
            self._owners[run.number] = self.athlete_queue.pop(0)
            self.bus.publish("queue", {"athletes": list(self.athlete_queue)})

    # Gate status ----------------------------------------------------------------

    def _beam_changed(self, edge: Edge) -> None:
        status = self.beams.setdefault(edge.beam, BeamStatus())
        if status.since_ns is not None and edge.t_ns < status.since_ns:
            return  # a late edge: the status already moved on
        status.broken, status.since_ns = edge.broken, edge.t_ns
        self._stuck_reported.discard(edge.beam)
        gate = self.layout.gate_of_beam(edge.beam)
        if gate is not None:
            self.bus.publish("gate", self._gate_view(gate.name, self.source.now_ns()))

    def _check_stuck(self, now: int) -> None:
        for beam, status in self.beams.items():
            if status.broken and beam not in self._stuck_reported and now - status.since_ns >= STUCK_NS:
                self._stuck_reported.add(beam)
                gate = self.layout.gate_of_beam(beam)
                if gate is not None:
                    self.bus.publish("gate", self._gate_view(gate.name, now))

    def _gate_view(self, gate_name: str, now: int) -> dict:
        gate = self.layout.gate(gate_name)
        beams = {}
        for beam in gate.beams:
            status = self.beams.get(beam, BeamStatus())
            blocked_ns = now - status.since_ns if status.broken and status.since_ns is not None else 0
            state = "stuck" if blocked_ns >= STUCK_NS else "blocked" if status.broken else "clear"
            beams[beam] = {"state": state, "since_ns": status.since_ns, "for_s": max(blocked_ns, 0) / NS_PER_S}
        order = ("stuck", "blocked", "clear")
        state = min((b["state"] for b in beams.values()), key=order.index)
        return {"gate": gate.name, "position_m": gate.position_m, "state": state, "beams": beams}

    def _gate_status(self) -> list[dict]:
        now = self.source.now_ns()
        return [self._gate_view(gate.name, now) for gate in self.timed_gates]

    @property
    def timed_gates(self) -> tuple:
        """The gates this session times: the layout's, or the one on the line for track reps."""
        return (self.layout.gate(self.track.gate),) if self.track is not None else self.layout.gates

    # Sessions ---------------------------------------------------------------------

    def _open_session(self, layout: Layout, place: str, track: Track | None = None) -> int:
        self.timing = Timing(layout) if track is None else track.timing(layout)  # an unknown gate raises here
        self.layout, self.place, self.track = layout, place, track
        self._owners: dict[int, int] = {}
        self._disarmed_runs: dict[int, bool] = {}
        self.session_id = self._store.start_session(layout, place=place, track=track)
        self.bus.publish("session", {
            "session": self.session_id, "layout": layout.describe(), "method": layout.method.value, "place": place,
            "track": None if track is None else {"gate": track.gate, "lap_m": track.lap_m},
        })  # fmt: skip
        return self.session_id

    def _finish_session(self) -> None:
        live = self.workout
        if live is not None and live.runner.ended_ns is None:
            # Its session is over: ended first, so the lap gate's last command comes before the close.
            self._workout_step(lambda r: r.end(self.source.now_ns()))
        if self.track is not None:  # how far the clock got: a recompute times out what it timed out
            self._lap_command(LapCommand(self._horizon, Command.CLOSE))
        events = []
        while self._pending:
            events += self._feed(heapq.heappop(self._pending)[2])
        events += self.timing.flush()
        self._record(events)
        self.workout = None

    def _new_session(self, layout: Layout, place: str, track: Track | None = None) -> int:
        if track is not None:
            track.timing(layout)  # refuse an unknown gate before closing anything
        self._finish_session()
        return self._open_session(layout, place, track)

    def _set_armed(self, armed: bool) -> None:
        self.armed = armed
        self.bus.publish("armed", {"armed": armed})

    def _set_queue(self, athlete_ids: list[int]) -> None:
        for athlete_id in athlete_ids:
            self._store.athlete(athlete_id)
        self.athlete_queue = athlete_ids
        self.bus.publish("queue", {"athletes": list(athlete_ids)})

    # Workouts ---------------------------------------------------------------------

    def _start_workout(self, plan: WorkoutPlan) -> dict:
        runner = plan.runner(self.rest_scale)  # a workout that cannot run refuses before the session changes
        session_id = self._new_session(self.layout, self.place, plan.track)
        self._store.save_workout(
            session_id, text=plan.text, kind=plan.kind.value, slug=plan.slug,
            athletes=[{"id": a.id, "name": a.name} for a in plan.athletes], options={**plan.options(), "rest_scale": self.rest_scale},
        )  # fmt: skip
        self.workout = LiveWorkout(plan, session_id, runner, self.rest_scale)
        self._workout_step(lambda r: r.start(self.source.now_ns()))
        return self._workout_state(self.source.now_ns())

    def _live_workout(self) -> LiveWorkout:
        if self.workout is None:
            raise WorkoutError("No workout is running: start one on the Workouts page.")
        return self.workout

    def _workout_input(self, action: str, athlete_id: int | None) -> dict:
        self._live_workout()
        now = self.source.now_ns()
        if action == "go":
            self._go(now)
        elif action in WORKOUT_STEPS:
            self._workout_step(lambda r: WORKOUT_STEPS[action](r, now, athlete_id))
        else:
            raise WorkoutError(f"Unknown workout action {action!r}; use one of {', '.join(WORKOUT_ACTIONS)}.")
        return self._workout_state(now)

    def _workout_state(self, now: int) -> dict | None:
        if self.workout is None:
            return None
        return page_state(self.workout, now, timer=self.timing.timer.state if self.track else None)

    def _workout_step(self, step: Callable[[WorkoutRunner], Step]) -> None:
        """Give the runner one input; then the queue, the lap gate and the page follow it."""
        live = self.workout
        if live is None:
            return
        live.runner, effects = step(live.runner)
        now = self.source.now_ns()
        view = live.runner.view(now)
        if list(view.queue) != self.athlete_queue:
            self._set_queue(list(view.queue))  # the daemon gives each finished run to its head
        if self.track is not None:
            self._steer_lap_gate(live, view)
        self._store.update_workout(live.session_id, summary_json(live.runner.summary()), ended=view.status is Status.FINISHED)
        self.bus.publish("workout", page_state(live, now, timer=self.timing.timer.state if self.track else None, effects=effects))

    def _workout_run(self, run: Run | LapRep, run_id: int) -> None:
        """A stored run reaches the workout: an attempt at its owner's next rep, labelled with it."""
        live = self.workout
        if live is None or run.status is RunStatus.REJECTED or self._disarmed_runs.get(run.number):
            return
        if isinstance(run, LapRep):
            live.lap, live.splits = None, []
        result = run if isinstance(run, LapRep) else self._store.run(run_id)
        self._workout_step(lambda r: r.run_finished(run_id, self._owners.get(run.number), result, self.source.now_ns()))
        for attempt in (a for row in live.runner.attempts for a in row if a.run_id == run_id):
            self._store.set_run_rep(run_id, attempt.set_no, attempt.rep_no)

    def _lap_news(self, event: LapStart | LapSplit) -> None:
        live = self.workout
        if live is None:
            return
        if isinstance(event, LapStart):
            live.lap, live.splits, live.armed_for = event, [], None
            self._workout_step(lambda r: r.run_started(self.source.now_ns()))
        else:
            live.splits.append(event)
            now = self.source.now_ns()
            self.bus.publish("workout", page_state(live, now, timer=self.timing.timer.state))

    def _steer_lap_gate(self, live: LiveWorkout, view: RunnerView) -> None:
        """Arm the lap gate for a rolling start when the next athlete is called; disarm when nobody is."""
        timer = self.timing.timer
        called = view.status is Status.READY and view.running is None
        upcoming = live.next_rep_target(view)
        if called and upcoming is not None and live.plan.start is StartKind.ROLLING and timer.state != "running":
            distance, target = upcoming
            if timer.splits_m(distance)[0] == timer.settings.lap_m and live.armed_for != upcoming:  # else a go starts it
                target_ns = target.time_ns if target.style is TargetStyle.ON_PACE else None
                self._lap_command(LapCommand(self._horizon, Command.ARM, distance, target_ns))
                live.armed_for = upcoming
        elif timer.state == "armed" or (timer.state == "running" and view.status is Status.FINISHED):
            self._lap_command(LapCommand(self._horizon, Command.CANCEL, reason="the workout ended" if view.status is Status.FINISHED else "nobody was called"))
            live.armed_for = None

    def _go(self, now: int) -> None:
        """The coach's go: the next athlete's rep starts when the countdown ends."""
        live = self.workout
        if self.track is None:
            raise WorkoutError("Go starts track reps on one gate; this workout is timed through the layout's gates.")
        if self.timing.timer.state == "running":
            raise WorkoutError("A rep is already running: wait for it to end.")
        view = live.runner.view(now)
        if view.status is not Status.READY:  # still resting: the coach's go says they are ready
            self._workout_step(lambda r: r.ready(None, now))
        upcoming = live.next_rep_target(live.runner.view(now))
        if upcoming is None:
            raise WorkoutError("Nobody is waiting to run.")
        distance, target = upcoming
        target_ns = target.time_ns if target.style is TargetStyle.ON_PACE else None
        self._lap_command(LapCommand(self._horizon, Command.GO, distance, target_ns, start_ns=now + live.plan.countdown_ns))
        live.armed_for = None

    def _lap_command(self, command: LapCommand) -> None:
        """Apply a command to the lap timing and keep it, so a recompute replays it at the same point."""
        self._store.add_lap_command(self.session_id, command)
        self._record(command.apply(self.timing))


# The coach's taps on a workout, about an athlete (None: whoever runs next), and "go" for track reps.
WORKOUT_STEPS: dict[str, Callable[[WorkoutRunner, int, int | None], Step]] = {
    "ready": lambda r, now, who: r.ready(who, now),
    "skip": lambda r, now, who: r.skip(now, who),
    "repeat": lambda r, now, who: r.repeat(now, who),
    "end-set": lambda r, now, who: r.end_set(now, who),
    "end": lambda r, now, who: r.end(now),
}
WORKOUT_ACTIONS = (*WORKOUT_STEPS, "go")
