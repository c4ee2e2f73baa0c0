"""The pre-session check: ``/check`` (the page) and ``/api/check`` (its JSON, read by ``gatectl check``).

Every beam's state, its breaks since the viewer's check began (``?since=``,
the ``now_ns`` of their first answer), flickering beams, the "pass a hand
through each gate" walk, gate nodes, free disk and whether the Pi's date can
be right. The judging is pure (``gatectl.timing.check``); this only gathers
the facts: the daemon's report, the disk, the clock and the sessions stored.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

from flask import Blueprint, current_app, render_template, request, url_for

import gatectl
from gatectl.store import Store
from gatectl.timing.check import clock_verdict, disk_verdict
from gatectl.timing.model import NS_PER_MS, NS_PER_S
from gatectl.timing.sync import DEFAULT_LIMIT_NS

from . import clock
from .db import get_store
from .forms import integer
from .join import current_join
from .link import NO_GATES, current_link

bp = Blueprint("check", __name__)

NO_NODES = "No gate nodes: the gates are wired to the Pi's GPIO."


def check_state(store: Store, since_ns: int | None) -> dict:
    daemon = current_link().daemon
    report = daemon.check_report(since_ns) if daemon is not None else None
    nodes = daemon.node_status() if daemon is not None else ()
    wall_ns = wall_now_ns(store)
    return {
        "connected": daemon is not None,
        "message": None if daemon is not None else NO_GATES,
        "check": report.as_json() if report is not None else None,
        "nodes": [node.as_json() for node in nodes],
        "nodes_message": None if nodes else NO_NODES,
        "clock": {
            "now": clock.now(store).isoformat(timespec="seconds"),
            "fixed": clock.correction(store) is not None,
            **clock_verdict(wall_ns, _not_before(store, daemon.snapshot().session_id if daemon is not None else None)),
            "fix_url": url_for("control.index", _anchor="clock"),
        },
        "disk": disk_verdict(shutil.disk_usage(Path(current_app.config["DATABASE"]).resolve().parent).free),
    }


def wall_now_ns(store: Store) -> int:
    """The wall clock as the dashboard shows it: corrected from a phone if it was this boot."""
    fix = clock.correction(store)
    return time.time_ns() + (round(fix["offset_ms"]) * NS_PER_MS if fix is not None else 0)


def _not_before(store: Store, current_session: int | None) -> list[tuple[str, int]]:
    """Moments that have certainly passed: gatectl's files were written, earlier sessions were held."""
    installed = Path(gatectl.__file__).stat().st_mtime_ns
    moments = [(f"gatectl was installed ({_day(installed)})", installed)]
    held = [_ns(s["started_at"]) for s in store.sessions() if s["id"] != current_session]
    if held := [t for t in held if t is not None]:
        newest = max(held)
        moments.append((f"the newest session stored ({_day(newest)})", newest))
    return moments


def _ns(text: str) -> int | None:
    try:
        return int(datetime.fromisoformat(text).timestamp()) * NS_PER_S
    except (TypeError, ValueError):
        return None


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns // NS_PER_S).date().isoformat()


@bp.get("/api/check")
def api():
    return check_state(get_store(), integer(request.args, "since", "since", required=False, minimum=0, maximum=2**63 - 1))


@bp.get("/check")
def index():
    store = get_store()
    return render_template("check/index.html", state=check_state(store, None), join=current_join(), sync_limit_ms=_sync_limit_ms(store))


def _sync_limit_ms(store: Store) -> float:
    """The bound the session's runs are flagged above, in ms (the configured one; the default with no gates)."""
    daemon = current_link().daemon
    session_id = daemon.snapshot().session_id if daemon is not None else None
    limit_ns = store.session(session_id)["sync_limit_ns"] if session_id is not None else None
    return (DEFAULT_LIMIT_NS if limit_ns is None else limit_ns) / NS_PER_MS
