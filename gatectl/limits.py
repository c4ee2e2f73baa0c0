"""The ranges every number and size from outside must fall in, and one way to read them.

A number typed on the command line, in a form, a JSON body, the config, a
trace or a workout is read here: short text only (a 5000-digit number is
refused before it is converted), finite, and within a range that fits the
sport. Each refusal is a sentence naming the value and its range, raised as
the caller's own error class (``LayoutError``, ``ConfigError``, a form's
``FieldError``...), so each adapter reports it the way it reports the rest.

>>> GATE_POSITION_M.check(1e308, "Position of gate M3")
Traceback (most recent call last):
...
gatectl.errors.GatectlError: Position of gate M3 must be from -10000 to 10000 m, not 1e+308.
>>> read_number("45.28", "Time", TIME_S)
45.28
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from gatectl.errors import GatectlError

# Longest text read as a number: "-1234567.123456789e-10" fits; a million digits does not.
MAX_NUMBER_CHARS = 40
_INTEGER = re.compile(r"[+-]?[0-9]+")  # ASCII digits: int() also reads '٣' and '1_000'

N = TypeVar("N", int, float, Decimal)


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds of a quantity, with its unit for the sentence."""

    low: int | float
    high: int | float
    unit: str = ""

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return False
        if isinstance(value, Decimal) and not value.is_finite():
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"from {shown(self.low)} to {shown(self.high)}{' ' + self.unit if self.unit else ''}"

    def check(self, value: N, label: str, error: type[Exception] = GatectlError) -> N:
        """``value`` if it is a finite number in range, else ``error`` with a sentence."""
        if value not in self:
            raise error(f"{label} must be {self.describe()}, not {shown(value)}.")
        return value


def shown(value: object) -> str:
    """A value for a sentence: numbers as %g, anything else quoted, never thousands of characters.

    >>> shown("9" * 5000)[:6], len(shown("9" * 5000)), shown(2**63), shown(1e308)
    ("'99999", 40, '9223372036854775808', '1e+308')
    """
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text = str(value) if isinstance(value, int) and abs(value) < 10**20 else f"{value:g}"
    else:
        text = repr(value)
    return text if len(text) <= MAX_NUMBER_CHARS else text[: MAX_NUMBER_CHARS - 1] + "…"


# The sport's ranges ------------------------------------------------------------------

ID = Range(1, 2**53)  # database ids: fit SQLite (2^63) and JavaScript numbers (2^53)
PORT = Range(1, 65535)
SEED = Range(0, 2**63 - 1)
T_NS = Range(-(2**63) + 1, 2**63 - 1)  # an edge's instant: fits SQLite's integer
GATE_POSITION_M = Range(-10_000, 10_000, "m")  # along a straight, a lap or a road course
ZONE_M = Range(0.5, 500, "m")  # an acceleration or fly zone
LAP_M = Range(50, 1000, "m")
RACE_DISTANCE_M = Range(1, 1_000_000, "m")  # 1 m to 1000 km
REP_DISTANCE_M = Range(1, 100_000, "m")  # a rep or a jog recovery
TIME_S = Range(0, 10_000 * 3600, "s")  # race times, targets, rests: 10,000 h fits ns in 2^63 many times over
VELOCITY_MPS = Range(0.1, 15, "m/s")  # walking to faster than any sprinter
LAP_VELOCITY_MPS = Range(1.5, 13, "m/s")  # a lap split: faster is a false trigger, slower an abandoned rep
WAVE_S = Range(0, 60, "s")  # the gap between waves of a group's track rep
TOP_SPEED_MPS = Range(1, 15, "m/s")  # a simulated sprinter's
DETECTION_MS = Range(0, 60_000, "ms")  # detection thresholds
SYNC_LIMIT_MS = Range(0.01, 1000, "ms")  # the clock-sync bound a run is flagged above: 10 µs to a second
REPLAY_SPEED = Range(0.001, 10_000)  # times real time
SIM_REPS = Range(1, 10_000)
REP_COUNT = Range(1, 1000)  # one "N x"
TOTAL_REPS = 1000  # reps in one workout, every repeat expanded
NESTING = 8  # brackets and repeats inside one another
WORKOUT_CHARS = 2000
NAME_CHARS = 80


def read_number(text: str, label: str, limits: Range, error: type[Exception] = GatectlError) -> float:
    """A number typed as text (``45.28``, ``1e3``, ``29,95``), finite and within ``limits``."""
    value = text.strip().replace(",", ".")
    if len(value) > MAX_NUMBER_CHARS:
        raise error(f"{label} must be a number {limits.describe()}, not {len(value)} characters of text.")
    try:
        number = float(value)
    except ValueError:
        raise error(f"{label} must be a number {limits.describe()}, not {shown(text)}.") from None
    return limits.check(number, label, error)


def read_integer(text: str, label: str, limits: Range, error: type[Exception] = GatectlError) -> int:
    """A whole number typed as text, within ``limits``; never converts thousands of digits."""
    value = text.strip()
    if len(value) > MAX_NUMBER_CHARS or not _INTEGER.fullmatch(value):
        raise error(f"{label} must be a whole number {limits.describe()}, not {shown(text)}.")
    return limits.check(int(value), label, error)


def read_decimal(text: str, label: str, limits: Range, error: type[Exception] = GatectlError) -> Decimal:
    """An exact decimal typed as text (race times, distances), finite and within ``limits``."""
    value = text.strip()
    try:
        if len(value) > MAX_NUMBER_CHARS:
            raise InvalidOperation
        number = Decimal(value)
    except InvalidOperation:
        raise error(f"{label} must be a number {limits.describe()}, not {shown(text)}.") from None
    return limits.check(number, label, error)


def check_name(name: str, label: str, error: type[Exception] = GatectlError) -> str:
    """A name as people type it: at most ``NAME_CHARS`` characters, no control characters.

    Terminal escape codes and line breaks in a name would rewrite the CLI's output and the
    exported files' rows.
    """
    name = name.strip()
    if len(name) > NAME_CHARS:
        raise error(f"{label} must be at most {NAME_CHARS} characters long.")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name if c != "\u200d"):  # keep emoji joiners
        raise error(f"{label} must not contain control characters (line breaks, tabs, escape codes).")
    return name


def argument(read: Callable[[str, str, Range, type[Exception]], N], limits: Range) -> Callable[[str], N]:
    """An argparse ``type=``: a bad value exits 2 with the sentence."""
    import argparse

    def convert(text: str) -> N:
        try:
            return read(text, "value", limits, ValueError)
        except ValueError as exc:  # "argument --port: must be from 1 to 65535, not 99999."
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value ")) from None

    convert.__name__ = read.__name__.removeprefix("read_")  # argparse names it in "invalid ... value"
    return convert
