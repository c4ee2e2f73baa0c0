"""Replayed gates: the edges of a recorded trace, delivered as if live.

``speed`` 1.0 replays in real time, 10.0 ten times faster. The source's
clock is the trace's: ``now_ns`` maps the monotonic clock onto trace time, so
the daemon's windows and timeouts see the intervals the gates saw. When the
trace is over, the clock runs on, and the daemon closes what remains open.
The clock never passes an edge not yet delivered, so the daemon, which decides
everything up to ``now_ns``, cannot pass over one still on its way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from gatectl.errors import SourceError
from gatectl.sources import Emit
from gatectl.timing.model import NS_PER_S, Edge


class ReplaySource:
    name = "replay"
    # Edges are delivered by a thread as the clock reaches their stamps; a busy
    # machine wakes it a little late, so the daemon waits this long for them.
    latency_ns = 20_000_000

    def __init__(
        self,
        edges: Sequence[Edge],
        *,
        speed: float = 1.0,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not speed > 0:
            raise SourceError(f"Replay speed must be more than 0, not {speed}.")
        self.edges = sorted(edges, key=lambda e: e.t_ns)
        self.speed = speed
        self._clock = clock
        self._origin_trace = self.edges[0].t_ns if self.edges else 0
        self._origin_clock: int | None = None
        self._undelivered_ns: int | None = self.edges[0].t_ns if self.edges else None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()

    def start(self, emit: Emit) -> None:
        if self._thread is not None:
            raise SourceError("This replay has already started.")
        self._origin_clock = self._clock()
        self._thread = threading.Thread(target=self._run, args=(emit,), name="gatectl-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
            if not self._thread.is_alive():
                self._undelivered_ns = None  # nothing more will come: the clock runs on

    def now_ns(self) -> int:
        now = self._trace_now()
        # Between the replay thread seeing an edge is due and handing it over, the
        # daemon may ask the time: answering past the edge would make it late.
        undelivered = self._undelivered_ns
        return now if undelivered is None else min(now, undelivered)

    def _trace_now(self) -> int:
        if self._origin_clock is None:
            return self._origin_trace
        return self._origin_trace + round((self._clock() - self._origin_clock) * self.speed)

    def _run(self, emit: Emit) -> None:
        for i, edge in enumerate(self.edges):
            while (wait := edge.t_ns - self._trace_now()) > 0:
                if self._stopping.wait(wait / self.speed / NS_PER_S):
                    return
            emit(edge)
            self._undelivered_ns = self.edges[i + 1].t_ns if i + 1 < len(self.edges) else None
        self.finished.set()
