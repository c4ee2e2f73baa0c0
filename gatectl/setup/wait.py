"""``python -m gatectl.setup.wait URL -- COMMAND...``: run COMMAND once URL answers.

The trackside screen starts the browser with this, so a browser that starts
before the dashboard shows the live page rather than an error page. It waits
at most ``WAIT_S`` and then runs the command anyway.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request

WAIT_S = 120.0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m gatectl.setup.wait URL -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    url, command = argv[0], argv[2:]
    deadline = time.monotonic() + WAIT_S
    while not answers(url) and time.monotonic() < deadline:
        time.sleep(1)
    os.execvp(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
