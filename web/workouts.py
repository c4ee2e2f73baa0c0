"""Workouts: pick a session or write one, choose the group and the timing, start it, run it.

Every action is a plain form (works without JavaScript) posting with the
form's CSRF token. A workout that cannot be read comes back with the form,
the caret under the part to fix; the running workout's taps (ready, go,
skip, repeat, end set, end) come back here, or to the page they were made on;
a tap that cannot apply comes back here with its sentence at the top.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gatectl.coaching.fit import timed_distances
from gatectl.coaching.library import LIBRARY
from gatectl.errors import GatectlError

from . import actions
from .auth import coach_required
from .db import get_store
from .forms import FieldError, payload
from .link import NO_GATES, current_link
from .refused import back_to_form

bp = Blueprint("workouts", __name__, url_prefix="/workouts")

DONE = {
    "ready": "ready: they are called",
    "go": "go: the countdown is on",
    "skip": "rep skipped",
    "repeat": "the last rep will be run again",
    "end-set": "set ended",
    "end": "workout ended",
}


@bp.get("")
def index():
    return _page()


def _page(form=None, error: GatectlError | None = None, status: int = 200, error_at: str = "start"):
    store = get_store()
    daemon = current_link().daemon
    live = daemon.snapshot() if daemon is not None else None
    return render_template(
        "workouts/index.html",
        connected=live is not None,
        no_gates=NO_GATES,
        state=live.workout if live is not None else None,
        layout=live.layout if live is not None else None,
        timed=timed_distances(live.layout) if live is not None else (),
        library=LIBRARY,
        athletes=store.athletes(),
        names={a["id"]: a["name"] for a in store.athletes(include_archived=True)},
        kinds=actions.WORKOUT_KINDS,
        form=form if form is not None else {},
        chosen=[int(i) for i in form.getlist("athletes") if i.isdigit()] if form is not None else [],
        error=error,
        error_at=error_at,
    ), status


def _tap_refused(form, error: GatectlError, error_at: str, **_: object) -> str:
    """A tap that cannot apply ("No workout is running"): the page, the sentence at the top."""
    return _page(error=error, error_at=error_at)[0]


@bp.post("")
@coach_required
def start():
    data = payload()
    try:
        state = actions.start_workout(get_store(), data)
    except FieldError as error:  # back to the form as it was filled in, the mistake next to its field
        return _page(data, error, 400)
    first = f"{state.next_up.name} is called first" if state.next_up is not None else "nobody is waiting to run"
    flash(f"Workout started in session {state.session}: {first}. The live page follows it.")
    return redirect(url_for("workouts.index"))


@bp.post("/mark")
@coach_required
@back_to_form(_tap_refused, "taps")
def mark():
    """A tap on "this was Ama" for a group rep's crossing in doubt."""
    state = actions.workout_mark(payload())
    flash("Workout: the crossing is marked; the group's times follow it." if state.group is None or not state.group.doubts else "Workout: marked.")
    back = request.form.get("next", "")
    return redirect(back if back in ("/", url_for("workouts.index")) else url_for("workouts.index"))


@bp.post("/<action>")
@coach_required
@back_to_form(_tap_refused, "taps")
def act(action: str):
    actions.workout_action(action, payload())
    flash(f"Workout: {DONE[action]}.")
    back = request.form.get("next", "")
    return redirect(back if back in ("/", url_for("workouts.index")) else url_for("workouts.index"))
