import io
import json

import pytest

from gatectl.cli import main
from gatectl.coaching.library import LIBRARY


def run_json(capsys, *args):
    assert main(["workout", "parse", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object
    return json.loads(out)


def test_parse_json_contract(capsys):
    data = run_json(capsys, "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.")
    assert [(r["set"], r["rep"], r["distance_m"], r["target_s"], r["recovery_after_s"]) for r in data["reps"]] == [
        (1, 1, 30, None, 180), (1, 2, 30, None, 180), (1, 3, 30, None, 360),
        (2, 1, 30, None, 180), (2, 2, 30, None, 180), (2, 3, 30, None, 360),
        (3, 1, 30, None, 180), (3, 2, 30, None, 180), (3, 3, 30, None, None),
    ]  # fmt: skip
    assert data["total_distance_m"] == 270


def test_parse_json_resolves_race_paces(capsys):
    data = run_json(capsys, "15 x 400 @ 10K pace + 10sec /R1:00", "--race", "10k=35:00")
    first = data["reps"][0]
    assert (first["target_s"], first["target"], first["recovery_after_s"]) == (94.0, "10k pace + 10 s", 60.0)
    assert data["total_distance_m"] == 6000


def test_parse_json_several_races(capsys):
    data = run_json(capsys, "400 @ 10k pace /R25sec + 200 @ 5k pace", "--race", "10k=35:00", "--race", "5k=16:30")
    assert [r["target_s"] for r in data["reps"]] == [84.0, 39.6]


def test_parse_json_pace_without_race_is_null_but_named(capsys):
    first = run_json(capsys, "12 x 400m @ 3K, 200m jog recovery")["reps"][0]
    assert (first["target_s"], first["target"]) == (None, "3k pace")
    assert (first["recovery_after_s"], first["recovery_distance_m"], first["recovery"]) == (None, 200, "200 m jog")


def test_parse_json_range_and_full_recoveries(capsys):
    first = run_json(capsys, "25 x 400 @ 1:24 /R35-45s")["reps"][0]
    assert (first["target_s"], first["recovery_after_s"], first["recovery_max_s"]) == (84, 35, 45)
    first = run_json(capsys, "6 x 400 @ MAX / R-Full")["reps"][0]
    assert (first["target_s"], first["target"]) == (None, "MAX")
    assert (first["recovery_after_s"], first["recovery"]) == (None, "full")


@pytest.mark.parametrize(
    "options, rests",
    [([], [180, 360]), (["--sprinter400"], [270, 540]), (["--sprinter-factor", "2"], [360, 720])],
)
def test_parse_sprinter_options(capsys, options, rests):
    data = run_json(capsys, "3 x (2 x 200m). 3:00 Rec between reps. 6:00 Rec between sets", *options)
    assert [r["recovery_after_s"] for r in data["reps"][:2]] == rests


@pytest.mark.parametrize(
    "args, message",
    [
        (["3 x 3 x 30y"], "unknown unit 'y'"),
        (["300m. 7:00 Rec banana"], "'banana' at column 16"),
        (["4 x 400", "--race", "10k"], "must look like 10k=35:00"),
        (["4 x 400", "--race", "10k=3:00"], "10000 m in 3:00.00 would be 55.6 m/s on average, which no race is run at"),
        (["4 x 400", "--sprinter-factor", "2.5"], "between 1.0 and 2.0"),
    ],
)
def test_parse_errors_exit_2_with_the_message(capsys, args, message):
    assert main(["workout", "parse", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatectl: error: ")
    assert message in err
    assert "Traceback" not in err


def test_parse_error_shows_a_caret_under_the_fragment(capsys):
    assert main(["workout", "parse", "3 x 3 x 30y"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == ["  3 x 3 x 30y", "          ^^^"]


def test_parse_table(capsys):
    assert main(["workout", "parse", "2 x 400 @ 10k pace /R1:00", "--race", "10k=35:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["set", "rep", "distance", "target", "rest"]
    assert lines[1].split() == ["1", "1", "400", "m", "10k", "pace", "(1:24.0)", "1:00"]
    assert lines[2].split() == ["1", "2", "400", "m", "10k", "pace", "(1:24.0)", "-"]
    assert lines[3] == "2 reps in 1 set, 800 m"


def test_parse_reads_stdin_for_multi_line_sessions(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("300m. 7:00 Rec\n200m. 2:30 Rec. 200m. 5:00 Rec\n"))
    data = run_json(capsys, "-")
    rows = [(r["set"], r["rep"], r["recovery_after_s"]) for r in data["reps"]]
    assert rows == [(1, 1, 420), (2, 1, 150), (2, 2, None)]


def test_list_shows_every_builtin_session(capsys):
    assert main(["workout", "list"]) == 0
    out = capsys.readouterr().out
    for entry in LIBRARY:
        assert entry.slug in out and entry.name in out and entry.note in out
        assert all(line in out for line in entry.text.splitlines())


def test_show_expands_a_builtin_session(capsys):
    assert main(["workout", "show", "flying-40s", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["reps"]) == 9 and data["reps"][2]["recovery_after_s"] == 420


def test_show_unknown_slug_exits_2(capsys):
    assert main(["workout", "show", "nope"]) == 2
    assert "No built-in workout 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["parse", "show", "list"])
def test_help_has_examples(capsys, action):
    with pytest.raises(SystemExit) as exited:
        main(["workout", action, "--help"])
    assert exited.value.code == 0
    assert f"gatectl workout {action}" in capsys.readouterr().out
