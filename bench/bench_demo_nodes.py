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
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long to let the demo run (default 180)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        demo = subprocess.Popen(
            [sys.executable, "-m", "gatectl", "demo", "--nodes", "--port", str(port), "--db", str(Path(folder) / "demo.db"), "--seed", str(args.seed)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(args.seconds)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs?limit=1000", timeout=10) as response:
                runs = [r for r in json.load(response)["runs"] if r["sync"] is not None and len(r["crossings"]) > 1]
        finally:
            demo.terminate()
            demo.wait(timeout=30)
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
