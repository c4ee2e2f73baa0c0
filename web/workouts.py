"""Workouts: pick a session or write one, choose the group and the timing, start it, run it.

Every action is a plain form (works without JavaScript) posting with the
form's CSRF token. A workout that cannot be read comes back with the form,
the caret under the part to fix; the running workout's taps (ready, go,
skip, repeat, end set, end) come back here, or to the page they were made on.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gatectl.coaching.library import LIBRARY

from . import actions
from .auth import coach_required
from .db import get_store
from .forms import FieldError, payload
from .link import NO_GATES, current_link

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


def _page(form=None, error: FieldError | None = None, status: int = 200):
    store = get_store()
    daemon = current_link().daemon
    live = daemon.snapshot() if daemon is not None else None
    return render_template(
        "workouts/index.html",
        connected=live is not None,
        no_gates=NO_GATES,
        state=live.workout if live is not None else None,
        layout=live.layout if live is not None else None,
        library=LIBRARY,
        athletes=store.athletes(),
        kinds=actions.WORKOUT_KINDS,
        form=form if form is not None else {},
        chosen=[int(i) for i in form.getlist("athletes") if i.isdigit()] if form is not None else [],
        error=error,
    ), status


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


@bp.post("/<action>")
@coach_required
def act(action: str):
    actions.workout_action(action, payload())
    flash(f"Workout: {DONE[action]}.")
    back = request.form.get("next", "")
    return redirect(back if back in ("/", url_for("workouts.index")) else url_for("workouts.index"))
