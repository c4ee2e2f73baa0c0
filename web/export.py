"""Export: a session's or an athlete's runs as CSV or JSON (the CLI's formats)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from gatectl.export import runs_csv, runs_json
from gatectl.timing.results import RunView

from .db import get_store
from .forms import boolean

bp = Blueprint("export", __name__, url_prefix="/export")


def _runs(**where) -> list[RunView]:
    # Rejected crossings (false triggers) only on request: ?all=1
    everything = boolean(request.args, "all", "all", required=False)
    return get_store().runs(**where, statuses=None if everything else ("complete", "incomplete"))


def _send(runs: list[RunView], name: str, fmt: str) -> Response:
    if fmt == "csv":
        body, mimetype = runs_csv(runs), "text/csv"  # formula-like cells are escaped there, for the CLI too
    else:
        body, mimetype = runs_json(runs), "application/json"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.get("/sessions/<int:session_id>.<any(csv, json):fmt>")
def session(session_id: int, fmt: str):
    session = get_store().session(session_id)
    return _send(list(reversed(_runs(session_id=session_id))), f"gatectl-session-{session['id']}-{session['date']}", fmt)


@bp.get("/athletes/<int:athlete_id>.<any(csv, json):fmt>")
def athlete(athlete_id: int, fmt: str):
    athlete = get_store().athlete(athlete_id)
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in athlete["name"]).strip("-").lower() or str(athlete_id)
    return _send(list(reversed(_runs(athlete_id=athlete_id))), f"gatectl-{slug}", fmt)
