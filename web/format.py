"""Jinja filters: numbers as coaches read them, with their units; ``jsonable`` gives a typed value the form
the history pages read from the store (the summary table is shared).

Every duration is written by ``gatectl.coaching.paces.format_duration_ns``.

>>> seconds_text(3.1234), mps(9.6789), percent(PaceComparison(velocity_mps=10.746, pace_mps=10.0))
('3.12', '9.68', '▲ 107.5 %')
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from gatectl.coaching.paces import format_duration_ns, race_label
from gatectl.jsonable import jsonable
from gatectl.timing.model import NS_PER_S
from gatectl.timing.results import PaceComparison


def seconds_text(value: float | None, digits: int = 2) -> str:
    """A time in seconds (a fly, a split) as plain seconds: ``3.12``."""
    return "—" if value is None else format_duration_ns(round(value * NS_PER_S), digits, minutes=False)


def mps(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def percent(comparison: PaceComparison | None) -> str:
    if comparison is None:
        return "—"
    sign = "▲" if comparison.faster else "▼"
    return f"{sign} {comparison.percent:.1f} %"


def race_time(time_ns: int | None) -> str:
    return "" if time_ns is None else format_duration_ns(time_ns, 2)


def race(distance_m: float) -> str:
    return race_label(distance_m)


def minutes(ns: int | None) -> str:
    """``m:ss`` (or ``h:mm:ss``): how a coach reads a rest.

    >>> minutes(83_000_000_000), minutes(7_000_000_000)
    ('1:23', '0:07')
    """
    return "" if ns is None else format_duration_ns(max(ns, 0), 0, minutes=True)


def signed(value: float | None, digits: int = 2) -> str:
    """A difference from a target in seconds: ``+0.42``, ``−1.30`` (a real minus sign).

    >>> signed(-1.5, 3)
    '−1.500'
    """
    return "" if value is None else ("+" if value >= 0 else "−") + format_duration_ns(round(abs(value) * NS_PER_S), digits, minutes=False)


def init_app(app: Flask) -> None:
    filters: dict[str, Callable[..., str]] = {"seconds": seconds_text, "mps": mps, "percent": percent, "race_time": race_time, "race": race, "minutes": minutes, "signed": signed}
    for name, fn in filters.items():
        app.add_template_filter(fn, name)
    app.add_template_filter(jsonable, "jsonable")
