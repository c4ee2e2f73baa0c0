import itertools
import threading
import time
from itertools import pairwise

import pytest

from gatectl.errors import SourceError
from gatectl.sim.source import ROSTER, SimSource
from gatectl.sim.sprinters import SimOptions, heats, simulate
from gatectl.timing.model import NS_PER_S, Layout

FLY30 = Layout.parse("M1=0,M2=30,M3=60")


class FakeClock:
    """A monotonic clock that sleeping moves forward, at once."""

    def __init__(self, now_ns: int = 5 * NS_PER_S) -> None:
        self.now_ns = now_ns
        self.sleeps = 0

    def __call__(self) -> int:
        return self.now_ns

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now_ns += max(1, round(seconds * NS_PER_S))


def run_until(source: SimSource, clock: FakeClock, count: int) -> list[tuple[int, object]]:
    """Start ``source``, collect (clock at emit, edge) until ``count`` edges, then stop it."""
    emitted: list[tuple[int, object]] = []
    enough = threading.Event()

    def emit(edge):
        emitted.append((clock(), edge))
        if len(emitted) >= count:
            enough.set()

    source.start(emit)
    assert enough.wait(timeout=10), "the source stopped emitting"
    source.stop()
    return emitted


def test_emits_the_simulation_in_order_when_the_clock_reaches_each_edge():
    clock = FakeClock()
    options = SimOptions(limbs=True)
    source = SimSource(FLY30, seed=3, options=options, gap_ns=12 * NS_PER_S, clock=clock, sleep=clock.sleep)
    emitted = run_until(source, clock, 100)
    edges = [edge for _, edge in emitted]
    played = heats(FLY30, sprinters=ROSTER, seed=3, options=options, start_ns=5 * NS_PER_S, gap_ns=12 * NS_PER_S)
    expected = [e for heat in itertools.islice(played, len(edges)) for e in heat.edges]  # endless: take enough
    assert edges == expected[: len(edges)]
    assert all(now >= edge.t_ns for now, edge in emitted)  # never ahead of the clock
    assert all(now - edge.t_ns < NS_PER_S for now, edge in emitted)  # and not long after
    assert source.now_ns() == clock.now_ns


def test_announces_each_rep_with_athlete_and_truth_before_its_edges():
    clock = FakeClock()
    announced: list[tuple[int, object]] = []
    source = SimSource(
        FLY30, seed=4, clock=clock, sleep=clock.sleep, on_rep=lambda rep: announced.append((clock(), rep))
    )
    run_until(source, clock, 60)  # six edges a rep: ten reps
    reps = [rep for _, rep in announced]
    assert len(reps) >= 10
    assert source.reps == tuple(reps)
    assert [r.sprinter.name for r in reps[:5]] == [a.name for a in ROSTER] + [ROSTER[0].name]
    for now, rep in announced:
        assert now <= rep.truth["M1"]
    fastest, slowest = reps[0], reps[3]  # Amara and Dmitri
    assert fastest.fly_time_ns < slowest.fly_time_ns


def test_stop_wakes_a_sleeping_source_at_once_and_is_idempotent():
    emitted = []
    source = SimSource(FLY30)  # real clock: the first edge is seconds away
    source.start(emitted.append)
    time.sleep(0.05)
    began = time.monotonic()
    source.stop()
    assert time.monotonic() - began < 0.5
    source.stop()
    assert emitted == []
    assert 0 < source.now_ns() - time.monotonic_ns() + NS_PER_S < 2 * NS_PER_S  # the monotonic clock


def test_stopping_from_emit_ends_the_loop():
    clock = FakeClock()
    source = SimSource(FLY30, clock=clock, sleep=clock.sleep)
    emitted = []

    def emit(edge):
        emitted.append(edge)
        source.stop()

    source.start(emit)
    deadline = time.monotonic() + 5
    while not emitted and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(emitted) == 1


def test_is_a_source_that_cannot_start_twice():
    source = SimSource(FLY30, clock=FakeClock(), sleep=lambda s: None)
    assert (source.name, source.latency_ns) == ("sim", 20_000_000)
    source.start(lambda edge: None)
    try:
        with pytest.raises(SourceError):
            source.start(lambda edge: None)
    finally:
        source.stop()


def test_clock_never_runs_past_an_edge_still_to_be_emitted():
    # The clock jumps far ahead after start: every edge is overdue at once, and
    # the daemon, asking the time between two emits, must not be told a time
    # past the edge that comes next.
    calls = iter([0])
    source = SimSource(Layout.flying(), seed=3, gap_ns=10**9, clock=lambda: next(calls, 10**15), sleep=lambda s: None)
    seen: list[tuple[int, int]] = []
    source.start(lambda edge: seen.append((edge.t_ns, source.now_ns())))
    deadline = time.monotonic() + 5
    while len(seen) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    source.stop()
    assert len(seen) >= 40
    for (_, now), (next_t, _) in pairwise(seen):
        assert now <= next_t


class _Script:
    """Two heats of one sprint each; the first is given up after its first three edges."""

    def __init__(self):
        self.first, self.second = (simulate(FLY30, 1, seed=n, start_ns=n * 60 * NS_PER_S) for n in (1, 2))
        self.heats = [self.first, self.second]
        self.emitted = 0

    def next_heat(self, now_ns):
        return self.heats.pop(0) if self.heats else None

    def keep(self, heat):
        return heat is not self.first or self.emitted < 3


def test_a_script_chooses_the_heats_and_can_call_a_sprinter_off():
    clock = FakeClock(0)
    script = _Script()
    seen = []

    def emit(edge):
        seen.append(edge)
        script.emitted += 1

    source = SimSource(FLY30, script=script, clock=clock, sleep=clock.sleep)
    source.start(emit)
    deadline = time.monotonic() + 5
    while len(seen) < 4 + len(script.second.edges) and time.monotonic() < deadline:
        time.sleep(0.01)
    source.stop()
    assert seen[:3] == list(script.first.edges[:3])
    # The sprinter leaves the beam it was in (a clear edge), then the next heat runs in full.
    left = seen[3]
    assert (left.beam, left.broken) == (script.first.edges[2].beam, False) and left.t_ns > script.first.edges[2].t_ns
    assert seen[4:] == list(script.second.edges)
