import json

import pytest

from gatectl.cli import main
from gatectl.timing.model import Layout
from gatectl.timing.trace import read_trace

LAYOUT = "M1=0,M2=30,M3=60"


def gatectl(*argv: str) -> int:
    """Exit code of ``gatectl argv``, whether main returns it or argparse exits."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code


def test_writes_a_trace_replay_reads_and_the_truth(tmp_path, capsys):
    trace, truth = tmp_path / "fly.csv", tmp_path / "truth.json"
    code = gatectl("simulate", "--layout", LAYOUT, "--reps", "3", "--seed", "4", "--limbs",
                   "--out", str(trace), "--truth", str(truth))
    assert code == 0
    with trace.open() as lines:
        edges = read_trace(lines, beams=set(Layout.parse(LAYOUT).beams))
    assert f"wrote 3 reps, {len(edges)} edges to {trace}" in capsys.readouterr().out
    assert len(edges) >= 18  # at least a break per gate per rep

    document = json.loads(truth.read_text())
    assert (document["layout"], document["seed"]) == (LAYOUT, 4)
    assert [r["rep"] for r in document["reps"]] == [1, 2, 3]
    for rep in document["reps"]:
        crossings = rep["crossings"]
        assert list(crossings) == ["M1", "M2", "M3"]
        assert rep["fly_time_ns"] == crossings["M3"] - crossings["M2"]
        assert rep["athlete"] and abs(rep["vmax_mps"] - 9.5) <= 0.2
        # Each crossing is in the trace: a break starts within a few ms of truth + sensor delay.
        for gate, t_ns in crossings.items():
            assert any(
                e.beam == gate and e.broken and abs(e.t_ns - t_ns - document["sensor_delay_ns"]) < 2_000_000
                for e in edges
            )


def test_same_seed_same_trace_and_vmax_sets_the_pace(tmp_path):
    paths = [tmp_path / f"{name}.csv" for name in ("a", "b", "fast")]
    truths = [tmp_path / f"{name}.json" for name in ("a", "b", "fast")]
    for path, truth, vmax in zip(paths, truths, ("9.5", "9.5", "11")):
        assert gatectl("simulate", "--layout", LAYOUT, "--vmax", vmax, "--out", str(path), "--truth", str(truth)) == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    fly = [[r["fly_time_ns"] for r in json.loads(t.read_text())["reps"]] for t in truths]
    assert len(fly[0]) == 5  # the default
    assert max(fly[2]) < min(fly[0])


def test_dual_writes_both_beams_of_each_gate_and_faults_repeat(tmp_path):
    trace, truth = tmp_path / "dual.csv", tmp_path / "truth.json"
    code = gatectl("simulate", "--layout", LAYOUT, "--dual", "--fault", "missed", "--fault", "spurious",
                   "--out", str(trace), "--truth", str(truth))
    assert code == 0
    layout = Layout.parse(LAYOUT, method="dual")
    with trace.open() as lines:
        edges = read_trace(lines, beams=set(layout.beams))
    assert {e.beam for e in edges} == {"M1a", "M1b", "M2a", "M2b", "M3a", "M3b"}
    document = json.loads(truth.read_text())
    assert document["method"] == "dual"
    for rep in document["reps"]:
        assert sorted(f["kind"] for f in rep["faults"]) == ["missed", "spurious"]


@pytest.mark.parametrize(
    "argv, fix",
    [
        (["--layout", "M1=0"], "at least two gates"),
        (["--layout", "M2=30,M1=0"], "running order"),
        (["--layout", LAYOUT, "--vmax", "0"], "--vmax"),
        (["--layout", LAYOUT, "--vmax", "fast"], "--vmax"),
        (["--layout", LAYOUT, "--reps", "0"], "reps"),
        (["--layout", LAYOUT, "--fault", "late"], "--fault"),
        (["--layout", LAYOUT, "--out", "no/such/folder/t.csv"], "cannot write"),
        (["--layout", LAYOUT, "--out"], "--out"),
    ],
)
def test_bad_arguments_exit_2_naming_what_to_fix(argv, fix, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if "--out" not in argv:
        argv = [*argv, "--out", "t.csv"]
    assert gatectl("simulate", *argv) == 2
    assert fix in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_help_has_an_example(capsys):
    assert gatectl("simulate", "--help") == 0
    assert "gatectl simulate --layout M1=0,M2=30,M3=60" in capsys.readouterr().out


def test_dual_help_says_every_gate_gets_two_beams(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "every gate gets two beams, <gate>a (lower) and <gate>b (upper)" in text
