"""``gatectl replay``: time a recorded edge trace."""

from __future__ import annotations

import argparse
import json

from gatectl.cli._common import add_layout_options, add_pace_options, open_text, paces_from_args
from gatectl.errors import GatectlError
from gatectl.jsonable import jsonable
from gatectl.sim.network import LinkModel, NodeReplay, replay_via_nodes
from gatectl.timing.model import Edge, Layout, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.results import RunReport, report
from gatectl.timing.sync import DEFAULT_LIMIT_NS, SyncLog, crossed, run_sync
from gatectl.timing.trace import read_trace

EXAMPLE = """example:
  gatectl simulate --layout M1=0,M2=30,M3=60 --limbs --reps 3 --out fly30.csv
  gatectl replay fly30.csv --layout M1=0,M2=30,M3=60 --pb400 47.5 --json
  gatectl replay fly30.csv --layout M1=0,M2=30,M3=60 --via-nodes --drift-ppm 100 --loss 0.05 --json
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "replay",
        help="time a recorded edge trace",
        description="Detect crossings in a trace (CSV: gate,t_ns,state) and print each run.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("trace", help="the trace CSV, header gate,t_ns,state")
    add_layout_options(parser)
    add_pace_options(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per run, one per line")
    nodes = parser.add_argument_group("through gate nodes (simulated, in simulated time)")
    nodes.add_argument(
        "--via-nodes", action="store_true",
        help="send each gate's edges through a simulated gate node (the firmware's logic) over a pseudo-terminal into the serial source",
    )  # fmt: skip
    nodes.add_argument("--drift-ppm", type=float, default=None, metavar="PPM", help="each node's clock is up to this far off (default 100)")
    nodes.add_argument("--jitter-ms", type=float, default=None, metavar="MS", help="link delay varies by up to this (default 2; 0.5 ms on top)")
    nodes.add_argument("--loss", type=float, default=None, metavar="SHARE", help="share of lines lost or garbled, e.g. 0.05 (default 0)")
    nodes.add_argument("--seed", type=int, default=None, help="the nodes' clocks and the link's luck (default 0)")
    parser.set_defaults(run=replay)


def replay(args: argparse.Namespace) -> int:
    layout = Layout.parse(args.layout, args.detect)
    paces = paces_from_args(args)
    with open_text(args.trace) as lines:
        edges = read_trace(lines, beams=set(layout.beams))
    through_nodes = _via_nodes(args, edges, layout)
    if through_nodes is not None:
        edges = through_nodes.edges
    result = time_edges(edges, layout)
    log = None if through_nodes is None else SyncLog(through_nodes.sync)  # the nodes' sync, as the daemon logs it
    reports = [report(run, layout, paces, None if log is None else run_sync(*crossed(run, layout), log, DEFAULT_LIMIT_NS)) for run in result.runs]
    if args.json:
        for item in reports:
            print(json.dumps(jsonable(item)))
        return 0
    print(render_table(reports, layout))
    complete = sum(1 for r in result.runs if r.status is RunStatus.COMPLETE)
    print(
        f"\n{len(edges)} edges, {len(result.crossings)} crossings, {complete} complete runs "
        f"of {len(result.runs)}, {len(result.anomalies)} anomalies (method {layout.method})"
    )
    if through_nodes is not None:
        print(
            f"through {len(through_nodes.nodes)} simulated nodes: {len(through_nodes.edges)} of {through_nodes.sent_edges} edges delivered, "
            f"{through_nodes.lines_lost} lines lost and {through_nodes.lines_garbled} garbled on the links; sync uncertainty "
            + ", ".join(f"{'/'.join(n['beams'])} ±{n['sync_uncertainty_us']:.0f} µs" for n in through_nodes.nodes if n["sync_uncertainty_us"] is not None)
        )
    return 0


def _via_nodes(args: argparse.Namespace, edges: list[Edge], layout: Layout) -> NodeReplay | None:
    """The edges as the serial source gets them from simulated nodes; None without --via-nodes."""
    options = {"--drift-ppm": args.drift_ppm, "--jitter-ms": args.jitter_ms, "--loss": args.loss, "--seed": args.seed}
    if not args.via_nodes:
        given = [name for name, value in options.items() if value is not None]
        if given:
            raise GatectlError(f"{', '.join(given)} only apply with --via-nodes; add it, or leave them out.")
        return None
    drift = _bounded(args.drift_ppm, 100.0, "--drift-ppm", 0, 1000, "parts per million")
    jitter = _bounded(args.jitter_ms, 2.0, "--jitter-ms", 0, 1000, "milliseconds")
    loss = _bounded(args.loss, 0.0, "--loss", 0, 0.5, "as a share, e.g. 0.05")
    seed = 0 if args.seed is None else args.seed
    if not 0 <= seed < 2**63:
        raise GatectlError(f"--seed: must be from 0 to 2**63 - 1, not {seed}.")
    return replay_via_nodes(edges, layout, drift_ppm=drift, up=LinkModel.usb(jitter, loss), seed=seed)


def _bounded(value: float | None, default: float, name: str, low: float, high: float, unit: str) -> float:
    if value is None:
        return default
    if not low <= value <= high:  # NaN fails both
        raise GatectlError(f"{name}: must be from {low:g} to {high:g} ({unit}), not {value}.")
    return value


def render_table(reports: list[RunReport], layout: Layout) -> str:
    zone = layout.fly_zone
    lines = [f"{'run':>4}  {'status':<10}  {'fly ' + format(zone.distance_m, 'g') + ' m':>9}  {'m/s':>6}  {'km/h':>6}  vs pace / reason"]
    for r in reports:
        fly = r.fly
        if fly:
            vs = "  ".join(f"{key} {cmp.percent:.1f}%" for key, cmp in r.vs_pace.items())
            lines.append(f"{r.number:>4}  {r.status:<10}  {fly.time_s:>8.3f}s  {fly.velocity_mps:>6.2f}  {fly.kmh:>6.2f}  {vs}")
        else:
            lines.append(f"{r.number:>4}  {r.status:<10}  {'—':>9}  {'':>6}  {'':>6}  {r.reason}")
    return "\n".join(lines)
