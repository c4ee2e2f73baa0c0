import logging
import threading
from dataclasses import FrozenInstanceError

import pytest
from fakes import BrokenSource, SteppingClock
from helpers import FLY30, LIMBS, START, Live, assert_live_equals_recompute, reps

from gatectl.cli.live import format_run
from gatectl.coaching.laps import Track
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.loop import DaemonStopped
from gatectl.errors import SourceError, StoreError
from gatectl.sim.source import ROSTER, SimSource
from gatectl.sim.sprinters import Fault, SimOptions, Sprinter, heats, simulate
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout
from gatectl.timing.pipeline import time_edges

S, MS = NS_PER_S, NS_PER_MS


@pytest.fixture
def live(tmp_path):
    live = Live(tmp_path / "gatectl.db")
    live.daemon.start()
    yield live
    live.daemon.stop()


# Start and stop ----------------------------------------------------------------------------------


def test_start_opens_a_session_and_publishes_it(live):
    session_id = live.daemon.snapshot().session_id
    assert session_id == 1
    assert live.events("session") == [{"session": 1, "layout": "M1=0,M2=30,M3=60", "method": "longest", "place": "Club track", "track": None}]
    with live.store() as store:
        assert store.session(session_id)["place"] == "Club track"
        assert store.layout(session_id) == FLY30


def test_failing_store_makes_start_raise(tmp_path):
    def no_store():
        raise StoreError("Cannot open the database /nope.db: disk I/O error.")

    live = Live(tmp_path / "g.db", store_factory=no_store)
    with pytest.raises(StoreError, match="disk I/O error"):
        live.daemon.start()
    assert live.source._emit is None  # the gates were never started
    live.daemon.stop()  # nothing to stop, and no hang


def test_failing_source_makes_start_raise_and_ends_the_thread(tmp_path):
    daemon = Daemon(BrokenSource(), lambda: Store(tmp_path / "g.db"), FLY30)
    with pytest.raises(SourceError, match="GPIO 17 is busy."):
        daemon.start()
    assert not [t for t in threading.enumerate() if t.name == "gatectl-daemon" and t.is_alive()]
    daemon.stop()


def test_stop_twice_is_fine(tmp_path):
    live = Live(tmp_path / "g.db")
    live.daemon.start()
    live.daemon.stop()
    live.daemon.stop()
    assert live.source.stops == 1


def test_stop_loses_nothing(tmp_path):
    # Edges emitted just before stop, with no time passing after them, are stored and timed.
    live = Live(tmp_path / "g.db")
    live.daemon.start()
    sim = reps(2)
    live.source.play(sim.edges)
    live.daemon.stop()
    with live.store() as store:
        assert store.edges(live.daemon.snapshot().session_id) == sorted(sim.edges, key=lambda e: e.t_ns)
    assert [r.status for r in live.runs()] == ["complete", "complete"]
    assert len(live.events("run")) == 2


# Edges, crossings, runs ----------------------------------------------------------------------------


def test_every_edge_is_logged_and_every_run_stored_and_published(live):
    sim = reps(5)
    live.play(sim.edges)
    with live.store() as store:
        assert store.edge_count(live.daemon.snapshot().session_id) == len(live.source.emitted) == len(sim.edges)
        assert store.edges(live.daemon.snapshot().session_id) == list(sim.edges)
        crossings = list(store.db["crossings"].rows_where(order_by="t_ns"))
    runs = live.runs()
    assert [r.status for r in runs] == ["complete"] * 5
    # Exactly what the timing core makes of the record, and close to the truth despite the limbs.
    expected = time_edges(sim.edges, FLY30).runs
    assert [r.crossings for r in runs] == [{c.gate: c.t_ns for c in run.crossings} for run in expected]
    for run, rep in zip(runs, sim.reps):
        assert abs(run.fly.time_ns - rep.fly_time_ns) < 20 * MS
    published = live.events("run")
    assert [(r.id, r.session, r.athlete) for r in published] == [(r.id, 1, None) for r in runs]
    assert published == runs
    assert [(c["gate"], c["t_ns"]) for c in live.events("crossing")] == [(c["gate"], c["t_ns"]) for c in crossings]
    assert len(crossings) == 15


def test_runs_are_stored_as_they_finish(live):
    sim = reps(2, gap_ns=30 * S)
    first_rep = [e for e in sim.edges if e.t_ns < sim.reps[1].start_ns]
    live.play(first_rep)
    assert [r.number for r in live.runs()] == [1]
    live.play([e for e in sim.edges if e.t_ns >= sim.reps[1].start_ns])
    assert [r.number for r in live.runs()] == [1, 2]


def test_live_result_equals_recompute(tmp_path):
    live = Live(tmp_path / "g.db")
    live.daemon.start()
    options = SimOptions(limbs=True, faults=frozenset({Fault.MISSED, Fault.SPURIOUS, Fault.PAIR, Fault.STUCK}), fault_chance=0.3)
    sim = simulate(FLY30, 16, sprinters=[Sprinter("A", 9.6), Sprinter("B", 8.1)], seed=21, options=options, start_ns=START + S)
    quiet = sim.reps[3].start_ns - 2 * S  # between reps: a 0.2 ms glitch and a beam no gate has
    oddities = [Edge("M2", quiet, True), Edge("M2", quiet + 200_000, False), Edge("X9", quiet + S, True)]
    edges = sorted([*sim.edges, *oddities], key=lambda e: e.t_ns)
    for i in range(0, len(edges), 37):  # time passing in steps, as it does live
        live.play(edges[i:i + 37], then_ns=0)
    live.source.advance_to(edges[-1].t_ns + 2 * S)
    live.settle()
    live.daemon.stop()
    result = assert_live_equals_recompute(live.path, live.daemon.snapshot().session_id)
    assert {r.status for r in result["runs"]} == {"complete", "incomplete", "rejected"}
    reasons = [a["reason"] for a in result["anomalies"]]
    assert any("glitch" in r for r in reasons) and any("no gate has a beam named X9" in r for r in reasons)


def test_late_edges_give_the_same_result(tmp_path):
    # Edges arrive up to 40 ms after their stamps, out of order across beams:
    # the daemon waits out the latency and times them as if on time.
    sim = reps(6, seed=8, options=SimOptions(limbs=True, faults=frozenset({Fault.PAIR}), fault_chance=0.5))
    live = Live(tmp_path / "g.db", latency_ns=40 * MS)
    live.daemon.start()
    live.source.play(sim.edges, seed=3)
    arrival = [e.t_ns for e in live.source.emitted]
    assert arrival != sorted(arrival)  # really out of order
    live.source.advance_to(sim.edges[-1].t_ns + 3 * S)
    live.settle()
    live.daemon.stop()
    expected = time_edges(sim.edges, FLY30)
    runs = live.runs()
    assert [(r.number, r.status, r.crossings) for r in runs] == [
        (run.number, run.status.value, {c.gate: c.t_ns for c in run.crossings}) for run in sorted(expected.runs, key=lambda r: r.number)
    ]
    with live.store() as store:
        assert not [a for a in store.anomalies(live.daemon.snapshot().session_id) if "out of order" in a["reason"]]
        assert store.edge_count(live.daemon.snapshot().session_id) == len(sim.edges)
    assert_live_equals_recompute(live.path, live.daemon.snapshot().session_id)


def test_an_edge_later_than_the_latency_allows_is_kept_but_set_aside(live):
    sim = reps(1)
    live.play(sim.edges)
    late = Edge("M2", sim.edges[-1].t_ns - 5 * S, True)
    live.play([late], then_ns=0)
    with live.store() as store:
        assert store.edge_count(live.daemon.snapshot().session_id) == len(sim.edges) + 1  # the raw log has it
        assert any("out of order" in a["reason"] for a in store.anomalies(live.daemon.snapshot().session_id))
    assert [r.status for r in live.runs()] == ["complete"]


def test_sim_source_end_to_end(tmp_path):
    # The demo's own source on a clock that sleeping moves at once: minutes of
    # simulated sprints in a fraction of a second.
    path = tmp_path / "g.db"
    clock = SteppingClock(START, START + 600 * S)
    source = SimSource(FLY30, seed=6, options=LIMBS, gap_ns=10 * S, clock=clock, sleep=clock.sleep)
    daemon = Daemon(source, lambda: Store(path), FLY30, tick_ns=MS)
    daemon.start()
    assert clock.at_limit.wait(5)
    daemon.stop()
    expected = [e for heat in heats(FLY30, 100, sprinters=ROSTER, seed=6, options=LIMBS, start_ns=START, gap_ns=10 * S)
                for e in heat.edges if e.t_ns <= clock.limit_ns]
    with Store(path) as store:
        assert store.edges(daemon.snapshot().session_id) == expected
        assert not [a for a in store.anomalies(daemon.snapshot().session_id) if "out of order" in a["reason"]]
    result = assert_live_equals_recompute(path, daemon.snapshot().session_id)
    finished = [rep for rep in source.reps if rep.truth["M3"] + S < clock.limit_ns]
    assert len(finished) >= 20
    assert [r.status for r in result["runs"][: len(finished)]] == ["complete"] * len(finished)


# A bad batch ---------------------------------------------------------------------------------------


def test_a_bad_batch_does_not_stop_the_daemon(live, caplog):
    with caplog.at_level(logging.ERROR, logger="gatectl.daemon.loop"):
        live.source.emit(Edge("M1", None, True))  # no time: cannot be stored
        live.settle()
    assert "could not process 1 edges" in caplog.text
    sim = reps(1)
    live.play(sim.edges)
    assert [r.status for r in live.runs()] == ["complete"]


def test_a_failing_write_does_not_stop_the_daemon(tmp_path, caplog):
    class FlakyStore(Store):
        failures = 1

        def add_derived(self, session_id, events, **decided):
            if FlakyStore.failures:
                FlakyStore.failures -= 1
                raise StoreError("database is corrupt")  # not "locked": that one is retried (test_daemon_faults)
            return super().add_derived(session_id, events, **decided)

    live = Live(tmp_path / "g.db", store_factory=lambda: FlakyStore(tmp_path / "g.db"))
    live.daemon.start()
    sim = reps(3, gap_ns=30 * S)
    with caplog.at_level(logging.ERROR, logger="gatectl.daemon.loop"):
        for rep in range(3):
            live.play([e for e in sim.edges if sim.reps[rep].start_ns <= e.t_ns < sim.reps[rep].start_ns + 25 * S])
    live.daemon.stop()
    assert "could not process" in caplog.text
    assert len([r for r in live.runs() if r.status == "complete"]) >= 2  # the runs after the failure
    with live.store() as store:
        assert store.edge_count(live.daemon.snapshot().session_id) == len(sim.edges)  # the raw log is whole: recompute recovers
        store.recompute(live.daemon.snapshot().session_id)
    assert [r.status for r in live.runs()] == ["complete"] * 3


def test_call_returns_and_raises_on_the_daemon_thread(live):
    assert live.daemon.call(lambda: threading.current_thread().name) == "gatectl-daemon"
    with pytest.raises(ZeroDivisionError):
        live.daemon.call(lambda: 1 / 0)
    assert live.daemon.call(lambda: "still running") == "still running"


# The athlete queue -----------------------------------------------------------------------------------


@pytest.fixture
def athletes(live):
    with live.store() as store:
        return [store.add_athlete(name) for name in ("Ana", "Ben", "Chloe")]


def test_queue_assigns_finished_runs_in_order(live, athletes):
    ana, ben, _ = athletes
    live.daemon.set_queue([ana, ben])
    assert live.daemon.snapshot().queue == (ana, ben)
    sim = reps(3, gap_ns=30 * S)
    live.play(sim.edges)
    runs = live.runs()
    assert [(r.status, r.athlete) for r in runs] == [("complete", "Ana"), ("complete", "Ben"), ("complete", None)]
    assert [r.athlete for r in live.events("run")] == ["Ana", "Ben", None]
    assert live.events("queue") == [{"athletes": [ana, ben]}, {"athletes": [ben]}, {"athletes": []}]
    assert live.daemon.snapshot().queue == ()


def test_rejected_records_do_not_take_from_the_queue(live, athletes):
    ana, ben, _ = athletes
    live.daemon.set_queue([ana, ben])
    sim = reps(2, gap_ns=30 * S)
    # Someone walks through M3 between the reps: an orphan crossing, kept as rejected.
    walker_ns = sim.reps[0].truth["M3"] + 10 * S
    walker = [Edge("M3", walker_ns, True), Edge("M3", walker_ns + 400 * MS, False)]
    live.play(sorted([*sim.edges, *walker], key=lambda e: e.t_ns))
    runs = live.runs()
    assert [(r.status, r.athlete) for r in runs] == [("complete", "Ana"), ("rejected", None), ("complete", "Ben")]


def test_an_incomplete_run_takes_its_place_in_the_queue(live, athletes):
    ana, ben, _ = athletes
    live.daemon.set_queue([ana, ben])
    sim = reps(2, gap_ns=30 * S)
    stopped = [e for e in sim.edges if not (e.beam == "M3" and e.t_ns < sim.reps[1].start_ns)]  # Ana pulled up before M3
    live.play(stopped)
    assert [(r.status, r.athlete) for r in live.runs()] == [("incomplete", "Ana"), ("complete", "Ben")]


def test_queue_of_an_unknown_athlete_is_refused(live, athletes):
    live.daemon.set_queue([athletes[0]])
    with pytest.raises(StoreError, match="There is no athlete 99."):
        live.daemon.set_queue([athletes[1], 99])
    assert live.daemon.snapshot().queue == (athletes[0],)


def test_edit_queue(live, athletes):
    ana, ben, chloe = athletes
    live.daemon.set_queue([ana])
    assert live.daemon.edit_queue(lambda queue: queue + [chloe, ben]) == [ana, chloe, ben]
    assert live.daemon.edit_queue(lambda queue: queue[1:]) == [chloe, ben]
    assert live.events("queue")[-1] == {"athletes": [chloe, ben]}


# Arming ------------------------------------------------------------------------------------------------


def test_runs_while_disarmed_are_voided_and_leave_the_queue(live, athletes):
    ana, _, _ = athletes
    live.daemon.set_queue([ana])
    live.daemon.set_armed(False)
    assert live.events("armed") == [{"armed": False}]
    sim = reps(2, gap_ns=30 * S)
    live.play([e for e in sim.edges if e.t_ns < sim.reps[1].start_ns])
    live.daemon.set_armed(True)
    live.play([e for e in sim.edges if e.t_ns >= sim.reps[1].start_ns])
    first, second = live.runs()
    assert (first.voided, first.void_reason, first.athlete) == (True, "gates were disarmed", None)
    assert (second.voided, second.athlete) == (False, "Ana")
    assert live.events("armed") == [{"armed": False}, {"armed": True}]


# Sessions -------------------------------------------------------------------------------------------------


def test_new_session_closes_the_old_one_and_starts_another(live):
    sim = reps(2, gap_ns=30 * S)
    second_start = sim.reps[1].start_ns
    # Rep 1 in full; rep 2 only as far as M2 when the coach starts a new session.
    live.play([e for e in sim.edges if e.t_ns < second_start or (e.beam != "M3")], then_ns=S)
    old = live.daemon.snapshot().session_id
    assert [r.status for r in live.runs()] == ["complete"]  # rep 2 still open
    indoor = Layout.flying(30, 40)
    new = live.daemon.new_session(indoor, place="Indoor")
    assert new == old + 1 == live.daemon.snapshot().session_id
    old_runs = live.runs(old)
    assert [r.status for r in old_runs] == ["complete", "incomplete"]
    assert old_runs[1].reason.startswith("no crossing at M3 after M2")
    assert live.events("session")[-1] == {"session": new, "layout": "M1=0,M2=30,M3=70", "method": "longest", "place": "Indoor", "track": None}
    # The next rep is timed in the new session, on the new layout.
    after = simulate(indoor, 1, seed=2, options=LIMBS, start_ns=sim.edges[-1].t_ns + 10 * S)
    live.play(after.edges)
    [run] = live.runs(new)
    assert (run.session, run.status, run.fly.distance_m) == (new, "complete", 40)
    with live.store() as store:
        assert store.layout(new) == indoor and store.session(new)["place"] == "Indoor"
        assert store.edge_count(new) == len(after.edges)
    assert_live_equals_recompute(live.path, old)


def test_new_session_keeps_layout_and_place_by_default(live):
    new = live.daemon.new_session()
    with live.store() as store:
        assert store.layout(new) == FLY30 and store.session(new)["place"] == "Club track"


def test_a_snapshot_is_one_sessions_during_a_switch(live):
    # A reader polling from another thread (a page, the demo) while the coach switches sessions
    # never sees the id of one session with the layout, place, track or gates of another.
    opened = {live.daemon.snapshot().session_id: (FLY30, "Club track", None)}
    choices = [(Layout.flying(20, 40), "Indoor", None), (FLY30, "Club track", Track("M2", 200)), (Layout.flying(30, 40), "Away", None)]
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            seen.append(live.daemon.snapshot())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            layout, place, track = choices[i % len(choices)]
            opened[live.daemon.new_session(layout, place=place, track=track)] = (layout, place, track)
    finally:
        stop.set()
        reader.join()
    assert len({snap.session_id for snap in seen}) >= 2  # it did read across switches
    for snap in seen:
        layout, place, track = opened[snap.session_id]
        assert (snap.layout, snap.place, snap.track) == (layout, place, track)
        assert [g.gate for g in snap.gates] == ([track.gate] if track else [g.name for g in layout.gates])
    with live.store() as store:
        assert all(store.layout(sid) == layout and store.track(sid) == track for sid, (layout, _, track) in opened.items())


def test_a_snapshot_is_a_value(live, athletes):
    live.daemon.set_queue([athletes[0]])
    snap = live.daemon.snapshot()
    with pytest.raises(FrozenInstanceError):
        snap.armed = False
    live.daemon.set_queue([athletes[1], athletes[2]])
    live.daemon.set_armed(False)
    assert (snap.queue, snap.armed) == ((athletes[0],), True)  # taken then, not a view of the daemon
    assert (live.daemon.snapshot().queue, live.daemon.snapshot().armed) == ((athletes[1], athletes[2]), False)


def test_a_stopped_daemon_shows_how_it_stopped(tmp_path):
    live = Live(tmp_path / "g.db")
    with pytest.raises(DaemonStopped, match="not running"):
        live.daemon.snapshot()  # not started yet
    live.daemon.start()
    session = live.daemon.new_session(place="Indoor")
    live.daemon.stop()
    snap = live.daemon.snapshot()
    assert (snap.session_id, snap.place, snap.workout) == (session, "Indoor", None)
    with pytest.raises(DaemonStopped):
        live.daemon.set_armed(False)


# Gate status -----------------------------------------------------------------------------------------------


def states(live):
    return {g.gate: g.state for g in live.daemon.snapshot().gates}


def test_gate_status_clear_blocked_stuck(live):
    assert states(live) == {"M1": "clear", "M2": "clear", "M3": "clear"}
    [m1] = [g.as_json() for g in live.daemon.snapshot().gates if g.gate == "M1"]
    assert m1 == {"gate": "M1", "position_m": 0.0, "state": "clear", "beams": {"M1": {"state": "clear", "since_ns": None, "for_s": 0.0}}}
    broken_at = START + S
    live.play([Edge("M2", broken_at, True)], then_ns=2 * S - 1)
    assert states(live) == {"M1": "clear", "M2": "blocked", "M3": "clear"}
    [m2] = [g.as_json() for g in live.daemon.snapshot().gates if g.gate == "M2"]
    assert m2["beams"]["M2"] == {"state": "blocked", "since_ns": broken_at, "for_s": 1.999999999}
    live.source.advance_to(broken_at + 2 * S)  # held broken for 2 s on the source's clock: stuck
    live.settle()
    assert states(live)["M2"] == "stuck"
    live.source.advance_to(broken_at + 5 * S)
    live.settle()
    gate_events = [(g["gate"], g["state"]) for g in live.events("gate")]
    assert gate_events == [("M2", "blocked"), ("M2", "stuck")]  # stuck is reported once
    live.play([Edge("M2", broken_at + 6 * S, False)], then_ns=0)
    assert states(live)["M2"] == "clear"
    assert live.events("gate")[-1]["state"] == "clear"


def test_dual_gate_status_is_its_worst_beam(tmp_path):
    dual = Layout.flying(30, 30, method="dual")
    live = Live(tmp_path / "g.db", layout=dual)
    live.daemon.start()
    try:
        live.play([Edge("M1b", START + S, True)], then_ns=0)
        [m1] = [g for g in live.daemon.snapshot().gates if g.gate == "M1"]
        assert m1.state == "blocked"
        assert {b.beam: b.state for b in m1.beams} == {"M1a": "clear", "M1b": "blocked"}
        live.source.advance_to(START + 4 * S)
        live.settle()
        assert states(live)["M1"] == "stuck"
    finally:
        live.daemon.stop()


# The run command's console line -----------------------------------------------------------------------------


def test_format_run(live, athletes):
    live.daemon.set_queue([athletes[0]])
    sim = reps(2, gap_ns=30 * S)
    live.play([e for e in sim.edges if not (e.beam == "M3" and e.t_ns > sim.reps[1].start_ns)], then_ns=40 * S)
    complete, incomplete = live.events("run")
    line = format_run(complete)
    fly = complete.fly
    assert line.startswith("run   1  complete    Ana")
    assert f"fly 30 m {fly.time_s:.3f} s" in line and f"{fly.velocity_mps:.2f} m/s" in line
    assert format_run(incomplete) == f"run   2  incomplete  unassigned    {incomplete.reason}"
