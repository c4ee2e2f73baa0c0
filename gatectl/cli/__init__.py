"""The ``gatectl`` command: a thin layer over the library.

Each command lives in a module of this package with a ``register(commands)``
function that adds its parser and sets ``run`` to a function taking the parsed
arguments and returning an exit code. A ``GatectlError`` becomes one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gatectl.errors import GatectlError

_COMMAND_MODULES = ("replay", "simulate", "live", "data", "workout", "web", "setup", "check")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="gatectl",
        description="Flying-sprint timing on beam gates: live timing, simulation, replay and history.",
        epilog="Start with: gatectl demo   (simulated gates, dashboard on http://127.0.0.1:8000)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except GatectlError as exc:
        print(f"gatectl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. gatectl export --csv | head
        sys.stderr.close()
        return 141


if __name__ == "__main__":
    sys.exit(main())
