"""Athletes: add, edit, archive; race times by distance (bests and goals) and their paces.

Each race time is shown every way a runner thinks of it (per km, per 400 m,
m/s, km/h: ``paces.equivalents``), and the Athletes page has a pace
calculator: a race time, or a pace per km or per 400 m, or a velocity,
over any distance, to all the others.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gatectl.coaching.paces import equivalents, parse_race_distance, parse_race_time, scale_to_distance, time_at_velocity
from gatectl.errors import GatectlError, PaceError

from . import actions
from .auth import coach_required
from .db import get_store
from .forms import FieldError, boolean, number, payload, text
from .refused import back_to_form

bp = Blueprint("athletes", __name__, url_prefix="/athletes")

COMMON_DISTANCES = ("100", "200", "400", "800", "1500", "mile", "3000", "5k", "10k")
PACE_FIELDS = ("time", "per_km", "per_400m", "mps")  # what the calculator starts from, one of them


@bp.get("")
def index():
    paces, pace_error = None, None
    if any(request.args.get(name) for name in ("distance", *PACE_FIELDS)):
        try:
            paces = pace_calculator(request.args)
        except FieldError as exc:
            pace_error = exc
    return _index(paces=paces, pace_error=pace_error), 400 if pace_error else 200


def _index(
    form=None, error: GatectlError | None = None, error_at: str | None = None, paces: dict | None = None, pace_error: FieldError | None = None
) -> str:
    """The list, the pace calculator and the add form; after a refused add, the sentence beside it and what was typed."""
    show_archived = boolean(request.args, "archived", "archived", required=False)
    return render_template(
        "athletes/index.html", athletes=get_store().athletes(include_archived=show_archived), show_archived=show_archived,
        distances=COMMON_DISTANCES, paces=paces, pace_error=pace_error, pace_form=request.args,
        form=form if form is not None else {}, error=error, error_at=error_at,
    )  # fmt: skip


def pace_calculator(data: Mapping[str, str]) -> dict:
    """A race over ``distance`` from its ``time``, a pace ``per_km`` or ``per_400m``, or ``mps``: every equivalent."""
    distance_text = text(data, "distance", "Distance", max_len=30)
    try:
        distance = parse_race_distance(distance_text)
    except PaceError as exc:
        raise FieldError("distance", f"Distance: {exc}") from None
    given = [name for name in PACE_FIELDS if (data.get(name) or "").strip()]
    if len(given) != 1:
        raise FieldError("time", "Give one of: the race time, a pace per km, a pace per 400 m or a velocity in m/s.")
    field = given[0]
    try:
        if field == "mps":
            time_ns = time_at_velocity(distance, number(data, "mps", "Velocity", unit="m/s", minimum=0.1, maximum=15))
        else:
            time_ns = parse_race_time(data[field])
            if field != "time":
                time_ns = scale_to_distance(time_ns, 1000 if field == "per_km" else 400, distance)
    except PaceError as exc:
        raise FieldError(field, str(exc)) from None
    return {"distance_m": distance, "time_ns": time_ns, "paces": equivalents(distance, time_ns)}


@bp.post("")
@coach_required
@back_to_form(_index, "add")
def add():
    athlete = actions.add_athlete(get_store(), payload())
    flash(f"{athlete['name']} added: now add their race times.")
    return redirect(url_for("athletes.detail", athlete_id=athlete["id"]))


@bp.get("/<int:athlete_id>")
def detail(athlete_id: int):
    return _detail(athlete_id)


def _detail(athlete_id: int, form=None, error: GatectlError | None = None, error_at: str | None = None) -> str:
    athlete = get_store().athlete(athlete_id)
    times = [{**t, "paces": equivalents(t["distance_m"], t["time_ns"])} for t in athlete["race_times"]]
    return render_template(
        "athletes/detail.html", athlete=athlete, times=times, distances=COMMON_DISTANCES,
        form=form if form is not None else {}, error=error, error_at=error_at,
    )  # fmt: skip


@bp.post("/<int:athlete_id>")
@coach_required
@back_to_form(_detail, "edit")
def edit(athlete_id: int):
    athlete = actions.update_athlete(get_store(), athlete_id, payload())
    flash(f"{athlete['name']} saved.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))


@bp.post("/<int:athlete_id>/archive")
@coach_required
@back_to_form(_detail, "edit")
def archive(athlete_id: int):
    athlete = actions.update_athlete(get_store(), athlete_id, {"archived": payload().get("archived", "1")})
    flash(f"{athlete['name']} {'archived' if athlete['archived'] else 'restored'}.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))


@bp.post("/<int:athlete_id>/race-times")
@coach_required
@back_to_form(_detail, "race-times")
def race_time(athlete_id: int):
    athlete = actions.set_race_time(get_store(), athlete_id, payload())
    flash(f"{athlete['name']}'s race times saved.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))
