"""``gatectl replay --via-nodes``: the trace through simulated gate nodes gives the plain replay's runs."""

from __future__ import annotations

import json

import pytest
from helpers import sprint

from gatectl.cli import main
from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.timing.model import Layout
from gatectl.timing.trace import write_trace

FLYING = "M1=0,M2=30,M3=60"


def runs(capsys, *args):
    assert main(["replay", *args, "--json"]) == 0
    out, _ = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture
def trace(tmp_path):
    def write(edges):
        path = tmp_path / "trace.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_trace(sorted(edges, key=lambda e: e.t_ns), out)
        return str(path)

    return write


@pytest.mark.parametrize("detect", ["longest", "dual"])
def test_through_lossy_drifting_nodes_the_runs_are_the_plain_replays(trace, capsys, detect):
    layout = Layout.parse(FLYING, detect)
    edges = [e for i in range(4) for e in sprint(layout, 20_000 * i, 9.0 + i * 0.3)]
    path = trace(edges)
    plain = runs(capsys, path, "--layout", FLYING, "--detect", detect)
    nodes = runs(capsys, path, "--layout", FLYING, "--detect", detect, "--via-nodes", "--drift-ppm", "100", "--loss", "0.05", "--seed", "7")
    assert [(r["number"], r["status"], set(r)) for r in nodes] == [(r["number"], r["status"], set(r)) for r in plain]
    for a, b in zip(plain, nodes):
        assert abs(a["fly"]["time_ns"] - b["fly"]["time_ns"]) <= 100_000  # sync error, far under a timing's resolution
        for gate in a["crossings"]:
            assert abs(a["crossings"][gate] - b["crossings"][gate]) <= 200_000


def test_each_run_through_nodes_carries_its_clock_sync_bound(trace, capsys):
    """As the daemon stores it: the run's bound covers what sync did to its times; a plain replay has none (no nodes)."""
    layout = Layout.parse(FLYING)
    path = trace([e for i in range(3) for e in sprint(layout, 20_000 * i, 9.5)])
    plain = runs(capsys, path, "--layout", FLYING)
    nodes = runs(capsys, path, "--layout", FLYING, "--via-nodes", "--seed", "3")
    assert [r["sync"] for r in plain] == [None] * 3
    for a, b in zip(plain, nodes):
        sync = b["sync"]
        gates = sync["gates"]
        assert set(gates) == {"M1", "M2", "M3"} and min(gates.values()) > 0  # each gate on its own node
        assert sync["uncertainty_ns"] == max(gates[x] + gates[y] for x, y in [("M1", "M2"), ("M2", "M3"), ("M1", "M3")])
        # Half the shortest round trip a node: 0.5 ms a gate on these USB-like links (0.5 ms each way at best), so
        # about 1 ms a run, under the 5 ms the daemon allows by default: what the daemon would store, not flagged.
        assert 500_000 < sync["uncertainty_ns"] < 2_000_000 < sync["limit_ns"] == 5_000_000 and not sync["flagged"]
        assert sync["uncertainty_us"] == sync["uncertainty_ns"] / 1000
        assert sync["flagged"] == (sync["uncertainty_ns"] > sync["limit_ns"]) == (sync["why"] is not None)
        for x, y in [("M1", "M2"), ("M2", "M3"), ("M1", "M3")]:  # every time between two crossings is within it
            moved = (b["crossings"][y] - b["crossings"][x]) - (a["crossings"][y] - a["crossings"][x])
            assert abs(moved) <= gates[x] + gates[y]


def test_a_simulated_session_with_limbs_keeps_every_edge(tmp_path, capsys):
    layout = Layout.parse(FLYING)
    session = simulate(layout, reps=6, seed=3, options=SimOptions(limbs=True))
    path = tmp_path / "limbs.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        write_trace(session.edges, out)
    assert main(["replay", str(path), "--layout", FLYING, "--via-nodes", "--loss", "0.1", "--jitter-ms", "5", "--seed", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    edges = len(session.edges)
    assert out[-1].startswith(f"through 3 simulated nodes: {edges} of {edges} edges delivered")
    assert "sync uncertainty M1 ±" in out[-1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--drift-ppm", "50"], "--drift-ppm only apply with --via-nodes"),
        (["--via-nodes", "--drift-ppm", "nan"], "--drift-ppm: must be from 0 to 1000"),
        (["--via-nodes", "--loss", "0.9"], "--loss: must be from 0 to 0.5"),
        (["--via-nodes", "--jitter-ms", "-1"], "--jitter-ms: must be from 0 to 1000"),
        (["--via-nodes", "--seed", "-3"], "--seed: must be from 0"),
    ],
)
def test_bad_node_options_are_one_line_and_exit_2(trace, capsys, args, message):
    path = trace(sprint(Layout.parse(FLYING), 0, 9.0))
    assert main(["replay", path, "--layout", FLYING, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gatectl: error: {message}") and err.count("\n") == 1
