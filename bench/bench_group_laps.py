"""Benchmark of a group's track reps on one gate (not a test).

    python bench/bench_group_laps.py           # 200 group reps per row
    python bench/bench_group_laps.py --quick   # 20, to check the script works

Groups of simulated athletes (``lap_edges``: limbs, clothing flicker, sensor
jitter; each runs their laps at their own pace, ±1.5 % lap to lap, around a
target the lap timing is told within ±3 %) leave together or in waves and lap
through the one gate; the edges go through detection and the lap timer as the
daemon feeds them. Prints, as a Markdown table, for each group size and wave gap:

* **right**: athletes whose rep time is their own (the truth plus the sensor's delay, within 5 ms);
* **own, off**: their own finish, detected more than 5 ms off (a limb or another body in the beam at
  the same moment: detection's error, not whose the crossing was);
* **in doubt**: athletes whose rep the timer marked ambiguous (the coach taps who);
* **no time**: athletes whose rep ended incomplete, said so (their last crossing lost, e.g. merged with another's);
* **wrong, unsaid**: athletes given another's time without a doubt said (the failure that matters);
* the median and 95th percentile of the time to assign the group rep again at a crossing (the live path).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from gatectl.coaching.group_laps import Entrant, assign
from gatectl.coaching.laps import Command, GroupEntry, LapCommand, LapTiming, time_laps
from gatectl.sim.sprinters import SimOptions, lap_edges, overlay
from gatectl.timing.model import NS_PER_S, Gate

GATE = Gate("L", 0.0, ("L",))
LAPS = 3
OWN_NS = 200_000_000  # further off than a limb can put a crossing: another athlete's


def group_rep(size: int, wave_s: int, rng: random.Random) -> tuple[tuple[GroupEntry, ...], list, dict[int, int]]:
    """A group's 1200 m rep: who leaves when, the edges the gate sees, each athlete's true time."""
    entries, bodies, truth = [], [], {}
    for k in range(size):
        lap_s = rng.uniform(70, 90)
        start = k * wave_s * NS_PER_S
        t, marks = start, []
        for _ in range(LAPS):
            t += round(lap_s * rng.uniform(0.985, 1.015) * NS_PER_S)
            marks.append(t)
        truth[k + 1] = marks[-1] - start
        told = round(LAPS * lap_s * rng.uniform(0.97, 1.03) * NS_PER_S)  # the target, not what they run
        entries.append(GroupEntry(k + 1, start, 400.0 * LAPS, told, told))
        bodies.append(lap_edges(GATE, marks, speed_mps=5.5, seed=rng.randrange(2**31), options=SimOptions(limbs=True)))
    return tuple(entries), list(overlay(*bodies)), truth


def row(size: int, wave_s: int, reps: int, seed: int) -> tuple[int, int, float, float, float, float, float, float, float]:
    rng = random.Random(f"{seed}:{size}:{wave_s}")
    right = off = doubted = untimed = wrong = 0
    costs = []
    for _ in range(reps):
        entries, edges, truth = group_rep(size, wave_s, rng)
        result = time_laps(edges, [LapCommand(0, Command.GROUP_GO, group=entries)], LapTiming(GATE))
        for rep in result.reps:
            delay = SimOptions().sensor_delay_ns  # timed from the go: the sensor's delay does not cancel
            error = None if rep.time_ns is None or rep.athlete_id is None else abs(rep.time_ns - truth[rep.athlete_id] - delay)
            if rep.ambiguous:
                doubted += 1
            elif error is None:
                untimed += 1
            elif error < 5_000_000:
                right += 1
            elif error < OWN_NS:
                off += 1
            else:
                wrong += 1
        # The live path: at each crossing the group rep is assigned again from its crossings so far.
        entrants = tuple(Entrant(e.athlete_id, e.start_ns, (400.0,) * LAPS, e.expected_ns) for e in entries)
        crossings = [c.t_ns for c in result.crossings]
        for k in range(1, len(crossings) + 1):
            started = time.perf_counter()
            assign(entrants, crossings[:k], crossings[k - 1])
            costs.append((time.perf_counter() - started) * 1000)
    total = right + off + doubted + untimed + wrong
    costs.sort()
    right_pc, off_pc, doubted_pc, untimed_pc, wrong_pc = (100 * n / total for n in (right, off, doubted, untimed, wrong))
    return size, wave_s, right_pc, off_pc, doubted_pc, untimed_pc, wrong_pc, statistics.median(costs), costs[round(0.95 * (len(costs) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reps = 10 if args.quick else 100
    print(f"{reps} group reps of {LAPS} x 400 m per row\n")
    print("| athletes | waves | right | own, off | in doubt | no time | wrong, unsaid | assign at a crossing, p50 | p95 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (3, 6) if args.quick else (3, 6, 10):
        for wave_s in (0, 5) if args.quick else (0, 5, 10):
            size_, wave, right, off, doubted, untimed, wrong, p50, p95 = row(size, wave_s, reps, args.seed)
            print(f"| {size_} | {wave} s | {right:.1f} % | {off:.1f} % | {doubted:.1f} % | {untimed:.1f} % | {wrong:.1f} % | {p50:.2f} ms | {p95:.2f} ms |")


if __name__ == "__main__":
    main()
