"""The sync uncertainty ``gatectl demo --nodes`` times its runs with: the figures the README quotes.

Starts ``gatectl demo --nodes`` (each gate a simulated node on a pseudo-terminal,
real time) on a free port, lets it run, then reads its runs from ``/api/runs``
and prints, over the runs, the median and the largest of each gate's sync
uncertainty at its crossing and of the run's (the most a time it shows can be
off by), and how many runs were flagged. Real time: a few minutes.

Usage:  python bench/bench_demo_nodes.py [--seconds 180] [--seed 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_demo_interval import demo_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to let the demo run (default 180)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    runs = [r for r in demo_runs(args.seconds, args.seed, "--nodes") if r["sync"] is not None and len(r["crossings"]) > 1]
    if not runs:
        sys.exit("the demo timed no run across gates: run it longer (--seconds)")
    gates = sorted({gate for r in runs for gate in r["sync"]["gates"]})
    for gate in gates:
        values = [r["sync"]["gates"][gate] / 1000 for r in runs if gate in r["sync"]["gates"]]
        print(f"{gate}: sync ±{statistics.median(values):.0f} µs median, ±{max(values):.0f} µs at most ({len(values)} crossings)")
    combined = [r["sync"]["uncertainty_us"] for r in runs]
    flagged = sum(r["sync"]["flagged"] for r in runs)
    print(f"runs: {statistics.median(combined):.0f} µs median, {max(combined):.0f} µs at most; {flagged} of {len(runs)} flagged (bound {runs[0]['sync']['limit_ns'] / 1e6:g} ms)")


if __name__ == "__main__":
    main()
