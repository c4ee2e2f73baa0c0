"""The daemon's parts on their own: the loop, the latency hold, the gate monitor, session timing, the lineup."""

import threading

import pytest
from fakes import FakeSource

from gatectl.coaching.laps import LapRep, StartKind, Track
from gatectl.daemon.events import EventBus
from gatectl.daemon.gates import STUCK_NS, GateMonitor
from gatectl.daemon.loop import DaemonStopped, LatencyHold, TimingLoop
from gatectl.daemon.sessions import LineTiming, Lineup, Session, TrackTiming, session_timing
from gatectl.sim.sprinters import SimOptions, lap_edges, simulate
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Crossing, Edge, Layout, Run, RunStatus

S, MS = NS_PER_S, NS_PER_MS
FLY30 = Layout.flying(30, 30)


# The loop ---------------------------------------------------------------------------------------------


class Recorder:
    """A LoopHandler that notes what it was given, in order, and on which thread."""

    def __init__(self, fail_opening=False, stored_before=()):
        self.log = []
        self.threads = set()
        self.fail_opening = fail_opening
        self.stored_before = set(stored_before)  # a gate node's repeats the database already holds

    def opened(self):
        if self.fail_opening:
            raise OSError("no disk")
        self.log.append(("opened",))

    def write_raw(self, edges):
        self.threads.add(threading.current_thread().name)
        self.log.append(("raw", list(edges)))
        return [edge for edge in edges if edge not in self.stored_before]

    def follow(self, edges, now_ns):
        self.threads.add(threading.current_thread().name)

    def catch_up(self):
        pass

    def derive(self, edges, horizon_ns, now_ns):
        self.threads.add(threading.current_thread().name)
        if edges:
            self.log.append(("derive", list(edges), horizon_ns))

    def closing(self):
        self.log.append(("closing",))


def settle(loop):
    loop.call(lambda: None)
    loop.call(lambda: None)  # this one's batch read the clock after it was moved


def test_the_loop_writes_raw_edges_first_and_derives_them_in_time_order_after_the_latency():
    source, handler, hold = FakeSource(10 * S, latency_ns=50 * MS), Recorder(), LatencyHold()
    loop = TimingLoop(source, handler, hold, tick_ns=MS)
    loop.start()
    late, early = Edge("M2", 10 * S + 30 * MS, True), Edge("M1", 10 * S + 20 * MS, True)
    source.emit(late, early)  # M2's edge arrives first, though M1's is older
    source.advance_to(10 * S + 60 * MS)  # 60 - 50 ms latency: the horizon is at 10 ms, before both
    settle(loop)
    assert [entry[0] for entry in handler.log] == ["opened", "raw"]
    assert handler.log[1] == ("raw", [late, early])  # as they came, before anything is derived
    source.advance_to(10 * S + 80 * MS)  # horizon 30 ms: both are out of the hold
    settle(loop)
    assert handler.log[2] == ("derive", [early, late], 10 * S + 30 * MS)
    loop.stop()
    assert handler.log[-1] == ("closing",)
    assert handler.threads == {"gatectl-daemon"}


def test_a_repeat_the_database_already_holds_is_neither_followed_nor_derived():
    repeat, new = Edge("M1", 10 * S + 20 * MS, True), Edge("M1", 10 * S + 40 * MS, False)
    source, handler = FakeSource(10 * S), Recorder(stored_before=[repeat])
    followed = []
    handler.follow = lambda edges, now_ns: followed.extend(edges)
    loop = TimingLoop(source, handler, LatencyHold(), tick_ns=MS)
    loop.start()
    source.emit(repeat, new)
    source.advance_to(11 * S)
    settle(loop)
    loop.stop()
    assert ("raw", [repeat, new]) in handler.log  # written (and so acknowledged) as it came
    assert followed == [new]
    assert [entry for entry in handler.log if entry[0] == "derive"] == [("derive", [new], 11 * S)]


def test_calls_run_on_the_loop_thread_and_not_after_it_stopped():
    loop = TimingLoop(FakeSource(), Recorder(), LatencyHold(), tick_ns=MS)
    with pytest.raises(DaemonStopped):
        loop.call(lambda: None)  # not started
    loop.start()
    assert loop.call(lambda: threading.current_thread().name) == "gatectl-daemon"
    loop.stop()
    with pytest.raises(DaemonStopped):
        loop.call(lambda: None)


def test_a_failed_opening_is_raised_to_start():
    source = FakeSource()
    loop = TimingLoop(source, Recorder(fail_opening=True), LatencyHold(), tick_ns=MS)
    with pytest.raises(OSError, match="no disk"):
        loop.start()
    assert source._emit is None  # the gates were never started


def test_the_hold_releases_in_time_order_then_arrival_order():
    hold = LatencyHold()
    a, b, c, d = Edge("M1", 5, True), Edge("M2", 3, True), Edge("M3", 5, False), Edge("M1", 9, False)
    for edge in (a, b, c, d):
        hold.add(edge)
    assert hold.release(2) == []
    assert hold.release(5) == [b, a, c]
    hold.add(Edge("M2", 4, False))  # late: still released, oldest first
    assert hold.release_all() == [Edge("M2", 4, False), d]
    assert hold.release_all() == []


# The gate monitor --------------------------------------------------------------------------------------


def test_the_gate_monitor_ignores_late_edges_and_tells_stuck_once():
    monitor, m1 = GateMonitor(), FLY30.gate("M1")
    assert monitor.edge(Edge("M1", 10 * S, True)) == "M1"
    assert monitor.edge(Edge("M1", 9 * S, False)) is None  # older than what it knows
    assert monitor.status(m1, 10 * S + STUCK_NS - 1).state == "blocked"
    assert monitor.check(10 * S + STUCK_NS - 1) == []
    assert monitor.check(10 * S + STUCK_NS) == ["M1"]
    assert monitor.check(20 * S) == []  # told once
    status = monitor.status(m1, 10 * S + STUCK_NS)
    assert status.as_json() == {
        "gate": "M1", "position_m": 0.0, "state": "stuck", "beams": {"M1": {"state": "stuck", "since_ns": 10 * S, "for_s": 2.0}},
    }  # fmt: skip
    monitor.edge(Edge("M1", 13 * S, False))
    assert monitor.status(m1, 14 * S).state == "clear"
    monitor.edge(Edge("M1", 15 * S, True))
    assert monitor.check(15 * S + STUCK_NS) == ["M1"]  # stuck again after a change


# Session timing: the line or a track ------------------------------------------------------------------


def test_line_timing_times_every_gate():
    timing = session_timing(FLY30)
    assert isinstance(timing, LineTiming) and timing.track is None and timing.laps is None
    assert timing.gates == FLY30.gates
    sim = simulate(FLY30, 1, seed=3, options=SimOptions(limbs=True), start_ns=S)
    events = [e for edge in sim.edges for e in timing.feed(edge)] + list(timing.flush())
    assert {e.gate for e in events if isinstance(e, Crossing)} == {"M1", "M2", "M3"}
    assert [r.status for r in events if isinstance(r, Run)] == [RunStatus.COMPLETE]


def test_track_timing_times_its_gate_only():
    track = Track("M2", 400)
    timing = session_timing(FLY30, track)
    assert isinstance(timing, TrackTiming) and timing.track == track and timing.laps is not None
    assert [g.name for g in timing.gates] == ["M2"]
    assert timing.feed(Edge("M1", S, True)) == ()  # another gate: in the raw log, not timed
    timing.laps.go(S, 400)
    marks = [S + 70 * S]
    edges = lap_edges(FLY30.gate("M2"), marks, speed_mps=6, seed=1)
    events = [e for edge in edges for e in timing.feed(edge)] + list(timing.advance(marks[-1] + S))
    [rep] = [e for e in events if isinstance(e, LapRep)]
    assert (rep.start, rep.status, rep.distance_m) == (StartKind.GO, RunStatus.COMPLETE, 400)


def test_track_timing_refuses_a_gate_not_in_the_layout():
    with pytest.raises(ValueError, match="Track reps need a gate of today's layout"):
        session_timing(FLY30, Track("L", 400))


# The lineup ----------------------------------------------------------------------------------------------


def run(number, status=RunStatus.COMPLETE):
    return Run(number, (), status)


def test_the_lineup_gives_real_runs_to_the_head_of_the_queue():
    bus = EventBus()
    sub = bus.subscribe()
    lineup, session = Lineup(bus), Session(1, FLY30, "Club track", session_timing(FLY30))
    lineup.set_queue([7, 8])
    lineup.decide_owner(session, run(1, RunStatus.REJECTED))  # a false trigger takes nobody
    lineup.decide_owner(session, run(2))
    lineup.set_armed(False)
    lineup.decide_owner(session, run(3))  # disarmed: recorded, voided, nobody's
    lineup.set_armed(True)
    lineup.decide_owner(session, run(4, RunStatus.INCOMPLETE))
    assert session.owners == {2: 7, 4: 8} and session.disarmed == {3} and lineup.queue == []
    assert [session.counts(run(n)) for n in (2, 3)] == [True, False]
    assert not session.counts(run(1, RunStatus.REJECTED))
    events = [(e.kind, e.data) for e in iter(lambda: sub.get(timeout=0), None)]
    assert events == [
        ("queue", {"athletes": [7, 8]}), ("queue", {"athletes": [8]}), ("armed", {"armed": False}),
        ("armed", {"armed": True}), ("queue", {"athletes": []}),
    ]  # fmt: skip
