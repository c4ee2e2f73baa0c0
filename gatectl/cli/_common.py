"""Options and helpers several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO

import platformdirs

from gatectl.coaching.paces import parse_race_time
from gatectl.errors import GatectlError, PaceError
from gatectl.timing.model import Method

PB_DISTANCES = (100, 200, 400, 800, 1500)
DEMO_DB = "demo.db"  # gatectl demo's database, beside the default one


def add_layout_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layout",
        required=True,
        metavar="GATES",
        help="gate names and positions in metres, in running order, e.g. M1=0,M2=30,M3=60",
    )
    parser.add_argument(
        "--detect",
        choices=[m.value for m in Method],
        default=Method.LONGEST.value,
        help="crossing detection: first break, longest break (torso rule, default), dual beams",
    )


def add_pace_options(parser: argparse.ArgumentParser) -> None:
    for distance in PB_DISTANCES:
        parser.add_argument(
            f"--pb{distance}", metavar="TIME", help=f"the athlete's {distance} m time, e.g. 47.5 or 1:52.3"
        )


def paces_from_args(args: argparse.Namespace) -> dict[float, int]:
    paces: dict[float, int] = {}
    for distance in PB_DISTANCES:
        text = getattr(args, f"pb{distance}")
        if text is not None:
            try:
                paces[float(distance)] = parse_race_time(text)
            except PaceError as exc:
                raise PaceError(f"--pb{distance}: {exc}") from None
    return paces


def open_text(path: str, mode: str = "r") -> IO[str]:
    """Open a file for a command, or fail with a sentence naming it."""
    try:
        # utf-8-sig: a spreadsheet saving CSV puts a byte-order mark first.
        return open(path, mode, encoding="utf-8-sig" if mode == "r" else "utf-8", newline="")
    except OSError as exc:
        raise GatectlError(f"cannot {'read' if mode == 'r' else 'write'} {path}: {exc.strerror}.") from None


def default_db_path(name: str = "gatectl.db") -> Path:
    """Where a database lives unless given: the user's data directory."""
    return Path(platformdirs.user_data_dir("gatectl", appauthor=False)) / name


def add_db_option(parser: argparse.ArgumentParser, name: str = "gatectl.db") -> None:
    parser.add_argument(
        "--db", type=Path, default=None, metavar="PATH", help=f"the database (default: {default_db_path(name)})"
    )


def db_path(args: argparse.Namespace, name: str = "gatectl.db") -> Path:
    return args.db if args.db is not None else default_db_path(name)
