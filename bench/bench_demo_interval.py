"""How often the free-running demo produces a rep: the figure the README quotes.

Starts ``gatectl demo`` (four simulated athletes taking turns, real time) on a
free port, lets it run, then reads its runs from ``/api/runs`` and prints the
median and the spread of the intervals between consecutive runs' first
crossings (the timing clock, integer ns). Real time: a few minutes.

Usage:  python bench/bench_demo_interval.py [--seconds 240] [--seed 7]
"""

from __future__ import annotations

import argparse
import itertools
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
    parser.add_argument("--seconds", type=float, default=240.0, help="how long to let the demo run (default 240)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    runs = demo_runs(args.seconds, args.seed)
    starts = sorted(min(r["crossings"].values()) for r in runs if r["crossings"])
    gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(starts)]
    if not gaps:
        sys.exit("the demo produced fewer than two runs: run it longer (--seconds)")
    quartiles = statistics.quantiles(gaps, n=4)
    print(f"{len(starts)} runs in {args.seconds:g} s: a rep every {statistics.median(gaps):.1f} s (median; quartiles {quartiles[0]:.1f}–{quartiles[2]:.1f} s)")


def demo_runs(seconds: float, seed: int, *options: str) -> list[dict]:
    """Run ``gatectl demo [options]`` on a free port for ``seconds`` (real time); its runs, from /api/runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        demo = subprocess.Popen(
            [sys.executable, "-m", "gatectl", "demo", *options, "--port", str(port), "--db", str(Path(folder) / "demo.db"), "--seed", str(seed)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(seconds)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs?limit=1000", timeout=10) as response:
                return json.load(response)["runs"]
        finally:
            demo.terminate()
            demo.wait(timeout=30)


if __name__ == "__main__":
    main()
