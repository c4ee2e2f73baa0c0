"""The store's track sessions, lap reps, the coach's lap commands, workouts, and m002 on an old database."""

import sqlite3

import pytest
from helpers import MS, S
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from gatectl.coaching.laps import Command, LapCommand, LapRep, StartKind, Track
from gatectl.errors import LayoutError, StoreError
from gatectl.jsonable import jsonable
from gatectl.sim.sprinters import SimOptions, lap_edges
from gatectl.store import Store, m001_initial
from gatectl.timing.model import Layout, RunStatus

FLY = Layout.flying()
TRACK = Track("M1", 400)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "t.db") as store:
        yield store


def lap(number, started_s, *splits_s, status=RunStatus.COMPLETE, target_s=None, reason=None):
    splits = tuple(round(s * S) for s in splits_s)
    started = round(started_s * S)
    return LapRep(
        number, StartKind.ROLLING, 400.0 * len(splits), started, started + sum(splits), splits, status, reason, None,
        None if target_s is None else round(target_s * S), None,
    )  # fmt: skip


def test_a_track_session_remembers_its_gate_and_lap(store):
    line = store.start_session(FLY)
    track = store.start_session(FLY, track=Track("M2", 200))
    assert (store.track(line), store.track(track)) == (None, Track("M2", 200))
    assert store.session(track)["layout"] == "M1=0,M2=30,M3=60"  # the wiring, as for any session
    with pytest.raises(LayoutError, match="not one of M1, M2, M3"):
        store.start_session(FLY, track=Track("Q"))


def test_lap_reps_are_runs_with_splits_and_their_target(store):
    session = store.start_session(FLY, track=TRACK)
    ids = store.add_derived(session, [lap(1, 10, 40.2, 40.0, target_s=78), lap(2, 200, status=RunStatus.INCOMPLETE, reason="timed out")])
    done, missed = (store.run(i) for i in ids)
    assert (done.fly, done.segments, done.crossings, done.set_no) == (None, (), {}, None)
    assert done.lap.time_s == pytest.approx(80.2) and done.lap.splits_ns == (40_200 * MS, 40_000 * MS)
    # ±2 s over 800 m; on the wire a lap's check is shaped like a workout rep's (target_s was added)
    assert jsonable(done.lap.check) == {"verdict": "slow", "target_s": 78.0, "diff_s": pytest.approx(2.2)}
    assert done.lap.velocity_mps == pytest.approx(800 / 80.2)
    assert (missed.status, missed.lap.time_s, missed.lap.check, missed.reason) == ("incomplete", None, None, "timed out")
    store.set_run_rep(ids[0], 2, 5)
    assert (store.run(ids[0]).set_no, store.run(ids[0]).rep_no) == (2, 5)


def test_lap_commands_keep_their_order_and_fields(store):
    session = store.start_session(FLY, track=TRACK)
    commands = [
        LapCommand(5 * S, Command.ARM, 400.0, 80 * S),
        LapCommand(5 * S, Command.CANCEL, reason="nobody was called"),
        LapCommand(9 * S, Command.GO, 200.0, None, start_ns=14 * S),
        LapCommand(99 * S, Command.CLOSE),
    ]
    for command in reversed(commands[2:]):
        store.add_lap_command(session, command)
    for command in commands[:2]:
        store.add_lap_command(session, command)
    assert store.lap_commands(session) == commands


def test_recompute_of_a_track_session_rebuilds_its_lap_reps_from_edges(store):
    """The raw edges and the commands replayed: the same reps, keeping who ran, voids and workout reps."""
    session = store.start_session(FLY, track=TRACK)
    gate = FLY.gate("M1")
    marks = [20 * S, 99 * S, 178 * S]  # rolling through the line, two laps
    edges = list(lap_edges(gate, marks, speed_mps=5, seed=2, options=SimOptions(limbs=True)))
    edges += [e._replace(beam="M3") for e in lap_edges(gate, [50 * S], speed_mps=5)]  # another gate: not timed
    edges.sort(key=lambda e: e.t_ns)
    store.add_edges(session, edges)
    store.add_lap_command(session, LapCommand(S, Command.ARM, 800.0, 158 * S))
    store.add_lap_command(session, LapCommand(300 * S, Command.GO, 400.0, None, start_ns=305 * S))  # nobody ran it
    store.add_lap_command(session, LapCommand(400 * S, Command.CLOSE))
    assert store.recompute(session) == {"edges": len(edges), "crossings": 3, "runs": 2, "anomalies": 0}
    done, timed_out = sorted(store.runs(session_id=session), key=lambda r: r.number)
    assert done.lap.splits_s == (pytest.approx(79, abs=0.001), pytest.approx(79, abs=0.001))
    assert done.lap.check.verdict == "on-target" and done.lap.start == "rolling"
    assert (timed_out.status, timed_out.lap.start) == ("incomplete", "go")
    ana = store.add_athlete("Ana")
    store.assign_run(done.id, ana)
    store.set_run_rep(done.id, 1, 1)
    store.void_run(timed_out.id, "not a rep")
    store.recompute(session)
    again = {r.number: r for r in store.runs(session_id=session)}
    assert (again[1].id, again[1].athlete, again[1].set_no, again[1].rep_no) == (done.id, "Ana", 1, 1)
    assert again[2].voided and again[2].void_reason == "not a rep"


def test_a_workout_and_its_summary(store):
    session = store.start_session(FLY)
    assert store.workout(session) is None
    store.save_workout(session, text="30m", kind="max-velocity", slug=None, athletes=[{"id": 1, "name": "Ana"}], options={"mode": "line"})
    saved = store.workout(session)
    assert (saved["text"], saved["athletes"], saved["options"], saved["summary"], saved["ended"]) == ("30m", [{"id": 1, "name": "Ana"}], {"mode": "line"}, None, False)
    store.update_workout(session, [{"name": "Ana", "done": 1}], ended=True)
    assert store.workout(session)["summary"] == [{"name": "Ana", "done": 1}] and store.workout(session)["ended"]


def test_m002_on_a_database_from_before_workouts(tmp_path):
    """An older database gets the new columns and tables; its runs read as before, with no workout rep."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    db = Database(old)
    before = Migrations("gatectl")  # an older gatectl knew m001 only
    before()(m001_initial)
    before.apply(db)
    db["sessions"].insert({"id": 1, "layout": "M1=0,M2=30,M3=60", "method": "longest", "settings": None})
    db["runs"].insert({"session_id": 1, "number": 1, "status": "complete", "started_ns": 0, "crossings": '{"M1": 0, "M2": 3000000000, "M3": 6000000000}', "voided": 0})
    old.commit()
    old.close()
    with pytest.raises(StoreError, match="older gatectl"):
        Store(path, read_only=True)
    with Store(path) as store:
        [run] = store.runs()
        assert (run.fly.time_ns, run.set_no, run.lap) == (3 * S, None, None)
        assert store.track(1) is None and store.workout(1) is None
