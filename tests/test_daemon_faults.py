"""The daemon under faults: a busy thread, a locked or full database, errors in the loop, the watchdog."""

import logging
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from fakes import FakeSource
from helpers import FLY30, MS, START, Live, reps

from gatectl.coaching.library import WorkoutKind
from gatectl.daemon import sessions
from gatectl.daemon.loop import NotApplied, StillApplying
from gatectl.daemon.watchdog import Notifier
from gatectl.daemon.workout import WorkoutPlan, group
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S, Edge
from gatectl.timing.pipeline import time_edges

S = NS_PER_S


@pytest.fixture
def live(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        store.add_athlete("Ana")
    live = Live(path)
    live.daemon.start()
    yield live
    live.daemon.stop()


def occupy(live):
    """Keep the daemon thread busy until the returned event is set (a slow action from elsewhere)."""
    release, busy = threading.Event(), threading.Event()

    def slow():
        busy.set()
        release.wait(10)

    threading.Thread(target=live.daemon.call, args=(slow, 20), daemon=True).start()
    busy.wait(5)
    return release


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def faults(live, kind):
    return [f for f in live.daemon.snapshot().faults if f.kind == kind]


# A call that times out: applied in full, or not at all, and the caller told which ------------------


def test_a_workout_start_that_times_out_is_cancelled_so_a_retry_starts_one_workout(live):
    with live.store() as store:
        plan = WorkoutPlan("3 x 30m", WorkoutKind.MAX_VELOCITY, group(store, [store.find_athlete("Ana")["id"]]))
    session = live.daemon.snapshot().session_id
    release = occupy(live)
    live.daemon.call_timeout_s = 0.2
    with pytest.raises(NotApplied, match="nothing was changed"):
        live.daemon.start_workout(plan)
    release.set()
    live.daemon.call_timeout_s = 10
    assert live.daemon.snapshot().session_id == session  # not started after the caller gave up
    state = live.daemon.start_workout(plan)  # the coach's retry
    with live.store() as store:
        assert [s["id"] for s in store.sessions() if store.workout(s["id"])] == [state.session]


def test_a_call_that_started_completes_and_the_caller_is_told(live):
    done = threading.Event()

    def slow():
        time.sleep(0.3)
        done.set()
        return "applied"

    with pytest.raises(StillApplying, match="do not send it again"):
        live.daemon.call(slow, timeout=0.1)
    assert done.wait(2)  # it was applied, in full
    assert live.daemon.call(lambda: time.sleep(0.15) or "applied", timeout=0.1) == "applied"  # started: waited for


def test_a_workout_is_parsed_on_the_callers_thread_not_the_timing_thread(live, monkeypatch):
    threads = []
    original = WorkoutPlan.runner

    def runner(self, rest_scale=1.0):
        threads.append(threading.current_thread().name)
        return original(self, rest_scale)

    monkeypatch.setattr(WorkoutPlan, "runner", runner)
    with live.store() as store:
        plan = WorkoutPlan("3 x 30m", WorkoutKind.MAX_VELOCITY, group(store, [store.find_athlete("Ana")["id"]]))
    live.daemon.start_workout(plan)
    assert threads == [threading.current_thread().name]


# A locked or full database: edges held, retried, never dropped; the fault shown --------------------


def test_edges_wait_while_another_program_holds_the_write_lock_and_none_is_dropped(live, caplog):
    sim = reps(2, gap_ns=20 * S)
    other = sqlite3.connect(live.path, isolation_level=None)
    other.execute("begin immediate")  # a backup or a recompute holding the write lock
    with caplog.at_level(logging.ERROR):
        live.play(sim.edges)
        wait_for(lambda: faults(live, "store"))
    [fault] = faults(live, "store")
    assert "locked by another program" in fault.message and f"{len(sim.edges)} edges wait" in fault.message
    assert any(e["faults"] for e in live.events("fault"))  # the pages are told
    assert live.daemon.unwritten == len(sim.edges)
    assert live.runs() == []  # nothing derived from edges not yet on disk
    other.execute("commit")
    other.close()
    wait_for(lambda: live.daemon.unwritten == 0)
    live.source.advance_to(live.source.now_ns() + 5 * S)
    live.settle()
    with live.store() as store:
        assert store.edges(live.daemon.snapshot().session_id) == list(sim.edges)
    assert [r.status for r in live.runs()] == [r.status for r in time_edges(sim.edges, FLY30).runs]
    assert live.daemon.snapshot().faults == ()
    assert live.events("fault")[-1] == {"faults": []}
    assert "could not process" not in caplog.text


def test_a_gate_node_hears_an_edge_acknowledged_only_once_it_is_on_disk(live):
    acked = []
    live.source.edges_stored = acked.extend  # as a gate node's source: told which edges are on disk
    sim = reps(1)
    other = sqlite3.connect(live.path, isolation_level=None)
    other.execute("begin immediate")
    live.play(sim.edges)
    wait_for(lambda: faults(live, "store"))
    assert live.daemon.unwritten == len(sim.edges) and acked == []  # held in memory: a node must keep sending them
    other.execute("commit")
    other.close()
    wait_for(lambda: live.daemon.unwritten == 0)
    live.settle()
    assert sorted(acked) == sorted(sim.edges)
    with live.store() as store:
        assert sorted(store.edges(live.daemon.snapshot().session_id)) == sorted(acked)


def test_edges_wait_while_the_disk_is_full(live):
    session = live.daemon.snapshot().session_id
    store = live.daemon._keeper.store  # the daemon's own connection: its database may grow no further
    pages = live.daemon.call(lambda: store.db.execute("pragma page_count").fetchone()[0])
    live.daemon.call(lambda: store.db.execute(f"pragma max_page_count = {pages}"))
    sim = reps(20, gap_ns=20 * S)
    live.play(sim.edges)
    wait_for(lambda: faults(live, "store"))
    assert "The disk is full" in faults(live, "store")[0].message
    assert live.daemon.unwritten > 0
    live.daemon.call(lambda: store.db.execute("pragma max_page_count = 1000000"))
    wait_for(lambda: live.daemon.unwritten == 0)
    live.settle()
    with live.store() as reader:
        assert reader.edges(session) == list(sim.edges)


def test_beyond_the_bound_edges_are_counted_lost_logged_and_shown(tmp_path, caplog):
    live = Live(tmp_path / "g.db")
    live.daemon = type(live.daemon)(live.source, lambda: Store(live.path), FLY30, bus=live.bus, tick_ns=2 * MS, max_unwritten=10)
    live.daemon.start()
    other = sqlite3.connect(live.path, isolation_level=None)
    other.execute("begin immediate")
    edges = [Edge("M1", START + i * S, i % 2 == 0) for i in range(15)]
    with caplog.at_level(logging.ERROR):
        live.source.emit(*edges)
        live.settle()
        wait_for(lambda: faults(live, "store"))
        live.source.advance_to(START + 20 * S)
        wait_for(lambda: "5 edges could not be kept" in faults(live, "store")[0].message)
    assert "5 edges lost" in caplog.text
    assert live.daemon.lost == 5
    other.execute("commit")
    other.close()
    wait_for(lambda: live.daemon.unwritten == 0)
    live.daemon.stop()
    with live.store() as store:
        assert store.edges(live.daemon.snapshot().session_id) == edges[:10]  # the oldest are kept


# Errors in the loop: logged, shown, and the timing goes on -----------------------------------------


class OverflowingClock(FakeSource):
    """A source whose clock raises while ``broken`` (a config speed of 1e300 does this to a replay)."""

    broken = False

    def now_ns(self):
        if self.broken:
            raise OverflowError("cannot convert float infinity to integer")
        return super().now_ns()


def test_a_clock_that_raises_is_a_fault_and_the_edges_are_still_kept(tmp_path, caplog):
    live = Live(tmp_path / "g.db")
    live.source.__class__ = OverflowingClock
    live.daemon.start()
    sim = reps(2, gap_ns=20 * S)
    live.source.broken = True
    with caplog.at_level(logging.ERROR):
        live.source.play(sim.edges)
        live.settle()
        wait_for(lambda: faults(live, "timing"))
    assert "OverflowError" in faults(live, "timing")[0].message
    assert "could not read the gates' clock" in caplog.text
    live.source.broken = False
    live.source.advance_to(sim.edges[-1].t_ns + 5 * S)
    live.settle()
    live.daemon.stop()
    with live.store() as store:
        assert store.edges(live.daemon.snapshot().session_id) == list(sim.edges)
    assert [r.status for r in live.runs()] == [r.status for r in time_edges(sim.edges, FLY30).runs]


def test_an_error_in_the_timing_core_is_logged_shown_and_the_loop_goes_on(live, monkeypatch, caplog):
    original, calls = sessions.LineTiming.feed, []

    def feed(self, edge):
        calls.append(edge)
        if len(calls) == 1:
            raise OverflowError("int too large to convert to float")  # a gate at 1e308 m
        return original(self, edge)

    monkeypatch.setattr(sessions.LineTiming, "feed", feed)
    with caplog.at_level(logging.ERROR):
        live.play(reps(1).edges)
    assert "OverflowError" in faults(live, "timing")[0].message
    assert "the timing goes on" in caplog.text
    later = reps(2, start_ns=live.source.now_ns() + S, gap_ns=20 * S)
    live.play(later.edges)
    assert [r.status for r in live.runs()][-2:] == ["complete", "complete"]  # timing went on


# systemd: ready, and a watchdog fed by the loop only while it turns --------------------------------


@pytest.fixture
def notify_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(2)
    yield sock, str(tmp_path / "notify")
    sock.close()


def received(sock, seconds):
    """What systemd would hear in the next ``seconds``."""
    deadline, messages = time.monotonic() + seconds, []
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            messages.append(sock.recv(100).decode())
        except TimeoutError:
            break
    return messages


def test_the_timing_loop_feeds_the_watchdog_and_a_stalled_loop_does_not(tmp_path, notify_socket):
    sock, path = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})  # fed every 50 ms
    assert notifier.watched
    live = Live(tmp_path / "g.db")
    live.daemon = type(live.daemon)(live.source, lambda: Store(live.path), FLY30, bus=live.bus, tick_ns=2 * MS, notifier=notifier)
    live.daemon.start()
    messages = received(sock, 0.3)
    assert messages[0] == "READY=1" and messages.count("WATCHDOG=1") >= 3
    release = occupy(live)
    received(sock, 0.05)  # what was sent before the stall
    assert received(sock, 0.3) == []  # stalled: systemd would restart the process
    release.set()
    assert "WATCHDOG=1" in received(sock, 0.3)
    live.daemon.stop()
    assert "STOPPING=1" in received(sock, 0.1)


def test_notify_speaks_to_abstract_sockets_and_is_silent_outside_systemd():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"gatectl-test-{time.monotonic_ns()}"
    sock.bind("\0" + name)
    Notifier({"NOTIFY_SOCKET": "@" + name}).notify("READY=1")
    assert sock.recv(100) == b"READY=1"
    sock.close()
    quiet = Notifier({})
    assert not quiet.watched
    quiet.notify("READY=1")
    quiet.feed()


def test_the_unit_restarts_a_stalled_daemon():
    unit = (Path(__file__).parent.parent / "systemd" / "gatectl.service").read_text()
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    assert settings["Type"] == "notify"  # READY=1 once timing runs
    assert int(settings["WatchdogSec"]) >= 5  # fed twice a period from the loop, which turns every 20 ms
    assert settings["Restart"] == "on-failure"  # a watchdog kill is a failure: restarted
    assert "AF_UNIX" in settings["RestrictAddressFamilies"]  # the notify socket
    if shutil.which("systemd-analyze"):
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(Path(__file__).parent.parent / "systemd" / "gatectl.service")],
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert "Unknown key" not in result.stderr and "Invalid" not in result.stderr, result.stderr
