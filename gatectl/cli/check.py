"""``gatectl check``: the pre-session check of the running service, as a table that refreshes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from gatectl.config import load_config
from gatectl.errors import GatectlError
from gatectl.setup.files import CONFIG

EXAMPLE = """examples:
  gatectl check                      # the service set up by gatectl setup (its config: /etc/gatectl/gatectl.toml)
  gatectl check --url http://127.0.0.1:8000/ --once
Pass a hand through each gate in turn: its row is ticked off. Ctrl-C to leave.
The same check is on the dashboard's Check page (/check).
"""
DEFAULT_PORT = 8000
STATES = {"clear": "clear", "broken": "broken", "stuck": "STUCK", "unknown": "no signal"}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "check",
        help="before a session: every beam's state, breaks, flicker, a hand through each gate, disk, date",
        description="Show the running gatectl service's pre-session check, refreshed twice a second.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="the dashboard (default: from --config, else http://127.0.0.1:8000/)")
    parser.add_argument("--config", type=Path, default=Path(str(CONFIG)), help=f"the service's config, for its port (default {CONFIG})")
    parser.add_argument("--once", action="store_true", help="print the check once and exit: 0 if all is well, 1 if not")
    parser.set_defaults(run=check_command)


def check_command(args: argparse.Namespace) -> int:
    base = (args.url or _url_from_config(args.config)).rstrip("/")
    since = None
    live = not args.once and sys.stdout.isatty()
    try:
        while True:
            data = fetch(base, since)
            if since is None and data.get("check"):
                since = data["check"]["since_ns"]
            text = format_check(data, base)
            if live:
                print("\033[H\033[J" + text + "\n(Ctrl-C to leave)", flush=True)
                time.sleep(0.5)
                continue
            print(text)
            if args.once:
                return 0 if all_well(data) else 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def _url_from_config(path: Path) -> str:
    # The installed config is for the service user and root: anyone else gets the default port.
    port = load_config(path).port if os.access(path, os.R_OK) else DEFAULT_PORT
    return f"http://127.0.0.1:{port}"


def fetch(base: str, since: int | None) -> dict:
    url = f"{base}/api/check" + (f"?since={since}" if since is not None else "")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise GatectlError(f"{base} answered {exc.code}: is it a gatectl dashboard of this version?") from None
    except (urllib.error.URLError, OSError):
        raise GatectlError(
            f"No gatectl service answers at {base}/: start it with  sudo systemctl start gatectl  "
            "(why it stopped: journalctl -u gatectl -b), or run  gatectl run --config FILE. "
            f"If its port is not {DEFAULT_PORT}, give --url or run  sudo gatectl check."
        ) from None
    except ValueError:
        raise GatectlError(f"{base}/api/check did not answer JSON: is it a gatectl dashboard?") from None


def all_well(data: dict) -> bool:
    check = data.get("check")
    nodes_ok = not any(node["problem"] for node in data["nodes"])
    return bool(check and check["aligned"] and check["walk"]["done"] and data["clock"]["ok"] and data["disk"]["ok"] and nodes_ok)


def format_node(node: dict) -> str:
    """One gate node: its link, sync, drift, buffer and bad lines; what to fix, if anything."""
    gate = "/".join(node["beams"])
    if not node["connected"]:
        return f"node  {gate:<6} NOT CONNECTED: {node['problem']}" + (f": {node['error']}" if node["error"] else ".")
    sync = "sync —" if node["sync_uncertainty_us"] is None else f"sync ±{node['sync_uncertainty_us']:.0f} µs"
    drift = "" if node["drift_ppm"] is None else f", drift {node['drift_ppm']:+.1f} ppm"
    buffer = "" if node["buffer"] is None else f", buffer {node['buffer']}" + (f"/{node['capacity']}" if node["capacity"] else "")
    line = f"node  {gate:<6} {node['node'] or node['port']} connected, {sync}{drift}{buffer}, {node['bad_lines']} bad line(s)"
    return line + (f"  ⚠ {node['problem']}." if node["problem"] else "")


def format_check(data: dict, base: str) -> str:
    """The check as a table, then what to do next."""
    if not data.get("connected"):
        return f"{base}: {data.get('message') or 'no gates'} Start the service: sudo systemctl start gatectl"
    check = data["check"]
    lines = [f"{'gate':<6} {'beam':<6} {'now':<10} {'breaks':>6}  {'steady':<9} hand"]
    for gate in check["gates"]:
        for i, beam in enumerate(gate["beams"]):
            hand = ("✓ saw it" if gate["ticked"] else "← now" if gate["gate"] == check["walk"]["next"] else "") if i == 0 else ""
            lines.append(
                f"{gate['gate'] if i == 0 else '':<6} {beam['beam']:<6} {STATES.get(beam['state'], beam['state']):<10} "
                f"{beam['breaks']:>6}  {'FLICKERS' if beam['flickering'] else 'steady':<9} {hand}".rstrip()
            )
    lines.append("")
    lines += [f"nodes: {data['nodes_message']}"] if not data["nodes"] else [format_node(node) for node in data["nodes"]]
    disk = data["disk"]
    free = f"{disk['free_gb']:.1f} GB free"
    lines.append(f"disk:  {disk['reason'] or free}")
    clock = data["clock"]
    lines.append(f"date:  {clock['now']}" + ("" if clock["ok"] else f"  WRONG: {clock['reason']} Fix it on the dashboard: Control, 'Set the Pi's date from this phone'."))
    lines.append("")
    if check["walk"]["next"]:
        lines.append(f"Pass a hand through {check['walk']['next']}.")
    elif all_well(data):
        lines.append("All set: every gate saw a hand, every beam is clear.")
    else:
        lines.append("Every gate saw a hand; fix what is marked above.")
    return "\n".join(lines)
