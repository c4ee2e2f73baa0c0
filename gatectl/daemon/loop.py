"""The daemon's thread: edges and control calls in, raw edges written, then timed in time order.

The source's callback only enqueues (``TimingLoop.start`` hands it the inbox's
``put``). One thread takes every batch in this order: the raw edges are
written durably (``LoopHandler.write_raw``) before anything is derived, then
held back for the source's latency (``LatencyHold``: an edge may still come
in stamped earlier than the last one) and released in time order up to the
horizon for the handler to derive from (``LoopHandler.derive``). Control
calls (``call``) wait in the same inbox, so whatever the handler holds is
only ever touched by this thread.

Time comes from the source's clock only (``now_ns``). It is read before the
inbox is drained: every edge stamped up to then is queued by then, so the
horizon never passes an edge that is still in the inbox.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gatectl.sources import EdgeSource
from gatectl.timing.model import NS_PER_S, Edge

log = logging.getLogger(__name__)

T = TypeVar("T")


class DaemonStopped(RuntimeError):
    """A call reached the daemon after its thread ended."""


class LoopHandler(Protocol):
    """What the loop drives, always on its thread."""

    def opened(self) -> None:
        """Before ``start`` returns: open the store and the first session (an error is raised to ``start``)."""

    def write_raw(self, edges: Sequence[Edge]) -> None:
        """Keep the edges durably, as they came; nothing is derived from them yet."""

    def derive(self, edges: Sequence[Edge], horizon_ns: int, now_ns: int) -> None:
        """Time ``edges`` (in time order, all the hold released) and advance the timing to ``horizon_ns``."""

    def closing(self) -> None:
        """The source has stopped and every edge is in: finish the session, close the store.

        Calls are still answered until this returns, and after it those already queued."""


class LatencyHold:
    """Edges waiting out the source's latency, released in time order (arrival order among equal times)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Edge]] = []
        self._seq = 0

    def add(self, edge: Edge) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (edge.t_ns, self._seq, edge))

    def release(self, horizon_ns: int) -> list[Edge]:
        """The edges stamped up to ``horizon_ns``, oldest first."""
        out = []
        while self._heap and self._heap[0][0] <= horizon_ns:
            out.append(heapq.heappop(self._heap)[2])
        return out

    def release_all(self) -> list[Edge]:
        out = [entry[2] for entry in sorted(self._heap)]
        self._heap.clear()
        return out


@dataclass(slots=True)
class _Control:
    action: Callable[[], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.action()
        except BaseException as exc:
            self.error = exc
        self.done.set()


class TimingLoop:
    """One thread running a source into a ``LoopHandler``. ``start``, ``call`` from any thread, ``stop``."""

    def __init__(self, source: EdgeSource, handler: LoopHandler, hold: LatencyHold, tick_ns: int) -> None:
        self.source = source
        self._handler = handler
        self._hold = hold  # shared with the handler: a session closing takes the edges still held
        self._tick_s = tick_ns / NS_PER_S
        self._inbox: queue.SimpleQueue[Edge | _Control | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._lock = threading.Lock()  # a call is queued only while the thread will still answer it
        self._answering = False

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._main, name="gatectl-daemon", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
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

    def call(self, action: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``action`` on the daemon thread and return its result (or raise its error)."""
        control = _Control(action)
        with self._lock:
            if not self._answering:
                raise DaemonStopped("The timing daemon is not running.")
            self._inbox.put(control)
        if not control.done.wait(timeout):
            raise TimeoutError("the daemon did not answer")
        if control.error is not None:
            raise control.error
        return control.result

    # The thread ---------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._handler.opened()
        except BaseException as exc:  # reported to start(), in the caller's thread
            self._startup_error = exc
            self._ready.set()
            return
        with self._lock:
            self._answering = True
        self._ready.set()
        running = True
        while running:
            batch: list[Edge] = []
            controls: list[_Control] = []
            try:
                items = [self._inbox.get(timeout=self._tick_s)]
            except queue.Empty:
                items = []
            now = self.source.now_ns()  # before draining: see the module's docstring
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
                control.run()
        self._handler.closing()
        with self._lock:
            self._answering = False
        self._answer_late_calls()

    def _take(self, batch: list[Edge], now: int) -> None:
        if batch:
            self._handler.write_raw(batch)  # durable before anything is derived
            for edge in batch:
                self._hold.add(edge)
        horizon = now - self.source.latency_ns
        self._handler.derive(self._hold.release(horizon), horizon, now)

    def _answer_late_calls(self) -> None:
        """Calls queued before the thread stopped answering still get their answer (an error, mostly)."""
        try:
            while True:
                item = self._inbox.get_nowait()
                if isinstance(item, _Control):
                    item.run()
        except queue.Empty:
            pass
