"""Simulated gates in real time: athletes from a roster run the layout on a loop.

The source behind ``gatectl demo``, and a stand-in for hardware in anyone's
tests. Edges are stamped on the monotonic clock (the simulator's truth shifted
to the instant the source started) and delivered when that clock reaches them.
``on_rep`` hears of each rep, with its athlete and truth, before its first edge,
so the demo can label the runs it detects.

>>> from gatectl.model import Layout
>>> source = SimSource(Layout.flying(), seed=1)
>>> source.start(print)  # doctest: +SKIP
>>> source.stop()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from ..errors import SourceError
from ..model import NS_PER_S, Layout
from ..sim import Athlete, SimOptions, SimRep, Simulation, heats
from . import Emit

# A small club: different top speeds, so the demo's results differ.
ROSTER = (
    Athlete("Amara", vmax_mps=9.9, tau_s=1.1),
    Athlete("Ben", vmax_mps=9.1),
    Athlete("Chloe", vmax_mps=8.4, tau_s=1.3),
    Athlete("Dmitri", vmax_mps=7.7, tau_s=1.4),
)


class SimSource:
    """An ``EdgeSource`` of simulated athletes, one rep every ``gap_ns`` or so.

    ``clock`` (integer ns) and ``sleep`` (seconds) are injectable so tests can
    run hours of simulated time at once; by default they are the monotonic
    clock and a wait that ``stop()`` interrupts.
    """

    name = "sim"
    # Edges are delivered by a thread as the clock reaches their stamps; a busy
    # machine wakes it a little late, so the daemon waits this long for them.
    latency_ns = 20_000_000

    def __init__(
        self,
        layout: Layout,
        *,
        athletes: Sequence[Athlete] = ROSTER,
        seed: int = 0,
        options: SimOptions = SimOptions(),
        gap_ns: int = 15 * NS_PER_S,  # short rests: a demo viewer sees results often
        on_rep: Callable[[SimRep], None] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.layout = layout
        self._athletes = tuple(athletes)
        self._seed = seed
        self._options = options
        self._gap_ns = gap_ns
        self._on_rep = on_rep
        self._clock = clock
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._reps: list[SimRep] = []
        self._undelivered_ns: int | None = None  # the next edge the thread has yet to emit
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def reps(self) -> tuple[SimRep, ...]:
        """Every rep announced so far, in order."""
        with self._lock:
            return tuple(self._reps)

    def start(self, emit: Emit) -> None:
        if self._thread is not None:
            raise SourceError("The simulated gates are already running; make a new SimSource to run again.")
        runs = heats(
            self.layout,
            athletes=self._athletes,
            seed=self._seed,
            options=self._options,
            start_ns=self._clock(),
            gap_ns=self._gap_ns,
        )
        self._thread = threading.Thread(target=self._run, args=(runs, emit), name="gatectl-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def now_ns(self) -> int:
        # Between the thread seeing an edge is due and handing it over, the daemon
        # may ask the time: answering past that edge would make it late.
        now, undelivered = self._clock(), self._undelivered_ns
        return now if undelivered is None else min(now, undelivered)

    def _run(self, runs: Iterator[Simulation], emit: Emit) -> None:
        for heat in runs:
            for rep in heat.reps:
                with self._lock:
                    self._reps.append(rep)
                if self._on_rep is not None:
                    self._on_rep(rep)
            edges = heat.edges
            for i, edge in enumerate(edges):
                self._undelivered_ns = edge.t_ns
                if not self._wait_until(edge.t_ns):
                    return
                emit(edge)
                self._undelivered_ns = edges[i + 1].t_ns if i + 1 < len(edges) else None

    def _wait_until(self, t_ns: int) -> bool:
        """Sleep until the clock reaches ``t_ns``; False if stopped first."""
        while not self._stopping.is_set():
            remaining = t_ns - self._clock()
            if remaining <= 0:
                return True
            self._sleep(remaining / NS_PER_S)
        return False
