import csv
import io
import json

import pytest

from gatectl.cli import main
from gatectl.coaching.laps import LapRep, StartKind, Track
from gatectl.export import CSV_COLUMNS, _seconds, runs_csv, runs_json
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S, Crossing, Layout, Method, Run, RunStatus

S = NS_PER_S
FLY30 = Layout.flying(30, 30)


def run_of(number, *times_ns, status=RunStatus.COMPLETE, reason=None, gates=("M1", "M2", "M3")):
    return Run(number, tuple(Crossing(g, t, Method.LONGEST) for g, t in zip(gates, times_ns)), status, reason)


@pytest.fixture
def db():
    with Store(":memory:") as store:
        yield store


@pytest.fixture
def club(db):
    """Two sessions: Ana's complete run (and a voided one), an incomplete and a rejected run."""
    ana = db.add_athlete("Ana Silva")
    db.set_race_time(ana, 400, 50 * S)  # 8 m/s
    db.set_race_time(ana, 800, 125 * S)  # 6.4 m/s
    first = db.start_session(FLY30)
    complete, voided = db.add_derived(first, [
        run_of(1, 10 * S, 13_600_000_001, 16_700_000_124),  # fly 3.100000123 s
        run_of(2, 40 * S, 43_500_000_000, 46_500_000_000),
    ])
    db.assign_run(complete, ana)
    db.assign_run(voided, ana)
    db.void_run(voided, "false start")
    second = db.start_session(Layout.flying(30, 40))
    incomplete, rejected = db.add_derived(second, [
        run_of(1, 100 * S, 103_800_000_000, status=RunStatus.INCOMPLETE, reason="timed out waiting for M3"),
        run_of(2, 101 * S, gates=("M3",), status=RunStatus.REJECTED, reason="orphan crossing at M3"),
    ])
    return {"db": db, "ana": ana, "first": first, "second": second,
            "complete": complete, "voided": voided, "incomplete": incomplete, "rejected": rejected}


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "ns, text",
    [(3_104_000_123, "3.104000123"), (0, "0.000000000"), (5, "0.000000005"), (60 * S, "60.000000000"), (10**18 + 1, "1000000000.000000001"), (None, "")],
)
def test_seconds_are_exact_decimals(ns, text):
    assert _seconds(ns) == text


def test_csv_columns():
    assert runs_csv([]).splitlines() == [",".join(CSV_COLUMNS)]
    assert CSV_COLUMNS[:5] == ("id", "session", "number", "athlete", "status")


def test_csv_complete_run(club):
    db = club["db"]
    [row] = [r for r in rows(runs_csv(db.runs(), {club["first"]: "2026-05-02"})) if r["id"] == str(club["complete"])]
    assert row == {
        "id": str(club["complete"]), "session": str(club["first"]), "number": "1", "athlete": "Ana Silva",
        "status": "complete", "date": "2026-05-02", "voided": "0", "void_reason": "", "reason": "",
        "fly_distance_m": "30.0", "fly_time_s": "3.100000123", "fly_velocity_mps": "9.677", "fly_kmh": "34.84",
        "pct_400m_pace": "121.0", "pct_800m_pace": "151.2", "accel_time_s": "3.600000001",
        "crossings": "M1=10000000000 M2=13600000001 M3=16700000124",
        "set": "", "rep": "", "lap_distance_m": "", "lap_time_s": "", "lap_target_s": "", "lap_diff_s": "", "lap_splits_s": "",
        "sync_uncertainty_us": "0.0", "sync_flagged": "0", "sync_why": "",  # all three gates on the Pi's clock
    }


def test_csv_workout_reps_and_lap_reps(db):
    session = db.start_session(Layout.flying(), track=Track("M1", 400))
    rep = LapRep(1, StartKind.GO, 800.0, 5 * S, 5 * S + 161_500_000_001, (80 * S, 81_500_000_001), RunStatus.COMPLETE, None, None, 160 * S, None)
    [run_id] = db.add_derived(session, [rep])
    db.set_run_rep(run_id, 1, 3)
    [row] = rows(runs_csv(db.runs(session_id=session)))
    assert (row["set"], row["rep"], row["fly_time_s"], row["crossings"]) == ("1", "3", "", "")
    assert (row["lap_distance_m"], row["lap_time_s"], row["lap_target_s"], row["lap_diff_s"]) == ("800.0", "161.500000001", "160.000000000", "1.500000001")
    assert row["lap_splits_s"] == "80.000000000 81.500000001"


def test_csv_voided_incomplete_and_rejected(club):
    db = club["db"]
    by_id = {r["id"]: r for r in rows(runs_csv(db.runs()))}
    voided = by_id[str(club["voided"])]
    assert (voided["voided"], voided["void_reason"], voided["fly_time_s"]) == ("1", "false start", "3.000000000")
    incomplete = by_id[str(club["incomplete"])]
    assert (incomplete["athlete"], incomplete["status"], incomplete["reason"]) == ("", "incomplete", "timed out waiting for M3")
    assert (incomplete["fly_time_s"], incomplete["fly_velocity_mps"], incomplete["pct_400m_pace"]) == ("", "", "")
    assert incomplete["accel_time_s"] == "3.800000000"  # M1→M2 was timed, even if M3 never came
    rejected = by_id[str(club["rejected"])]
    assert (rejected["status"], rejected["crossings"], rejected["accel_time_s"]) == ("rejected", "M3=101000000000", "")


def test_csv_two_gate_layout_has_no_accel_time(db):
    session_id = db.start_session(Layout.parse("A=0,B=20"))
    db.add_derived(session_id, [Run(1, (Crossing("A", 0, Method.FIRST), Crossing("B", 2 * S, Method.FIRST)), RunStatus.COMPLETE)])
    [row] = rows(runs_csv(db.runs()))
    assert (row["fly_time_s"], row["accel_time_s"]) == ("2.000000000", "")


def test_csv_quotes_names_with_commas(db):
    session_id = db.start_session(FLY30)
    [run_id] = db.add_derived(session_id, [run_of(1, 0, 3 * S, 6 * S)])
    db.assign_run(run_id, db.add_athlete('Silva, Ana "AS"'))
    [row] = rows(runs_csv(db.runs()))
    assert row["athlete"] == 'Silva, Ana "AS"'


def test_json_structure(club):
    db = club["db"]
    document = json.loads(runs_json(db.runs(session_id=club["first"])))
    assert list(document) == ["runs"]
    first, second = document["runs"]  # newest first
    assert (first["id"], second["id"]) == (club["voided"], club["complete"])
    run = second
    assert {"id", "session", "number", "athlete", "athlete_id", "status", "voided", "void_reason", "reason",
            "crossings", "segments", "fly", "vs_pace"} <= set(run)
    assert run["fly"]["time_ns"] == 3_100_000_123
    assert run["crossings"] == {"M1": 10 * S, "M2": 13_600_000_001, "M3": 16_700_000_124}
    assert [s["time_ns"] for s in run["segments"]] == [3_600_000_001, 3_100_000_123]
    assert run["vs_pace"]["400m"]["percent"] == 121.0
    assert (run["athlete"], run["voided"], first["voided"], first["void_reason"]) == ("Ana Silva", False, True, "false start")


def test_json_of_nothing():
    assert json.loads(runs_json([])) == {"runs": []}


# gatectl export ------------------------------------------------------------------------------


@pytest.fixture
def club_db(tmp_path, club):
    """The club's runs in a database file."""
    path = tmp_path / "club.db"
    club["db"].db.conn.execute("vacuum into ?", [str(path)])
    return path


def test_cli_export_csv_to_stdout(club, club_db, capsys):
    assert main(["export", "--csv", "--db", str(club_db)]) == 0
    out = capsys.readouterr().out
    dates = {s["id"]: s["date"] for s in club["db"].sessions()}
    assert out == runs_csv(club["db"].runs()[::-1], dates)  # oldest first, as History and the web export list them
    assert len(rows(out)) == 4 and all(r["date"] == dates[int(r["session"])] != "" for r in rows(out))


def test_cli_export_json_for_a_session(club, club_db, capsys):
    assert main(["export", "--json", "--session", str(club["second"]), "--db", str(club_db)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in document["runs"]] == [club["incomplete"], club["rejected"]]  # oldest first


def test_cli_export_for_an_athlete_to_a_file(club, club_db, tmp_path, capsys):
    out = tmp_path / "ana.csv"
    assert main(["export", "--csv", "--athlete", "ana silva", "--db", str(club_db), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"wrote 2 runs to {out}\n"
    assert [r["id"] for r in rows(out.read_text())] == [str(club["complete"]), str(club["voided"])]  # oldest first


def test_cli_export_session_and_athlete(club, club_db, capsys):
    assert main(["export", "--json", "--session", str(club["second"]), "--athlete", "Ana Silva", "--db", str(club_db)]) == 0
    assert json.loads(capsys.readouterr().out) == {"runs": []}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--athlete", "Nobody"], "There is no athlete called 'Nobody'; see gatectl athletes list."),
        (["--session", "99"], "There is no session 99."),
        (["-o", "/nonexistent/dir/out.csv"], "cannot write /nonexistent/dir/out.csv: No such file or directory."),
    ],
)
def test_cli_export_errors(club_db, capsys, argv, message):
    assert main(["export", "--csv", "--db", str(club_db), *argv]) == 2
    assert capsys.readouterr().err == f"gatectl: error: {message}\n"


def test_cli_export_needs_a_format(club_db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--db", str(club_db)])
    assert exit_.value.code == 2
    assert "one of the arguments --csv --json is required" in capsys.readouterr().err
