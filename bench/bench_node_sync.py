"""Benchmark of gate-node clock sync (not a test): the error it adds to a fly time.

    python bench/bench_node_sync.py            # 8 seeds a link, 10 simulated minutes each
    python bench/bench_node_sync.py --quick    # 2 seeds, to check the script works

Two gate nodes (M2, M3, 30 m apart) run the firmware's logic with clocks up to
±100 ppm off, behind simulated links, through pseudo-terminals into the serial
source (``gatectl.sim.network``). A break at M2 and one at M3 3 s later, every
20 s for 10 minutes after the nodes' first minute: the fly time the host
measures minus the true 3 s is what sync added. Printed as a Markdown table
(p50, p95, max of its size, µs), one row a link:

* USB-like: 0.5 ms plus 0–2 ms jitter each way;
* radio-like (HC-12 class): 20–80 ms each way, sent in 10 ms bursts.

The host asks for SYNC at the given rate at first and less often once the
drift is known (``gatectl.sources.nodes.clock``): here, in the second half
of the ten minutes; ``bench_replay_nodes.py`` gives the error over two hours.
"""

from __future__ import annotations

import argparse
import time

from gatectl.sim.network import LinkModel, replay_via_nodes
from gatectl.sources.nodes.link import LinkSettings
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout

FLY_NS = 3 * NS_PER_S
EVERY_NS = 20 * NS_PER_S
MINUTES = 10


def trace() -> list[Edge]:
    edges = []
    for i in range(MINUTES * 60 * NS_PER_S // EVERY_NS):
        t = i * EVERY_NS  # the replay starts the nodes a minute before the first edge
        for beam, at in (("M2", t), ("M3", t + FLY_NS)):
            edges += [Edge(beam, at, True), Edge(beam, at + 60 * NS_PER_MS, False)]
    return edges


def errors_us(link: LinkModel, settings: LinkSettings, seed: int) -> list[float]:
    result = replay_via_nodes(trace(), Layout.parse("M2=0,M3=30"), up=link, down=link, drift_ppm=100, seed=seed, settings=settings)
    first = {(e.beam, i): e.t_ns for beam in ("M2", "M3") for i, e in enumerate(x for x in result.edges if x.beam == beam and x.broken)}
    runs = len(first) // 2
    return [abs(first[("M3", i)] - first[("M2", i)] - FLY_NS) / 1000 for i in range(runs)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds = range(2 if args.quick else 8)
    print("| link | fly times | p50 µs | p95 µs | max µs | wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    links = (
        ("USB-like (0.5 + 0–2 ms), SYNC every 0.1 s at first", LinkModel.usb(2.0), LinkSettings()),
        ("radio-like (20–80 ms, bursts), SYNC every 0.25 s at first", LinkModel.radio(), LinkSettings(sync_every_ns=250 * NS_PER_MS)),
    )
    for name, link, settings in links:
        started = time.monotonic()
        errors = [e for seed in seeds for e in errors_us(link, settings, seed)]
        print(
            f"| {name} | {len(errors)} | {percentile(errors, 0.5):.1f} | {percentile(errors, 0.95):.1f} "
            f"| {max(errors):.1f} | {time.monotonic() - started:.0f} |"
        )


if __name__ == "__main__":
    main()
