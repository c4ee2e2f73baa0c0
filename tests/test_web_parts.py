"""The dashboard's parts on their own: serving, commands, charts, the clock, field readers."""

import io
import json

import pytest

from gatectl.cli import main
from gatectl.store import Store
from gatectl.web import SERVE_THREADS, clock, serve
from gatectl.web.charts import Point, RefLine, line_chart
from gatectl.web.forms import FieldError, boolean, choice, id_list, integer, number, text

# Serving ---------------------------------------------------------------------------------


def test_serve_has_threads_for_50_viewers_and_the_api(monkeypatch, history_app):
    import waitress

    seen = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: seen.update(kw, app=app))
    serve(history_app, "0.0.0.0", 8123)
    assert seen["app"] is history_app and (seen["host"], seen["port"]) == ("0.0.0.0", 8123)
    assert seen["threads"] == SERVE_THREADS >= 80
    assert seen["connection_limit"] >= 150
    assert seen["channel_timeout"] > history_app.config["SSE_HEARTBEAT_S"]


def test_streams_leave_threads_for_the_api():
    from gatectl.web import MAX_STREAMS

    assert 50 <= MAX_STREAMS <= SERVE_THREADS - 10


# Commands --------------------------------------------------------------------------------------


def test_set_password_from_stdin(tmp_path, monkeypatch, capsys):
    db = tmp_path / "g.db"
    monkeypatch.setattr("sys.stdin", io.StringIO("8642\n"))
    assert main(["set-password", "--db", str(db), "--password-stdin"]) == 0
    assert "coach password set" in capsys.readouterr().out
    from gatectl.coach_password import check_coach_password

    with Store(db) as store:
        assert check_coach_password(store, "8642")


def test_set_password_prompts_twice(tmp_path, monkeypatch, capsys):
    answers = iter(["2468", "2469"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["set-password", "--db", str(tmp_path / "g.db")]) == 2
    assert "differ" in capsys.readouterr().err


def test_set_password_refuses_a_short_pin(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert main(["set-password", "--db", str(tmp_path / "g.db"), "--password-stdin"]) == 2
    assert "at least 4 characters" in capsys.readouterr().err


def test_web_serves_a_copy_read_only(db_path, monkeypatch, capsys):
    from gatectl import web
    seen = {}
    monkeypatch.setattr(web, "serve", lambda app, host, port: seen.update(app=app, host=host, port=port))
    assert main(["web", "--db", str(db_path), "--port", "8123"]) == 0
    assert seen["app"].config["READ_ONLY"] is True and seen["port"] == 8123
    assert "read-only" in capsys.readouterr().out


def test_web_needs_an_existing_database(tmp_path, capsys):
    assert main(["web", "--db", str(tmp_path / "none.db")]) == 2
    assert "There is no database" in capsys.readouterr().err


def test_web_checks_the_port(db_path, capsys):
    assert main(["web", "--db", str(db_path), "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


# Charts --------------------------------------------------------------------------------------------


def test_chart_draws_points_lines_and_gaps():
    svg = line_chart(
        [Point("1", 9.0), Point("2", None), Point("3", 9.4, hollow=True), Point("4", 9.6), Point("5", 9.7)],
        [RefLine("400 m pace", 8.0, "r400")],
        title="Ana <fast>",
    )
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert "Ana &lt;fast&gt;" in svg and "<fast>" not in svg
    assert svg.count("<circle") == 4 and svg.count('class="chart-point chart-void"') == 1
    assert svg.count("<polyline") == 1  # 1 alone, 3 voided, then 4–5 joined
    assert "400 m pace 8.00" in svg


def test_chart_without_points_says_so():
    assert "No runs yet" in line_chart([], [], title="Nothing")


def test_chart_labels_thin_out_on_long_sessions():
    svg = line_chart([Point(str(i), 9 + i / 100) for i in range(1, 41)], [], title="Many")
    assert svg.count('text-anchor="middle">') <= 15


# The clock -------------------------------------------------------------------------------------------


def test_clock_correction_belongs_to_one_boot(tmp_path, monkeypatch):
    with Store(tmp_path / "c.db") as store:
        monkeypatch.setattr(clock, "boot_id", lambda: "boot-1")
        result = clock.set_from_device(store, 1_780_000_000_000, 120, allow_system=False)
        assert result["date"] == "2026-05-28" and clock.correction(store) is not None
        assert clock.now(store).utcoffset().total_seconds() == 7200
        monkeypatch.setattr(clock, "boot_id", lambda: "boot-2")  # rebooted: the Pi's clock restarted
        assert clock.correction(store) is None
        store.set_setting(clock.SETTING, "not json")
        assert clock.correction(store) is None


def test_clock_tries_the_system_clock_only_when_allowed(tmp_path, monkeypatch):
    import subprocess

    class Done:
        returncode, stdout, stderr = 0, "", ""

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args) or Done())
    with Store(tmp_path / "c.db") as store:
        assert clock.set_from_device(store, 1_780_000_000_000, 0, allow_system=False)["system_clock"].startswith("not tried")
        assert calls == []
        assert clock.set_from_device(store, 1_780_000_000_000, 0, allow_system=True)["system_clock"] == "set"
        assert calls == [["date", "-u", "-s", "@1780000000.000"]]
        assert json.loads(store.setting(clock.SETTING))["tz_minutes"] == 0


# Field readers ----------------------------------------------------------------------------------------


def test_field_readers():
    assert text({"n": "  Ana "}, "n", "Name") == "Ana"
    assert text({}, "n", "Name", required=False) == ""
    assert integer({"a": "12"}, "a", "A") == 12 and integer({"a": 12}, "a", "A") == 12
    assert integer({}, "a", "A", required=False) is None
    assert number({"d": "28,5"}, "d", "D", unit="m", minimum=0, maximum=100) == 28.5
    assert boolean({"b": "on"}, "b", "B") is True and boolean({"b": False}, "b", "B") is False
    assert choice({}, "c", "C", ("x", "y"), default="y") == "y"
    assert id_list({"q": [3, "4"]}, "q", "Queue") == [3, 4]


@pytest.mark.parametrize(
    "call",
    [
        lambda: integer({"a": "1e3"}, "a", "A"),
        lambda: integer({"a": 2**60}, "a", "A"),
        lambda: integer({"a": [1]}, "a", "A"),
        lambda: number({"d": "inf"}, "d", "D", unit="m", minimum=0, maximum=10),
        lambda: number({"d": True}, "d", "D", unit="m", minimum=0, maximum=10),
        lambda: text({"n": ["x"]}, "n", "Name"),
        lambda: choice({"c": "z"}, "c", "C", ("x",)),
        lambda: boolean({}, "b", "B"),
    ],
)
def test_field_readers_refuse_with_the_field_name(call):
    with pytest.raises(FieldError) as caught:
        call()
    assert caught.value.field in ("a", "d", "n", "c", "b")
    assert str(caught.value)[0].isupper()
