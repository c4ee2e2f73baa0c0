import json

import pytest
from helpers import breaks, ns, sprint

from gatectl.cli import main
from gatectl.timing.model import Layout
from gatectl.timing.trace import write_trace

FLYING = "M1=0,M2=30,M3=60"
RUN_KEYS = {"number", "status", "crossings", "segments", "fly", "vs_pace", "reason", "ambiguous", "unseen", "line", "sync"}
SEGMENT_KEYS = {"from", "to", "distance_m", "time_ns", "time_s", "velocity_mps"}
FLY_KEYS = {"distance_m", "time_ns", "time_s", "velocity_mps", "kmh", "per_100m_s", "equivalent_400m_s"}


@pytest.fixture
def trace(tmp_path):
    def write(edges, name="trace.csv"):
        path = tmp_path / name
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_trace(sorted(edges, key=lambda e: e.t_ns), out)
        return str(path)

    return write


def replay_json(capsys, *args):
    assert main(["replay", *args, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return [json.loads(line) for line in out.splitlines()]


def test_json_is_one_run_per_line_with_the_contract_keys(trace, capsys):
    path = trace(sprint(Layout.parse(FLYING), 1000, 10.0))
    (run,) = replay_json(capsys, path, "--layout", FLYING, "--pb400", "47.5")
    assert set(run) == RUN_KEYS
    assert (run["number"], run["status"], run["reason"]) == (1, "complete", None)
    assert run["crossings"] == {"M1": ns(1000), "M2": ns(4000), "M3": ns(7000)}
    assert [set(s) for s in run["segments"]] == [SEGMENT_KEYS, SEGMENT_KEYS]
    assert [(s["from"], s["to"], s["distance_m"], s["time_s"], s["velocity_mps"]) for s in run["segments"]] == [
        ("M1", "M2", 30.0, 3.0, 10.0),
        ("M2", "M3", 30.0, 3.0, 10.0),
    ]
    assert set(run["fly"]) == FLY_KEYS
    assert (run["fly"]["distance_m"], run["fly"]["time_s"], run["fly"]["velocity_mps"]) == (30.0, 3.0, 10.0)
    assert run["fly"]["kmh"] == pytest.approx(36.0)
    assert list(run["vs_pace"]) == ["400m"]
    assert run["vs_pace"]["400m"]["ratio"] == pytest.approx(10 / (400 / 47.5))
    assert run["vs_pace"]["400m"]["percent"] == 118.8


def test_json_without_paces_has_empty_vs_pace(trace, capsys):
    (run,) = replay_json(capsys, trace(sprint(Layout.parse(FLYING), 0, 9.0)), "--layout", FLYING)
    assert run["vs_pace"] == {}


def test_json_keeps_incomplete_and_rejected_runs(trace, capsys):
    layout = Layout.parse(FLYING)
    edges = sprint(layout, 0, 10.0) + breaks("M2", (20_000, 20_060)) + breaks("M1", (30_000, 30_060))
    runs = replay_json(capsys, trace(edges), "--layout", FLYING, "--pb400", "50")
    # A crossing alone at M1 is rejected: it is no run (FIFO kept it as an incomplete one).
    assert [(r["number"], r["status"]) for r in runs] == [(1, "complete"), (2, "rejected"), (3, "rejected")]
    for r in runs[1:]:
        assert (r["fly"], r["vs_pace"]) == (None, {})
        assert r["reason"]
    assert runs[1]["reason"].startswith("orphan crossing at M2")
    assert runs[2]["reason"].startswith("lone crossing at M1")  # M2 at 20 s, M1 at 30 s: 3 m/s is no walk-back


def test_fly_zone_is_the_last_segment(trace, capsys):
    text = "M1=0,M2=20,M3=30,M4=60"
    (run,) = replay_json(capsys, trace(sprint(Layout.parse(text), 0, 10.0)), "--layout", text)
    assert [(s["from"], s["to"]) for s in run["segments"]] == [("M1", "M2"), ("M2", "M3"), ("M3", "M4")]
    assert (run["fly"]["distance_m"], run["fly"]["time_s"]) == (30.0, 3.0)


def test_dual_reads_beams_and_reports_gates(trace, capsys):
    layout = Layout.parse(FLYING, "dual")
    (run,) = replay_json(capsys, trace(sprint(layout, 500, 8.0)), "--layout", FLYING, "--detect", "dual")
    assert run["crossings"] == {"M1": ns(500), "M2": ns(500 + 3750), "M3": ns(500 + 7500)}
    assert run["status"] == "complete"


@pytest.mark.parametrize(("method", "m1_ms"), [("first", 950), ("longest", 1000)])
def test_detect_option_chooses_the_method(trace, capsys, method, m1_ms):
    path = trace(sprint(Layout.parse(FLYING), 1000, 10.0))
    (run,) = replay_json(capsys, path, "--layout", FLYING, "--detect", method)
    assert run["crossings"]["M1"] == ns(m1_ms)


def test_table_for_people(trace, capsys):
    layout = Layout.parse(FLYING)
    path = trace(sprint(layout, 0, 10.0) + breaks("M1", (30_000, 30_060)))
    assert main(["replay", path, "--layout", FLYING, "--pb400", "47.5", "--pb800", "1:50"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == ""
    assert lines[0].split() == ["run", "status", "fly", "30", "m", "m/s", "km/h", "vs", "pace", "/", "reason"]
    assert lines[1].split() == ["1", "complete", "3.000s", "10.00", "36.00", "400m", "118.8%", "800m", "137.5%"]
    assert lines[2].split()[:3] == ["2", "rejected", "—"]  # a lone crossing at M1 is no run
    assert "lone crossing at M1" in lines[2]
    assert lines[-1] == "26 edges, 4 crossings, 1 complete runs of 2, 0 anomalies (method longest)"


def test_empty_trace_prints_just_the_heading(trace, capsys):
    assert main(["replay", trace([]), "--layout", FLYING]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1] == "0 edges, 0 crossings, 0 complete runs of 0, 0 anomalies (method longest)"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"gate,t_ns,state\nM1,5,1\nM1,5.5,0\n", [], "line 3: t_ns must be an integer number of nanoseconds, not '5.5'"),
        (b"gate,t_ns,state\nM1,5,1\nM7,9,1\n", [], "line 3: unknown gate 'M7'; the layout has M1, M2, M3"),
        (b"gate,t_ns,state\nM1,5,1\n", ["--detect", "dual"], "line 2: unknown gate 'M1'; the layout has M1a, M1b"),
        (b"gate,t_ns,state\nM1,5,1\nM1,6,0\nM1,7\xff,1\n", [], "line 4: the line is not UTF-8 text"),
        (b"gate,t_ns,state\nM1,9,1\nM1,5,0\n", [], "line 3: time goes backwards on M1 (5 after 9)"),
        (b"gate,t_ns,state\nM1,9,on\n", [], "line 2: state must be 1 (broken) or 0 (clear), not 'on'"),
        (b"", [], "line 1: the trace is empty"),
        (b"gate,t_ns,state\n", ["--pb400", "fast"], "--pb400: Race time 'fast' must look like 45.28"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert main(["replay", str(path), "--layout", FLYING, *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"gatectl: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_layout_and_missing_file_are_one_line(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "none.csv"), "--layout", FLYING]) == 2
    assert capsys.readouterr().err.startswith(f"gatectl: error: cannot read {tmp_path / 'none.csv'}: No such file")
    (tmp_path / "t.csv").write_text("gate,t_ns,state\n")
    assert main(["replay", str(tmp_path / "t.csv"), "--layout", "M1=0,M2=30,M2=60"]) == 2
    assert capsys.readouterr().err == "gatectl: error: Gate M2 is named twice in the layout.\n"
