"""How long `gatectl replay --via-nodes` takes for a two-hour trace, and whether its runs are the plain replay's.

    python bench/bench_replay_nodes.py             # 3 runs, the median
    python bench/bench_replay_nodes.py --runs 1    # once, to check the script works

The trace: 252 flying 30s with arms and legs (``gatectl simulate --limbs
--seed 1``), 4,668 edges over two hours. Each run is the command a user
types (``gatectl replay TRACE --via-nodes --json``, default drift, jitter and
seed) in a child process, timed from start to exit on the wall clock and in
CPU time (user + system: what the machine's other load does not inflate); the
plain replay is run once to compare with. Printed: each run's seconds and the
medians, and how far the runs through nodes are from the plain
replay's (same runs and statuses; the fly-time differences' p50, p95 and
largest, µs: the error clock sync added over two hours, most of them with
the drift long known and SYNC less often).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.timing.model import NS_PER_S, Layout
from gatectl.timing.trace import write_trace

LAYOUT = "M1=0,M2=30,M3=60"
REPS = 252  # two hours of reps at the simulator's pace


def replay(trace: Path, *extra: str) -> tuple[float, float, list[dict]]:
    """Wall seconds, CPU seconds (user + system) and the runs of one ``gatectl replay``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "gatectl", "replay", str(trace), "--layout", LAYOUT, "--json", *extra],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, [json.loads(line) for line in out.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    session = simulate(Layout.parse(LAYOUT), REPS, seed=1, options=SimOptions(limbs=True))
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "two-hours.csv"
        with open(trace, "w", encoding="utf-8", newline="") as out:
            write_trace(session.edges, out)
        span_s = (session.edges[-1].t_ns - session.edges[0].t_ns) / NS_PER_S
        print(f"trace: {len(session.edges)} edges over {span_s / 3600:.2f} h")
        _, _, plain = replay(trace)
        walls, cpus = [], []
        for _ in range(args.runs):
            wall, cpu, nodes = replay(trace, "--via-nodes")
            walls.append(wall)
            cpus.append(cpu)
            same = [(r["number"], r["status"]) for r in nodes] == [(r["number"], r["status"]) for r in plain]
            flies = [abs(a["fly"]["time_ns"] - b["fly"]["time_ns"]) / 1000 for a, b in zip(plain, nodes) if a.get("fly") and b.get("fly")]
            flies.sort()
            p50, p95 = flies[len(flies) // 2], flies[min(len(flies) - 1, round(0.95 * (len(flies) - 1)))]
            print(
                f"via nodes: {wall:.1f} s wall, {cpu:.1f} s CPU; {len(nodes)} runs, same as plain: {same}; "
                f"fly-time difference p50 {p50:.1f}, p95 {p95:.1f}, max {flies[-1]:.1f} µs"
            )
    load = os.getloadavg()[0]
    print(f"median of {len(walls)}: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
