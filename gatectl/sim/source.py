"""Simulated gates in real time: athletes from a roster run the layout on a loop.

The source behind ``gatectl demo``, and a stand-in for hardware in anyone's
tests. Edges are stamped on the monotonic clock (the simulator's truth shifted
to the instant the source started) and delivered when that clock reaches them.
``on_rep`` hears of each rep, with its athlete and truth, before its first edge,
so the demo can label the runs it detects.

With a ``script`` (a ``HeatScript``), who runs and when is decided outside:
the source asks it for the next heat (every ``poll_ns`` while it has none),
and stops a heat half run if the script no longer wants it (the athletes
leave the track), so the demo's athletes can follow a workout.

>>> from gatectl.timing.model import Layout
>>> source = SimSource(Layout.flying(), seed=1)
>>> source.start(print)  # each edge is printed when the clock reaches it
>>> source.stop()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from gatectl.errors import SourceError
from gatectl.sim.sprinters import SimOptions, SimRep, Simulation, Sprinter, heats
from gatectl.sources import Emit
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout

# A small club: different top speeds, so the demo's results differ.
ROSTER = (
    Sprinter("Amara", vmax_mps=9.9, tau_s=1.1),
    Sprinter("Ben", vmax_mps=9.1),
    Sprinter("Chloe", vmax_mps=8.4, tau_s=1.3),
    Sprinter("Dmitri", vmax_mps=7.7, tau_s=1.4),
)


class HeatScript(Protocol):
    """Who runs next, decided outside the source."""

    def next_heat(self, now_ns: int) -> Simulation | None:
        """The next heat to play, its edges from ``now_ns`` on; None to be asked again shortly."""

    def keep(self, heat: Simulation) -> bool:
        """Whether to go on playing ``heat`` (asked before each of its edges)."""


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
        sprinters: Sequence[Sprinter] = ROSTER,
        seed: int = 0,
        options: SimOptions = SimOptions(),
        gap_ns: int = 15 * NS_PER_S,  # short rests: a demo viewer sees results often
        on_rep: Callable[[SimRep], None] | None = None,
        script: HeatScript | None = None,
        poll_ns: int = 250 * NS_PER_MS,
        clock: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.layout = layout
        self._script = script
        self._poll_s = poll_ns / NS_PER_S
        self._sprinters = tuple(sprinters)
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
        runs = self._scripted(self._script) if self._script is not None else heats(
            self.layout,
            sprinters=self._sprinters,
            seed=self._seed,
            options=self._options,
            start_ns=self._clock(),
            gap_ns=self._gap_ns,
        )  # fmt: skip
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
            broken: dict[str, int] = {}  # beams the heat has left broken, since when
            for i, edge in enumerate(edges):
                self._undelivered_ns = edge.t_ns
                if not self._wait_until(edge.t_ns):
                    return
                if self._script is not None and not self._script.keep(heat):
                    self._undelivered_ns = None
                    for beam, since in broken.items():  # the body leaves the beam as the athlete leaves
                        emit(Edge(beam, max(since + 1, self._clock()), False))
                    break
                emit(edge)
                if edge.broken:
                    broken[edge.beam] = edge.t_ns
                else:
                    broken.pop(edge.beam, None)
                self._undelivered_ns = edges[i + 1].t_ns if i + 1 < len(edges) else None

    def _scripted(self, script: HeatScript) -> Iterator[Simulation]:
        while not self._stopping.is_set():
            heat = script.next_heat(self._clock())
            if heat is None:
                self._sleep(self._poll_s)
            else:
                yield heat

    def _wait_until(self, t_ns: int) -> bool:
        """Sleep until the clock reaches ``t_ns``; False if stopped first."""
        while not self._stopping.is_set():
            remaining = t_ns - self._clock()
            if remaining <= 0:
                return True
            self._sleep(remaining / NS_PER_S)
        return False
