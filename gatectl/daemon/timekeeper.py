"""The timekeeper: everything the daemon thread holds, and what it does with each batch.

For every batch the ``TimingLoop`` hands it, the timekeeper writes the raw
edges (and follows the beams), then times the released edges in the
session's timing, stores what was derived, decides who ran each run, and
publishes it all on the bus; the workout driver, if a workout runs, hears
each event in the order it happened. Sessions open and close here: the edges
still held back when a session closes are timed in it.

Only the daemon thread calls it (``Daemon`` routes every control action
through ``TimingLoop.call``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gatectl.coaching.laps import Command, LapCommand, LapRep, LapSplit, LapStart, Track
from gatectl.daemon.control import DaemonSnapshot
from gatectl.daemon.driver import WorkoutDriver
from gatectl.daemon.events import EventBus
from gatectl.daemon.gates import GateMonitor
from gatectl.daemon.loop import LatencyHold
from gatectl.daemon.sessions import Derived, Lineup, Session, session_timing
from gatectl.daemon.workout import LiveWorkout, WorkoutPlan, WorkoutState
from gatectl.errors import WorkoutError
from gatectl.jsonable import json_object
from gatectl.sources import EdgeSource
from gatectl.store import Store
from gatectl.timing.check import BeamCheck, CheckReport
from gatectl.timing.model import Anomaly, Crossing, Edge, Layout, Run, RunStatus


class Timekeeper:
    """The daemon thread's side: a ``LoopHandler`` and the driver's ``WorkoutHost``."""

    def __init__(
        self, source: EdgeSource, store_factory: Callable[[], Store], layout: Layout, place: str, bus: EventBus, hold: LatencyHold,
        rest_scale: Callable[[], float],
    ) -> None:  # fmt: skip
        self.bus = bus
        self.lineup = Lineup(bus)
        self.horizon_ns = 0  # the timing has every edge up to here, and its clock has reached it
        self._source = source
        self._store_factory = store_factory
        self._first = (layout, place)  # the session opened at start
        self._hold = hold
        self._rest_scale = rest_scale
        self._gates = GateMonitor()
        self._edges_stored = getattr(source, "edges_stored", None)
        self._check = BeamCheck()  # the pre-session check (gatectl check, /check)
        self._store: Store | None = None
        self._session: Session | None = None
        self.driver: WorkoutDriver | None = None
        self.last: DaemonSnapshot | None = None  # taken as the thread ended: what a stopped daemon shows

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("The daemon has no store open: start it first.")
        return self._store

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("The daemon has no session open: start it first.")
        return self._session

    def now_ns(self) -> int:
        return self._source.now_ns()

    # LoopHandler ---------------------------------------------------------------------------------

    def opened(self) -> None:
        self._store = self._store_factory()
        self._open_session(*self._first)

    def write_raw(self, edges: Sequence[Edge]) -> None:
        self.store.add_edges(self.session.id, edges)  # durable before anything is derived
        if self._edges_stored is not None:
            self._edges_stored(edges)  # gate nodes: acknowledged once durable
        for edge in edges:
            self._check.edge(edge)
            beam = self._gates.edge(edge)
            if beam is not None:
                self._publish_gate(beam, self.now_ns())

    def derive(self, edges: Sequence[Edge], horizon_ns: int, now_ns: int) -> None:
        timing = self.session.timing
        events: list[Derived] = []
        for edge in edges:
            events += timing.feed(edge)
        events += timing.advance(horizon_ns)
        self.horizon_ns = max(self.horizon_ns, horizon_ns)
        self._record(events)
        for beam in self._gates.check(now_ns):
            self._publish_gate(beam, now_ns)
        if self.driver is not None:
            self.driver.tick(now_ns)

    def closing(self) -> None:
        self._finish_session()
        self.last = self.snapshot()
        self.store.close()

    # Reads ---------------------------------------------------------------------------------------

    def check_report(self, since_ns: int | None) -> CheckReport:
        """The pre-session check of the timed gates, counting from ``since_ns`` (None: from now)."""
        now = self.now_ns()
        gates = [(g.name, g.beams) for g in self.session.timing.gates]
        return self._check.view(gates, now, now if since_ns is None else since_ns)

    def snapshot(self) -> DaemonSnapshot:
        now, session, driver = self.now_ns(), self.session, self.driver
        return DaemonSnapshot(
            session_id=session.id, layout=session.layout, place=session.place, track=session.track,
            armed=self.lineup.armed, queue=tuple(self.lineup.queue),
            gates=tuple(self._gates.status(gate, now) for gate in session.timing.gates),
            workout=driver.state(now) if driver is not None else None,
            workout_running=driver is not None and driver.running,
        )  # fmt: skip

    # Sessions ------------------------------------------------------------------------------------

    def new_session(self, layout: Layout | None, place: str | None, track: Track | None) -> int:
        layout = layout or self.session.layout
        place = self.session.place if place is None else place
        session_timing(layout, track)  # refuse an unknown gate before closing anything
        self._finish_session()
        return self._open_session(layout, place, track)

    def _open_session(self, layout: Layout, place: str, track: Track | None = None) -> int:
        timing = session_timing(layout, track)  # an unknown gate raises here
        session_id = self.store.start_session(layout, place=place, track=track)
        self._session = Session(session_id, layout, place, timing)
        self.bus.publish("session", {
            "session": session_id, "layout": layout.describe(), "method": layout.method.value, "place": place,
            "track": None if track is None else {"gate": track.gate, "lap_m": track.lap_m},
        })  # fmt: skip
        return session_id

    def _finish_session(self) -> None:
        session = self.session
        if self.driver is not None:  # ended first, so the lap gate's last command comes before the close
            self.driver.end()
        if session.timing.laps is not None:  # how far the clock got: a recompute times out what it timed out
            self.lap_command(LapCommand(self.horizon_ns, Command.CLOSE))
        events: list[Derived] = []
        for edge in self._hold.release_all():
            events += session.timing.feed(edge)
        events += session.timing.flush()
        self._record(events)
        self.driver = None

    def lap_command(self, command: LapCommand) -> None:
        """Apply a command to the lap timing and keep it, so a recompute replays it at the same point."""
        laps = self.session.timing.laps
        if laps is None:
            raise WorkoutError("Lap commands steer track reps; this session is timed through the layout's gates.")
        self.store.add_lap_command(self.session.id, command)
        self._record(list(command.apply(laps)))

    # The athlete queue and the arm switch -----------------------------------------------------------

    def set_armed(self, armed: bool) -> None:
        self.lineup.set_armed(armed)

    def set_queue(self, athlete_ids: Sequence[int]) -> None:
        for athlete_id in athlete_ids:
            self.store.athlete(athlete_id)  # an unknown athlete raises: the queue stays as it was
        self.lineup.set_queue(athlete_ids)

    def edit_queue(self, edit: Callable[[list[int]], list[int]]) -> list[int]:
        self.set_queue(edit(list(self.lineup.queue)))
        return list(self.lineup.queue)

    # Workouts ------------------------------------------------------------------------------------

    def start_workout(self, plan: WorkoutPlan) -> WorkoutState:
        rest_scale = self._rest_scale()
        runner = plan.runner(rest_scale)  # a workout that cannot run refuses before the session changes
        plan.check_fits(self.session.layout)
        session_id = self.new_session(self.session.layout, self.session.place, plan.track)
        self.store.save_workout(
            session_id, text=plan.text, kind=plan.kind.value, slug=plan.slug,
            athletes=[{"id": a.id, "name": a.name} for a in plan.athletes], options={**json_object(plan.timing()), "rest_scale": rest_scale},
        )  # fmt: skip
        self.driver = WorkoutDriver(LiveWorkout(plan, session_id, runner, rest_scale), self.session, self)
        self.driver.step(lambda r: r.start(self.now_ns()))
        return self.driver.state(self.now_ns())

    def workout_input(self, action: str, athlete_id: int | None) -> WorkoutState:
        if self.driver is None:
            raise WorkoutError("No workout is running: start one on the Workouts page.")
        return self.driver.coach(action, athlete_id, self.now_ns())

    def run_voided(self, run_id: int) -> None:
        if self.driver is not None:
            self.driver.run_voided(run_id)

    # Derived events: stored, owned, published ----------------------------------------------------------

    def _record(self, events: list[Derived]) -> None:
        if not events:
            return
        session, store = self.session, self.store
        runs = [e for e in events if isinstance(e, (Run, LapRep))]
        for run in runs:
            self.lineup.decide_owner(session, run)
        owners = {r.number: owner for r in runs if r.status is not RunStatus.REJECTED and (owner := session.owners.get(r.number)) is not None}
        voided = {r.number: "gates were disarmed" for r in runs if r.number in session.disarmed}
        # With the runs, in one transaction: a page never shows a run without its athlete.
        run_ids = store.add_derived(session.id, events, owners=owners, voided=voided)
        for event in events:
            if isinstance(event, Crossing):
                self.bus.publish("crossing", {"session": session.id, "gate": event.gate, "t_ns": event.t_ns, "method": event.method.value})
            elif isinstance(event, Anomaly):
                self.bus.publish("anomaly", {"session": session.id, "source": event.source, "t_ns": event.t_ns, "reason": event.reason})
            if self.driver is not None and isinstance(event, (Crossing, LapStart, LapSplit)):
                self.driver.heard(event, self.lineup.armed)
        for run, run_id in zip(runs, run_ids):
            if self.driver is not None:
                self.driver.run_stored(run, run_id)  # first: the run is published with the workout rep it was
            self.bus.publish("run", store.run(run_id))

    def _publish_gate(self, beam: str, now_ns: int) -> None:
        gate = self.session.layout.gate_of_beam(beam)
        if gate is not None:
            self.bus.publish("gate", self._gates.status(gate, now_ns).as_json())
