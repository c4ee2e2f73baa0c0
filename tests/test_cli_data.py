import pytest

from gatectl.cli import main
from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.store import Store
from gatectl.timing.corrections import CrossingRef, DropCrossing
from gatectl.timing.model import NS_PER_S, Layout
from gatectl.timing.pipeline import time_edges

S = NS_PER_S
FLY30 = Layout.flying(30, 30)


def gatectl(*argv) -> int:
    """Exit code of ``gatectl argv``, whether main returns it or argparse exits."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "gatectl.db"


@pytest.fixture
def recorded(db_path):
    """Two sessions with raw edges only, as if the derived tables were lost."""
    with Store(db_path) as store:
        ids = []
        for reps, seed in ((3, 1), (2, 2)):
            session_id = store.start_session(FLY30)
            store.add_edges(session_id, simulate(FLY30, reps, seed=seed, options=SimOptions(limbs=True)).edges)
            ids.append(session_id)
    return ids


def line(session_id, edges):
    result = time_edges(edges, FLY30)
    return f"session {session_id}: {len(edges)} edges → {len(result.crossings)} crossings, {len(result.runs)} runs, {len(result.anomalies)} anomalies"


# recompute -----------------------------------------------------------------------------------


def test_recompute_every_session(db_path, recorded, capsys):
    assert gatectl("recompute", "--db", db_path) == 0
    with Store(db_path) as store:
        expected = [line(s, store.edges(s)) for s in recorded]
        assert [len(store.runs(session_id=s)) for s in recorded] == [3, 2]
    assert capsys.readouterr().out.splitlines() == expected  # oldest first


def test_recompute_one_session(db_path, recorded, capsys):
    assert gatectl("recompute", "--db", db_path, "--session", recorded[1]) == 0
    with Store(db_path) as store:
        assert capsys.readouterr().out == line(recorded[1], store.edges(recorded[1])) + "\n"
        assert store.runs(session_id=recorded[0]) == []


def test_recompute_applies_the_coachs_corrections_and_says_so(db_path, recorded, capsys):
    with Store(db_path) as store:
        store.recompute(recorded[0])
        run = next(r for r in store.runs(session_id=recorded[0]) if r.status == "complete")
        first = next(c for c in store.db["crossings"].rows_where("session_id = ? and t_ns = ?", [recorded[0], run.crossings["M1"]]))
        store.correct(recorded[0], DropCrossing(CrossingRef("M1", first["edges_from_ns"], first["t_ns"])), "coach")
    assert gatectl("recompute", "--db", db_path, "--session", recorded[0]) == 0
    assert capsys.readouterr().out.endswith("anomalies; 1 corrections\n")
    with Store(db_path) as store:
        store.db.execute("update corrections set payload = replace(payload, 'M1', 'M2')")  # its crossing is no longer there
        store.db.conn.commit()
    assert gatectl("recompute", "--db", db_path, "--session", recorded[0]) == 0
    assert capsys.readouterr().out.endswith("anomalies; 1 corrections, 1 no longer apply\n")


def test_recompute_empty_database(db_path, capsys):
    Store(db_path).close()
    assert gatectl("recompute", "--db", db_path) == 0
    assert capsys.readouterr().out == "No sessions in the database yet.\n"


@pytest.mark.parametrize("command", [["recompute"], ["export", "--csv"], ["athletes", "list"]])
def test_missing_database_is_an_error_not_a_new_file(db_path, capsys, command):
    assert gatectl(*command, "--db", db_path) == 2
    assert capsys.readouterr().err == f"gatectl: error: There is no database at {db_path}; give its path with --db.\n"
    assert not db_path.exists()


# The default database and the demo's ---------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """The user's data directory, where gatectl.db and demo.db live unless --db says otherwise."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    folder = tmp_path / "share" / "gatectl"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("command", [["athletes", "list"], ["export", "--csv", "--session", "1"]])
def test_a_read_only_command_never_creates_the_default_database(data_dir, capsys, command):
    assert gatectl(*command) == 2
    assert capsys.readouterr().err == (
        f"gatectl: error: There is no database yet: looked at {data_dir / 'gatectl.db'} (gatectl run) and {data_dir / 'demo.db'} (gatectl demo). "
        "Start one of them first, or give the database's path with --db.\n"
    )
    assert list(data_dir.iterdir()) == []


def test_export_finds_the_demo_s_data_when_there_is_no_other(data_dir, capsys):
    with Store(data_dir / "demo.db") as store:
        session_id = store.start_session(FLY30)
        store.add_edges(session_id, simulate(FLY30, 2, seed=1, options=SimOptions(limbs=True)).edges)
        store.recompute(session_id)
    assert gatectl("export", "--csv", "--session", session_id) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 + 2  # the header and two runs
    assert err == f"gatectl: no database at {data_dir / 'gatectl.db'} yet: reading the demo's, {data_dir / 'demo.db'} (another: --db PATH).\n"
    assert gatectl("athletes", "list") == 0
    assert not (data_dir / "gatectl.db").exists()


def test_no_such_session_points_at_the_demo_s_database(data_dir, capsys):
    Store(data_dir / "gatectl.db").close()  # made by an earlier version's athletes list
    with Store(data_dir / "demo.db") as store:
        store.start_session(FLY30)
    assert gatectl("export", "--csv", "--session", 1) == 2
    demo = data_dir / "demo.db"
    assert capsys.readouterr().err == f"gatectl: error: There is no session 1 in {data_dir / 'gatectl.db'}; the demo's sessions are in {demo}: add --db {demo}\n"


def test_recompute_unknown_session(db_path, recorded, capsys):
    assert gatectl("recompute", "--db", db_path, "--session", 9) == 2
    assert capsys.readouterr().err == "gatectl: error: There is no session 9.\n"


def test_recompute_not_a_database(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("not sqlite\n" * 200)
    assert gatectl("recompute", "--db", path) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatectl: error: Cannot open the database") and err.count("\n") == 1


# athletes --------------------------------------------------------------------------------------


def athletes(db_path, include_archived=True):
    with Store(db_path) as store:
        return {a["name"]: a for a in store.athletes(include_archived=include_archived)}


def test_add_with_bests_and_goals(db_path, capsys):
    assert gatectl("athletes", "add", " Ana Silva ", "--best", "400=52.8", "--best", "800m=2:01.5", "--goal", "400=51.9",
                   "--notes", "400 m runner", "--db", db_path) == 0
    assert capsys.readouterr().out == "added Ana Silva (id 1)\n"
    ana = athletes(db_path)["Ana Silva"]
    assert ana["notes"] == "400 m runner"
    assert [(t["kind"], t["distance_m"], t["time_ns"]) for t in ana["race_times"]] == [
        ("best", 400.0, 52_800_000_000), ("goal", 400.0, 51_900_000_000), ("best", 800.0, 121_500_000_000),
    ]


def test_add_named_distances(db_path):
    assert gatectl("athletes", "add", "Ben", "--best", "mile=4:05.1", "--best", "10k=35:00", "--db", db_path) == 0
    assert {t["distance_m"]: t["time_ns"] for t in athletes(db_path)["Ben"]["race_times"]} == {1609.344: 245_100_000_000, 10000.0: 2100 * S}


@pytest.mark.parametrize(
    "option, spec, message",
    [
        ("--best", "400", "--best: Race '400' must look like 10k=35:00 or 800m=1:52.3 (distance=time)."),
        ("--best", "400=fast", "--best: Race time 'fast' must look like 45.28, 1:52.3 or 35:00."),
        ("--goal", "lap=60", "--goal: Race distance 'lap' must be metres"),
        ("--goal", "400=0", "--goal: Race time '0' must be longer than zero."),
        # Plausibility is the core's, as on the dashboard: 80 m/s would skew every pace comparison.
        ("--best", "400=5", "--best: 400 m in 5.00 would be 80.0 m/s on average, which no race is run at (typo? 45.3 is 45.3 s"),
        ("--goal", "800=99:00:00", "--goal: 800 m in 99:00:00.00 would be 0.0 m/s on average, which no race is run at"),
        ("--best", "2000k=100:00:00", "--best: Race distance '2000k' is too long: a race is at most 1000 km."),
    ],
)
def test_add_with_a_bad_race_spec(db_path, capsys, option, spec, message):
    assert gatectl("athletes", "add", "Ana", option, spec, "--db", db_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gatectl: error: {message}") and err.count("\n") == 1
    assert athletes(db_path) == {}  # nothing half-added


def test_add_duplicate(db_path, capsys):
    assert gatectl("athletes", "add", "Ana", "--db", db_path) == 0
    assert gatectl("athletes", "add", "ANA", "--db", db_path) == 2
    assert capsys.readouterr().err == "gatectl: error: There is already an athlete called 'ANA'.\n"


def test_list(db_path, capsys):
    gatectl("athletes", "add", "Ben", "--db", db_path)
    gatectl("athletes", "add", "Ana", "--best", "400=52.84", "--goal", "800=2:01.55", "--db", db_path)
    capsys.readouterr()
    assert gatectl("athletes", "list", "--db", db_path) == 0
    assert capsys.readouterr().out.splitlines() == [
        "   2  Ana  best 400 m 52.8, goal 800 m 2:01.6",
        "   1  Ben  no race times",
    ]


def test_list_empty(db_path, capsys):
    Store(db_path).close()  # a database with no athletes (a missing one is an error: it is never created by a list)
    assert gatectl("athletes", "list", "--db", db_path) == 0
    assert capsys.readouterr().out == 'No athletes yet. Add one: gatectl athletes add "Ana Silva" --best 400=52.8\n'


def test_edit_race_times_and_notes(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--best", "400=52.8", "--db", db_path)
    assert gatectl("athletes", "edit", "ana", "--best", "400=52.1", "--goal", "400=51.5", "--notes", "new PB", "--db", db_path) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "updated ana"
    ana = athletes(db_path)["Ana"]
    assert ana["notes"] == "new PB"
    assert [(t["kind"], t["time_ns"]) for t in ana["race_times"]] == [("best", 52_100_000_000), ("goal", 51_500_000_000)]


def test_rename(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--db", db_path)
    assert gatectl("athletes", "edit", "Ana", "--rename", "Ana Silva", "--db", db_path) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "updated Ana Silva"
    assert list(athletes(db_path)) == ["Ana Silva"]


def test_rename_clash(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--db", db_path)
    gatectl("athletes", "add", "Ben", "--db", db_path)
    capsys.readouterr()
    assert gatectl("athletes", "edit", "Ben", "--rename", "ana", "--db", db_path) == 2
    assert capsys.readouterr().err == "gatectl: error: There is already an athlete called 'ana'.\n"
    assert sorted(athletes(db_path)) == ["Ana", "Ben"]


def test_archive_and_unarchive(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--db", db_path)
    gatectl("athletes", "add", "Ben", "--db", db_path)
    assert gatectl("athletes", "edit", "Ben", "--archive", "--db", db_path) == 0
    capsys.readouterr()
    gatectl("athletes", "list", "--db", db_path)
    assert capsys.readouterr().out.splitlines() == ["   1  Ana  no race times"]
    gatectl("athletes", "list", "--all", "--db", db_path)
    assert capsys.readouterr().out.splitlines()[1] == "   2  Ben (archived)  no race times"
    assert gatectl("athletes", "edit", "Ben", "--unarchive", "--db", db_path) == 0
    assert set(athletes(db_path, include_archived=False)) == {"Ana", "Ben"}


def test_archive_and_unarchive_together(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--db", db_path)
    assert gatectl("athletes", "edit", "Ana", "--archive", "--unarchive", "--db", db_path) == 2
    assert capsys.readouterr().err == "gatectl: error: Choose --archive or --unarchive, not both.\n"


def test_edit_unknown_athlete(db_path, capsys):
    assert gatectl("athletes", "edit", "Nobody", "--archive", "--db", db_path) == 2
    assert capsys.readouterr().err == "gatectl: error: There is no athlete called 'Nobody'; see gatectl athletes list.\n"


def test_edit_with_a_bad_race_spec_changes_nothing(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--db", db_path)
    assert gatectl("athletes", "edit", "Ana", "--rename", "Ann", "--best", "400=", "--db", db_path) == 2
    assert "--best: Race '400=' must look like" in capsys.readouterr().err
    assert list(athletes(db_path)) == ["Ana"]


def test_edit_with_an_implausible_race_time_changes_nothing(db_path, capsys):
    gatectl("athletes", "add", "Ana", "--best", "400=52.8", "--db", db_path)
    assert gatectl("athletes", "edit", "Ana", "--rename", "Ann", "--best", "400=5", "--db", db_path) == 2
    assert capsys.readouterr().err.startswith("gatectl: error: --best: 400 m in 5.00 would be 80.0 m/s on average")
    assert {t["time_ns"] for t in athletes(db_path)["Ana"]["race_times"]} == {52_800_000_000}


def test_athletes_needs_an_action(capsys):
    assert gatectl("athletes") == 2
    assert "required" in capsys.readouterr().err


def test_help_has_examples(capsys):
    for command in ("recompute", "athletes", "export"):
        assert gatectl(command, "--help") == 0
        assert "example" in capsys.readouterr().out


def test_export_help_describes_every_option(capsys):
    assert gatectl("export", "--help") == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--csv one row a run", "--json one JSON object", "--session N only session N", "--athlete NAME only this athlete", "oldest first"):
        assert words in text, words
