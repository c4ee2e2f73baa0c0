"""History: sessions and their runs, filterable by athlete, with charts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from flask import Blueprint, render_template, request

from gatectl.coaching.paces import pace_velocity

from .charts import Point, RefLine, line_chart
from .db import get_store
from .format import minutes
from .forms import boolean, integer

bp = Blueprint("history", __name__, url_prefix="/history")

PACE_LINES = ((400.0, "400 m pace", "r400"), (800.0, "800 m pace", "r800"))


def _pace_lines(paces: dict[float, int]) -> list[RefLine]:
    return [RefLine(label, pace_velocity(d, paces[d]), css) for d, label, css in PACE_LINES if d in paces]


@bp.get("")
def index():
    store = get_store()
    athlete_id = integer(request.args, "athlete", "athlete", required=False)
    sessions = store.sessions()
    athlete = progress = runs = None
    if athlete_id is not None:
        athlete = store.athlete(athlete_id)
        runs = store.runs(athlete_id=athlete_id, statuses=("complete", "incomplete"))
        ran_in = {r["session"] for r in runs}
        sessions = [s for s in sessions if s["id"] in ran_in]
        progress = _progress_chart(athlete, runs, {s["id"]: s for s in sessions}, store.paces(athlete_id))
    return render_template(
        "history/index.html",
        sessions=sessions,
        athletes=store.athletes(include_archived=True),
        athlete=athlete,
        runs=runs,
        progress=progress,
    )


def _week(day: str) -> date | None:
    try:
        d = date.fromisoformat(day)
    except (TypeError, ValueError):
        return None
    return d - timedelta(days=d.weekday())


def _progress_chart(athlete: dict, runs: list[dict], sessions: dict[int, dict], paces: dict[float, int]):
    """The athlete's best fly velocity each week they ran."""
    best: dict[date, tuple[float, dict]] = {}
    for run in runs:
        if run["status"] != "complete" or run["voided"] or not run["fly"]:
            continue
        week = _week(sessions.get(run["session"], {}).get("date"))
        if week is None:
            continue
        v = run["fly"]["velocity_mps"]
        if week not in best or v > best[week][0]:
            best[week] = (v, run)
    points = [
        Point(
            week.strftime("%d %b"),
            v,
            f"week of {week:%d %b %Y}: {v:.2f} m/s, fly {run['fly']['distance_m']:g} m in {run['fly']['time_s']:.2f} s",
        )
        for week, (v, run) in sorted(best.items())
    ]
    return line_chart(points, _pace_lines(paces), title=f"{athlete['name']}: best fly velocity each week")


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    store = get_store()
    session = store.session(session_id)
    athlete_id = integer(request.args, "athlete", "athlete", required=False)
    show_all = boolean(request.args, "all", "all", required=False)
    statuses = None if show_all else ("complete", "incomplete")
    runs = list(reversed(store.runs(session_id=session_id, athlete_id=athlete_id, statuses=statuses)))
    _add_rest(runs)
    by_athlete: dict[int | None, list[dict]] = defaultdict(list)
    for run in runs:
        if run["status"] != "rejected":
            by_athlete[run["athlete_id"]].append(run)
    charts = []
    for who, reps in by_athlete.items():
        name = reps[0]["athlete"] or "Unassigned runs"
        points = [Point(str(i), _timed(r)["velocity_mps"] if _timed(r) else None, _note(i, r), hollow=r["voided"]) for i, r in enumerate(reps, start=1)]
        what = "lap rep" if session["lap_gate"] else "fly"
        charts.append(line_chart(points, _pace_lines(store.paces(who)), title=f"{name}: {what} velocity of each rep"))
    return render_template(
        "history/session.html",
        session=session,
        runs=runs,
        charts=charts,
        athletes=store.athletes(include_archived=True),
        athlete_id=athlete_id,
        show_all=show_all,
        anomalies=len(store.anomalies(session_id)),
        workout=store.workout(session_id),
    )


def _timed(run: dict) -> dict | None:
    """What was timed of a run: its fly zone, or the whole of a lap rep."""
    lap = run.get("lap")
    return run["fly"] or (lap if lap and lap["time_s"] is not None else None)


def _note(rep: int, run: dict) -> str:
    timed = _timed(run)
    if not timed:
        return f"rep {rep}: {run['status']}"
    void = " (void)" if run["voided"] else ""
    return f"rep {rep}{void}: {timed['time_s']:.2f} s, {timed['velocity_mps']:.2f} m/s"


def _add_rest(runs: list[dict]) -> None:
    """Each run's ``since_start`` (from the session's first run) and ``rest`` (since the
    same athlete's previous run began); ``runs`` are oldest first."""
    previous: dict[int, int] = {}
    starts = [min(r["crossings"].values()) if r["crossings"] else None for r in runs]
    first = next((s for s in starts if s is not None), 0)
    for run, started in zip(runs, starts):
        run["since_start"] = minutes(started - first) if started is not None else ""
        run["rest"] = ""
        if started is None or run["athlete_id"] is None or run["status"] == "rejected":
            continue
        if run["athlete_id"] in previous:
            run["rest"] = minutes(started - previous[run["athlete_id"]])
        previous[run["athlete_id"]] = started

