"""``gatectl setup``: this Raspberry Pi, from a fresh Raspberry Pi OS to timing at boot."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import replace
from pathlib import Path

from gatectl.setup.answers import Answers, Prompter, SetupError, ask, defaults, new_pin, with_flags
from gatectl.setup.apply import CHANGED, LISTED, UNCHANGED, WOULD, Applier, Outcome
from gatectl.setup.facts import gather
from gatectl.setup.plan import plan

EXAMPLE = """examples:
  sudo /opt/gatectl/bin/gatectl setup                 # asks its questions, with defaults
  sudo /opt/gatectl/bin/gatectl setup --yes --gates M1=17,M2=27,M3=22 --layout M1=0,M2=30,M3=60 \\
       --place "Club track" --hotspot Gates --kiosk
  sudo /opt/gatectl/bin/gatectl setup --yes --gates M1=17 --nodes M2=E6614104035B2A2B,M3=E6614104035B2A2C
  gatectl setup --dry-run                             # what it would change, changing nothing
  gatectl setup --root /tmp/pi --yes --password 2468  # write the files under /tmp/pi, run nothing
Running it again changes nothing that is already right; to change an answer, run it again.
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "setup",
        help="set this Raspberry Pi up to time at boot: service, config, password, hotspot, screen",
        description=(
            "Install gatectl as a service on this Raspberry Pi: the service user, the config, the coach's "
            "password, the systemd unit (enabled and started), the gate nodes' udev rule; optionally the Pi's "
            "own Wi-Fi for the phones (--hotspot) and the live page on the HDMI screen (--kiosk)."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--gates", metavar="PINS", help="each gate's GPIO pin (BCM), e.g. M1=17,M2=27,M3=22; two beams: M1=17+5")
    parser.add_argument(
        "--nodes", metavar="SERIALS",
        help="gates timed by a gate node, by its USB serial number, e.g. M2=E6614104035B2A2B,M3=E6614104035B2A2C (- for none); --gates gives the others' pins",
    )  # fmt: skip
    parser.add_argument("--layout", metavar="GATES", help="where each gate stands in metres, e.g. M1=0,M2=30,M3=60")
    parser.add_argument("--detect", choices=("longest", "dual", "first"), help="crossing detection (default longest)")
    parser.add_argument("--place", help="the track's name, a label for sessions")
    parser.add_argument("--port", type=int, help="the dashboard's port (default 8000)")
    parser.add_argument("--password", help="the coach's password or PIN (default: keep it, or make a PIN); asked without echo otherwise")
    parser.add_argument("--hotspot", metavar="NAME", help="make the Pi a Wi-Fi access point of this name for the phones")
    parser.add_argument("--hotspot-password", metavar="KEY", help="its WPA2 key, 8 to 63 characters (default: keep it, or make one)")
    parser.add_argument("--no-hotspot", action="store_true", help="no hotspot (the config forgets it; the connection is left)")
    parser.add_argument("--kiosk", action=argparse.BooleanOptionalAction, default=None, help="show the live page full-screen on the HDMI screen at boot")
    parser.add_argument("--kiosk-user", metavar="USER", help="on Raspberry Pi OS Lite, the login user the screen runs as (default: the first one)")
    parser.add_argument("--yes", "-y", action="store_true", help="ask nothing: take the flags, the installed config, or the defaults")
    parser.add_argument("--dry-run", action="store_true", help="print every change it would make, and make none")
    parser.add_argument("--root", type=Path, metavar="DIR", help="write every file under DIR instead of /, run no command (for images and tests)")
    parser.set_defaults(run=setup_command)


def setup_command(args: argparse.Namespace, prompter: Prompter | None = None) -> int:
    root = args.root.resolve() if args.root is not None else Path("/")
    if args.root is None and not args.dry_run and os.geteuid() != 0:
        raise SetupError(
            f"setup changes the system (a user, /etc, systemd): run it as root, with  sudo {sys.prefix}/bin/gatectl setup"
            "  (or see what it would change with --dry-run)."
        )
    if args.root is not None and not root.is_dir():
        raise SetupError(f"--root: {args.root} is not a directory.")
    facts = gather(root, live=args.root is None)
    answers, given = _from_flags(args, defaults(facts.config, kiosk=facts.kiosk))
    if not args.yes:
        if prompter is None and not sys.stdin.isatty():
            raise SetupError("no terminal to ask the questions on: give the answers as flags and add --yes.")
        answers = ask(answers, given, prompter or TerminalPrompter(), has_password=facts.has_password)
    pin = None
    if answers.password is None and not facts.has_password:
        pin = new_pin()
        answers = replace(answers, password=pin)
    the_plan = plan(facts, answers)
    print(f"gatectl setup on {facts.model or 'an unknown machine'}" + (f", under {root}" if args.root else "") + (" (dry run: nothing changes)" if args.dry_run else ""))
    for warning in the_plan.warnings:
        print(f"warning: {warning}")
    outcomes = Applier(None if args.root is None else root, dry_run=args.dry_run).apply(the_plan.steps, report=_print)
    counts = {status: sum(o.status == status for o in outcomes) for status in (CHANGED, WOULD, LISTED, UNCHANGED)}
    print(", ".join(f"{n} {status}" for status, n in counts.items() if n) + ".")
    if pin is not None:
        print(f"The coach's PIN is {pin}: keep it; change it by running setup again.")
    for note in the_plan.notes:
        print(note)
    return 0


def _from_flags(args: argparse.Namespace, start: Answers) -> tuple[Answers, set[str]]:
    if args.no_hotspot and args.hotspot:
        raise SetupError("--hotspot and --no-hotspot: give one of them.")
    answers = with_flags(
        start, method=args.detect, gates=args.gates, nodes=args.nodes, layout=args.layout, place=args.place, port=args.port, password=args.password,
        hotspot_name=args.hotspot, hotspot_key=args.hotspot_password, kiosk=args.kiosk,
    )  # fmt: skip
    if args.no_hotspot:
        answers = replace(answers, hotspot=None)
    if args.kiosk_user is not None:
        answers = replace(answers, kiosk_user=args.kiosk_user)
    flags = {"gates": args.gates, "nodes": args.nodes, "layout": args.layout, "method": args.detect, "place": args.place, "port": args.port,
             "password": args.password, "hotspot": args.hotspot or args.no_hotspot or None, "kiosk": args.kiosk}  # fmt: skip
    return answers, {name for name, value in flags.items() if value is not None}


def _print(outcome: Outcome) -> None:
    print(f"  {outcome.status:<12} {outcome.what}", flush=True)


class TerminalPrompter:
    """Questions on the terminal; Enter takes the default shown in brackets."""

    def ask(self, question: str, default: str) -> str:
        try:
            return input(f"{question} [{default}]: ").strip()
        except EOFError:
            raise SetupError("no answer (end of input): give the answers as flags and add --yes.") from None

    def secret(self, question: str) -> str:
        try:
            return getpass.getpass(f"{question}: ")
        except EOFError:
            raise SetupError("no answer (end of input): give the answers as flags and add --yes.") from None

    def say(self, text: str) -> None:
        print(f"  {text}")
