"""The JSON API and the live event stream (``/api/...``).

Reading is open. Changing needs the coach (a logged-in browser with its
``X-CSRF-Token`` header, or HTTP Basic auth with the coach's password) and
answers 400 with ``{"error": sentence, "field": name}`` for bad input.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from gatectl.coaching.library import LIBRARY
from gatectl.jsonable import json_object

from . import actions, corrections
from .auth import coach_required
from .db import get_store
from .forms import FieldError, boolean, integer, payload
from .link import current_link
from .live import live_state
from .stream import ClosingStream, event_stream, parse_last_id

bp = Blueprint("api", __name__, url_prefix="/api")

RUN_STATUSES = ("complete", "incomplete", "rejected")


def _query_int(name: str, label: str, *, maximum: int | None = None) -> int | None:
    kwargs = {"maximum": maximum} if maximum is not None else {}
    return integer(request.args, name, label, required=False, **kwargs)


# Live --------------------------------------------------------------------------------


@bp.get("/live")
def live():
    """The live page's state: session, layout, gates, queue, this session's runs."""
    return live_state(get_store())


@bp.get("/stream")
def stream():
    link = current_link()
    if link.bus is None:
        return Response(status=204)  # history only: tells EventSource not to reconnect
    last_id = parse_last_id(request.headers.get("Last-Event-ID"), request.args.get("since"))
    address = request.remote_addr or "?"
    if not link.open_stream(address):
        abort(503, "Too many live viewers are connected (or too many from this device); this one will retry shortly.")
    body = ClosingStream(
        event_stream(
            link.bus, last_id=last_id, boot=link.boot, heartbeat_s=current_app.config["SSE_HEARTBEAT_S"],
            disconnected=request.environ.get("waitress.client_disconnected"),
        ),
        on_close=lambda: link.close_stream(address),
    )  # fmt: skip
    return Response(
        body,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


@bp.get("/gates")
def gates():
    daemon = current_link().daemon
    return {"connected": daemon is not None, "gates": daemon.snapshot().gates_json() if daemon is not None else []}


# Runs ----------------------------------------------------------------------------------


@bp.get("/runs")
def runs():
    """Runs, newest first: ``?session=``, ``?athlete=``, ``?status=complete``, ``?limit=`` (default 100)."""
    session_id = _query_int("session", "session")
    athlete_id = _query_int("athlete", "athlete")
    limit = _query_int("limit", "limit", maximum=5000) or 100
    statuses = request.args.getlist("status")
    for status in statuses:
        if status not in RUN_STATUSES:
            raise FieldError("status", f"status must be one of {', '.join(RUN_STATUSES)}, not {status!r}.")
    store = get_store()
    if session_id is not None:
        store.session(session_id)
    if athlete_id is not None:
        store.athlete(athlete_id)
    return {"runs": store.runs(session_id=session_id, athlete_id=athlete_id, statuses=statuses or None, limit=limit)}


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    return json_object(get_store().run(run_id))


@bp.post("/runs/<int:run_id>/void")
@coach_required
def void(run_id: int):
    return json_object(actions.void_run(get_store(), run_id, payload()))


@bp.post("/runs/<int:run_id>/unvoid")
@coach_required
def unvoid(run_id: int):
    return json_object(actions.unvoid_run(get_store(), run_id))


@bp.post("/runs/<int:run_id>/assign")
@coach_required
def assign(run_id: int):
    return json_object(actions.assign_run(get_store(), run_id, payload()))


@bp.get("/runs/<int:run_id>/crossings")
def run_crossings(run_id: int):
    """The run's crossings, the crossings set aside near it, its neighbours and its history of corrections."""
    return json_object(corrections.run_corrections(get_store(), run_id))


@bp.post("/runs/<int:run_id>/corrections")
@coach_required
def correct_run(run_id: int):
    """A correction of the run: ``kind`` drop-crossing | split-run (``crossing``), attach-crossing (``crossing``,
    one set aside), merge-runs (``run``), set-athlete (``athlete``, null: nobody); the run as it is after it."""
    return json_object(corrections.correct_run(get_store(), run_id, payload())), 201


@bp.post("/corrections/<int:correction_id>/undo")
@coach_required
def undo_correction(correction_id: int):
    """Undo a correction (an undo too: it counts again); the run it was about, as it is after."""
    return json_object(corrections.undo(get_store(), correction_id)), 201


# Sessions --------------------------------------------------------------------------------


@bp.get("/sessions")
def sessions():
    return {"sessions": get_store().sessions()}


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    store = get_store()
    return {**store.session(session_id), "runs": store.runs(session_id=session_id)}


@bp.get("/sessions/<int:session_id>/corrections")
def session_corrections(session_id: int):
    """Every correction of the session, in order, with what became of it (applied, undone, or why not)."""
    store = get_store()
    store.session(session_id)
    return {"corrections": corrections.session_corrections(store, session_id)}


@bp.post("/sessions")
@coach_required
def new_session():
    return actions.start_session(get_store(), payload()), 201


# Gates, queue, clock ------------------------------------------------------------------------


@bp.post("/armed")
@coach_required
def armed():
    return actions.set_armed(payload())


@bp.get("/queue")
def queue():
    daemon = current_link().daemon
    return {"connected": daemon is not None, "athletes": list(daemon.snapshot().queue) if daemon is not None else []}


@bp.route("/queue", methods=("POST", "PUT"))
@coach_required
def edit_queue():
    data = payload()
    if request.method == "PUT":
        data = {**data, "op": "set"}
    return actions.edit_queue(get_store(), data)


@bp.post("/clock")
@coach_required
def set_clock():
    return actions.set_clock(get_store(), payload())


# Workouts ------------------------------------------------------------------------------------


@bp.get("/workouts")
def library():
    """The built-in sessions (``gatectl workout list``): slug, name, kind, notation, note."""
    return {"workouts": [{"slug": w.slug, "name": w.name, "kind": w.kind.value, "text": w.text, "note": w.note} for w in LIBRARY]}


@bp.get("/workout")
def workout():
    """The workout of the current session as the live page shows it (null if none)."""
    daemon = current_link().daemon
    return {"connected": daemon is not None, "workout": daemon.snapshot().workout if daemon is not None else None}


@bp.post("/workout")
@coach_required
def start_workout():
    """Start a workout: ``slug`` or ``text``, ``athletes`` (ids, running order), ``kind``, ``timing``
    (flying | track: ``lap_gate``, ``lap_m``, ``start`` rolling | go, ``countdown_s``, ``group`` one | together | waves
    with ``wave_s``)."""
    return {"workout": actions.start_workout(get_store(), payload())}, 201


@bp.post("/workout/mark")
@coach_required
def workout_mark():
    """A group rep's crossing was ``athlete``'s: ``crossing`` is its instant in ns, as text (the page got it so)."""
    return {"workout": actions.workout_mark(payload())}


@bp.post("/workout/<action>")
@coach_required
def workout_action(action: str):
    """ready, skip, repeat, end-set, end (optional ``athlete``: whoever runs next by default) or go."""
    return {"workout": actions.workout_action(action, payload())}


# Athletes ------------------------------------------------------------------------------------


@bp.get("/athletes")
def athletes():
    archived = boolean(request.args, "archived", "archived", required=False)
    return {"athletes": get_store().athletes(include_archived=archived)}


@bp.get("/athletes/<int:athlete_id>")
def athlete(athlete_id: int):
    return get_store().athlete(athlete_id)


@bp.post("/athletes")
@coach_required
def add_athlete():
    return actions.add_athlete(get_store(), payload()), 201


@bp.patch("/athletes/<int:athlete_id>")
@coach_required
def update_athlete(athlete_id: int):
    return actions.update_athlete(get_store(), athlete_id, payload())


@bp.post("/athletes/<int:athlete_id>/race-times")
@coach_required
def race_time(athlete_id: int):
    return actions.set_race_time(get_store(), athlete_id, payload())
