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

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from gatectl.coaching.laps import Command, GroupProgress, GroupRevision, GroupStart, LapCommand, LapRep, LapSplit, LapStart, Track
from gatectl.coaching.runner import WorkoutRunner
from gatectl.daemon.control import DaemonSnapshot
from gatectl.daemon.driver import WorkoutDriver, follow_runs, resume_workout
from gatectl.daemon.events import EventBus, publish_corrected
from gatectl.daemon.faults import FaultBoard
from gatectl.daemon.gates import GateMonitor
from gatectl.daemon.loop import LatencyHold
from gatectl.daemon.nodes import NodeWatch
from gatectl.daemon.resume import EPOCH_GAP_NS, EpochShift, Resumed, rebuild
from gatectl.daemon.sessions import Derived, Lineup, Session, session_timing
from gatectl.daemon.workout import LiveWorkout, WorkoutPlan, WorkoutState
from gatectl.errors import WorkoutError
from gatectl.jsonable import json_object
from gatectl.sources.nodes.status import beam_clocks, node_status
from gatectl.store import Store, StoreUnavailable
from gatectl.timing.check import BeamCheck, CheckReport
from gatectl.timing.corrections import Change, CorrectionError
from gatectl.timing.model import Anomaly, Crossing, Edge, Layout, Run, RunStatus
from gatectl.timing.sync import sync_changes

log = logging.getLogger(__name__)

# The daemon's thread waits this long for another program's write lock, then holds its edges and
# retries (``loop``): a web request, whose writes are short, waits for up to 10 s instead.
DAEMON_BUSY_TIMEOUT_MS = 200


class Timekeeper:
    """The daemon thread's side: a ``LoopHandler`` and the driver's ``WorkoutHost``."""

    def __init__(
        self, source: EpochShift, store_factory: Callable[[], Store], layout: Layout, place: str, bus: EventBus, hold: LatencyHold,
        faults: FaultBoard, boot: str, sync_limit_ns: int,
    ) -> None:  # fmt: skip
        self.bus = bus
        self.lineup = Lineup(bus)
        self.horizon_ns = 0  # the timing has every edge up to here, and its clock has reached it
        self._source = source
        self._store_factory = store_factory
        self._first = (layout, place)  # the session opened at start
        self._hold = hold
        self._faults = faults
        self._boot = boot  # this boot's id: a session opened on it shares the gates' clock
        self._sync_limit_ns = sync_limit_ns  # a new session's runs are flagged above it
        self._sync_logged: dict[str, tuple[str, int]] = {}  # node beam → (clock, uncertainty) last logged in this session
        self._resumed: Resumed | None = None  # the session carried on after a restart, while it lasts
        self._gates = GateMonitor()
        self._nodes = NodeWatch(source.source, bus)  # gate nodes' link, sync and buffer, on the bus
        self._check = BeamCheck()  # the pre-session check (gatectl check, /check)
        self._store: Store | None = None
        self._session: Session | None = None
        self.driver: WorkoutDriver | None = None
        self._unstored: list[tuple[Session, list[Derived]]] = []  # derived, refused by the store: stored first next time
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
        """Carry on with the session a crash interrupted (same layout), else open one."""
        self._store = store = self._store_factory()
        store.set_busy_timeout(DAEMON_BUSY_TIMEOUT_MS)
        row = store.interrupted_session()
        if row is not None and store.layout(row["id"]) == self._first[0]:
            self._resume(row)
            return
        if row is not None:  # the layout changed meanwhile: the interrupted session ends as a recompute ends it
            store.recompute(row["id"])
            store.close_session(row["id"])
        self._open_session(*self._first)

    def _resume(self, row: dict) -> None:
        """Rebuild the session's timing from its raw log, store what the crash kept from the store, carry on."""
        store, session_id = self.store, row["id"]
        layout, track = store.layout(session_id), store.track(session_id)
        timing = session_timing(layout, track)
        last = store.last_instant(session_id)
        offset = self._clock_offset(row, last)
        self._source.offset_ns = offset
        events = rebuild(timing, store.edges(session_id), store.lap_commands(session_id) if track else [])
        ahead = store.reconcile(session_id, events)
        self._session = Session(session_id, layout, row["place"], timing)
        self._resumed = Resumed(last if last is not None else self.now_ns(), ahead)
        self.horizon_ns = self._resumed.last_ns
        store.add_session_event(session_id, self.now_ns(), "restart", {"boot": self._boot, "offset_ns": offset})
        store.claim_session(session_id, self._boot)
        log.warning("carrying on with session %d after a restart (%s)", session_id, "same clock" if offset == 0 else "new clock epoch")
        self._publish_session()
        self.driver = resume_workout(store, self._session, self)

    def _clock_offset(self, row: dict, last_ns: int | None) -> int:
        """How far to shift the gates' clock: as before on the same boot, else to a new epoch after ``last_ns``."""
        raw_now = self._source.source.now_ns()
        if last_ns is None:
            return 0
        offset = 0
        if row["daemon_boot"] == self._boot:  # the clock went on counting: the offset this boot had, if any
            offset = next((e["offset_ns"] for e in reversed(self.store.session_events(row["id"], "restart")) if e["boot"] == self._boot), 0)
            if raw_now + offset >= last_ns:
                return offset
        return last_ns + EPOCH_GAP_NS - raw_now

    def write_raw(self, edges: Sequence[Edge]) -> list[Edge]:
        # Each node beam's sync uncertainty as this batch is written (its edges were mapped a tick ago at most).
        changes = sync_changes(edges, beam_clocks(self._source.source), self._sync_logged)
        if changes:
            self.store.add_sync(self.session.id, changes)
            self._sync_logged.update({c.beam: (c.clock, c.uncertainty_ns) for c in changes})
        new = self.store.add_edges(self.session.id, edges, self._source.origins(edges))  # durable before anything is derived
        self._source.edges_stored(edges)  # gate nodes: acknowledged once durable (written, and only then), repeats too
        return new

    def follow(self, edges: Sequence[Edge], now_ns: int) -> None:
        for edge in edges:
            self._check.edge(edge)
            beam = self._gates.edge(edge)
            if beam is not None:
                self._publish_gate(beam, now_ns)

    def catch_up(self) -> None:
        """Store, in order, what was derived while the store refused it; then tell of it."""
        while self._unstored:
            session, events = self._unstored[0]
            runs = [e for e in events if isinstance(e, (Run, LapRep))]
            owners = {r.number: owner for r in runs if r.status is not RunStatus.REJECTED and (owner := session.owners.get(r.number)) is not None}
            voided = {r.number: "gates were disarmed" for r in runs if r.number in session.disarmed}
            try:
                # With the runs, in one transaction: a page never shows a run without its athlete.
                run_ids = self.store.add_derived(session.id, events, owners=owners, voided=voided)
            except StoreUnavailable:
                raise  # kept, to be stored when the store takes writes again
            except Exception:
                self._unstored.pop(0)  # it will never go in: the raw log has the edges, a recompute rebuilds it
                raise
            self._unstored.pop(0)
            self._announce(session, events, run_ids)

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
        self._nodes.tick()
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
        try:
            now = self.now_ns()
        except Exception:  # a broken clock is a fault the snapshot shows: read it as far as the timing got
            now = self.horizon_ns
        session, driver = self.session, self.driver
        return DaemonSnapshot(
            session_id=session.id, layout=session.layout, place=session.place, track=session.track,
            armed=self.lineup.armed, queue=tuple(self.lineup.queue),
            gates=tuple(self._gates.status(gate, now) for gate in session.timing.gates),
            workout=driver.state(now) if driver is not None else None,
            workout_running=driver is not None and driver.running,
            faults=self._faults.current(), nodes=node_status(self._source.source),
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
        session_id = self.store.start_session(layout, place=place, track=track, daemon_boot=self._boot, sync_limit_ns=self._sync_limit_ns)
        self._session = Session(session_id, layout, place, timing)
        self._resumed = None
        self._sync_logged = {}
        self._publish_session()
        return session_id

    def _publish_session(self) -> None:
        session, layout, track = self.session, self.session.layout, self.session.track
        self.bus.publish("session", {
            "session": session.id, "layout": layout.describe(), "method": layout.method.value, "place": session.place,
            "track": None if track is None else {"gate": track.gate, "lap_m": track.lap_m},
        })  # fmt: skip

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
        self.store.close_session(session.id)  # finished: a restart opens a new one

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

    def start_workout(self, plan: WorkoutPlan, runner: WorkoutRunner, rest_scale: float) -> WorkoutState:
        """Start ``runner`` (``plan``'s, made off this thread) in a new session."""
        plan.check_fits(self.session.layout)  # here, against the layout as it is now: refused before the session changes
        session_id = self.new_session(self.session.layout, self.session.place, plan.track)
        self.store.save_workout(
            session_id, text=plan.text, kind=plan.kind.value, slug=plan.slug,
            athletes=[{"id": a.id, "name": a.name} for a in plan.athletes], options={**json_object(plan.timing()), "rest_scale": rest_scale},
        )  # fmt: skip
        self.driver = WorkoutDriver(LiveWorkout(plan, session_id, runner, rest_scale), self.session, self)
        self.driver.step("start", now=self.now_ns())
        return self.driver.state(self.now_ns())

    def workout_input(self, action: str, athlete_id: int | None) -> WorkoutState:
        if self.driver is None:
            raise WorkoutError("No workout is running: start one on the Workouts page.")
        return self.driver.coach(action, athlete_id, self.now_ns())

    def workout_mark(self, crossing_ns: int, athlete_id: int) -> WorkoutState:
        """The coach says whose a group rep's crossing was."""
        if self.driver is None:
            raise WorkoutError("No workout is running: start one on the Workouts page.")
        self.driver.mark(crossing_ns, athlete_id)
        return self.driver.state(self.now_ns())

    def run_voided(self, run_id: int) -> None:
        if self.driver is not None:
            self.driver.run_voided(run_id)

    # The coach's corrections -----------------------------------------------------------------------

    def correct(self, session_id: int, change: Change, who: str, made_at: datetime) -> int:
        """Keep and apply a correction of the live session's runs, here, between two batches: the runs
        assembly stores next are never written while the corrections are folded."""
        if session_id != self.session.id:
            raise CorrectionError(f"Session {session_id} is not the live session: correct it from its own page.")
        correction_id, _ = self.store.correct(session_id, change, who, made_at)
        publish_corrected(self.bus, session_id, correction_id, self.store.runs_of_correction(session_id, correction_id))
        follow_runs(self.store, session_id, self.driver)  # the workout's times are the corrected runs'
        return correction_id

    # Derived events: stored, owned, published ----------------------------------------------------------

    def _record(self, events: list[Derived]) -> None:
        """Decide who ran each run (once, as it ends), then store and tell: now, or once the store takes it."""
        if not events:
            return
        session = self.session
        if self._resumed is not None:  # stored before the crash: not twice; cut short by it: said so
            events = [self._resumed.mark(e) for e in self._resumed.drop_stored(events)]
        for run in events:
            if isinstance(run, (Run, LapRep)):
                self.lineup.decide_owner(session, run)
        self._unstored.append((session, events))
        self.catch_up()

    def _announce(self, session: Session, events: list[Derived], run_ids: list[int]) -> None:
        """Publish stored events and give them to the workout (of their session only)."""
        store = self.store
        runs = [e for e in events if isinstance(e, (Run, LapRep))]
        driver = self.driver if session is self._session else None
        for event in events:
            if isinstance(event, Crossing):
                self.bus.publish("crossing", {"session": session.id, "gate": event.gate, "t_ns": event.t_ns, "method": event.method.value})
            elif isinstance(event, Anomaly):
                self.bus.publish("anomaly", {"session": session.id, "source": event.source, "t_ns": event.t_ns, "reason": event.reason})
            elif isinstance(event, GroupRevision):  # the coach's mark: the group rep's rows as they are now, first
                for run_id in store.revise_lap_reps(session.id, event.reps):
                    self.bus.publish("run", store.run(run_id))
            if driver is not None and isinstance(event, (Crossing, LapStart, LapSplit, GroupStart, GroupProgress, GroupRevision)):
                driver.heard(event, self.lineup.armed)
        for run, run_id in zip(runs, run_ids):
            if driver is not None:
                driver.run_stored(run, run_id)  # first: the run is published with the workout rep it was
            self.bus.publish("run", store.run(run_id))

    def _publish_gate(self, beam: str, now_ns: int) -> None:
        gate = self.session.layout.gate_of_beam(beam)
        if gate is not None:
            self.bus.publish("gate", self._gates.status(gate, now_ns).as_json())
