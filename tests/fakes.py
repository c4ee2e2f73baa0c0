"""Test doubles for the daemon's side of the world: an edge source the test drives."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable

from gatectl.sources import Emit
from gatectl.timing.model import NS_PER_S, Edge


class FakeSource:
    """An ``EdgeSource`` whose clock and edges come from the test.

    ``emit`` delivers edges (the source's callback only enqueues, as the
    daemon expects); ``advance_to`` moves the clock. Emit first, then move
    the clock: a real source never reports a time before delivering the
    edges stamped up to it.

    >>> source = FakeSource(start_ns=100)
    >>> source.now_ns()
    100
    """

    name = "fake"

    def __init__(self, start_ns: int = 0, latency_ns: int = 0) -> None:
        self.latency_ns = latency_ns
        self._now = start_ns
        self._emit: Emit | None = None
        self.emitted: list[Edge] = []
        self.stops = 0
        self._lock = threading.Lock()

    def start(self, emit: Emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self.stops += 1

    def now_ns(self) -> int:
        with self._lock:
            return self._now

    def advance_to(self, t_ns: int) -> None:
        with self._lock:
            self._now = max(self._now, t_ns)

    def emit(self, *edges: Edge) -> None:
        assert self._emit is not None, "start the daemon first"
        for edge in edges:
            self.emitted.append(edge)
            self._emit(edge)

    def play(self, edges: Iterable[Edge], *, seed: int = 0) -> None:
        """Deliver ``edges`` as the gates would: each when the clock reaches it.

        With ``latency_ns`` each edge arrives up to that long after its stamp,
        so edges of different beams arrive out of order.
        """
        rng = random.Random(seed)
        arrivals = sorted(
            ((edge.t_ns + (rng.randrange(self.latency_ns) if self.latency_ns else 0), i, edge) for i, edge in enumerate(edges)),
        )
        for arrives_ns, _, edge in arrivals:
            self.emit(edge)
            self.advance_to(arrives_ns)


class FakeGates:
    """An ``EdgeSource`` driven by the test: ``break_beams`` emits, ``now`` is set by hand."""

    name = "fake"
    latency_ns = 0

    def __init__(self) -> None:
        self.now = 1000 * NS_PER_S
        self._emit: Emit | None = None
        self.lock = threading.Lock()

    def start(self, emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self._emit: Emit | None = None

    def now_ns(self) -> int:
        with self.lock:
            return self.now

    def set_now(self, t_ns: int) -> None:
        with self.lock:
            self.now = max(self.now, t_ns)

    def emit(self, edge: Edge) -> None:
        self.set_now(edge.t_ns)
        self._emit(edge)


class BrokenSource(FakeSource):
    """A source whose hardware cannot start (a pin already in use)."""

    def start(self, emit: Emit) -> None:
        from gatectl.errors import SourceError

        raise SourceError("GPIO 17 is busy.")


class SteppingClock:
    """A monotonic clock for ``SimSource`` that sleeping moves forward at once, up to ``limit_ns``.

    At the limit time stands still (the source waits, emitting nothing) until
    it is stopped, so a test knows exactly which edges the source emitted.
    """

    def __init__(self, now_ns: int, limit_ns: int) -> None:
        self.now_ns = now_ns
        self.limit_ns = limit_ns
        self.at_limit = threading.Event()

    def __call__(self) -> int:
        return self.now_ns

    def sleep(self, seconds: float) -> None:
        if self.now_ns >= self.limit_ns:
            self.at_limit.set()
            time.sleep(0.001)  # a real pause, so a waiting source does not spin hot
            return
        self.now_ns = min(self.limit_ns, self.now_ns + max(1, round(seconds * 1_000_000_000)))
