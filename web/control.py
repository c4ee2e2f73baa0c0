"""The coach's page: who runs next, arm/disarm, void, reassign or correct runs, layout and session, the date.

Every action is a plain form (works without JavaScript), posts with the
form's CSRF token, and comes back to ``/control`` with a message; a refused
one comes back with the sentence next to the form and what was typed kept.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from gatectl.errors import GatectlError

from . import actions, clock, corrections
from .auth import coach_required, has_coach_password
from .db import get_store
from .forms import payload
from .link import NO_GATES, current_link
from .refused import back_to_form

bp = Blueprint("control", __name__, url_prefix="/control")

RECENT_RUNS = 12


@bp.get("")
def index():
    return _page()


def _page(form=None, error: GatectlError | None = None, error_at: str | None = None, **_: object) -> str:
    """The page; after a refused form, with the sentence at ``error_at`` and the form as it was filled in."""
    store = get_store()
    daemon = current_link().daemon
    live = daemon.snapshot() if daemon is not None else None
    session = runs = layout = None
    if live is not None:
        session = store.session(live.session_id)
        runs = store.runs(session_id=live.session_id, statuses=("complete", "incomplete"), limit=RECENT_RUNS)
        layout = live.layout
    athletes = store.athletes()
    every = store.runs(session_id=live.session_id) if live is not None and runs else []  # once for all the panels
    panels = {r.id: corrections.run_corrections(store, r.id, every) for r in runs or []}  # each run opened for correction
    names = {a["id"]: a["name"] for a in store.athletes(include_archived=True)}
    queue = [{"position": i, "id": a, "name": names.get(a, f"#{a}")} for i, a in enumerate(live.queue if live is not None else ())]
    return render_template(
        "control/index.html",
        connected=live is not None,
        no_gates=NO_GATES,
        session=session,
        runs=runs or [],
        panels=panels,
        open_run=request.args.get("open", type=int),  # the run a correction left open (not a number: none)
        gates=live.gates if live is not None else (),
        faults=live.faults if live is not None else (),
        layout=layout,
        accel_m=layout.segments[0].distance_m if layout is not None and len(layout.gates) == 3 else None,
        fly_m=layout.fly_zone.distance_m if layout is not None else None,
        armed=live.armed if live is not None else None,
        queue=queue,
        athletes=athletes,
        has_password=has_coach_password(store),
        clock_now=clock.now(store),
        clock_fixed=clock.correction(store) is not None,
        set_system_clock=current_app.config["SET_SYSTEM_CLOCK"],
        methods=actions.METHODS,
        workout_running=live is not None and live.workout_running,
        form=form if form is not None else {},
        error=error,
        error_at=error_at,
    )


def _back(message: str, anchor: str | None = None):
    """Back to Control with the message; ``anchor``: at that part of the page (the run just fixed)."""
    flash(message)
    return redirect(url_for("control.index", _anchor=anchor))


@bp.post("/armed")
@coach_required
@back_to_form(_page, "status")
def armed():
    result = actions.set_armed(payload())
    return _back("Gates armed: runs count." if result["armed"] else "Gates disarmed: runs are recorded but voided.")


@bp.post("/queue")
@coach_required
@back_to_form(_page, "queue")
def queue():
    result = actions.edit_queue(get_store(), payload())
    return _back(f"Queue: {len(result['athletes'])} waiting.")


@bp.post("/session")
@coach_required
@back_to_form(_page, "layout")
def session():
    result = actions.start_session(get_store(), payload())
    return _back(f"Session {result['session']} started: {result['layout']}, {result['method']} detection.")


@bp.post("/clock")
@coach_required
@back_to_form(_page, "clock")
def set_clock():
    result = actions.set_clock(get_store(), payload())
    return _back(f"Date set from this device: {result['now'].replace('T', ' ')} (system clock: {result['system_clock']}).")


@bp.post("/runs/<int:run_id>/void")
@coach_required
@back_to_form(_page, corrections.run_form)
def void(run_id: int):
    run = actions.void_run(get_store(), run_id, payload())
    return _back(f"Run {run.number} voided: {run.void_reason}.", corrections.run_form(run_id))


@bp.post("/runs/<int:run_id>/unvoid")
@coach_required
@back_to_form(_page, corrections.run_form)
def unvoid(run_id: int):
    run = actions.unvoid_run(get_store(), run_id)
    return _back(f"Run {run.number} counts again.", corrections.run_form(run_id))


@bp.post("/runs/<int:run_id>/correct")
@coach_required
@back_to_form(_page, corrections.run_form)
def correct(run_id: int):
    return corrections.corrected(corrections.correct_run(get_store(), run_id, payload()), "control.index")


@bp.post("/runs/<int:run_id>/undo/<int:correction_id>")
@coach_required
@back_to_form(_page, corrections.run_form)
def undo(run_id: int, correction_id: int):
    return corrections.corrected(corrections.undo(get_store(), correction_id), "control.index")


@bp.post("/runs/<int:run_id>/assign")
@coach_required
@back_to_form(_page, corrections.run_form)
def assign(run_id: int):
    run = actions.assign_run(get_store(), run_id, payload())  # a run through the gates: a set-athlete correction, under a new id
    return _back(f"Run {run.number} is now {run.athlete or 'unassigned'}'s.", corrections.run_form(run.id))
