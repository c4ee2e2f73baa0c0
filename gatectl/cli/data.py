"""``gatectl recompute``, ``gatectl athletes``, ``gatectl export``, ``gatectl backup``: the database from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatectl.cli._common import DEMO_DB, add_db_option, db_path, default_db_path, open_text
from gatectl.coaching.paces import RACE_TIME_KINDS, format_duration_ns, parse_race
from gatectl.daemon.driver import follow_runs
from gatectl.errors import GatectlError, PaceError, StoreError
from gatectl.export import runs_csv, runs_json
from gatectl.limits import ID, argument, read_integer
from gatectl.store import Store


def register(commands: argparse._SubParsersAction) -> None:
    recompute = commands.add_parser(
        "recompute",
        help="rebuild crossings and runs from the raw edge log",
        description="Rebuild crossings, runs and anomalies from the edges table; athlete assignments and voids are kept.",
        epilog="example:\n  gatectl recompute --db gatectl.db --session 12",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_option(recompute)
    recompute.add_argument("--session", type=argument(read_integer, ID), help="only this session (default: every session)")
    recompute.set_defaults(run=recompute_command)

    athletes = commands.add_parser(
        "athletes",
        help="add, list and edit athletes and their race times",
        epilog='examples:\n  gatectl athletes add "Ana Silva" --best 400=52.8 --best 800=2:01.5 --goal 400=51.9\n'
        "  gatectl athletes list\n  gatectl athletes edit \"Ana Silva\" --best 400=52.1 --archive",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = athletes.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = verbs.add_parser("add", help="add an athlete")
    add.add_argument("name")
    _race_options(add)
    add.add_argument("--notes", default="")
    add_db_option(add)
    add.set_defaults(run=athletes_add)
    listing = verbs.add_parser("list", help="list athletes with their race times")
    listing.add_argument("--all", action="store_true", help="include archived athletes")
    add_db_option(listing)
    listing.set_defaults(run=athletes_list)
    edit = verbs.add_parser("edit", help="rename, set race times, archive")
    edit.add_argument("name", help="the athlete's current name")
    edit.add_argument("--rename", metavar="NEW_NAME")
    _race_options(edit)
    edit.add_argument("--notes")
    edit.add_argument("--archive", action="store_true")
    edit.add_argument("--unarchive", action="store_true")
    add_db_option(edit)
    edit.set_defaults(run=athletes_edit)

    export = commands.add_parser(
        "export",
        help="runs as CSV or JSON",
        description="Runs from the database as CSV or JSON, oldest first (as History lists them).",
        epilog="examples:\n  gatectl export --csv --session 3 > session3.csv\n  gatectl export --json --athlete \"Ana Silva\" -o ana.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fmt = export.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true", help="one row a run, with a header, for a spreadsheet")
    fmt.add_argument("--json", action="store_true", help="one JSON object with every run, times in seconds")
    export.add_argument("--session", type=argument(read_integer, ID), metavar="N", help="only session N (see History); default: every session")
    export.add_argument("--athlete", metavar="NAME", help="only this athlete's runs, by name")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    add_db_option(export)
    export.set_defaults(run=export_command)

    backup = commands.add_parser(
        "backup",
        help="a consistent copy of the database, without the password or cookie key",
        description="Copy the database through SQLite's backup API (safe while gatectl runs; the WAL "
        "is included), leaving out the coach's password hash and the dashboard's cookie key.",
        epilog="example:\n  gatectl backup --db /var/lib/gatectl/gatectl.db --out club-2026-06-01.db\n  gatectl web --db club-2026-06-01.db",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db_option(backup)
    backup.add_argument("--out", required=True, metavar="COPY", help="the new file to write (must not exist yet)")
    backup.set_defaults(run=backup_command)


def _race_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--best", action="append", default=[], metavar="DIST=TIME", help="a best, e.g. 400=52.8 (repeatable)")
    parser.add_argument("--goal", action="append", default=[], metavar="DIST=TIME", help="a goal, e.g. 400=51.9 (repeatable)")


def _race_times(args: argparse.Namespace) -> list[tuple[float, int, str]]:
    times = []
    for kind in RACE_TIME_KINDS:
        for text in getattr(args, kind):
            try:
                times.append((*parse_race(text), kind))
            except PaceError as exc:
                raise PaceError(f"--{kind}: {exc}") from None
    return times


def _open(args: argparse.Namespace, *, must_exist: bool = False) -> Store:
    """The database of ``--db``, else the default one; ``must_exist``: never created (reading commands).

    A reader given no ``--db`` while only the demo's database exists reads the
    demo's, and says so: ``gatectl demo`` is how most people start.
    """
    if not must_exist:
        return Store(db_path(args))
    if args.db is not None:
        if not args.db.exists():  # reading commands must not leave an empty database behind a mistyped path
            raise StoreError(f"There is no database at {args.db}; give its path with --db.")
        return Store(args.db)
    path, demo = default_db_path(), default_db_path(DEMO_DB)
    if path.exists():
        return Store(path)
    if demo.exists():
        print(f"gatectl: no database at {path} yet: reading the demo's, {demo} (another: --db PATH).", file=sys.stderr)
        return Store(demo)
    raise StoreError(
        f"There is no database yet: looked at {path} (gatectl run) and {demo} (gatectl demo). "
        "Start one of them first, or give the database's path with --db."
    )


def _no_session(args: argparse.Namespace, store: Store, session_id: int) -> StoreError:
    """There is no such session here: point at the demo's database when it is there and this is not it."""
    demo = default_db_path(DEMO_DB)
    if args.db is None and Path(store.path) != demo and demo.exists():
        return StoreError(f"There is no session {session_id} in {store.path}; the demo's sessions are in {demo}: add --db {demo}")
    return StoreError(f"There is no session {session_id}.")


def _athlete_id(store: Store, name: str) -> int:
    found = store.find_athlete(name)
    if found is None:
        raise GatectlError(f"There is no athlete called {name!r}; see gatectl athletes list.")
    return found["id"]


def recompute_command(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        sessions = [args.session] if args.session is not None else [s["id"] for s in reversed(store.sessions())]
        if not sessions:
            print("No sessions in the database yet.")
        for session_id in sessions:
            counts = store.recompute(session_id)
            follow_runs(store, session_id, None)  # a workout's stored summary is made of the runs
            line = f"session {session_id}: {counts['edges']} edges → {counts['crossings']} crossings, {counts['runs']} runs, {counts['anomalies']} anomalies"
            if "corrections" in counts:  # the coach's corrections, applied again in order
                line += f"; {counts['corrections']} corrections" + (f", {counts['not_applied']} no longer apply" if counts["not_applied"] else "")
            print(line)
    return 0


def athletes_add(args: argparse.Namespace) -> int:
    times = _race_times(args)
    with _open(args) as store:
        athlete_id = store.add_athlete(args.name, notes=args.notes)
        for distance, time_ns, kind in times:
            store.set_race_time(athlete_id, distance, time_ns, kind)
    print(f"added {args.name.strip()} (id {athlete_id})")
    return 0


def athletes_list(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        athletes = store.athletes(include_archived=args.all)
    if not athletes:
        print('No athletes yet. Add one: gatectl athletes add "Ana Silva" --best 400=52.8')
        return 0
    for athlete in athletes:
        times = ", ".join(f"{t['kind']} {t['distance_m']:g} m {format_duration_ns(t['time_ns'])}" for t in athlete["race_times"])
        archived = " (archived)" if athlete["archived"] else ""
        print(f"{athlete['id']:>4}  {athlete['name']}{archived}  {times or 'no race times'}")
    return 0


def athletes_edit(args: argparse.Namespace) -> int:
    if args.archive and args.unarchive:
        raise GatectlError("Choose --archive or --unarchive, not both.")
    times = _race_times(args)
    with _open(args) as store:
        athlete_id = _athlete_id(store, args.name)
        archived = True if args.archive else False if args.unarchive else None
        store.update_athlete(athlete_id, name=args.rename, notes=args.notes, archived=archived)
        for distance, time_ns, kind in times:
            store.set_race_time(athlete_id, distance, time_ns, kind)
    print(f"updated {args.rename or args.name}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        athlete_id = _athlete_id(store, args.athlete) if args.athlete else None
        if args.session is not None:
            try:
                store.session(args.session)
            except StoreError:
                raise _no_session(args, store, args.session) from None
        runs = store.runs(session_id=args.session, athlete_id=athlete_id)[::-1]  # oldest first, as on History
        dates = {s["id"]: s["date"] for s in store.sessions()}
    text = runs_csv(runs, dates) if args.csv else runs_json(runs) + "\n"
    if args.output:
        with open_text(args.output, "w") as out:
            out.write(text)
        print(f"wrote {len(runs)} runs to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def backup_command(args: argparse.Namespace) -> int:
    with _open(args, must_exist=True) as store:
        store.backup(args.out)
    print(f"gatectl: copied {db_path(args)} to {args.out} (no password hash, no cookie key)", file=sys.stderr)
    return 0
