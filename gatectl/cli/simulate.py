"""``gatectl simulate``: write a trace of simulated reps, and optionally their truth."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from gatectl.cli._common import open_text
from gatectl.errors import ConfigError
from gatectl.limits import SEED, SIM_REPS, TOP_SPEED_MPS, argument, read_integer
from gatectl.sim.sprinters import DEFAULT_SPRINTER, Fault, SimOptions, Simulation, simulate
from gatectl.timing.model import Layout, Method
from gatectl.timing.trace import write_trace

EXAMPLE = """example:
  gatectl simulate --layout M1=0,M2=30,M3=60 --reps 5 --limbs --fault spurious \\
      --out trace.csv --truth truth.json
  gatectl replay trace.csv --layout M1=0,M2=30,M3=60
  gatectl simulate --layout M1=0,M2=30,M3=60 --dual --out dual.csv
  gatectl replay dual.csv --layout M1=0,M2=30,M3=60 --detect dual

Truth is when the torso front crossed each gate, before the sensor delay
(1.5 ms at every gate, so it cancels in the fly time)."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "simulate",
        help="write an edge trace of simulated sprinters",
        description="Simulate sprinters running through beam gates and write the edges as a trace "
        "that gatectl replay reads. The same seed always gives the same trace.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--layout", required=True, metavar="GATES", help="gates and positions in metres, e.g. M1=0,M2=30,M3=60"
    )
    parser.add_argument("--vmax", type=float, default=9.5, metavar="M/S", help="top speed (default 9.5)")
    parser.add_argument("--reps", type=argument(read_integer, SIM_REPS), default=5, help="how many reps (default 5)")
    parser.add_argument("--seed", type=argument(read_integer, SEED), default=0, help="random seed (default 0)")
    parser.add_argument("--limbs", action="store_true", help="knees, hands and arms break the beams too")
    parser.add_argument(
        "--dual", action="store_true", help="dual-beam gates: beams M2a (lower) and M2b (upper) at M2"
    )
    parser.add_argument(
        "--fault",
        action="append",
        choices=[f.value for f in Fault],
        default=[],
        help="inject a fault into every rep (pair: every second rep runs 1-2 s behind); repeatable",
    )
    parser.add_argument("--out", required=True, metavar="TRACE.csv", help="the trace to write")
    parser.add_argument("--truth", metavar="TRUTH.json", help="also write the true crossings")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    layout = Layout.parse(args.layout, Method.DUAL if args.dual else Method.LONGEST)
    options = SimOptions(limbs=args.limbs, faults=frozenset(Fault(f) for f in args.fault))
    if not DEFAULT_SPRINTER.approach_mps < args.vmax <= TOP_SPEED_MPS.high:
        raise ConfigError(
            f"--vmax must be a top speed in m/s above the {DEFAULT_SPRINTER.approach_mps:g} m/s jog-in "
            f"and at most {TOP_SPEED_MPS.high:g}, e.g. 9.5; got {args.vmax:g}."
        )
    sprinter = replace(DEFAULT_SPRINTER, vmax_mps=args.vmax)
    sim = simulate(layout, args.reps, sprinters=[sprinter], seed=args.seed, options=options)
    with open_text(args.out, "w") as out:
        count = write_trace(sim.edges, out)
    if args.truth is not None:
        with open_text(args.truth, "w") as out:
            json.dump(truth_document(layout, args.seed, options, sim), out, indent=2)
            out.write("\n")
    also = f" (truth in {args.truth})" if args.truth is not None else ""
    print(f"wrote {len(sim.reps)} reps, {count} edges to {args.out}{also}")
    return 0


def truth_document(layout: Layout, seed: int, options: SimOptions, sim: Simulation) -> dict:
    """What really happened, to check detection against (truth as defined in ``gatectl.sim.sprinters``)."""
    return {
        "layout": layout.describe(),
        "method": layout.method.value,
        "seed": seed,
        "sensor_delay_ns": options.sensor_delay_ns,
        "reps": [
            {
                "rep": rep.number,
                "athlete": rep.sprinter.name,
                "vmax_mps": round(rep.vmax_mps, 3),
                "crossings": rep.truth,
                "fly_time_ns": rep.fly_time_ns,
                "faults": [
                    {"kind": f.kind.value, "where": f.where, "start_ns": f.start_ns, "end_ns": f.end_ns}
                    for f in rep.faults
                ],
            }
            for rep in sim.reps
        ],
    }
