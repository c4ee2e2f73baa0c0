"""Text that would act when read elsewhere: formulas in CSV exports, control characters in names."""

import csv
import io

import pytest
from helpers import athlete_id, run_once

from gatectl.cli import main
from gatectl.store import Store


def gatectl(*argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


# CSV exports -----------------------------------------------------------------------------------------


def test_cli_csv_export_escapes_formulas(tmp_path, gates, daemon, db_path, capsys):
    with Store(db_path, migrate=False) as store:
        trick = store.add_athlete("=cmd|' /C calc'!A0")
    daemon.set_queue([trick])
    run = run_once(gates, daemon)
    with Store(db_path, migrate=False) as store:
        store.void_run(run["id"], "+SUM(1)")
    assert gatectl("export", "--csv", "--db", db_path) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["athlete"] == "'=cmd|' /C calc'!A0" and rows[0]["void_reason"] == "'+SUM(1)"
    assert rows[0]["fly_time_s"] == "3.100000000"


def test_negative_numbers_stay_numbers_in_csv():
    from gatectl.export import spreadsheet_safe

    assert [spreadsheet_safe(v) for v in ("-1.5", "-0.250000000", 3, None, "@x", "-x", "\tA")] == ["-1.5", "-0.250000000", 3, None, "'@x", "'-x", "'\tA"]


# Names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Ana\x1b[2J", "Ana\x7f", "Ana\u202eavliS", "Ana\x9b31m"])
def test_cli_refuses_names_with_control_characters(tmp_path, capsys, name):
    db = tmp_path / "g.db"
    assert gatectl("athletes", "add", name, "--db", db) == 2
    assert "must not contain control characters" in capsys.readouterr().err
    assert gatectl("athletes", "add", "Ana", "--db", db) == 0
    assert gatectl("athletes", "edit", "Ana", "--rename", name, "--db", db) == 2
    with Store(db) as store:
        assert [a["name"] for a in store.athletes()] == ["Ana"]


@pytest.mark.parametrize("name", ["Ana\x7f", "Ana\u202eavliS", "Ana\nSilva", "Ana\tSilva"])
def test_web_refuses_names_with_control_characters(coach, db_path, name):
    response = coach.post("/api/athletes", json={"name": name}, headers={"X-CSRF-Token": coach.token})
    assert response.status_code == 400 and response.get_json()["field"] == "name"
    ana = athlete_id(db_path, "Ana Silva")
    response = coach.patch(f"/api/athletes/{ana}", json={"name": name}, headers={"X-CSRF-Token": coach.token})
    assert response.status_code == 400 and "control characters" in response.get_json()["error"]
