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

Nothing stops the loop and nothing is thrown away:

* **The store refuses** (locked by another program, disk full: a
  ``StoreUnavailable``): the edges wait in memory, unwritten and underived,
  and the loop tries again after a backoff (``RETRY_FIRST_S`` doubling up to
  ``RETRY_MAX_S``) while it answers calls and follows the gates; a ``store``
  fault says how many edges wait. Derivation resumes, in time order, once they
  are written. At most ``MAX_UNWRITTEN`` edges wait: 11 MiB of memory
  (measured), a small part of a Pi Zero 2 W's 512 MB, and over 12 hours of
  runs every 8 s (about 17 edges each, arms and legs included). Beyond that
  each new edge is counted as lost, logged and told in the fault: never
  silently.
* **An error in a turn** (a timing bug, a clock that raises): logged, shown
  as a ``timing`` fault, and the loop goes on with the next turn.
* **The loop stalls** (or its thread dies): it no longer feeds systemd's
  watchdog (``watchdog.Notifier``), which restarts the process.

A call that times out (``call``) was either not started, and never will be
(``NotApplied``), or started and will complete (``StillApplying``): a caller
always knows which.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gatectl.daemon.events import EventBus
from gatectl.daemon.faults import FaultBoard
from gatectl.daemon.watchdog import Notifier
from gatectl.sources import EdgeSource
from gatectl.store import StoreUnavailable
from gatectl.timing.model import NS_PER_S, Edge

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_UNWRITTEN = 100_000  # edges held in memory while the store refuses them (11 MiB)
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 2.0
TIMING_FAULT_HOLD_S = 60.0  # an error in one turn stays on the dashboard this long
STOP_RETRY_S = 10.0  # on stop, how long the edges still unwritten are retried (the unit allows 20 s)


class DaemonStopped(RuntimeError):
    """A call reached the daemon after its thread ended."""


class NotApplied(TimeoutError):
    """The daemon did not start the action in time; it was cancelled and nothing changed."""


class StillApplying(TimeoutError):
    """The daemon started the action but has not finished it; it will be applied in full."""


class LoopHandler(Protocol):
    """What the loop drives, always on its thread."""

    def opened(self) -> None:
        """Before ``start`` returns: open the store and the first session (an error is raised to ``start``)."""

    def write_raw(self, edges: Sequence[Edge]) -> Sequence[Edge]:
        """Keep the edges durably, as they came, all or none (``StoreUnavailable``), then acknowledge them to the
        source (gate nodes); nothing is derived from them yet. Returns those new to the raw log: a gate node's
        repeat of an edge already stored (a crash took its ACK) is acknowledged again, and left out."""

    def follow(self, edges: Sequence[Edge], now_ns: int) -> None:
        """Edges just written durably, new to the raw log: follow their beams (the gate lights)."""

    def catch_up(self) -> None:
        """Store what was derived but refused by the store (``StoreUnavailable`` if it still is)."""

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
    state: str = "queued"  # → "running" → done; or → "cancelled", never to run
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> bool:
        """Cancel it if it has not started; whether it was."""
        with self.lock:
            if self.state == "queued":
                self.state = "cancelled"
            return self.state == "cancelled"

    def run(self) -> None:
        with self.lock:
            if self.state == "cancelled":
                return
            self.state = "running"
        try:
            self.result = self.action()
        except BaseException as exc:
            self.error = exc
        self.done.set()


class TimingLoop:
    """One thread running a source into a ``LoopHandler``. ``start``, ``call`` from any thread, ``stop``."""

    def __init__(
        self, source: EdgeSource, handler: LoopHandler, hold: LatencyHold, tick_ns: int, *,
        faults: FaultBoard | None = None, notifier: Notifier | None = None, max_unwritten: int = MAX_UNWRITTEN, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.source = source
        self.faults = faults or FaultBoard(EventBus())
        self.notifier = notifier or Notifier()
        self._handler = handler
        self._hold = hold  # shared with the handler: a session closing takes the edges still held
        self._tick_s = tick_ns / NS_PER_S
        self._inbox: queue.SimpleQueue[Edge | _Control | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._lock = threading.Lock()  # a call is queued only while the thread will still answer it
        self._answering = False
        # Edges taken from the inbox that the store has not taken yet, oldest first.
        self._unwritten: list[Edge] = []
        self._max_unwritten = max_unwritten
        self.lost = 0  # edges beyond the bound while the store refused: counted, logged, told
        self._refused = False  # the store refused the last write: retry at _retry_at
        self._backoff_s = RETRY_FIRST_S
        self._retry_at = 0.0
        self._clock = clock
        self._errors_logged: dict[str, int] = {}

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

    @property
    def unwritten(self) -> int:
        """Edges waiting in memory for the store."""
        return len(self._unwritten)

    def call(self, action: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``action`` on the daemon thread and return its result (or raise its error).

        After ``timeout`` seconds without an answer: ``NotApplied`` if the
        action had not started (it never will), else ``StillApplying`` if it
        has not finished after another ``timeout`` (it will, in full).
        """
        control = _Control(action)
        with self._lock:
            if not self._answering:
                raise DaemonStopped("The timing daemon is not running.")
            self._inbox.put(control)
        if not control.done.wait(timeout):
            if control.cancel():
                raise NotApplied("The timing daemon was busy and did not take this; nothing was changed: try again.")
            if not control.done.wait(timeout):
                raise StillApplying("The timing daemon took this and is still applying it: reload in a moment to see it, do not send it again.")
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
            running = self._turn()
            self.notifier.feed()  # the loop is alive; when it stalls, systemd restarts the process
        self._write_before_closing()
        try:
            self._handler.closing()
        except Exception as exc:
            self._fault(exc, "could not close the session")
        with self._lock:
            self._answering = False
        self._answer_late_calls()

    def _turn(self) -> bool:
        """One turn: take what is in the inbox, write, derive, answer calls; False once told to stop."""
        batch: list[Edge] = []
        controls: list[_Control] = []
        running = True
        try:
            items = [self._inbox.get(timeout=self._tick_s)]
        except queue.Empty:
            items = []
        try:
            now: int | None = self.source.now_ns()  # before draining: see the module's docstring
        except Exception as exc:  # the edges are still written below; only timing waits for the clock
            self._fault(exc, "could not read the gates' clock")
            now = None
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
        self._keep(batch)
        try:
            self._take(now)
        except Exception as exc:  # a fault in one batch must not stop the timing
            self._fault(exc, f"could not process {len(batch)} edges")
        else:
            if now is not None:
                self.faults.clear("timing", TIMING_FAULT_HOLD_S)
        for control in controls:
            control.run()
        return running

    def _keep(self, batch: list[Edge]) -> None:
        room = self._max_unwritten - len(self._unwritten)
        if len(batch) > room:
            lost = len(batch) - max(room, 0)
            self.lost += lost
            log.error("%d edges lost: %d are already waiting for the database", lost, len(self._unwritten))
            batch = batch[: max(room, 0)]
        self._unwritten += batch

    def _take(self, now: int | None) -> None:
        if self._refused and self._clock() < self._retry_at:
            return  # backing off: the edges wait, nothing is derived past them
        try:
            if self._unwritten:
                self._write(now)
            self._handler.catch_up()
            if now is not None:
                horizon = now - self.source.latency_ns
                self._handler.derive(self._hold.release(horizon), horizon, now)
        except StoreUnavailable as exc:
            self._store_refused(exc)
            return
        if self._refused:
            log.warning("the database takes writes again")
            self._refused = False
            self._backoff_s = RETRY_FIRST_S
            self.faults.clear("store")

    def _write(self, now: int | None) -> None:
        """Write the waiting edges durably (before anything is derived), hold the new ones for timing; the gates follow them.

        An edge the store cannot take at all (a broken source's) is told and
        left out, edge by edge, so it cannot hold the others back. A refusal
        for now (``StoreUnavailable``) is raised once what was written is held.
        """
        written: list[Edge] = []
        refused: StoreUnavailable | None = None
        try:
            written = list(self._handler.write_raw(self._unwritten))
            self._unwritten = []
        except StoreUnavailable as exc:
            refused = exc
        except Exception:
            while self._unwritten and refused is None:
                edge = self._unwritten[0]
                try:
                    written += self._handler.write_raw([edge])
                except StoreUnavailable as exc:
                    refused = exc  # this one and the rest wait for the store
                    break
                except Exception as exc:
                    self.lost += 1
                    self._fault(exc, f"could not process 1 edges ({edge!r})")
                self._unwritten.pop(0)
        for edge in written:
            self._hold.add(edge)
        if written:
            self._handler.follow(written, now if now is not None else max(e.t_ns for e in written))
        if refused is not None:
            raise refused

    def _store_refused(self, exc: StoreUnavailable) -> None:
        if not self._refused:
            log.error("the database refuses writes (%s): holding edges and retrying", exc)
        self._refused = True
        self._retry_at = self._clock() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, RETRY_MAX_S)
        waiting = f"{len(self._unwritten)} edges wait in memory and are written as soon as it does"
        lost = f"; {self.lost} edges could not be kept (more than {self._max_unwritten} waited)" if self.lost else ""
        self.faults.raise_fault("store", f"{exc} Timing goes on: {waiting}{lost}.")

    def _fault(self, exc: Exception, what: str) -> None:
        """An error in a turn: logged (its traceback the first few times), shown, and the loop goes on."""
        key = f"{what.split(' (')[0]}: {type(exc).__name__}"
        seen = self._errors_logged[key] = self._errors_logged.get(key, 0) + 1
        if seen <= 3:
            log.exception("%s (the timing goes on)", what)
        elif seen in (10, 100, 1000) or seen % 10_000 == 0:
            log.error("%s, %d times now: %s", what, seen, exc)
        self.faults.raise_fault("timing", f"Timing error: {what}: {type(exc).__name__}: {exc}. The timing went on; it is logged.")

    def _write_before_closing(self) -> None:
        """Stopping: the edges still waiting get a last chance of ``STOP_RETRY_S``; any left are counted lost."""
        deadline = self._clock() + STOP_RETRY_S
        while self._unwritten:
            try:
                self._take(None)
            except Exception as exc:
                self._fault(exc, "could not write the last edges")
            if not self._unwritten or self._clock() >= deadline:
                break
            time.sleep(min(self._backoff_s, max(0.0, self._retry_at - self._clock())))
        if self._unwritten:
            self.lost += len(self._unwritten)
            log.error("stopping with %d edges the database would not take: they are lost", len(self._unwritten))
            self._unwritten = []

    def _answer_late_calls(self) -> None:
        """Calls queued before the thread stopped answering still get their answer (an error, mostly)."""
        try:
            while True:
                item = self._inbox.get_nowait()
                if isinstance(item, _Control):
                    item.run()
        except queue.Empty:
            pass
