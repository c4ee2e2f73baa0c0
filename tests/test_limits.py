"""One bounded reading of every number from outside: the ranges, and each entry point that was unbounded."""

import io
import time
from decimal import Decimal

import pytest

from gatectl.cli import main
from gatectl.coaching.notation import parse_workout
from gatectl.coaching.paces import parse_race_distance, parse_race_time
from gatectl.config import parse_config
from gatectl.errors import ConfigError, GatectlError, LayoutError, PaceError, TraceError, WorkoutError
from gatectl.limits import ID, PORT, TIME_S, Range, check_name, read_decimal, read_integer, read_number
from gatectl.timing.model import Layout
from gatectl.timing.trace import read_trace

HUGE = ["1e309", "1e400", "-1e309", "9" * 5000, str(2**63), str(2**64), "nan", "inf", "1e999990"]


# The ranges themselves -------------------------------------------------------------------------


def test_a_range_refuses_what_is_not_a_finite_number_within_it():
    metres = Range(0, 10, "m")
    for value in (float("nan"), float("inf"), -1, 10.5, True, "5", Decimal("NaN"), Decimal("1e999999"), None):
        assert value not in metres
    for value in (0, 10, 5.5, Decimal("9.99")):
        assert value in metres
    with pytest.raises(LayoutError, match=r"^Gap must be from 0 to 10 m, not 1e\+308\.$"):
        metres.check(1e308, "Gap", LayoutError)


@pytest.mark.parametrize("text", HUGE)
def test_reading_huge_or_endless_numbers_is_a_sentence(text):
    for read in (read_number, read_integer, read_decimal):
        with pytest.raises(GatectlError) as refused:
            read(text, "Distance", Range(1, 1000, "m"))
        assert str(refused.value).startswith("Distance must be") and len(str(refused.value)) < 120


def test_readings_within_range():
    assert read_number(" 29,95 ", "x", Range(0, 100)) == 29.95
    assert read_integer("+42", "x", ID) == 42
    assert read_decimal("45.28", "x", TIME_S) == Decimal("45.28")
    with pytest.raises(GatectlError, match="whole number"):
        read_integer("٣", "x", ID)  # int() reads Arabic-Indic digits; a form should not


# Pace calculator and race times: the million-digit integer ---------------------------------------


@pytest.mark.parametrize("text", ["1e999990", "1e309", "1e400", "99999999:00", "9" * 5000])
def test_absurd_race_times_are_refused_at_once(text):
    started = time.perf_counter()
    with pytest.raises(PaceError):
        parse_race_time(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("text", ["1e999990", "1e309", "2000k", "0.5", "9" * 5000])
def test_absurd_race_distances_are_refused(text):
    with pytest.raises(PaceError, match="Race distance"):
        parse_race_distance(text)


# Workout notation: size, counts and nesting --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("3000000 x 30m", "a repeat count must be a whole number from 1 to 1000"),
        ("100000000 x 30m", "a repeat count must be a whole number from 1 to 1000"),
        ("2x(" * 300 + "30m" + ")" * 300, "repeats may nest at most 8 deep"),
        ("3 x (" * 500 + "30m" + ")" * 500, "at most 2000"),
        ("40 x 40 x 30m", "at most 1000"),
        ("3 x 200000m", "a rep must be from 1 to 100000 m"),
        ("3 x 30m /R" + "9" * 30, "more than a workout can hold"),
        ("3 x 30m /R" + "9" * 60, "at most 40 characters"),
        ("3 x 400 @ 5000k pace", "more than a workout can hold"),
        ("3 x 30m, 1" + "0" * 20 + "m jog", "more than a workout can hold"),
    ],
)
def test_workouts_too_big_to_run_are_refused_quickly(text, words):
    started = time.perf_counter()
    with pytest.raises(WorkoutError, match=words):
        parse_workout(text)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("text", ["²", "3 x 30m /R²", "3 x ³0m"])
def test_digits_that_are_not_ascii_are_a_sentence(text):
    with pytest.raises(WorkoutError, match="this character has no meaning"):
        parse_workout(text)


def test_the_largest_workouts_still_read():
    assert len(parse_workout("1000 x 30m").lines[0][0].body) == 1
    assert parse_workout("2x(" * 8 + "30m" + ")" * 8).lines


# Layout, config, trace -------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [1e308, -1e308, 10_000.5])
def test_a_gate_far_off_the_track_is_refused(position):
    with pytest.raises(LayoutError, match="Position of gate M3 must be from -10000 to 10000 m"):
        Layout.from_positions({"M1": 0, "M2": 30, "M3": position})


def _config(source="", gates_m3="60", web=""):
    return {
        "source": {"kind": "sim", **source} if isinstance(source, dict) else {"kind": "sim"},
        "gates": [{"name": "M1", "position_m": 0}, {"name": "M2", "position_m": 30}, {"name": "M3", "position_m": float(gates_m3)}],
        "database": {"path": "g.db"},
        **({"web": web} if web else {}),
    }


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_config(source={"speed": 1e300}), "source.speed: must be from 0.001 to 10000, not 1e+300."),
        (_config(gates_m3="1e308"), "gates: Position of gate M3 must be from -10000 to 10000 m, not 1e+308."),
        (_config(source={"seed": 2**63}), "source.seed: must be from 0 to 9223372036854775807, not 9223372036854775808."),
        ({**_config(), "detection": {"rearm_ms": 1e300}}, "detection.rearm_ms: must be from 0 to 60000 ms"),
    ],
)
def test_config_values_that_would_overflow_the_timing_thread_are_refused(data, words):
    with pytest.raises(ConfigError) as refused:
        parse_config(data)
    assert words in str(refused.value)


@pytest.mark.parametrize("t_ns", [str(2**63), str(-(2**63)), "9" * 5000])
def test_trace_times_past_64_bits_are_a_sentence(t_ns):
    with pytest.raises(TraceError, match="^line 2: t_ns must be") as refused:
        read_trace(io.StringIO(f"gate,t_ns,state\nM1,{t_ns},1\n"))
    assert len(str(refused.value)) < 150


# Names -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Ana\x1b[2J", "Ana\nSilva", "Ana\u202eavlis", "Ana\x7f", "A" * 81])
def test_names_with_control_characters_or_too_long_are_refused(name):
    with pytest.raises(GatectlError, match="Name must"):
        check_name(name, "Name")


def test_names_people_have_are_kept():
    for name in ("Ana Silva", "Zoë O'Brien-Nkemelu", "李娜", "👩‍🦰 Ana"):
        assert check_name(f" {name} ", "Name") == name


# The command line: exit 2 with a sentence ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--seed", "9" * 5000],
        ["recompute", "--session", str(2**63)],
        ["export", "--csv", "--session", "1e400"],
        ["simulate", "--layout", "M1=0,M2=30", "--reps", "100000000", "--out", "x.csv"],
    ],
)
def test_cli_numbers_out_of_range_exit_2_with_a_sentence(args, capsys, tmp_path):
    with pytest.raises(SystemExit) as exited:
        main([*args, "--db", str(tmp_path / "g.db")] if args[0] != "simulate" else args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "must be" in err and "Traceback" not in err and len(err.splitlines()[-1]) < 200


@pytest.mark.parametrize("command", ["web", "demo"])
def test_a_port_past_65535_is_refused_before_anything_starts(command, capsys, tmp_path):
    assert main([command, "--port", "99999", "--db", str(tmp_path / "g.db")]) == 2
    assert "--port must be from 1 to 65535, not 99999." in capsys.readouterr().err
    assert not (tmp_path / "g.db").exists()


@pytest.mark.parametrize("text", ["100000000 x 30m", "3000000 x 30m", "2x(" * 500 + "30m" + ")" * 500])
def test_cli_workout_parse_refuses_huge_workouts_quickly(text, capsys):
    started = time.perf_counter()
    assert main(["workout", "parse", text]) == 2
    assert time.perf_counter() - started < 1
    assert "gatectl: error:" in capsys.readouterr().err


def test_cli_vmax_beyond_any_sprinter_exits_2(tmp_path, capsys):
    assert main(["simulate", "--layout", "M1=0,M2=30", "--vmax", "1e300", "--out", str(tmp_path / "x.csv")]) == 2
    assert "at most 15" in capsys.readouterr().err


def test_port_range_is_the_tcp_range():
    assert (PORT.low, PORT.high) == (1, 65535)
