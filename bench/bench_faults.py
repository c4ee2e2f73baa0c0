"""Fault benchmark of run assembly: flying sprints at a real track, against the simulator's truth (not a test).

    python bench/bench_faults.py                 # 300 passes a session, 5 seeds, miss rates 1-10 %
    python bench/bench_faults.py --quick         # 100 passes, 2 seeds: checks the script works
    python bench/bench_faults.py --markdown faults.md   # the tables in a file too (the README has them)

Each session is flying 30 m sprints (M1=0, M2=30, M3=60) by a roster of athletes
(7.8-10.4 m/s) in heats of 1-3 athletes, the fastest first, crossing M1 1-2.5 s
apart, with 60-180 s between heats and, at every gate, what happens at a track:

* **missed crossings**: each athlete's whole passage at a gate is lost with the
  given probability (a beam the athlete ran beside, a blinded receiver);
* **walk-backs**: half the athletes walk back through M3, M2 and M1 at
  1.0-1.6 m/s after slowing down 50-100 m past M3;
* **people crossing one gate** (``--strays`` a pass, 1/30 by default: 10 in a
  session of 300; at walking pace, at any time);
* **balls** (as many: one 9-45 ms break of one beam, at any time).

Walkers keep a second clear of an athlete in the same gate (nobody walks into a
sprinter; two bodies in one beam at once hide each other from any gate).

Passages are the simulator's bodies with limbs (``gatectl.sim.sprinters``),
overlaid beam by beam, and timed by ``time_edges`` with the given detection.

For each miss rate it reports, as the median over seeds:

* **seen**: passes whose M2 and M3 crossings were not lost;
* **reported**: the share of those with a reported fly time (a *complete* run,
  not ambiguous, whose M2 and M3 crossings are that pass's, each within 150 ms);
* **ambiguous**: runs set aside for the coach;
* **wrong pass**: reported fly times made of crossings of different passes or
  of a stray (the assembly's errors);
* **off > 20 ms**: reported fly times of the right pass more than 20 ms from the
  truth (the detection's errors: limbs timed instead of the torso).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatectl.sim.sprinters import SimOptions, Simulation, Sprinter, lap_edges, overlay, simulate
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.results import report

ROSTER = tuple(
    Sprinter(name, vmax_mps=v, tau_s=tau, approach_mps=jog)
    for name, v, tau, jog in [
        ("Ada", 10.4, 1.1, 4.0), ("Ben", 9.6, 1.2, 3.6), ("Cy", 9.0, 1.3, 3.4),
        ("Dee", 8.4, 1.2, 3.2), ("Eli", 7.8, 1.4, 3.0), ("Flo", 9.9, 1.0, 3.8),
    ]
)  # fmt: skip
TOLERANCE_NS = 20 * NS_PER_MS  # "the detection error": a fly further off than this is wrong
SAME_PASS_NS = 150 * NS_PER_MS  # a crossing this close to a pass's truth is that pass's
WALK_BACK = 0.5
STRAYS_PER_PASS = 1 / 30  # people crossing one gate, and as many balls: 10 of each in 300 passes
CLEAR_NS = NS_PER_S  # a walker keeps a second clear of an athlete in the same gate


@dataclass(frozen=True, slots=True)
class Pass:
    """One athlete's pass along the gates: the true crossings (with the sensor delay) and what was lost."""

    truth: dict[str, int]
    lost: frozenset[str]


@dataclass(frozen=True, slots=True)
class Score:
    seen: int
    reported: int
    ambiguous: int
    wrong_pass: int
    off: int


def session(
    layout: Layout, passes: int, miss: float, seed: int, options: SimOptions, strays: float = STRAYS_PER_PASS
) -> tuple[list[Edge], list[Pass]]:
    """A session's edges, every body overlaid, and the truth of each athlete's pass."""
    rng = random.Random(f"faults:{seed}:{miss}")
    gates = layout.gates
    walker = SimOptions(limbs=options.limbs, sensor_delay_ns=options.sensor_delay_ns, jitter_ns=options.jitter_ns)
    bodies: list[tuple[Edge, ...]] = []
    truths: list[Pass] = []
    busy: dict[str, list[tuple[int, int]]] = {}  # when an athlete is in each beam
    walks: list[tuple[int, float]] = []  # (when the athlete passed the last gate, walking pace)
    start = 10 * NS_PER_S
    while len(truths) < passes:
        heat_end, first_gate = start, start
        heat = sorted((rng.choice(ROSTER) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))), key=lambda a: -a.vmax_mps)
        for k, athlete in enumerate(heat[: passes - len(truths)]):  # the fastest sets off first
            sim = simulate(layout, 1, sprinters=[athlete], seed=rng.randrange(2**31), options=options)
            # Each sets off so as to cross the first gate 1-2.5 s after the one before.
            first_gate += round(rng.uniform(1.0, 2.5) * NS_PER_S) if k else 0
            shift = first_gate - sim.reps[0].truth[gates[0].name]
            sim = Simulation(
                tuple(Edge(e.beam, e.t_ns + shift, e.broken) for e in sim.edges),
                tuple(replace(r, truth={g: t + shift for g, t in r.truth.items()}) for r in sim.reps),
            )
            (rep,) = sim.reps
            lost = frozenset(g.name for g in gates if rng.random() < miss)
            lost_beams = {b for g in gates if g.name in lost for b in g.beams}
            bodies.append(tuple(e for e in sim.edges if e.beam not in lost_beams))
            for beam in {e.beam for e in sim.edges}:  # the athlete is there, seen or not
                stamps = [e.t_ns for e in sim.edges if e.beam == beam]
                busy.setdefault(beam, []).append((stamps[0], stamps[-1]))
            truths.append(Pass({gate: t + options.sensor_delay_ns for gate, t in rep.truth.items()}, lost))
            heat_end = max(heat_end, rep.truth[gates[-1].name])
            if rng.random() < WALK_BACK:
                walks.append((rep.truth[gates[-1].name], rng.uniform(1.0, 1.6)))
        start = heat_end + round(rng.uniform(60, 180) * NS_PER_S)

    def stray(gate_index: int, t: int, pace: float) -> int:
        """Somebody at walking pace through one gate at ``t``, or once the athlete in it has passed; when they left."""
        gate = gates[gate_index]
        while True:
            body = lap_edges(gate, [t], speed_mps=pace, seed=rng.randrange(2**31), options=walker)
            first, last = body[0].t_ns - CLEAR_NS, body[-1].t_ns + CLEAR_NS
            if not any(a < last and first < b for beam in gate.beams for a, b in busy.get(beam, ())):
                bodies.append(body)
                return body[-1].t_ns
            t += 2 * NS_PER_S  # nobody walks into a sprinter: they wait

    for passed, pace in walks:  # slows down 50-100 m past the last gate, turns, walks back through every gate
        far = rng.uniform(50, 100)
        t = passed + round((far / 5.0 + far / pace) * NS_PER_S)
        for i in reversed(range(len(gates))):
            t = stray(i, t, pace)
            if i:
                t += round((gates[i].position_m - gates[i - 1].position_m) / pace * NS_PER_S)
    for _ in range(round(strays * passes)):  # someone crosses one gate
        stray(rng.randrange(len(gates)), rng.randrange(0, start), rng.uniform(0.8, 1.8))
    for _ in range(round(strays * passes)):  # a ball through one beam
        beam = rng.choice(layout.beams)
        t = rng.randrange(0, start)
        bodies.append((Edge(beam, t, True), Edge(beam, t + rng.randrange(9 * NS_PER_MS, 45 * NS_PER_MS), False)))
    return list(overlay(*bodies)), truths


def score(layout: Layout, edges: list[Edge], truths: list[Pass]) -> Score:
    entry, exit_ = layout.fly_zone.start.name, layout.fly_zone.end.name
    seen = [p for p in truths if entry not in p.lost and exit_ not in p.lost]
    by_entry = sorted(truths, key=lambda p: p.truth[entry])
    entries = [p.truth[entry] for p in by_entry]
    runs = time_edges(edges, layout).runs
    reported: set[int] = set()
    wrong_pass = off = 0
    for run in runs:
        if run.status is not RunStatus.COMPLETE or run.ambiguous or report(run, layout).fly is None:
            continue
        t2, t3 = run.crossing_at(entry), run.crossing_at(exit_)
        assert t2 is not None and t3 is not None
        p = by_entry[_nearest(entries, t2.t_ns)]
        if abs(t2.t_ns - p.truth[entry]) > SAME_PASS_NS or abs(t3.t_ns - p.truth[exit_]) > SAME_PASS_NS:
            wrong_pass += 1
            continue
        if abs((t3.t_ns - t2.t_ns) - (p.truth[exit_] - p.truth[entry])) > TOLERANCE_NS:
            off += 1
            continue
        reported.add(id(p))
    ambiguous = sum(1 for r in runs if r.ambiguous)
    return Score(len(seen), len({id(p) for p in seen} & reported), ambiguous, wrong_pass, off)


def _nearest(sorted_times: list[int], t: int) -> int:
    import bisect

    i = bisect.bisect_left(sorted_times, t)
    candidates = [j for j in (i - 1, i) if 0 <= j < len(sorted_times)]
    return min(candidates, key=lambda j: abs(sorted_times[j] - t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 passes a session, 2 seeds")
    parser.add_argument("--passes", type=int, default=300, help="athletes' passes a session (default 300)")
    parser.add_argument("--seeds", type=int, default=5, help="sessions per miss rate (default 5)")
    parser.add_argument("--methods", default="dual,longest", help="detection methods (default dual,longest)")
    parser.add_argument("--strays", type=float, default=STRAYS_PER_PASS, help="people crossing one gate a pass, and as many balls (default 1/30)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    passes, seeds = (100, 2) if args.quick else (args.passes, args.seeds)
    lines = [
        f"Fault benchmark (`python bench/bench_faults.py`): flying 30 m, {passes} athletes' passes a session in heats of",
        "1-3 athletes 1-2.5 s apart at M1, limbs on; half the athletes walk back through the gates; "
        f"{args.strays * passes:.0f} people crossing one",
        f"gate and {args.strays * passes:.0f} balls a session, at random times. Median of {seeds} seeds; *reported* is the share of the flies",
        "M2 and M3 saw whose fly time was reported for the right pass within 20 ms.",
    ]
    started = time.perf_counter()
    for method in args.methods.split(","):
        layout = Layout.flying(30, 30, method)
        lines += ["", f"Detection `{method}`:", "",
                  "| missed crossings | flies seen | reported | ambiguous runs | wrong pass | off > 20 ms |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for miss in (0.01, 0.02, 0.03, 0.05, 0.10):
            scores = []
            for seed in range(seeds):
                edges, truths = session(layout, passes, miss, seed, SimOptions(limbs=True), args.strays)
                scores.append(score(layout, edges, truths))
            share = statistics.median(s.reported / s.seen for s in scores)
            lines.append(
                f"| {miss:.0%} | {statistics.median(s.seen for s in scores):g} | {share:.1%} "
                f"| {statistics.median(s.ambiguous for s in scores):g} | {statistics.median(s.wrong_pass for s in scores):g} "
                f"| {statistics.median(s.off for s in scores):g} |"
            )
            print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
