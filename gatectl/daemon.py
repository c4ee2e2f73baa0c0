"""The daemon: source → raw log → timing core → store → live events.

One thread does all of it, in this order for every batch of edges: write the
raw edges durably, feed them (in time order) to the timing core, store what
the core derived, publish it. The source's callback only enqueues. Control
actions (new session, athlete queue, arm/disarm) reach the thread through the
same queue, so the core and the store are only ever touched by that thread.

Time comes from the source's clock only: the daemon asks the source what time
it is (``now_ns``) to close detection windows, time out runs and tell how
long a beam has been blocked.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .events import EventBus
from .model import NS_PER_MS, NS_PER_S, Anomaly, Crossing, Edge, Layout, Run, RunStatus
from .sources import EdgeSource
from .store import Store
from .timing import Timing

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
    ) -> None:
        self.source = source
        self.bus = bus or EventBus()
        self.layout = layout
        self.place = place
        self.tick_s = tick_ns / NS_PER_S
        self._store_factory = store_factory
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

    def new_session(self, layout: Layout | None = None, place: str | None = None) -> int:
        """Close the current session and start another (new layout, new day)."""
        return self.call(lambda: self._new_session(layout or self.layout, self.place if place is None else place))

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
            for edge in batch:
                self._seq += 1
                heapq.heappush(self._pending, (edge.t_ns, self._seq, edge))
                self._beam_changed(edge)
        horizon = now - self.source.latency_ns
        events = []
        while self._pending and self._pending[0][0] <= horizon:
            events += self.timing.feed(heapq.heappop(self._pending)[2])
        events += self.timing.advance(horizon)
        self._record(events)
        self._check_stuck(now)

    def _record(self, events: list) -> None:
        if not events:
            return
        runs = [e for e in events if isinstance(e, Run)]
        for run in runs:
            self._decide_owner(run)
        run_ids = self._store.add_derived(self.session_id, events)
        for run, run_id in zip(runs, run_ids):
            if run.status is not RunStatus.REJECTED and self._owners.get(run.number) is not None:
                self._store.assign_run(run_id, self._owners[run.number])
            if self._disarmed_runs.get(run.number):
                self._store.void_run(run_id, "gates were disarmed")
        for event in events:
            if isinstance(event, Crossing):
                self.bus.publish("crossing", {"session": self.session_id, "gate": event.gate, "t_ns": event.t_ns, "method": event.method.value})
            elif isinstance(event, Anomaly):
                self.bus.publish("anomaly", {"session": self.session_id, "source": event.source, "t_ns": event.t_ns, "reason": event.reason})
        for run_id in run_ids:
            self.bus.publish("run", self._store.run(run_id))

    def _decide_owner(self, run: Run) -> None:
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
        return [self._gate_view(gate.name, now) for gate in self.layout.gates]

    # Sessions ---------------------------------------------------------------------

    def _open_session(self, layout: Layout, place: str) -> int:
        self.layout, self.place = layout, place
        self.timing = Timing(layout)
        self._owners: dict[int, int] = {}
        self._disarmed_runs: dict[int, bool] = {}
        self.session_id = self._store.start_session(layout, place=place)
        self.bus.publish("session", {"session": self.session_id, "layout": layout.describe(), "method": layout.method.value, "place": place})
        return self.session_id

    def _finish_session(self) -> None:
        events = []
        while self._pending:
            events += self.timing.feed(heapq.heappop(self._pending)[2])
        events += self.timing.flush()
        self._record(events)

    def _new_session(self, layout: Layout, place: str) -> int:
        self._finish_session()
        return self._open_session(layout, place)

    def _set_armed(self, armed: bool) -> None:
        self.armed = armed
        self.bus.publish("armed", {"armed": armed})

    def _set_queue(self, athlete_ids: list[int]) -> None:
        for athlete_id in athlete_ids:
            self._store.athlete(athlete_id)
        self.athlete_queue = athlete_ids
        self.bus.publish("queue", {"athletes": list(athlete_ids)})
