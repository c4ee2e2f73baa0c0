"""``gatectl workout``: read workout notation, list the built-in sessions."""

from __future__ import annotations

import argparse
import json
import sys

from gatectl.coaching.library import LIBRARY, library_workout
from gatectl.coaching.notation import RacePace, Rep, expand, parse_workout, reps_as_json, total_distance_m
from gatectl.coaching.paces import format_duration_ns, parse_race

_PARSE_EXAMPLES = """\
examples:
  gatectl workout parse "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets."
  gatectl workout parse "15 x 400 @ 10K pace + 10sec /R1:00" --race 10k=35:00 --json
  gatectl workout parse "3 x (2 x 200m). 3:00 Rec between reps. 6:00 Rec between sets" --sprinter400
  gatectl workout parse - < session.txt      (one block a line; lines run one after another)

Each pass through a group (3 x (...), 3 x 3 x 30m) is a set; a plain repeat (12 x 400) is one set.
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "workout",
        help="read workout notation; list the built-in sessions",
        description="Workouts as coaches write them, expanded into reps with targets and rests.",
        epilog="examples:\n  gatectl workout list\n  gatectl workout parse \"12 x 400 @ 1:20 / R1:20\" --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    parse = actions.add_parser(
        "parse",
        help="expand a session into reps",
        description="Expand workout notation into reps in running order, with targets and rests.",
        epilog=_PARSE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument("text", metavar="TEXT", help="the session, quoted; - reads it from stdin")
    _add_plan_options(parse)
    parse.set_defaults(run=_run_parse)

    show = actions.add_parser(
        "show",
        help="expand a built-in session",
        description="Expand a built-in session (see: gatectl workout list) into reps.",
        epilog="example:\n  gatectl workout show 25x400-10k --race 10k=35:00",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("slug", metavar="SLUG", help="the session's slug, e.g. flying-30s")
    _add_plan_options(show)
    show.set_defaults(run=_run_show)

    listing = actions.add_parser(
        "list",
        help="list the built-in sessions",
        description="The built-in sessions: slug, name, kind, notation and a note.",
        epilog="example:\n  gatectl workout list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.set_defaults(run=_run_list)


def _add_plan_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--race", action="append", default=[], metavar="DIST=TIME",
        help="a race result that sets '@ 10k pace' targets, e.g. 10k=35:00, 800m=1:52.3, mile=4:05 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--sprinter400", action="store_true",
        help="400 m sprinter: rests after reps longer than 50 m are lengthened (1.5x unless --sprinter-factor)",
    )  # fmt: skip
    parser.add_argument(
        "--sprinter-factor", type=float, metavar="F",
        help="how much longer the sprinter's rests are, 1.0 to 2.0 (implies --sprinter400)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def _run_parse(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    return _print_plan(text, args)


def _run_show(args: argparse.Namespace) -> int:
    return _print_plan(library_workout(args.slug).text, args)


def _print_plan(text: str, args: argparse.Namespace) -> int:
    races = dict(parse_race(spec) for spec in args.race)
    sprinter = args.sprinter400 or args.sprinter_factor is not None
    factor = 1.5 if args.sprinter_factor is None else args.sprinter_factor
    reps = expand(parse_workout(text), races, sprinter400=sprinter, sprinter_factor=factor)
    if args.json:
        print(json.dumps(reps_as_json(reps)))
    else:
        print(_table(reps))
    return 0


def _target_cell(rep: Rep) -> str:
    if rep.target is None:
        return "-"
    if isinstance(rep.target, RacePace) and rep.target_ns is not None:
        return f"{rep.target} ({format_duration_ns(rep.target_ns)})"
    return str(rep.target)


def _table(reps: tuple[Rep, ...]) -> str:
    rows = [("set", "rep", "distance", "target", "rest")]
    for rep in reps:
        rest = "-" if rep.recovery is None else str(rep.recovery)
        rows.append((str(rep.set_no), str(rep.rep_no), f"{rep.distance_m:g} m", _target_cell(rep), rest))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(cell.rjust(w) if i < 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    sets = reps[-1].set_no
    lines.append(f"{len(reps)} reps in {sets} set{'s' if sets != 1 else ''}, {total_distance_m(reps):g} m")
    return "\n".join(lines)


def _run_list(args: argparse.Namespace) -> int:
    for workout in LIBRARY:
        print(f"{workout.slug}  ({workout.kind}) {workout.name}")
        for line in workout.text.splitlines():
            print(f"    {line}")
        print(f"    {workout.note}\n")
    return 0
