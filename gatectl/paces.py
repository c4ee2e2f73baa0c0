"""Race times and paces: reading what coaches type, and velocities from them.

Race times are durations typed by people (``45.28``, ``1:52.3``, ``35:00``,
``1:02:10``); they are read exactly, as integer nanoseconds.

>>> parse_race_time("1:52.30")
112300000000
>>> round(pace_velocity(400, parse_race_time("45.28")), 2)
8.83
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import PaceError
from .model import NS_PER_S


def parse_race_time(text: str) -> int:
    """``[[h:]m:]s[.fraction]`` → integer nanoseconds; anything else raises ``PaceError``."""
    parts = text.strip().split(":")
    if not text.strip() or len(parts) > 3:
        raise PaceError(f"Race time {text!r} must look like 45.28, 1:52.3 or 35:00.")
    try:
        seconds = Decimal(parts[-1])
        whole = [int(p) for p in parts[:-1]]
    except (InvalidOperation, ValueError):
        raise PaceError(f"Race time {text!r} must look like 45.28, 1:52.3 or 35:00.") from None
    if not seconds.is_finite() or seconds < 0 or any(p < 0 for p in whole):
        raise PaceError(f"Race time {text!r} must be a positive duration.")
    if whole and seconds >= 60:
        raise PaceError(f"Race time {text!r}: seconds after a colon must be under 60.")
    total = Decimal(0)
    for p in whole:
        total = total * 60 + p
    total = total * 60 + seconds if whole else seconds
    ns = int(total * NS_PER_S)
    if ns <= 0:
        raise PaceError(f"Race time {text!r} must be longer than zero.")
    return ns


def pace_velocity(distance_m: float, time_ns: int) -> float:
    """Average velocity in m/s of ``distance_m`` run in ``time_ns``: a display value."""
    return distance_m * NS_PER_S / time_ns
