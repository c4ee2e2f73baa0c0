"""The daemon: source → raw log → timing core → store → live events.

It is made of parts, each named for its job:

* ``loop.TimingLoop``: the one thread, its inbox, the latency hold, and the
  order of every batch (raw edges written before anything is derived);
* ``timekeeper.Timekeeper``: what that thread holds and does with each
  batch: the session (``sessions``: line or track timing, who ran), the gate
  monitor (``gates``), the athlete queue, the store and the bus;
* ``driver.WorkoutDriver``: a workout under way (runner, queue, lap gate);
* ``faults.FaultBoard``: what is wrong now (the store refusing writes, an
  error in a turn of the loop), in every snapshot and as ``fault`` events;
* ``resume``: a start after a crash carries on with the interrupted session.

``Daemon`` puts them together and is what the web and the CLI hold, as a
``control.DaemonControl``: reads are snapshots taken on the daemon thread,
control actions run there too.

Time comes from the source's clock only: the daemon asks the source what time
it is (``now_ns``) to close detection windows, time out runs and tell how
long a beam has been blocked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from gatectl.coaching.laps import Track
from gatectl.daemon.control import DaemonSnapshot
from gatectl.daemon.events import EventBus
from gatectl.daemon.faults import FaultBoard
from gatectl.daemon.loop import MAX_UNWRITTEN, DaemonStopped, LatencyHold, TimingLoop
from gatectl.daemon.resume import EpochShift, boot_id
from gatectl.daemon.timekeeper import Timekeeper
from gatectl.daemon.watchdog import Notifier
from gatectl.daemon.workout import WorkoutPlan, WorkoutState
from gatectl.sources import EdgeSource
from gatectl.sources.nodes.status import NodeStatus, node_status
from gatectl.store import Store
from gatectl.timing.check import CheckReport
from gatectl.timing.corrections import Change
from gatectl.timing.model import NS_PER_MS, Layout
from gatectl.timing.sync import DEFAULT_LIMIT_NS

T = TypeVar("T")


class Daemon:
    """Runs a source into the store and the bus. ``start``, then ``stop``; a ``DaemonControl`` meanwhile."""

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
        notifier: Notifier | None = None,
        max_unwritten: int = MAX_UNWRITTEN,
        boot: str | None = None,
        sync_limit_ns: int = DEFAULT_LIMIT_NS,
    ) -> None:
        self.source = source
        self.bus = bus or EventBus()
        self.rest_scale = rest_scale  # every workout rest times this: the demo's fast rests
        self.call_timeout_s = 10.0  # how long a control call waits for the daemon thread
        hold = LatencyHold()
        self.faults = FaultBoard(self.bus)
        clock = EpochShift(source)  # shifted only when a restart after a reboot carries on with a session
        self._keeper = Timekeeper(clock, store_factory, layout, place, self.bus, hold, self.faults, boot or boot_id(), sync_limit_ns)
        self._loop = TimingLoop(clock, self._keeper, hold, tick_ns, faults=self.faults, notifier=notifier, max_unwritten=max_unwritten)

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._loop.start()
        self._loop.notifier.notify("READY=1")  # systemd (Type=notify): timing runs; the watchdog is fed from now on

    def stop(self) -> None:
        """Stop the source, then record and time everything it delivered."""
        self._loop.notifier.notify("STOPPING=1")
        self._loop.stop()

    @property
    def unwritten(self) -> int:
        """Edges waiting in memory for the database (it refuses writes)."""
        return self._loop.unwritten

    @property
    def lost(self) -> int:
        """Edges that could not be kept: more than the bound waited for a database that refused them."""
        return self._loop.lost

    def call(self, action: Callable[[], T], timeout: float | None = None) -> T:
        """Run ``action`` on the daemon thread and return its result.

        After ``timeout`` (default ``call_timeout_s``) without an answer it
        raises ``NotApplied`` (not started: cancelled, nothing changed) or
        ``StillApplying`` (started: it completes). Only short work is sent here:
        whatever may take long with what a caller sent (parsing a workout) is
        done on the caller's thread first.
        """
        return self._loop.call(action, self.call_timeout_s if timeout is None else timeout)

    # DaemonControl ------------------------------------------------------------------------------

    def snapshot(self) -> DaemonSnapshot:
        """The daemon's state now, taken on its thread; once stopped, as it was when it stopped."""
        try:
            return self.call(self._keeper.snapshot)
        except DaemonStopped:
            if self._keeper.last is None:  # never started
                raise
            return self._keeper.last

    def new_session(self, layout: Layout | None = None, place: str | None = None, track: Track | None = None) -> int:
        """Close the current session (and its workout) and start another: new layout, new day, track reps."""
        return self.call(lambda: self._keeper.new_session(layout, place, track))

    def start_workout(self, plan: WorkoutPlan) -> WorkoutState:
        """Open a session for the workout (lap reps on ``plan.track``, if given) and start it; its state."""
        rest_scale = self.rest_scale
        runner = plan.runner(rest_scale)  # parsed here, on the caller's thread: a workout that cannot run refuses now
        return self.call(lambda: self._keeper.start_workout(plan, runner, rest_scale))

    def workout_input(self, action: str, athlete_id: int | None = None) -> WorkoutState:
        """The coach's tap (``WORKOUT_ACTIONS``), about the athlete or whoever runs next; the state after it."""
        return self.call(lambda: self._keeper.workout_input(action, athlete_id))

    def workout_mark(self, crossing_ns: int, athlete_id: int) -> WorkoutState:
        """The coach says whose a group rep's crossing was ("this was Ama"); the state after it."""
        return self.call(lambda: self._keeper.workout_mark(crossing_ns, athlete_id))

    def run_voided(self, run_id: int) -> None:
        """A run was voided in the store: the workout runs its rep again."""
        self.call(lambda: self._keeper.run_voided(run_id))

    def correct(self, session_id: int, change: Change, who: str, made_at: datetime) -> int:
        """Keep the coach's correction of a run of the live session and apply it, on the daemon thread; its id."""
        return self.call(lambda: self._keeper.correct(session_id, change, who, made_at))

    def check_report(self, since_ns: int | None = None) -> CheckReport:
        """The pre-session check of the timed gates, counting from ``since_ns`` (None: from now)."""
        return self.call(lambda: self._keeper.check_report(since_ns))

    def node_status(self) -> tuple[NodeStatus, ...]:
        """Each gate node's link, sync and buffer, taken on the daemon thread; none without nodes."""
        return self.call(lambda: node_status(self.source))

    def set_armed(self, armed: bool) -> None:
        self.call(lambda: self._keeper.set_armed(armed))

    def set_queue(self, athlete_ids: Sequence[int]) -> None:
        self.call(lambda: self._keeper.set_queue(list(athlete_ids)))

    def edit_queue(self, edit: Callable[[list[int]], list[int]]) -> list[int]:
        """Change the queue on the daemon thread: a run ending meanwhile cannot undo its pop."""
        return self.call(lambda: self._keeper.edit_queue(edit))
