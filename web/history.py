"""History: sessions and their runs, filterable by athlete, with charts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, render_template, request

from gatectl.coaching.paces import pace_velocity
from gatectl.errors import GatectlError
from gatectl.timing.results import Fly, RunView

from . import corrections
from .auth import coach_required
from .charts import Point, RefLine, line_chart
from .db import get_store
from .format import minutes
from .forms import boolean, integer, payload
from .refused import back_to_form

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
        ran_in = {r.session for r in runs}
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


def _week(day: str | None) -> date | None:
    if day is None:  # a run of a session that is not listed
        return None
    try:
        d = date.fromisoformat(day)
    except (TypeError, ValueError):
        return None
    return d - timedelta(days=d.weekday())


def _progress_chart(athlete: dict, runs: list[RunView], sessions: dict[int, dict], paces: dict[float, int]):
    """The athlete's best fly velocity each week they ran."""
    best: dict[date, Fly] = {}
    for run in runs:
        if run.status != "complete" or run.voided or run.fly is None:
            continue
        week = _week(sessions.get(run.session, {}).get("date"))
        if week is None:
            continue
        if week not in best or run.fly.velocity_mps > best[week].velocity_mps:
            best[week] = run.fly
    points = [
        Point(
            week.strftime("%d %b"),
            fly.velocity_mps,
            f"week of {week:%d %b %Y}: {fly.velocity_mps:.2f} m/s, fly {fly.distance_m:g} m in {fly.time_s:.2f} s",
        )
        for week, fly in sorted(best.items())
    ]
    return line_chart(points, _pace_lines(paces), title=f"{athlete['name']}: best fly velocity each week")


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    return _session_page(session_id)


def _session_page(session_id: int, form=None, error: GatectlError | None = None, error_at: str | None = None, **_: object) -> str:
    """The session's page; after a refused correction, with the sentence at the run (``error_at``)."""
    store = get_store()
    session = store.session(session_id)
    athlete_id = integer(request.args, "athlete", "athlete", required=False)
    show_all = boolean(request.args, "all", "all", required=False)
    statuses = None if show_all else ("complete", "incomplete")
    runs = list(reversed(store.runs(session_id=session_id, athlete_id=athlete_id, statuses=statuses)))
    by_athlete: dict[int | None, list[RunView]] = defaultdict(list)
    for run in runs:
        if run.status != "rejected":
            by_athlete[run.athlete_id].append(run)
    charts = []
    for who, reps in by_athlete.items():
        name = reps[0].athlete or "Unassigned runs"
        points = [Point(str(i), _velocity(r), _note(i, r), hollow=r.voided) for i, r in enumerate(reps, start=1)]
        what = "lap rep" if session["lap_gate"] else "fly"
        charts.append(line_chart(points, _pace_lines(store.paces(who)), title=f"{name}: {what} velocity of each rep"))
    every = store.runs(session_id=session_id)
    open_run = request.args.get("open", type=int)  # the run the coach opened to correct (not a number: none)
    if error_at is not None and error_at.startswith("run-"):
        open_run = int(error_at[4:])
    shown = [r for r in runs if r.status != "rejected" and (r.id == open_run or store.run_history(r.id))]
    ever = corrections.session_corrections(store, session_id)
    return render_template(
        "history/session.html",
        session=session,
        runs=runs,
        rests=_rests(runs),
        charts=charts,
        athletes=store.athletes(include_archived=True),
        athlete_id=athlete_id,
        show_all=show_all,
        anomalies=len(store.anomalies(session_id)),
        workout=store.workout(session_id),
        fixed=shown,
        panels={r.id: corrections.run_corrections(store, r.id, every) for r in shown},
        open_run=open_run,
        stale=[h for h in ever if not h.applied and h.undone_by is None and h.note],  # no longer apply: in no run's history
        correctable=store.track(session_id) is None,
        form=form if form is not None else {},
        error=error,
        error_at=error_at,
    )


@bp.post("/sessions/<int:session_id>/runs/<int:run_id>/correct")
@coach_required
@back_to_form(_session_page, corrections.run_form)
def correct(session_id: int, run_id: int):
    return corrections.corrected(corrections.correct_run(get_store(), run_id, payload()), "history.session", session_id=session_id)


@bp.post("/sessions/<int:session_id>/runs/<int:run_id>/undo/<int:correction_id>")
@coach_required
@back_to_form(_session_page, corrections.run_form)
def undo(session_id: int, run_id: int, correction_id: int):
    return corrections.corrected(corrections.undo(get_store(), correction_id), "history.session", session_id=session_id)


def _timed(run: RunView) -> tuple[float, float] | None:
    """What was timed of a run, as (time in s, velocity): its fly zone, or the whole of a lap rep."""
    if run.fly is not None:
        return run.fly.time_s, run.fly.velocity_mps
    lap = run.lap
    if lap is not None and lap.time_s is not None and lap.velocity_mps is not None:
        return lap.time_s, lap.velocity_mps
    return None


def _velocity(run: RunView) -> float | None:
    timed = _timed(run)
    return None if timed is None else timed[1]


def _note(rep: int, run: RunView) -> str:
    timed = _timed(run)
    if not timed:
        return f"rep {rep}: {run.status}"
    void = " (void)" if run.voided else ""
    return f"rep {rep}{void}: {timed[0]:.2f} s, {timed[1]:.2f} m/s"


@dataclass(frozen=True, slots=True)
class RestLabels:
    since_start: str  # since the session's first run began
    rest: str  # since the same athlete's previous run began


def _rests(runs: list[RunView]) -> dict[int, RestLabels]:
    """Each run's labels by run id; ``runs`` are oldest first."""
    previous: dict[int, int] = {}
    starts = [min(r.crossings.values()) if r.crossings else None for r in runs]
    first = next((s for s in starts if s is not None), 0)
    labels = {}
    for run, started in zip(runs, starts):
        rest = ""
        if started is not None and run.athlete_id is not None and run.status != "rejected":
            if run.athlete_id in previous:
                rest = minutes(started - previous[run.athlete_id])
            previous[run.athlete_id] = started
        labels[run.id] = RestLabels(minutes(started - first) if started is not None else "", rest)
    return labels

