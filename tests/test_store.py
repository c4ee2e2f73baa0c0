import json
import math
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlite_utils import Database

from gatectl.errors import StoreError
from gatectl.sim.sprinters import Fault, SimOptions, Sprinter, simulate
from gatectl.store import BUSY_TIMEOUT_MS, Store, StoreUnavailable, m001_initial, m002_workouts
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Anomaly, Crossing, DetectionSettings, Edge, Layout, Method, Run, RunStatus
from gatectl.timing.pipeline import Timing

S = NS_PER_S
FLY30 = Layout.flying(30, 30)


@pytest.fixture
def db():
    with Store(":memory:") as store:
        yield store


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "gatectl.db"
    Store(path).close()
    return path


def run_of(number, *times_s, status=RunStatus.COMPLETE, reason=None, gates=("M1", "M2", "M3")):
    """A run with crossings at ``times_s`` (seconds, exact in ns) at the first gates."""
    crossings = tuple(Crossing(g, round(t * S), Method.LONGEST) for g, t in zip(gates, times_s))
    return Run(number, crossings, status, reason)


def add_runs(db, session_id, *runs):
    return db.add_derived(session_id, runs)


# Migrations and pragmas ----------------------------------------------------------


def test_migrations_applied_once(db_path):
    with Store(db_path) as store:
        names = [r["name"] for r in store.db["_sqlite_migrations"].rows]
        assert names == ["m001_initial", "m002_workouts", "m003_ambiguous_runs", "m004_resume", "m005_corrections", "m006_run_sync", "m007_edge_origin"]
        store.start_session(FLY30)
    with Store(db_path) as store:  # reopening applies nothing and keeps the data
        assert [r["name"] for r in store.db["_sqlite_migrations"].rows] == ["m001_initial", "m002_workouts", "m003_ambiguous_runs", "m004_resume", "m005_corrections", "m006_run_sync", "m007_edge_origin"]
        assert len(store.sessions()) == 1
        assert {"athletes", "race_times", "sessions", "edges", "crossings", "runs", "anomalies", "settings", "corrections"} <= set(store.db.table_names())


def test_file_database_uses_wal_foreign_keys_and_synchronous_full(db_path):
    with Store(db_path) as store:
        assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("pragma foreign_keys").fetchone()[0] == 1
        assert store.db.execute("pragma synchronous").fetchone()[0] == 2  # FULL


def test_memory_database_has_foreign_keys_and_synchronous_full(db):
    assert db.db.execute("pragma foreign_keys").fetchone()[0] == 1
    assert db.db.execute("pragma synchronous").fetchone()[0] == 2


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.add_edges(99, [Edge("M1", 1, True)])


def test_creates_missing_parent_directories(tmp_path):
    path = tmp_path / "a" / "b" / "gatectl.db"
    Store(path).close()
    assert path.exists()


def test_folder_that_cannot_be_made_is_a_store_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="Cannot open the database .*: Not a directory: .*afile"):
        Store(tmp_path / "afile" / "sub" / "gatectl.db")


def test_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not SQLite\n" * 100)
    with pytest.raises(StoreError, match="Cannot open the database .*notes.db"):
        Store(path)


# Sessions --------------------------------------------------------------------------


def test_start_session_records_layout_place_and_labels(db):
    started = datetime(2025, 6, 1, 18, 30, 5, 123456, tzinfo=UTC)
    session_id = db.start_session(FLY30, place="Club track", notes="windy", started_at=started)
    row = db.session(session_id)
    assert row["started_at"] == "2025-06-01T18:30:05+00:00"
    assert row["date"] == "2025-06-01"
    assert (row["place"], row["notes"], row["layout"], row["method"]) == ("Club track", "windy", "M1=0,M2=30,M3=60", "longest")


def test_layout_round_trips_with_detection_settings(db):
    settings = DetectionSettings(rearm_ns=450 * NS_PER_MS, window_ns=250 * NS_PER_MS, glitch_ns=2 * NS_PER_MS, bridge_ns=5 * NS_PER_MS)
    layout = Layout.parse("A=0,B=20,C=50.5", "dual", settings)
    session_id = db.start_session(layout)
    assert db.layout(session_id) == layout
    assert db.layout(session_id).gates[0].beams == ("Aa", "Ab")


def test_unknown_session(db):
    with pytest.raises(StoreError, match="There is no session 5."):
        db.session(5)
    with pytest.raises(StoreError):
        db.layout(5)
    with pytest.raises(StoreError):
        db.update_session(5, place="x")


def test_update_session(db):
    session_id = db.start_session(FLY30, place="Old", notes="n")
    db.update_session(session_id, date="2025-01-02", place="New track")
    row = db.session(session_id)
    assert (row["date"], row["place"], row["notes"]) == ("2025-01-02", "New track", "n")
    db.update_session(session_id, notes="")
    assert db.session(session_id)["notes"] == ""


def test_latest_session_and_sessions_newest_first(db):
    assert db.latest_session_id() is None
    assert db.sessions() == []
    first = db.start_session(FLY30)
    second = db.start_session(Layout.flying(30, 40))
    assert db.latest_session_id() == second
    assert [s["id"] for s in db.sessions()] == [second, first]


def test_sessions_count_complete_runs_not_voided(db):
    session_id = db.start_session(FLY30)
    ids = add_runs(db, session_id, run_of(1, 0, 3.5, 6.6), run_of(2, 30, 33.5, 36.6), run_of(3, 60, 63.5, status=RunStatus.INCOMPLETE, reason="x"))
    db.void_run(ids[1], "false start")
    assert db.sessions()[0]["complete_runs"] == 1


# The raw log -------------------------------------------------------------------------


def test_edges_read_back_exactly_in_time_order(db):
    session_id = db.start_session(FLY30)
    big = 10**18
    edges = [Edge("M1", big + 5, True), Edge("M1", big + 7, False), Edge("M2", big + 6, True)]
    db.add_edges(session_id, edges[:2])
    db.add_edges(session_id, edges[2:])  # arrived late, stamped earlier
    back = db.edges(session_id)
    assert back == sorted(edges, key=lambda e: e.t_ns)
    assert [type(e.t_ns) for e in back] == [int] * 3
    assert back[0].t_ns == 10**18 + 5


def test_edges_keep_arrival_order_at_equal_times(db):
    session_id = db.start_session(FLY30)
    db.add_edges(session_id, [Edge("M2", 10, True), Edge("M1", 10, True)])
    assert [e.beam for e in db.edges(session_id)] == ["M2", "M1"]


def test_edges_are_per_session(db):
    first, second = db.start_session(FLY30), db.start_session(FLY30)
    db.add_edges(first, [Edge("M1", 1, True), Edge("M1", 2, False)])
    db.add_edges(second, [Edge("M3", 3, True)])
    db.add_edges(second, [])
    assert db.edges(second) == [Edge("M3", 3, True)]
    assert (db.edge_count(first), db.edge_count(second), db.edge_count()) == (2, 1, 3)


# Derived rows and runs ----------------------------------------------------------------


def test_add_derived_stores_crossings_anomalies_and_runs(db):
    session_id = db.start_session(FLY30)
    edges = (Edge("M1", 100, True), Edge("M1", 200, False), Edge("M1", 300, True), Edge("M1", 900, False))
    crossing = Crossing("M1", 300, Method.LONGEST, edges)
    anomaly = Anomaly("M2", 150, "beam reported broken twice in a row")
    run = run_of(1, 0, 3.5, 6.6)
    rejected = run_of(2, 4, gates=("M2",), status=RunStatus.REJECTED, reason="orphan")
    ids = db.add_derived(session_id, [crossing, anomaly, run, rejected])
    assert len(ids) == 2 and ids[0] < ids[1]
    row = next(db.db["crossings"].rows)
    assert {k: row[k] for k in ("session_id", "gate", "t_ns", "method", "edges_from_ns", "edges_to_ns", "edge_count")} == {
        "session_id": session_id, "gate": "M1", "t_ns": 300, "method": "longest",
        "edges_from_ns": 100, "edges_to_ns": 900, "edge_count": 4,
    }
    assert [(a["source"], a["t_ns"], a["reason"]) for a in db.anomalies(session_id)] == [("M2", 150, anomaly.reason)]
    stored = db.db["runs"].get(ids[0])
    assert json.loads(stored["crossings"]) == {"M1": 0, "M2": 3_500_000_000, "M3": 6_600_000_000}
    assert (stored["number"], stored["status"], stored["started_ns"], stored["voided"]) == (1, "complete", 0, 0)
    assert db.run(ids[1]).reason == "orphan"


def test_add_derived_without_runs_returns_no_ids(db):
    session_id = db.start_session(FLY30)
    assert db.add_derived(session_id, []) == []
    assert db.add_derived(session_id, iter([Crossing("M1", 5, Method.FIRST)])) == []


def test_run_results_exact_fly_and_accel(db):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, Run(1, (Crossing("M1", 10**18, Method.LONGEST), Crossing("M2", 10**18 + 3_600_000_001, Method.LONGEST),
                                                Crossing("M3", 10**18 + 6_704_000_123, Method.LONGEST)), RunStatus.COMPLETE))
    run = db.run(run_id)
    assert run.fly.time_ns == 3_104_000_122 and run.fly.distance_m == 30
    assert run.segments[0].time_ns == 3_600_000_001
    assert run.crossings == {"M1": 10**18, "M2": 10**18 + 3_600_000_001, "M3": 10**18 + 6_704_000_123}
    assert (run.id, run.session, run.athlete, run.athlete_id, run.voided, run.void_reason) == (run_id, session_id, None, None, False, None)
    assert run.vs_pace == {}


def test_unknown_run(db):
    with pytest.raises(StoreError, match="There is no run 3."):
        db.run(3)


def test_runs_are_stored_with_their_athlete_and_void_at_once(db):
    """What the daemon decided about a finished run goes in with it: a reader never sees a run without them."""
    session_id, ana = db.start_session(FLY30), db.add_athlete("Ana")
    ids = db.add_derived(session_id, [run_of(1, 0, 3.6, 6.6), run_of(2, 60, 63.6, 66.6)], owners={1: ana}, voided={2: "gates were disarmed"})
    first, second = (db.run(i) for i in ids)
    assert (first.athlete, first.voided, second.athlete) == ("Ana", False, None)
    assert (second.voided, second.void_reason) == (True, "gates were disarmed")


def test_vs_pace_uses_the_assigned_athletes_bests(db):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, run_of(1, 0, 3.6, 6.6))  # fly 30 m in 3.0 s: 10 m/s
    ana = db.add_athlete("Ana")
    db.set_race_time(ana, 400, 50 * S)  # 8 m/s
    db.set_race_time(ana, 400, 40 * S, "goal")  # a goal is no best
    db.set_race_time(ana, 800, 125 * S)  # 6.4 m/s
    assert db.run(run_id).vs_pace == {}
    db.assign_run(run_id, ana)
    vs = db.run(run_id).vs_pace
    assert list(vs) == ["400m", "800m"]
    assert vs["400m"].pace_mps == 8.0 and vs["400m"].percent == 125.0 and vs["400m"].faster
    assert vs["800m"].ratio == pytest.approx(10 / 6.4)


def test_runs_newest_first_and_filters(db):
    first, second = db.start_session(FLY30), db.start_session(FLY30)
    a = add_runs(db, first, run_of(1, 0, 3.5, 6.5), run_of(2, 20, 23.5, status=RunStatus.INCOMPLETE, reason="timed out"))
    b = add_runs(db, second, run_of(1, 100, 103.5, 106.5), run_of(2, 104, gates=("M2",), status=RunStatus.REJECTED, reason="orphan"))
    ana = db.add_athlete("Ana")
    db.assign_run(a[0], ana)
    db.assign_run(b[0], ana)
    assert [r.id for r in db.runs()] == [b[1], b[0], a[1], a[0]]
    assert [r.id for r in db.runs(session_id=first)] == [a[1], a[0]]
    assert [r.id for r in db.runs(athlete_id=ana)] == [b[0], a[0]]
    assert [r.id for r in db.runs(statuses=["complete"])] == [b[0], a[0]]
    assert [r.id for r in db.runs(statuses=["incomplete", "rejected"])] == [b[1], a[1]]
    assert [r.id for r in db.runs(session_id=second, athlete_id=ana, statuses=["complete"])] == [b[0]]
    assert [r.id for r in db.runs(limit=2)] == [b[1], b[0]]
    assert db.runs(athlete_id=db.add_athlete("Ben")) == []


def test_assign_reassign_unassign(db):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, run_of(1, 0, 3.5, 6.5))
    ana, ben = db.add_athlete("Ana"), db.add_athlete("Ben")
    db.assign_run(run_id, ana)
    assert (db.run(run_id).athlete, db.run(run_id).athlete_id) == ("Ana", ana)
    db.assign_run(run_id, ben)
    assert db.run(run_id).athlete == "Ben"
    db.assign_run(run_id, None)
    assert (db.run(run_id).athlete, db.run(run_id).athlete_id) == (None, None)


def test_assign_unknown_run_or_athlete(db):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, run_of(1, 0, 3.5, 6.5))
    with pytest.raises(StoreError, match="There is no athlete 9."):
        db.assign_run(run_id, 9)
    with pytest.raises(StoreError, match="There is no run 99."):
        db.assign_run(99, None)
    assert db.run(run_id).athlete_id is None


def test_void_with_reason_and_unvoid(db):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, run_of(1, 0, 3.5, 6.5))
    db.void_run(run_id, "  false start ")
    run = db.run(run_id)
    assert (run.voided, run.void_reason) == (True, "false start")
    db.unvoid_run(run_id)
    run = db.run(run_id)
    assert (run.voided, run.void_reason) == (False, None)


@pytest.mark.parametrize("reason", ["", "   "])
def test_void_needs_a_reason(db, reason):
    session_id = db.start_session(FLY30)
    [run_id] = add_runs(db, session_id, run_of(1, 0, 3.5, 6.5))
    with pytest.raises(StoreError, match="Say why the run is voided"):
        db.void_run(run_id, reason)
    assert db.run(run_id).voided is False


def test_void_unknown_run(db):
    with pytest.raises(StoreError):
        db.void_run(4, "wrong athlete")
    with pytest.raises(StoreError):
        db.unvoid_run(4)


# Recompute ------------------------------------------------------------------------------


def live(layout, edges):
    """What the daemon's timing does: edges one by one, time passing up to each, then the end."""
    timing = Timing(layout)
    events = []
    for edge in edges:
        events += timing.advance(edge.t_ns)
        events += timing.feed(edge)
    return events + timing.flush()


def comparable(runs):
    return [replace(run, id=0) for run in runs]


def rows(db, table, session_id):
    return [{k: v for k, v in row.items() if k != "id"} for row in db.db[table].rows_where("session_id = ?", [session_id], order_by="id")]


@pytest.fixture
def timed_session(db):
    """A session of simulated reps with limbs and faults, timed as live."""
    options = SimOptions(limbs=True, faults=frozenset({Fault.MISSED, Fault.SPURIOUS, Fault.PAIR}), fault_chance=0.3)
    sim = simulate(FLY30, 12, sprinters=[Sprinter("A", 9.5), Sprinter("B", 8.2)], seed=13, options=options, start_ns=5 * S)
    session_id = db.start_session(FLY30)
    db.add_edges(session_id, sim.edges)
    db.add_derived(session_id, live(FLY30, sim.edges))
    return session_id


def test_recompute_gives_the_same_result_as_live(db, timed_session):
    before = db.runs(session_id=timed_session)  # ids too: links to a run survive a recompute
    crossings, anomalies = rows(db, "crossings", timed_session), rows(db, "anomalies", timed_session)
    statuses = {r.status for r in before}
    assert {"complete", "incomplete", "rejected"} <= statuses  # the faults made every kind
    counts = db.recompute(timed_session)
    assert db.runs(session_id=timed_session) == before
    assert rows(db, "crossings", timed_session) == crossings
    assert sorted(rows(db, "anomalies", timed_session), key=lambda a: (a["t_ns"], a["reason"])) == sorted(anomalies, key=lambda a: (a["t_ns"], a["reason"]))
    assert counts == {"edges": db.edge_count(timed_session), "crossings": len(crossings), "runs": len(before), "anomalies": len(anomalies)}


def test_recompute_keeps_assignments_and_voids(db, timed_session):
    runs = db.runs(session_id=timed_session, statuses=["complete"])
    ana = db.add_athlete("Ana")
    db.assign_run(runs[0].id, ana)
    db.void_run(runs[1].id, "wrong athlete")
    db.assign_run(runs[2].id, ana)
    db.void_run(runs[2].id, "false start")
    before = comparable(db.runs(session_id=timed_session))
    db.recompute(timed_session)
    after = comparable(db.runs(session_id=timed_session))
    assert after == before
    assert [(r.number, r.voided) for r in db.runs(athlete_id=ana)] == [(runs[0].number, False), (runs[2].number, True)]


def test_recompute_twice_is_idempotent(db, timed_session):
    first = db.recompute(timed_session)
    runs = comparable(db.runs(session_id=timed_session))
    assert db.recompute(timed_session) == first
    assert comparable(db.runs(session_id=timed_session)) == runs


def test_recompute_applies_the_sessions_settings(db):
    # The layout's stored thresholds are what recompute uses, not the defaults.
    slow = DetectionSettings(rearm_ns=2 * S, window_ns=S, glitch_ns=NS_PER_MS, bridge_ns=4 * NS_PER_MS)
    layout = Layout.parse("A=0,B=10", "first", slow)
    session_id = db.start_session(layout)
    # Two breaks 1 s apart: one passage when re-arming takes 2 s, two with the default 300 ms.
    db.add_edges(session_id, [Edge("A", 0, True), Edge("A", 100 * NS_PER_MS, False), Edge("A", S, True), Edge("A", S + 100 * NS_PER_MS, False)])
    assert db.recompute(session_id)["crossings"] == 1


def test_recompute_empty_session(db):
    session_id = db.start_session(FLY30)
    assert db.recompute(session_id) == {"edges": 0, "crossings": 0, "runs": 0, "anomalies": 0}


def test_recompute_only_touches_its_session(db, timed_session):
    other = db.start_session(FLY30)
    add_runs(db, other, run_of(1, 0, 3.5, 6.5))
    db.recompute(timed_session)
    assert len(db.runs(session_id=other)) == 1


# Athletes -----------------------------------------------------------------------------------


def test_add_and_get_athlete(db):
    ana = db.add_athlete("  Ana Silva ", notes="400 m")
    athlete = db.athlete(ana)
    assert (athlete["name"], athlete["notes"], athlete["archived"], athlete["race_times"]) == ("Ana Silva", "400 m", 0, [])
    assert db.find_athlete("ana silva")["id"] == ana
    assert db.find_athlete("Ben") is None


@pytest.mark.parametrize("name", ["Ana", "ana", " ANA "])
def test_duplicate_name_is_refused_whatever_the_case(db, name):
    db.add_athlete("Ana")
    with pytest.raises(StoreError, match="There is already an athlete called"):
        db.add_athlete(name)


@pytest.mark.parametrize("name", ["", "   "])
def test_athlete_needs_a_name(db, name):
    with pytest.raises(StoreError, match="An athlete needs a name."):
        db.add_athlete(name)


def test_unknown_athlete(db):
    with pytest.raises(StoreError, match="There is no athlete 1."):
        db.athlete(1)
    with pytest.raises(StoreError):
        db.update_athlete(1, name="X")
    with pytest.raises(StoreError):
        db.set_race_time(1, 400, 50 * S)


def test_rename(db):
    ana, ben = db.add_athlete("Ana"), db.add_athlete("Ben")
    db.update_athlete(ana, name="ANA")  # the same athlete, another case
    assert db.athlete(ana)["name"] == "ANA"
    with pytest.raises(StoreError, match="There is already an athlete called 'ben'"):
        db.update_athlete(ana, name="ben")
    with pytest.raises(StoreError, match="An athlete needs a name."):
        db.update_athlete(ben, name=" ")
    db.update_athlete(ben, name=" Benjamin ", notes="sprinter")
    assert (db.athlete(ben)["name"], db.athlete(ben)["notes"]) == ("Benjamin", "sprinter")


def test_archive_hides_from_the_list(db):
    ana, ben = db.add_athlete("ana"), db.add_athlete("Ben")
    db.add_athlete("Chloe")
    db.update_athlete(ben, archived=True)
    assert [a["name"] for a in db.athletes()] == ["ana", "Chloe"]  # by name, whatever the case
    assert [a["name"] for a in db.athletes(include_archived=True)] == ["ana", "Ben", "Chloe"]
    db.update_athlete(ben, archived=False)
    assert len(db.athletes()) == 3
    db.update_athlete(ana)  # nothing to change
    assert db.athlete(ana)["name"] == "ana"


def test_athletes_list_with_race_times(db):
    ana = db.add_athlete("Ana")
    db.set_race_time(ana, 800, 121_500_000_000)
    db.set_race_time(ana, 400, 52_800_000_000)
    db.set_race_time(ana, 400, 51_900_000_000, "goal")
    [listed] = db.athletes()
    assert listed["race_times"] == [
        {"distance_m": 400.0, "kind": "best", "time_ns": 52_800_000_000},
        {"distance_m": 400.0, "kind": "goal", "time_ns": 51_900_000_000},
        {"distance_m": 800.0, "kind": "best", "time_ns": 121_500_000_000},
    ]


# Race times -----------------------------------------------------------------------------------


def test_race_time_set_replace_clear(db):
    ana = db.add_athlete("Ana")
    db.set_race_time(ana, 400, 52 * S)
    db.set_race_time(ana, 400.0, 51 * S)  # replaces, whether the distance is int or float
    assert db.paces(ana) == {400.0: 51 * S}
    db.set_race_time(ana, 400, None)
    assert db.paces(ana) == {} and db.race_times(ana) == []


def test_best_and_goal_are_separate(db):
    ana = db.add_athlete("Ana")
    db.set_race_time(ana, 400, 52 * S)
    db.set_race_time(ana, 400, 50 * S, kind="goal")
    assert db.paces(ana) == {400.0: 52 * S}
    assert db.paces(ana, "goal") == {400.0: 50 * S}
    db.set_race_time(ana, 400, None, kind="goal")
    assert db.paces(ana) == {400.0: 52 * S} and db.paces(ana, "goal") == {}
    assert db.paces(None) == {}


def test_race_times_exact_to_the_nanosecond(db):
    ana = db.add_athlete("Ana")
    db.set_race_time(ana, 42195, 2 * 3600 * S + 123_456_789_123)
    assert db.paces(ana) == {42195.0: 7_323_456_789_123}


def test_bad_race_kind(db):
    ana = db.add_athlete("Ana")
    with pytest.raises(StoreError, match="A race time is a 'best' or a 'goal', not 'pb'."):
        db.set_race_time(ana, 400, 52 * S, kind="pb")


@pytest.mark.parametrize("distance", [0, -400, math.nan])
def test_bad_race_distance(db, distance):
    ana = db.add_athlete("Ana")
    with pytest.raises(StoreError, match="A race distance must be more than 0 m"):
        db.set_race_time(ana, distance, 52 * S)


@pytest.mark.parametrize("time_ns", [0, -5, 52.8, True])
def test_bad_race_time(db, time_ns):
    # A zero best would break every result of the athlete's runs (division by zero).
    ana = db.add_athlete("Ana")
    with pytest.raises(StoreError, match="A race time must be"):
        db.set_race_time(ana, 400, time_ns)
    assert db.race_times(ana) == []


# Read-only ------------------------------------------------------------------------------------


def test_read_only_reads_and_refuses_writes(db_path):
    with Store(db_path) as store:
        session_id = store.start_session(FLY30)
        store.add_edges(session_id, [Edge("M1", 1, True)])
        with Store(db_path, read_only=True) as reader:  # while the writer is open: WAL
            assert reader.edges(session_id) == [Edge("M1", 1, True)]
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.add_athlete("Ana")
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.set_setting("k", "v")
        store.add_athlete("Ana")
    with Store(db_path, read_only=True) as reader:
        assert [a["name"] for a in reader.athletes()] == ["Ana"]


def test_read_only_missing_file(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(StoreError, match=r"There is no database at .*nope\.db\."):
        Store(path, read_only=True)
    assert not path.exists()


def test_read_only_other_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table birds (name text)").connection.commit()
    with pytest.raises(StoreError, match="is not a gatectl database"):
        Store(path, read_only=True)


def test_read_only_not_a_database(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n" * 500)
    with pytest.raises(StoreError, match="Cannot open the database"):
        Store(path, read_only=True)


def test_read_only_path_with_uri_characters(tmp_path):
    # '#' and '?' are URI syntax: the file name must not end there.
    folder = tmp_path / "club #1 ?x"
    path = folder / "gatectl.db"
    Store(path).close()
    with Store(path, read_only=True) as reader:
        assert reader.sessions() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


# Settings -------------------------------------------------------------------------------------


def test_settings_get_and_set(db):
    assert db.setting("coach_password") is None
    db.set_setting("coach_password", "a")
    db.set_setting("coach_password", "b")
    db.set_setting("units", "kmh")
    assert (db.setting("coach_password"), db.setting("units")) == ("b", "kmh")


def test_settings_survive_reopening(db_path):
    with Store(db_path) as store:
        store.set_setting("units", "mps")
    with Store(db_path) as store:
        assert store.setting("units") == "mps"


def test_an_ambiguous_run_is_stored_and_survives_recompute(db):
    # M2 at 3.5 s (a ball?) or at 4.0 s fit about as well: the run is kept, marked for the coach.
    edges = [Edge(g, round(t * S), broken) for g, t0 in (("M1", 0), ("M2", 3.5), ("M2", 4), ("M3", 7)) for t, broken in ((t0, True), (t0 + 0.06, False))]
    session_id = db.start_session(FLY30)
    db.add_edges(session_id, edges)
    db.add_derived(session_id, live(FLY30, edges))
    (run,) = db.runs(session_id=session_id, statuses=["complete"])
    assert run.ambiguous is True and run.reason is not None and run.reason.startswith("ambiguous: M2 at +")
    db.recompute(session_id)
    assert db.runs(session_id=session_id, statuses=["complete"]) == [run]


def test_runs_from_before_the_ambiguous_column_read_as_certain(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    old = Database(conn)
    m001_initial(old)
    m002_workouts(old)
    old["_sqlite_migrations"].insert_all(
        [{"migration_set": "gatectl", "name": n, "applied_at": "2026-01-01"} for n in ("m001_initial", "m002_workouts")]
    )
    old["sessions"].insert({"id": 1, "layout": FLY30.describe(), "method": "longest", "settings": "{}"})
    old["runs"].insert({"session_id": 1, "number": 1, "status": "complete", "started_ns": 0, "crossings": json.dumps({"M1": 0, "M2": 4 * S, "M3": 7 * S}), "voided": 0})
    conn.commit()
    conn.close()
    with Store(path) as store:
        (run,) = store.runs(session_id=1)
        assert run.fly is not None and (run.ambiguous, run.fly.time_ns) == (False, 3 * S)


# Durability: the settings that keep an acknowledged edge ----------------------------------------------


def test_a_file_database_is_durable_at_every_commit(db_path):
    with Store(db_path) as store:
        pragma = lambda name: store.db.execute(f"pragma {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"  # readers never block the daemon's writes
        assert pragma("synchronous") == 2  # FULL: the log is synced at each commit, a power cut keeps it
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == BUSY_TIMEOUT_MS
        store.set_busy_timeout(200)
        assert pragma("busy_timeout") == 200


def test_a_locked_database_refuses_edges_whole_and_says_so(db_path):
    with Store(db_path) as store:
        session = store.start_session(Layout.flying(30, 30))
        store.set_busy_timeout(10)
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("begin immediate")
        with pytest.raises(StoreUnavailable, match="locked by another program"):
            store.add_edges(session, [Edge("M1", 1, True), Edge("M1", 2, False)])
        with pytest.raises(StoreUnavailable):
            store.add_derived(session, [Crossing("M1", 1, Method.LONGEST)])
        other.execute("rollback")
        other.close()
        assert store.edge_count(session) == 0  # none of them, not some
        store.add_edges(session, [Edge("M1", 1, True)])
        assert store.edge_count(session) == 1


def test_an_edge_acknowledged_is_on_disk_for_another_process(db_path):
    """add_edges returning means committed: a new connection (another process after a crash) reads it."""
    with Store(db_path) as store:
        session = store.start_session(Layout.flying(30, 30))
        store.add_edges(session, [Edge("M2", 7, True)])
        reader = sqlite3.connect(db_path)
        assert reader.execute("select beam, t_ns from edges").fetchall() == [("M2", 7)]
        reader.close()
