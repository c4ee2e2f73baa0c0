"""Detection on bodies it was not fitted to: each method's p95 against the best a rule could do (not a test).

    python bench/bench_limbs.py            # 400 reps × 3 seeds for each member of the family
    python bench/bench_limbs.py --quick    # 100 reps × 1 seed, to check the script works

For every simulated crossing, the best any rule timing a crossing at the
start of a reported break could do is the start of the break that holds the
torso's front (``limb_family.best_start``); on a dual gate, the same on the
stretches with both beams broken. Each method's fly-time p95 is printed with
its ratio to that best (first and longest against the single-beam best, dual
against the dual best), as medians over seeds, for every member of the limb
family (bench/limb_family.py) and for the project's own simulator
(gatectl.sim.sprinters, flying 30 with limbs, as bench/bench_core.py).
"""

from __future__ import annotations

import argparse
import bisect
import functools
import statistics
from collections.abc import Callable

import limb_family as lf

from gatectl.sim.sprinters import SimOptions, simulate
from gatectl.timing.detect import detect
from gatectl.timing.model import Edge, Layout, Method

METHODS = (Method.FIRST, Method.LONGEST, Method.DUAL)
Row = dict[str, tuple[float, float]]  # method → (p95 ms, p95 of the best ms)


def family_row(member: lf.Member, reps: int, seed: int) -> Row:
    sample = lf.simulate(member, reps, seed)
    best = {False: lf.p95_ms(lf.best_errors(sample, False)), True: lf.p95_ms(lf.best_errors(sample, True))}
    return {m.value: (lf.p95_ms(lf.fly_errors(sample, m)), best[m is Method.DUAL]) for m in METHODS}


def _breaks(edges: list[Edge], beams: tuple[str, ...]) -> list[tuple[int, int]]:
    """A gate's reported breaks (every beam broken) in time-ordered edges of its passage."""
    spans_by_beam = []
    for beam in beams:
        spans, start = [], None
        for edge in edges:
            if edge.beam == beam:
                if edge.broken:
                    start = edge.t_ns
                elif start is not None:
                    spans.append((start, edge.t_ns))
        spans_by_beam.append(spans)
    if len(spans_by_beam) == 1:
        return spans_by_beam[0]
    return lf.both_broken(*spans_by_beam)


def sim_row(reps: int, seed: int) -> Row:
    """The project's simulator, its fly zone M2→M3, judged the same way."""
    options = SimOptions(limbs=True)
    window = 400 * lf.NS_PER_MS  # a passage lies well within this of the torso's crossing
    row = {}
    for method in METHODS:
        layout = Layout.flying(30, 30, method)
        sim = simulate(layout, reps, seed=seed, options=options)
        crossings, _ = detect(sim.edges, layout)
        edges = sorted(sim.edges, key=lambda e: e.t_ns)
        times = [e.t_ns for e in edges]
        errors, best = [], []
        for rep in sim.reps:
            timed, ideal = {}, {}
            for gate in ("M2", "M3"):
                truth, beams = rep.truth[gate], layout.gate(gate).beams
                near = [c.t_ns for c in crossings if c.gate == gate and abs(c.t_ns - truth) < window]
                lo, hi = bisect.bisect_left(times, truth - window), bisect.bisect_right(times, truth + window)
                passage = [e for e in edges[lo:hi] if e.beam in beams]
                timed[gate] = near[0] if near else None
                ideal[gate] = lf.best_start(_breaks(passage, beams), truth + options.sensor_delay_ns)
            fly = rep.truth["M3"] - rep.truth["M2"]
            m2, m3 = timed["M2"], timed["M3"]
            errors.append(lf.REP_EVERY_NS if m2 is None or m3 is None else m3 - m2 - fly)
            b2, b3 = ideal["M2"], ideal["M3"]
            best.append(lf.REP_EVERY_NS if b2 is None or b3 is None else b3 - b2 - fly)
        row[method.value] = (lf.p95_ms(errors), lf.p95_ms(best))
    return row


def median_row(make: Callable[[int], Row], seeds: list[int]) -> dict[str, tuple[float, float, float]]:
    """Per method: the medians over seeds of p95, of the best's p95, and of their ratio."""
    rows = [make(seed) for seed in seeds]
    return {
        m.value: (
            statistics.median(r[m.value][0] for r in rows),
            statistics.median(r[m.value][1] for r in rows),
            statistics.median(r[m.value][0] / r[m.value][1] for r in rows),
        )
        for m in METHODS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 reps and one seed per member")
    args = parser.parse_args()
    reps, seeds = (100, [1]) if args.quick else (400, [1, 2, 3])
    print(f"Fly-time p95 in ms, and its ratio to the best a rule could do; medians over seeds {seeds}\n")
    print("| model | best single | first | longest | best dual | dual |\n|---|---|---|---|---|---|")
    family = []
    for m in lf.MEMBERS:
        row = median_row(functools.partial(family_row, m, reps), seeds)
        print_row(f"limb family: {m.name} ({reps} reps)", row)
        family.append(row)
    sim_reps = 1000 if not args.quick else 200
    sim_seeds = [2025 + s for s in seeds]  # 2026 is bench_core's seed
    print_row(f"gatectl.sim, flying 30 with limbs ({sim_reps} reps)", median_row(functools.partial(sim_row, sim_reps), sim_seeds))
    worst = {m.value: max(row[m.value][2] for row in family) for m in METHODS}
    within = {m.value: sum(1 for row in family if row[m.value][2] <= 1.15) for m in METHODS}
    print(f"\nWorst ratio over the family: {', '.join(f'{k} {v:.2f}×' for k, v in worst.items())}")
    print(f"Members within 1.15× of the best (of {len(family)}): {', '.join(f'{k} {v}' for k, v in within.items())}")


def print_row(name: str, row: dict[str, tuple[float, float, float]]) -> None:
    cells = [f"{row[m.value][0]:.2f} ({row[m.value][2]:.2f}×)" for m in METHODS]
    print(f"| {name} | {row['first'][1]:.2f} | {cells[0]} | {cells[1]} | {row['dual'][1]:.2f} | {cells[2]} |", flush=True)


if __name__ == "__main__":
    main()
