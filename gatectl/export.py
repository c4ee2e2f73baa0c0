"""Runs as CSV or JSON, for a session, an athlete, or everything; oldest first, as History lists them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from gatectl.coaching.laps import LapReport
from gatectl.jsonable import jsonable
from gatectl.timing.results import RunView

CSV_COLUMNS = (
    "id", "session", "number", "athlete", "status", "date", "voided", "void_reason", "reason",
    "fly_distance_m", "fly_time_s", "fly_velocity_mps", "fly_kmh", "pct_400m_pace", "pct_800m_pace",
    "accel_time_s", "crossings",
    "set", "rep",  # the workout rep a run was
    "lap_distance_m", "lap_time_s", "lap_target_s", "lap_diff_s", "lap_splits_s",  # track reps on one gate
    "sync_uncertainty_us", "sync_flagged", "sync_why",  # gate nodes' clock sync (blank: not measured)
)


def runs_csv(runs: Sequence[RunView], dates: Mapping[int, str] | None = None) -> str:
    """One row a run; times in seconds to the nanosecond, crossings as gate=t_ns; ``dates``: each session's date.

    A text cell that a spreadsheet would read as a formula (a name typed as
    ``=cmd|' /C calc'!A0``) is written with a leading ``'``: see ``spreadsheet_safe``.
    """
    dates = dates or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        fly = run.fly
        # The first segment is the build-up unless it is the fly zone itself (a
        # two-gate layout); an incomplete run that reached M2 still has it.
        first = run.segments[0] if run.segments and not (fly and len(run.segments) == 1) else None
        pct = {key: run.vs_pace[key].percent if key in run.vs_pace else None for key in ("400m", "800m")}
        writer.writerow(map(spreadsheet_safe, [
            run.id, run.session, run.number, run.athlete or "", run.status, dates.get(run.session, ""), int(run.voided),
            run.void_reason or "", run.reason or "",
            *(("", "", "", "") if fly is None else (fly.distance_m, _seconds(fly.time_ns), round(fly.velocity_mps, 3), round(fly.kmh, 2))),
            pct["400m"] or "", pct["800m"] or "",
            "" if first is None else _seconds(first.time_ns),
            " ".join(f"{gate}={t}" for gate, t in run.crossings.items()),
            _blank(run.set_no), _blank(run.rep_no),
            *_lap_cells(run.lap),
            *(("", "", "") if run.sync is None else (run.sync.uncertainty_us, int(run.sync.flagged), run.sync.why or "")),
        ]))
    return out.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """``'=1+1`` for ``=1+1``: text a spreadsheet would run as a formula, kept as text; numbers as they are.

    >>> spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("-0.250000000"), spreadsheet_safe("Ana")
    ("'=HYPERLINK(1)", '-0.250000000', 'Ana')
    """
    if not isinstance(cell, str) or not cell.startswith(_FORMULA_STARTS):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell  # a negative time difference is a number, not a formula


def _lap_cells(lap: LapReport | None) -> list:
    if lap is None:
        return [""] * 5
    time_ns, target_ns = lap.time_ns, lap.target_ns
    diff = _signed_seconds(time_ns - target_ns) if time_ns is not None and target_ns is not None else ""
    splits = " ".join(_seconds(s) for s in lap.splits_ns)
    return [lap.distance_m, _seconds(time_ns), _seconds(target_ns), diff, splits]


def _blank(value: object) -> object:
    return "" if value is None else value


def _signed_seconds(ns: int) -> str:
    return ("-" if ns < 0 else "") + _seconds(abs(ns))


def runs_json(runs: Sequence[RunView]) -> str:
    return json.dumps({"runs": jsonable(runs)}, indent=2)


def _seconds(time_ns: int | None) -> str:
    """Exact decimal seconds from integer ns: 3104000123 → '3.104000123'."""
    if time_ns is None:
        return ""
    return f"{time_ns // 1_000_000_000}.{time_ns % 1_000_000_000:09d}"
