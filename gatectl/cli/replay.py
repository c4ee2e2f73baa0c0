"""``gatectl replay``: time a recorded edge trace."""

from __future__ import annotations

import argparse
import json

from gatectl.cli._common import add_layout_options, add_pace_options, open_text, paces_from_args
from gatectl.jsonable import jsonable
from gatectl.timing.model import Layout, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.results import RunReport, report
from gatectl.timing.trace import read_trace

EXAMPLE = """example:
  gatectl simulate --layout M1=0,M2=30,M3=60 --limbs --reps 3 --out fly30.csv
  gatectl replay fly30.csv --layout M1=0,M2=30,M3=60 --pb400 47.5 --json
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
    parser.set_defaults(run=replay)


def replay(args: argparse.Namespace) -> int:
    layout = Layout.parse(args.layout, args.detect)
    paces = paces_from_args(args)
    with open_text(args.trace) as lines:
        edges = read_trace(lines, beams=set(layout.beams))
    result = time_edges(edges, layout)
    reports = [report(run, layout, paces) for run in result.runs]
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
    return 0


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
