import threading
import time

import pytest

from gatectl.daemon.daemon import Daemon
from gatectl.errors import SourceError
from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.sources.replay import ReplaySource
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout
from gatectl.timing.pipeline import time_edges

S, MS = NS_PER_S, NS_PER_MS
SPEED = 1000.0  # a millisecond of the fake clock is a second of the trace
TRACE = [Edge("M2", 7 * S, True), Edge("M1", 5 * S, True), Edge("M1", 5 * S + 200 * MS, False), Edge("M2", 7 * S + 150 * MS, False)]


class FakeClock:
    """A monotonic clock (integer ns) that moves only when the test says so."""

    def __init__(self, now_ns: int = 123 * S) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def wait_for(condition, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.0005)
    return True


@pytest.fixture
def replay():
    """A started replay of TRACE on a fake clock; yields (source, clock, emitted as (now at emit, edge))."""
    clock = FakeClock()
    source = ReplaySource(TRACE, speed=SPEED, clock=clock)
    emitted = []
    source.start(lambda edge: emitted.append((source.now_ns(), edge)))
    yield source, clock, emitted
    source.stop()


def trace_to_clock(clock_origin: int, trace_ns: int) -> int:
    """The fake clock reading at which the replay reaches ``trace_ns``."""
    return clock_origin + (trace_ns - 5 * S) // round(SPEED)


def test_edges_are_sorted_by_time():
    assert [e.t_ns for e in ReplaySource(TRACE).edges] == [5 * S, 5 * S + 200 * MS, 7 * S, 7 * S + 150 * MS]


def test_now_before_start_is_the_start_of_the_trace():
    assert ReplaySource(TRACE, clock=FakeClock()).now_ns() == 5 * S
    assert ReplaySource([], clock=FakeClock()).now_ns() == 0


def test_now_maps_the_clock_onto_trace_time_scaled(replay):
    source, clock, emitted = replay
    origin = clock.now_ns
    assert wait_for(lambda: len(emitted) == 1)
    assert source.now_ns() == 5 * S
    clock.now_ns = origin + 150_000  # 0.15 ms of clock: 150 ms of trace at 1000×
    assert source.now_ns() == 5 * S + 150 * MS


def test_emits_each_edge_in_order_when_the_clock_reaches_it(replay):
    _, clock, emitted = replay
    origin = clock.now_ns
    assert wait_for(lambda: len(emitted) == 1)  # the first edge is the start of the trace
    for count, edge in enumerate(sorted(TRACE, key=lambda e: e.t_ns)[1:], start=1):
        clock.now_ns = trace_to_clock(origin, edge.t_ns) - 1  # just before it
        time.sleep(0.01)
        assert len(emitted) == count, f"{edge} came early"
        clock.now_ns = trace_to_clock(origin, edge.t_ns)
        assert wait_for(lambda seen=count + 1: len(emitted) == seen)
    assert [edge for _, edge in emitted] == sorted(TRACE, key=lambda e: e.t_ns)
    assert all(now >= edge.t_ns for now, edge in emitted)


def test_finished_is_set_after_the_last_edge(replay):
    source, clock, emitted = replay
    origin = clock.now_ns
    clock.now_ns = trace_to_clock(origin, 7 * S)
    assert wait_for(lambda: len(emitted) == 3)
    assert not source.finished.wait(0.01)
    clock.now_ns = trace_to_clock(origin, 8 * S)
    assert source.finished.wait(2)
    assert len(emitted) == 4
    assert source.now_ns() == 8 * S  # the clock runs on after the trace


def test_now_never_passes_an_edge_not_yet_delivered():
    # The daemon decides everything up to now_ns: if the clock said 'later' while
    # an edge was still on its way, the edge would arrive too late to be timed.
    clock = FakeClock()
    source = ReplaySource(TRACE, speed=SPEED, clock=clock)
    release = threading.Event()
    emitted = []

    def emit(edge):
        if edge.t_ns == 7 * S:
            release.wait(2)  # the replay thread is slow to hand this one over
        emitted.append(edge)

    source.start(emit)
    clock.now_ns += 10 * MS  # 10 s of trace: every edge is due
    assert wait_for(lambda: len(emitted) == 2)
    assert source.now_ns() == 7 * S
    release.set()
    assert source.finished.wait(2)
    assert source.now_ns() == 15 * S
    source.stop()


def test_empty_trace_finishes_at_once():
    source = ReplaySource([], clock=FakeClock())
    source.start(lambda edge: pytest.fail("no edges to emit"))
    assert source.finished.wait(2)
    source.stop()


def test_stop_is_idempotent_and_interrupts_the_wait():
    clock = FakeClock()
    source = ReplaySource(TRACE, speed=1.0, clock=clock)  # the next edge is 200 ms of real waiting away
    source.stop()  # before start: nothing to stop
    emitted = []
    source.start(emitted.append)
    assert wait_for(lambda: len(emitted) == 1)
    started = time.monotonic()
    source.stop()
    source.stop()
    assert time.monotonic() - started < 0.15
    assert not source.finished.is_set()
    clock.now_ns += 10 * S
    time.sleep(0.01)
    assert len(emitted) == 1


def test_start_twice_is_an_error():
    source = ReplaySource(TRACE, clock=FakeClock())
    source.start(lambda edge: None)
    with pytest.raises(SourceError, match="already started"):
        source.start(lambda edge: None)
    source.stop()


@pytest.mark.parametrize("speed", [0, -1, float("nan")])
def test_speed_must_be_positive(speed):
    with pytest.raises(SourceError, match="Replay speed must be more than 0"):
        ReplaySource(TRACE, speed=speed)


def test_real_clock_fast_replay():
    source = ReplaySource(TRACE, speed=100.0)  # 2.15 s of trace in about 22 ms
    emitted = []
    source.start(emitted.append)
    assert source.finished.wait(2)
    source.stop()
    assert emitted == sorted(TRACE, key=lambda e: e.t_ns)


def test_daemon_on_a_replay_gives_what_the_trace_gives(tmp_path):
    layout = Layout.flying()
    sim = simulate(layout, 12, seed=4, options=SimOptions(limbs=True), gap_ns=4 * S)
    source = ReplaySource(sim.edges, speed=2000.0)  # about 100 s of trace in 50 ms
    daemon = Daemon(source, lambda: Store(tmp_path / "g.db"), layout)
    daemon.start()
    assert source.finished.wait(5)
    daemon.stop()
    expected = time_edges(sim.edges, layout)
    with Store(tmp_path / "g.db") as store:
        runs = sorted(store.runs(session_id=daemon.snapshot().session_id), key=lambda r: r.number)
        assert store.edge_count(daemon.snapshot().session_id) == len(sim.edges)
        assert not [a for a in store.anomalies(daemon.snapshot().session_id) if "out of order" in a["reason"]]
    assert [(r.number, r.status, r.crossings) for r in runs] == [
        (run.number, run.status.value, {c.gate: c.t_ns for c in run.crossings})
        for run in sorted(expected.runs, key=lambda r: r.number)
    ]
    assert sum(r.status == "complete" for r in runs) == 12
