"""Benchmark of the timing core, the store and the daemon (not a test).

    python bench/bench_core.py            # the full run: 1,000 reps, 1 M edges, 30 s idle
    python bench/bench_core.py --quick    # smaller, to check the script works

Prints, as a Markdown table:
* fly-time error against the simulator's truth for each detection method, on
  simulated reps with limbs (p50, p95, max in ms);
* recompute throughput: ``Store.recompute`` over a session of ~1 M edges
  (median of 3, edges per second of wall-clock time, and of CPU time);
* the daemon's resident memory and CPU while idle (``gatectl run`` with the
  dashboard, a config whose replayed trace is already over).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.store import Store
from gatectl.timing.model import Layout, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.trace import write_trace

NS_PER_MS = 1_000_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def accuracy(reps: int) -> list[tuple[str, int, float, float, float]]:
    """Fly-time error of each method against truth: (method, complete runs, p50, p95, max) in ms."""
    rows = []
    for method in ("first", "longest", "dual"):
        layout = Layout.flying(30, 30, method)
        sim = simulate(layout, reps, seed=2026, options=SimOptions(limbs=True))
        result = time_edges(sim.edges, layout)
        complete = [r for r in result.runs if r.status is RunStatus.COMPLETE]
        if len(complete) != len(sim.reps):
            raise SystemExit(f"{method}: {len(complete)} complete runs of {len(sim.reps)} reps")
        errors = []
        for run, rep in zip(complete, sim.reps):
            fly_ns = run.crossings[-1].t_ns - run.crossings[-2].t_ns
            errors.append(abs(fly_ns - rep.fly_time_ns) / NS_PER_MS)
        rows.append((method, len(complete), statistics.median(errors), percentile(errors, 0.95), max(errors)))
    return rows


def recompute(edges_wanted: int, workdir: Path) -> tuple[int, float, float]:
    """(edges, median edges/s wall-clock, median edges/s CPU) of Store.recompute."""
    layout = Layout.flying()
    reps = max(1, edges_wanted // 19)  # a rep with limbs makes about 19 edges
    sim = simulate(layout, reps, seed=7, options=SimOptions(limbs=True))
    store = Store(workdir / "recompute.db")
    session = store.start_session(layout)
    store.add_edges(session, sim.edges)
    wall, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        counts = store.recompute(session)
        wall.append(counts["edges"] / (time.perf_counter() - t0))
        cpu.append(counts["edges"] / (time.process_time() - c0))
    store.close()
    return len(sim.edges), statistics.median(wall), statistics.median(cpu)


def daemon_idle(seconds: float, workdir: Path) -> tuple[float, float]:
    """(resident MB, % of one core) of an idle ``gatectl run`` with its dashboard."""
    layout = Layout.flying()
    trace = workdir / "idle.csv"
    with trace.open("w") as out:
        write_trace(simulate(layout, 1, seed=1).edges, out)
    config = workdir / "idle.toml"
    config.write_text(
        f'[source]\nkind = "replay"\ntrace = "{trace}"\nspeed = 100.0\n'
        '[[gates]]\nname = "M1"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 30\n'
        '[[gates]]\nname = "M3"\nposition_m = 60\n'
        f'[database]\npath = "{workdir / "idle.db"}"\n[web]\nport = {free_port()}\n'
    )
    proc = subprocess.Popen([sys.executable, "-m", "gatectl", "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(5)  # start-up, the replay, and the first requests are over
        if proc.poll() is not None:
            raise SystemExit(f"gatectl run exited: {proc.stderr.read().decode()}")
        ticks = os.sysconf("SC_CLK_TCK")
        cpu0, t0 = cpu_ticks(proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = cpu_ticks(proc.pid), time.monotonic()
        status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
        rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        return rss_kb / 1024, 100 * (cpu1 - cpu0) / ticks / (t1 - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 reps, 50,000 edges, 5 s idle")
    args = parser.parse_args()
    reps, edges, idle = (100, 50_000, 5.0) if args.quick else (1000, 1_000_000, 30.0)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print(f"Fly-time error against truth, {reps} simulated reps with limbs (flying 30)\n")
    print("| method | runs | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
    for method, runs, p50, p95, worst in accuracy(reps):
        print(f"| {method} | {runs} | {p50:.2f} | {p95:.2f} | {worst:.2f} |")
    with tempfile.TemporaryDirectory() as tmp:
        count, wall, cpu = recompute(edges, Path(tmp))
        print(f"\nRecompute of {count:,} edges (median of 3): {wall:,.0f} edges/s wall-clock, {cpu:,.0f} edges/s of CPU time")
        rss, core = daemon_idle(idle, Path(tmp))
        print(f"\nDaemon idle over {idle:g} s: {rss:.1f} MB resident, {core:.2f} % of one core")


if __name__ == "__main__":
    main()
