"""Race times and paces: reading what coaches type, and converting between them.

Race times are durations typed by people (``45.28``, ``1:52.3``, ``35:00``,
``1:02:10``); they are read exactly, as integer nanoseconds. Velocities are the
only floats: they are display values. What a person types is also checked
against what a race can be (``check_race``), the same for the web and the CLI.

>>> parse_race_time("1:52.30")
112300000000
>>> round(pace_velocity(400, parse_race_time("45.28")), 2)
8.83
>>> format_duration_ns(scale_to_distance(parse_race_time("35:00"), 10_000, 400))
'1:24.0'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from gatectl.errors import PaceError
from gatectl.limits import MAX_NUMBER_CHARS, RACE_DISTANCE_M, TIME_S
from gatectl.timing.model import NS_PER_S

# Races known by name rather than by metres; keys are lower case.
NAMED_DISTANCES_M = {
    "mile": 1609.344,
    "half-marathon": 21097.5,
    "half marathon": 21097.5,
    "half": 21097.5,
    "hm": 21097.5,
    "marathon": 42195.0,
}
_LABELS = {1609.344: "mile", 21097.5: "half marathon", 42195.0: "marathon"}
_UNITS_M = {"": 1, "m": 1, "k": 1000, "km": 1000}

# What a race can be: bounds that catch typos (400=5 is 80 m/s) before they skew every pace comparison.
RACE_TIME_KINDS = ("best", "goal")  # an athlete's race time is one they ran, or one they aim for
FASTEST_RACE_MPS = 11.0  # no race is run faster on average (100 m record: 10.44 m/s)
SLOWEST_RACE_MPS = 0.3


def parse_race_time(text: str) -> int:
    """``[[h:]m:]s[.fraction]`` → integer nanoseconds; anything else raises ``PaceError``."""
    if len(text.strip()) > MAX_NUMBER_CHARS:
        raise PaceError(f"A race time must be at most {MAX_NUMBER_CHARS} characters, like 45.28, 1:52.3 or 35:00.")
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
    TIME_S.check(total, f"Race time {text.strip()!r}", PaceError)  # 1e999990 s would take minutes to convert
    ns = int(total * NS_PER_S)
    if ns <= 0:
        raise PaceError(f"Race time {text!r} must be longer than zero.")
    return ns


def pace_velocity(distance_m: float, time_ns: int) -> float:
    """Average velocity in m/s of ``distance_m`` run in ``time_ns``: a display value."""
    return distance_m * NS_PER_S / time_ns


def time_at_velocity(distance_m: float, velocity_m_s: float) -> int:
    """Nanoseconds to cover ``distance_m`` at ``velocity_m_s``.

    >>> time_at_velocity(400, 8.0)
    50000000000
    """
    if velocity_m_s <= 0:
        raise PaceError(f"Velocity must be above 0 m/s, not {velocity_m_s}.")
    return round(distance_m * NS_PER_S / velocity_m_s)


def scale_to_distance(time_ns: int, distance_m: float, to_m: float) -> int:
    """Time for ``to_m`` metres at the average pace of ``distance_m`` in ``time_ns``.

    The one conversion between race time, pace per km and pace per 400 m:

    >>> scale_to_distance(parse_race_time("35:00"), 10_000, 1000)  # 3:30 per km
    210000000000
    >>> scale_to_distance(parse_race_time("3:30"), 1000, 10_000)  # back to the race time
    2100000000000
    """
    # Fractions keep the scaling exact; a float product of a marathon in ns would lose nanoseconds.
    return round(Fraction(time_ns) * Fraction(to_m) / Fraction(distance_m))


def parse_race_distance(text: str) -> float:
    """Metres of a race typed as ``400``, ``800m``, ``10k``, ``10 km``, ``mile`` or ``marathon``.

    >>> parse_race_distance("10K"), parse_race_distance("mile")
    (10000.0, 1609.344)
    """
    key = " ".join(text.strip().lower().split())[: MAX_NUMBER_CHARS + 1]
    if key in NAMED_DISTANCES_M:
        return NAMED_DISTANCES_M[key]
    number = key.rstrip("mk ")
    unit = key[len(number) :].strip()
    try:
        value = Decimal(number)
    except InvalidOperation:
        value = Decimal("NaN")
    if unit not in _UNITS_M or not value.is_finite() or value <= 0 or len(key) > MAX_NUMBER_CHARS:
        raise PaceError(
            f"Race distance {key!r} must be metres (400, 800m), kilometres (10k) "
            "or a named race (mile, half-marathon, marathon)."
        )
    metres = value * _UNITS_M[unit]
    if metres > RACE_DISTANCE_M.high:
        raise PaceError(f"Race distance {key!r} is too long: a race is at most {RACE_DISTANCE_M.high / 1000:g} km.")
    if metres not in RACE_DISTANCE_M:
        raise PaceError(f"Race distance {key!r} must be from 1 m to 1000 km.")
    return float(metres)


def parse_race(spec: str) -> tuple[float, int]:
    """A race result typed as ``distance=time`` → ``(distance_m, time_ns)``, checked by ``check_race``.

    >>> parse_race("10k=35:00")
    (10000.0, 2100000000000)
    """
    distance, sep, time = spec.partition("=")
    if not sep or not distance.strip() or not time.strip():
        raise PaceError(f"Race {spec!r} must look like 10k=35:00 or 800m=1:52.3 (distance=time).")
    distance_m, time_ns = parse_race_distance(distance), parse_race_time(time)
    check_race(distance_m, time_ns)
    return distance_m, time_ns


def check_race(distance_m: float, time_ns: int) -> None:
    """Refuse a race time no one can run: its average velocity must be a race's.

    >>> check_race(400, parse_race_time("45.28"))
    >>> check_race(400, parse_race_time("5"))
    Traceback (most recent call last):
    ...
    gatectl.errors.PaceError: 400 m in 5.00 would be 80.0 m/s on average, which no race is run at (typo? 45.3 is 45.3 s, 1:52.3 is a minute and 52.3 s).
    """
    velocity = pace_velocity(distance_m, time_ns)
    if not SLOWEST_RACE_MPS <= velocity <= FASTEST_RACE_MPS:
        raise PaceError(
            f"{distance_m:g} m in {format_duration_ns(time_ns, 2)} would be {velocity:.1f} m/s on average, "
            "which no race is run at (typo? 45.3 is 45.3 s, 1:52.3 is a minute and 52.3 s)."
        )


def race_label(distance_m: float) -> str:
    """How a race distance is said: ``10k``, ``1500m``, ``mile``.

    >>> race_label(10_000.0), race_label(1500.0), race_label(1609.344)
    ('10k', '1500m', 'mile')
    """
    if distance_m in _LABELS:
        return _LABELS[distance_m]
    if distance_m >= 1000 and distance_m % 1000 == 0:
        return f"{distance_m / 1000:g}k"
    return f"{distance_m:g}m"


def to_seconds(ns: int | None) -> float | None:
    """A duration as a float of seconds, for JSON only: ``None`` stays ``None``. Text: ``format_duration_ns``."""
    return None if ns is None else ns / NS_PER_S


def format_duration_ns(ns: int, decimals: int = 1, *, minutes: bool | None = None) -> str:
    """``[h:]m:ss.f`` or ``s.f`` for a duration, rounded half up to ``decimals`` places.

    The one way a duration is written (the dashboard's filters and the CLI use
    it; ``web/static/app.js`` has its twin). Minutes show from a minute on;
    ``minutes=True`` always (a rest: ``0:07``), ``minutes=False`` never (``75.30``).

    >>> format_duration_ns(84_000_000_000), format_duration_ns(45_280_000_000, 2)
    ('1:24.0', '45.28')
    >>> format_duration_ns(3_730_000_000_000, 0)
    '1:02:10'
    >>> format_duration_ns(7_000_000_000, 0, minutes=True), format_duration_ns(75_300_000_000, 2, minutes=False)
    ('0:07', '75.30')
    """
    if not 0 <= decimals <= 9:
        raise PaceError(f"Decimals must be 0 to 9, not {decimals}.")
    sign = "-" if ns < 0 else ""
    unit = 10 ** (9 - decimals)
    ticks = (abs(ns) + unit // 2) // unit  # in units of 10**-decimals seconds
    whole_s, fraction = divmod(ticks, 10**decimals)
    hours, rest = divmod(whole_s, 3600)
    mins, secs = divmod(rest, 60)
    tail = f".{fraction:0{decimals}d}" if decimals else ""
    if minutes is False:
        return f"{sign}{whole_s}{tail}"
    if hours:
        return f"{sign}{hours}:{mins:02d}:{secs:02d}{tail}"
    if mins or minutes:
        return f"{sign}{mins}:{secs:02d}{tail}"
    return f"{sign}{secs}{tail}"


@dataclass(frozen=True, slots=True)
class PaceEquivalents:
    """One performance said every way a runner might want it."""

    per_km_ns: int
    per_400m_ns: int
    per_100m_ns: int
    velocity_m_s: float
    velocity_km_h: float


def equivalents(distance_m: float, time_ns: int) -> PaceEquivalents:
    """Pace per km, per 400 m and per 100 m, m/s and km/h of ``distance_m`` in ``time_ns``.

    >>> e = equivalents(10_000, parse_race_time("35:00"))
    >>> format_duration_ns(e.per_km_ns), format_duration_ns(e.per_400m_ns), round(e.velocity_km_h, 2)
    ('3:30.0', '1:24.0', 17.14)
    """
    if distance_m <= 0 or time_ns <= 0:
        raise PaceError(f"Distance and time must be above zero, not {distance_m} m in {time_ns} ns.")
    velocity = pace_velocity(distance_m, time_ns)
    return PaceEquivalents(
        per_km_ns=scale_to_distance(time_ns, distance_m, 1000),
        per_400m_ns=scale_to_distance(time_ns, distance_m, 400),
        per_100m_ns=scale_to_distance(time_ns, distance_m, 100),
        velocity_m_s=velocity,
        velocity_km_h=velocity * 3.6,
    )
