"""``gatectl demo``'s workout options are checked before anything starts; lap reps print like runs."""

import http.client
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from gatectl.cli import main
from gatectl.cli.live import format_run
from gatectl.coaching.laps import LapReport, StartKind
from gatectl.coaching.quality import check_pace
from gatectl.store import Store
from gatectl.timing.model import RunStatus
from gatectl.timing.results import RunView


@pytest.mark.parametrize(
    "args, words",
    [
        (["--workout", "3 x x"], "Cannot read 'x' at column 5"),
        (["--fast-rests", "0"], "--fast-rests: give a number from 1 (real rests) to 60, not 0."),
        (["--track", "--workout", "400 @ 3k pace - 9:00"], "leaves no time"),
        (["--group", "together"], "--group runs track reps as a group: add --track"),
        (["--track", "--group", "waves 90 s apart"], "The gap between waves must be from 0 to 60 s, not 90. Write together, or waves 5 s apart."),
    ],
)
def test_demo_refuses_a_workout_it_cannot_run(tmp_path, capsys, args, words):
    assert main(["demo", "--db", str(tmp_path / "demo.db"), "--port", "1", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


@pytest.fixture
def busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def one_sentence(capsys, port: int) -> None:
    out, err = capsys.readouterr()
    assert out == ""  # no "dashboard on ...", no session announced
    assert err.strip().splitlines() == [f"gatectl: error: Port {port} is already in use (another gatectl, or another program): stop it, or give another port, e.g. --port {port + 1}."]


def test_demo_on_a_busy_port_says_so_in_one_sentence_before_opening_a_session(tmp_path, capsys, busy_port):
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db), "--port", str(busy_port)]) == 2
    one_sentence(capsys, busy_port)
    with Store(db) as store:
        assert store.sessions() == []


def test_run_on_a_busy_port_says_so_in_one_sentence(tmp_path, capsys, busy_port):
    config = tmp_path / "gatectl.toml"
    gates = "".join(f'[[gates]]\nname = "{name}"\nposition_m = {m}\n' for name, m in (("M1", 0), ("M2", 30), ("M3", 60)))
    config.write_text(f'[source]\nkind = "sim"\n[database]\npath = "{tmp_path / "g.db"}"\n[web]\nport = {busy_port}\n{gates}')
    assert main(["run", "--config", str(config)]) == 2
    one_sentence(capsys, busy_port)
    assert not (tmp_path / "g.db").exists()


def test_stopping_the_demo_with_viewers_connected_is_quick(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = subprocess.Popen(
        [sys.executable, "-m", "gatectl", "demo", "--port", str(port), "--db", str(tmp_path / "demo.db"), "--seed", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    viewers = []
    try:
        deadline = time.monotonic() + 30
        while len(viewers) < 5:
            try:
                viewer = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                viewer.request("GET", "/api/stream")
                response = viewer.getresponse()
                assert b"event: hello" in response.read1(4096)  # a live page's stream, waiting for its next event
                viewers.append(viewer)
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and demo.poll() is None, "the demo did not start"
                time.sleep(0.2)
        began = time.monotonic()
        demo.send_signal(signal.SIGTERM)
        out, _ = demo.communicate(timeout=30)
        took = time.monotonic() - began
    finally:
        demo.kill()
        for viewer in viewers:
            viewer.close()
    assert "gatectl: stopped;" in out and "Traceback" not in out
    assert took < 2.5, took  # it waited ~5 s for the streams' threads before


def test_demo_help_shows_the_workout_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert "--workout TEXT" in text and "--track" in text and "--fast-rests N" in text and "gatectl demo --track --fast-rests 4" in text
    assert "--group HOW" in text and 'gatectl demo --track --group "waves 3 s apart"' in text


def test_a_lap_rep_prints_its_time_against_the_target():
    lap = LapReport(400.0, StartKind.ROLLING, 0, 79_400_000_000, (79_400_000_000,), 80_000_000_000,
                    check_pace(79_400_000_000, 80_000_000_000, 400.0), None)
    assert (lap.velocity_mps, lap.check.diff_s) == (pytest.approx(5.04, abs=0.005), pytest.approx(-0.6))
    run = RunView(3, RunStatus.COMPLETE, {}, (), None, {}, None, ambiguous=False, unseen=(), line=None, sync=None, lap=lap, id=3, session=1,
                  athlete="Ana", athlete_id=1, voided=False, void_reason=None, set_no=None, rep_no=None)
    assert format_run(run) == "run   3  complete    Ana           400 m 1:19.40  5.04 m/s  -0.60 s vs 1:20.0 (on-target)"
    run = replace(run, lap=replace(lap, target_ns=None, check=None))
    assert format_run(run).endswith("400 m 1:19.40  5.04 m/s")


def test_a_voided_run_is_printed_as_voided_not_again_as_complete():
    run = RunView(3, RunStatus.COMPLETE, {}, (), None, {}, None, ambiguous=False, unseen=(), line=None, sync=None, lap=None, id=3, session=1, athlete="Ana", athlete_id=1,
                  voided=True, void_reason="false start", set_no=None, rep_no=None)
    assert format_run(run) == "run   3  voided      Ana           false start (does not count)"
