"""``gatectl demo``'s workout options are checked before anything starts; lap reps print like runs."""

from dataclasses import replace

import pytest

from gatectl.cli import main
from gatectl.cli.live import format_run
from gatectl.coaching.laps import LapReport, StartKind
from gatectl.coaching.quality import check_pace
from gatectl.timing.model import RunStatus
from gatectl.timing.results import RunView


@pytest.mark.parametrize(
    "args, words",
    [
        (["--workout", "3 x x"], "Cannot read 'x' at column 5"),
        (["--fast-rests", "0"], "--fast-rests: give a number from 1 (real rests) to 60, not 0."),
        (["--track", "--workout", "400 @ 3k pace - 9:00"], "leaves no time"),
    ],
)
def test_demo_refuses_a_workout_it_cannot_run(tmp_path, capsys, args, words):
    assert main(["demo", "--db", str(tmp_path / "demo.db"), "--port", "1", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_demo_help_shows_the_workout_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert "--workout TEXT" in text and "--track" in text and "--fast-rests N" in text and "gatectl demo --track --fast-rests 4" in text


def test_a_lap_rep_prints_its_time_against_the_target():
    lap = LapReport(400.0, StartKind.ROLLING, 0, 79_400_000_000, (79_400_000_000,), 80_000_000_000,
                    check_pace(79_400_000_000, 80_000_000_000, 400.0), None)
    assert (lap.velocity_mps, lap.check.diff_s) == (pytest.approx(5.04, abs=0.005), pytest.approx(-0.6))
    run = RunView(3, RunStatus.COMPLETE, {}, (), None, {}, None, ambiguous=False, unseen=(), line=None, lap=lap, id=3, session=1,
                  athlete="Ana", athlete_id=1, voided=False, void_reason=None, set_no=None, rep_no=None)
    assert format_run(run) == "run   3  complete    Ana           400 m 1:19.40  5.04 m/s  -0.60 s vs 1:20.0 (on-target)"
    run = replace(run, lap=replace(lap, target_ns=None, check=None))
    assert format_run(run).endswith("400 m 1:19.40  5.04 m/s")
