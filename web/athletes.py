"""Athletes: add, edit, archive; race times by distance (bests and goals)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gatectl.paces import pace_velocity, scale_to_distance

from . import actions
from .auth import coach_required
from .db import get_store
from .forms import boolean, payload

bp = Blueprint("athletes", __name__, url_prefix="/athletes")

COMMON_DISTANCES = ("100", "200", "400", "800", "1500", "mile", "3000", "5k", "10k")


@bp.get("")
def index():
    show_archived = boolean(request.args, "archived", "archived", required=False)
    athletes = get_store().athletes(include_archived=show_archived)
    return render_template("athletes/index.html", athletes=athletes, show_archived=show_archived)


@bp.post("")
@coach_required
def add():
    athlete = actions.add_athlete(get_store(), payload())
    flash(f"{athlete['name']} added: now add their race times.")
    return redirect(url_for("athletes.detail", athlete_id=athlete["id"]))


@bp.get("/<int:athlete_id>")
def detail(athlete_id: int):
    athlete = get_store().athlete(athlete_id)
    times = [
        {**t, "velocity_mps": pace_velocity(t["distance_m"], t["time_ns"]), "per_400m_ns": scale_to_distance(t["time_ns"], t["distance_m"], 400)}
        for t in athlete["race_times"]
    ]
    return render_template("athletes/detail.html", athlete=athlete, times=times, distances=COMMON_DISTANCES)


@bp.post("/<int:athlete_id>")
@coach_required
def edit(athlete_id: int):
    athlete = actions.update_athlete(get_store(), athlete_id, payload())
    flash(f"{athlete['name']} saved.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))


@bp.post("/<int:athlete_id>/archive")
@coach_required
def archive(athlete_id: int):
    athlete = actions.update_athlete(get_store(), athlete_id, {"archived": payload().get("archived", "1")})
    flash(f"{athlete['name']} {'archived' if athlete['archived'] else 'restored'}.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))


@bp.post("/<int:athlete_id>/race-times")
@coach_required
def race_time(athlete_id: int):
    athlete = actions.set_race_time(get_store(), athlete_id, payload())
    flash(f"{athlete['name']}'s race times saved.")
    return redirect(url_for("athletes.detail", athlete_id=athlete_id))
