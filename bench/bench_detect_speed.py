"""Detection's CPU speed against an earlier revision's, interleaved (not a test).

    python bench/bench_detect_speed.py --against 328c9b5           # 30,000 flying-30 reps with limbs, 9 rounds
    python bench/bench_detect_speed.py --against HEAD~1 --quick    # 2,000 reps, 3 rounds

Loads ``gatectl/timing/detect.py`` as it was at ``--against`` (``git show``)
beside the working tree's, and times ``detect_record`` of the same simulated
edges with each in turn, in one process: the machine's drift between runs
falls on both. Prints the edges per second of CPU time of each (medians) and
the median of the per-round ratios, the figure to trust on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.timing import detect
from gatectl.timing.model import Layout

ROOT = Path(__file__).resolve().parent.parent


def detect_at(revision: str, workdir: Path) -> ModuleType:
    """The detection module as it was at ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:gatectl/timing/detect.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = workdir / "detect_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("detect_then", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["detect_then"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cpu_seconds(module: ModuleType, edges: tuple, layout: Layout) -> float:
    started = time.process_time()
    module.detect_record(edges, layout)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", required=True, help="a git revision, e.g. HEAD~1 or a commit id")
    parser.add_argument("--quick", action="store_true", help="2,000 reps and 3 rounds, to check the script works")
    args = parser.parse_args()
    reps, rounds = (2_000, 3) if args.quick else (30_000, 9)
    layout = Layout.flying()
    edges = simulate(layout, reps, seed=7, options=SimOptions(limbs=True)).edges
    with tempfile.TemporaryDirectory() as workdir:
        then = detect_at(args.against, Path(workdir))
        before, now = [], []
        for _ in range(rounds):
            before.append(cpu_seconds(then, edges, layout))
            now.append(cpu_seconds(detect, edges, layout))
    ratio = statistics.median(b / n for b, n in zip(before, now))
    print(f"Detection of {len(edges):,} edges ({reps:,} flying-30 reps with limbs), {rounds} interleaved rounds:")
    print(f"  at {args.against}: {len(edges) / statistics.median(before):,.0f} edges/s of CPU time")
    print(f"  working tree: {len(edges) / statistics.median(now):,.0f} edges/s of CPU time")
    print(f"  speed ratio (working tree / {args.against}), median of rounds: {ratio:.2f}×")


if __name__ == "__main__":
    main()
