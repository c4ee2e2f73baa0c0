"""The live page: the last run in huge digits, the session's reps, gate lights (and nodes), the workout.

The page is rendered with its state as JSON (``live_state``) and kept up to
date by the event stream; ``/api/live`` returns the same state. When a workout
runs, the state has it (``workout``: who runs next, the target, the recovery
left) and, for the coach's browser, the token its taps are sent with.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from gatectl.store import Store

from . import clock
from .auth import csrf_token, is_coach
from .db import get_store
from .join import current_join
from .link import NO_GATES, current_link

bp = Blueprint("live", __name__)

STRIP_RUNS = 60  # the reps of a long session; older ones are in History
SHOWN_STATUSES = ("complete", "incomplete")  # rejected crossings are false triggers: History lists them


def live_state(store: Store) -> dict:
    """Everything the live page shows, and the event id it is current to."""
    link = current_link()
    # Read the bus position before the daemon and the database: what happens after this is replayed to the page.
    since = link.bus.last_id if link.bus is not None else 0
    live = link.daemon.snapshot() if link.daemon is not None else None  # one session's, even during a switch
    session_id = live.session_id if live is not None else store.latest_session_id()
    session = store.session(session_id) if session_id is not None else None
    runs = store.runs(session_id=session_id, statuses=SHOWN_STATUSES, limit=STRIP_RUNS) if session_id else []
    layout = live.layout if live is not None else (store.layout(session_id) if session_id else None)
    track = live.track if live is not None else (store.track(session_id) if session_id else None)
    gates = () if layout is None else (layout.gate(track.gate),) if track is not None else layout.gates
    athletes = {a["id"]: a["name"] for a in store.athletes(include_archived=True)}
    coach = not current_app.config["READ_ONLY"] and is_coach()
    return {
        "connected": live is not None,
        "message": None if live is not None else NO_GATES,
        "boot": link.boot,
        "since": since,
        "session": _session_view(session),
        "layout": None if layout is None else {
            "text": layout.describe(),
            "method": layout.method.value,
            "fly_m": layout.fly_zone.distance_m,
            "gates": [{"gate": g.name, "position_m": g.position_m, "beams": list(g.beams)} for g in gates],
            "track": None if track is None else {"gate": track.gate, "lap_m": track.lap_m},
        },
        "armed": live.armed if live is not None else None,
        "queue": [{"id": i, "name": athletes.get(i, f"#{i}")} for i in (live.queue if live is not None else ())],
        "gates": live.gates_json() if live is not None else [],
        "faults": live.faults_json() if live is not None else [],  # the daemon's faults: a banner until they clear
        "nodes": live.nodes_json() if live is not None else [],  # gate nodes' link, sync, buffer; kept current by "nodes" events
        "runs": list(reversed(runs)),  # oldest first, as the strip reads
        "athletes": {str(k): v for k, v in athletes.items()},
        "clock": clock.now(store).isoformat(timespec="seconds"),
        "workout": live.workout if live is not None else None,
        "coach": coach,
        "csrf": csrf_token() if coach else None,  # same-origin only: another site cannot read it
    }


def _session_view(session: dict | None) -> dict | None:
    if session is None:
        return None
    return {k: session[k] for k in ("id", "date", "started_at", "place", "layout", "method")}


@bp.get("/")
def index():
    return render_template("live/index.html", state=live_state(get_store()), join=current_join())
