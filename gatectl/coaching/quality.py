"""Rep quality: each rep against its target, and against the reps before it.

Long rests are there so that every rep is as good as or better than the one
before; a rep that drops off says the set has done its work. Here are the
judgements, as pure functions over integer-nanosecond rep times:

* ``target_for``: what a rep is to beat or to hit, from the workout's kind,
  the notation and the athlete's race times;
* ``check_pace`` and ``check_faster_than``: a rep against its target time;
* ``drop_off``: a rep more than a margin (2 %) slower than the best earlier rep
  it is compared with (or the rep just before it);
* ``comparison_groups``: which reps of a plan are compared with which;
* ``top_speed_hint``: in 400 m-pace work, reps not clearly faster than 800 m pace.

"Slower by 2 %" means taking 2 % longer over the same distance.

>>> s = 1_000_000_000
>>> drop_off(3_12 * s // 100, [3_00 * s // 100, 3_04 * s // 100]).percent_slower
4.0
>>> check_pace(81 * s, 80 * s, 400).verdict
<Verdict.ON_TARGET: 'on-target'>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.notation import MaxEffort, RacePace, Rep, TimeTarget
from gatectl.coaching.paces import NAMED_DISTANCES_M, format_duration_ns, pace_velocity, race_label, scale_to_distance, to_seconds
from gatectl.jsonable import Wire
from gatectl.timing.model import NS_PER_S

DEFAULT_MARGIN = 0.02  # a rep more than 2 % slower than its reference drops off
CLEARLY = 0.02  # "clearly faster" than a pace: at least 2 % faster
ON_TARGET_PER_400M_NS = NS_PER_S  # paced reps within ±1 s per 400 m are on target
TOP_SPEED_RACES_M = (800.0, NAMED_DISTANCES_M["mile"])  # the pace 400 m-pace reps must clearly beat
REFERENCE_RACES_M = (400.0, 800.0)  # the paces shown beside every target, where known


class Verdict(StrEnum):
    """A rep against its target; the values double as the dashboard's colour classes.

    Paced reps are ``on-target``, ``fast`` or ``slow``; reps that must beat a
    pace (flying sprints, 400 m-pace reps) ``beat`` or ``missed`` it.
    """

    ON_TARGET = "on-target"
    FAST = "fast"
    SLOW = "slow"
    BEAT = "beat"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """How a rep time compares with a target time: ``diff_ns`` < 0 is faster."""

    verdict: Verdict
    time_ns: int
    target_ns: int
    diff_ns: int
    tolerance_ns: int  # ± around a paced target; 0 for a pace to beat

    WIRE: ClassVar[Wire] = Wire(hide=("time_ns", "target_ns", "diff_ns", "tolerance_ns"), show=("target_s", "diff_s"))

    @property
    def target_s(self) -> float:
        return self.target_ns / NS_PER_S

    @property
    def diff_s(self) -> float:
        return self.diff_ns / NS_PER_S


def on_target_tolerance_ns(distance_m: float, per_400m_ns: int = ON_TARGET_PER_400M_NS) -> int:
    """The ± a paced rep may miss its target by: ``per_400m_ns`` for every 400 m.

    >>> on_target_tolerance_ns(400), on_target_tolerance_ns(200), on_target_tolerance_ns(1000)
    (1000000000, 500000000, 2500000000)
    """
    return round(per_400m_ns * distance_m / 400)


def check_pace(time_ns: int, target_ns: int, distance_m: float, per_400m_ns: int = ON_TARGET_PER_400M_NS) -> TargetCheck:
    """A paced rep (``@ 1:20``, ``@ 3K pace``): on target within the tolerance, else fast or slow."""
    diff = time_ns - target_ns
    tolerance = on_target_tolerance_ns(distance_m, per_400m_ns)
    verdict = Verdict.ON_TARGET if abs(diff) <= tolerance else Verdict.FAST if diff < 0 else Verdict.SLOW
    return TargetCheck(verdict, time_ns, target_ns, diff, tolerance)


def check_faster_than(time_ns: int, limit_ns: int) -> TargetCheck:
    """A rep that must be faster than a pace: ``limit_ns`` is that pace over the rep."""
    diff = time_ns - limit_ns
    return TargetCheck(Verdict.BEAT if diff < 0 else Verdict.MISSED, time_ns, limit_ns, diff, 0)


def clearly_faster_ns(time_ns: int, margin: float = CLEARLY) -> int:
    """The time to beat to be ``margin`` faster (in velocity) than a pace that takes ``time_ns``.

    >>> clearly_faster_ns(102_000_000_000)
    100000000000
    """
    return round(time_ns / (1 + margin))


class TargetStyle(StrEnum):
    FASTER_THAN = "faster-than"  # beat ``time_ns``: flying sprints, 400 m-pace reps
    ON_PACE = "on-pace"  # run ``time_ns``, within the tolerance
    MAX = "max"  # as fast as possible
    NONE = "none"  # nothing to aim at: no target, or the race time is not known


@dataclass(frozen=True, slots=True)
class PaceMark:
    """A race's average pace over the rep: the time it comes to, and the velocity."""

    race: str
    time_ns: int
    velocity_mps: float

    WIRE: ClassVar[Wire] = Wire(hide=("time_ns",), show=("time_s",))

    @property
    def time_s(self) -> float:
        return self.time_ns / NS_PER_S


@dataclass(frozen=True, slots=True)
class RepTarget:
    style: TargetStyle
    text: str  # said to the athlete: "faster than 400m pace (3.40 s)"
    time_ns: int | None  # over the rep distance
    velocity_mps: float | None
    paces: tuple[PaceMark, ...]  # 400 m and 800 m pace over the rep, where known

    WIRE: ClassVar[Wire] = Wire(hide=("time_ns",), show=("time_s",))

    @property
    def time_s(self) -> float | None:
        return to_seconds(self.time_ns)


def _clock(ns: int) -> str:
    return f"{ns / NS_PER_S:.2f} s" if ns < 60 * NS_PER_S else format_duration_ns(ns, 1)


def target_for(kind: WorkoutKind, rep: Rep, races: Mapping[float, int], clearly: float = CLEARLY) -> RepTarget:
    """What one athlete aims at in ``rep`` (expanded with their ``races``).

    >>> from gatectl.coaching.notation import expand, parse_workout
    >>> [rep] = expand(parse_workout("30m"))
    >>> target_for(WorkoutKind.MAX_VELOCITY, rep, {400: 45_280_000_000}).text
    'faster than 400m pace (3.40 s)'
    """
    d = rep.distance_m
    paces = []
    for race_m in REFERENCE_RACES_M:
        if race_m in races:
            time_ns = scale_to_distance(races[race_m], race_m, d)
            paces.append(PaceMark(race_label(race_m), time_ns, pace_velocity(d, time_ns)))

    def aim(style: TargetStyle, text: str, time_ns: int | None = None) -> RepTarget:
        velocity = None if time_ns is None else d * NS_PER_S / time_ns
        return RepTarget(style, text, time_ns, velocity, tuple(paces))

    if isinstance(rep.target, MaxEffort):
        return aim(TargetStyle.MAX, "as fast as possible")
    if isinstance(rep.target, RacePace) and rep.target_ns is None:
        return aim(TargetStyle.NONE, f"{rep.target}: the {race_label(rep.target.race_m)} time is not known")
    if isinstance(rep.target, TimeTarget):
        return aim(TargetStyle.ON_PACE, str(rep.target), rep.target_ns)
    if rep.target_ns is not None:  # a race pace, resolved from the athlete's race time
        return aim(TargetStyle.ON_PACE, f"{rep.target} ({_clock(rep.target_ns)})", rep.target_ns)
    if kind is WorkoutKind.MAX_VELOCITY:
        if 400.0 not in races:
            return aim(TargetStyle.NONE, "faster than 400m pace: the 400m time is not known")
        time_ns = scale_to_distance(races[400.0], 400.0, d)
        return aim(TargetStyle.FASTER_THAN, f"faster than 400m pace ({_clock(time_ns)})", time_ns)
    if kind is WorkoutKind.PACE_400M:
        race = top_speed_race(races)
        if race is None:
            return aim(TargetStyle.NONE, "clearly faster than 800m pace: the 800m time is not known")
        time_ns = clearly_faster_ns(scale_to_distance(race[1], race[0], d), clearly)
        return aim(TargetStyle.FASTER_THAN, f"clearly faster than {race_label(race[0])} pace (under {_clock(time_ns)})", time_ns)
    return aim(TargetStyle.NONE, "no target")


class Against(StrEnum):
    """What a rep is compared with to tell a drop-off."""

    BEST = "best"  # the fastest earlier rep it is compared with
    PREVIOUS = "previous"  # the rep just before it


@dataclass(frozen=True, slots=True)
class DropOff:
    """A rep slower than its reference by more than the margin."""

    time_ns: int
    reference_ns: int
    against: Against
    percent_slower: float

    WIRE: ClassVar[Wire] = Wire(hide=("time_ns", "reference_ns"), show=("reference_s",))

    @property
    def reference_s(self) -> float:
        return self.reference_ns / NS_PER_S


def drop_off(
    time_ns: int, earlier_ns: Sequence[int], margin: float = DEFAULT_MARGIN, against: Against = Against.BEST
) -> DropOff | None:
    """The drop-off of a rep taking ``time_ns`` after ``earlier_ns`` (same distance, in order), if any."""
    if not earlier_ns:
        return None
    reference = min(earlier_ns) if against is Against.BEST else earlier_ns[-1]
    if time_ns <= reference * (1 + margin):
        return None
    return DropOff(time_ns, reference, against, round(100 * (time_ns / reference - 1), 1))


def comparison_groups(plan: Sequence[Rep]) -> tuple[int, ...]:
    """For each rep of ``plan``, the group of reps it is compared with (numbers from 0).

    Reps are compared with the reps of the same distance in their set. A set
    holding a single rep of a distance (``3 x (100m. 200m)``) has nothing to
    compare within, so such reps are compared across sets instead.

    >>> from gatectl.coaching.notation import expand, parse_workout
    >>> comparison_groups(expand(parse_workout("2 x 3 x 30m")))
    (0, 0, 0, 1, 1, 1)
    >>> comparison_groups(expand(parse_workout("3 x (100m. 200m)")))
    (0, 1, 0, 1, 0, 1)
    """
    counts: dict[tuple[int, float], int] = {}
    for rep in plan:
        key = (rep.set_no, rep.distance_m)
        counts[key] = counts.get(key, 0) + 1
    numbers: dict[tuple[int, float], int] = {}
    groups = []
    for rep in plan:
        key = (rep.set_no, rep.distance_m)
        if counts[key] == 1:
            key = (0, rep.distance_m)  # set numbers start at 1: 0 is "across sets"
        groups.append(numbers.setdefault(key, len(numbers)))
    return tuple(groups)


def top_speed_race(races: Mapping[float, int]) -> tuple[float, int] | None:
    """The race whose pace 400 m-pace reps must clearly beat: the 800 m, else the mile."""
    for race_m in TOP_SPEED_RACES_M:
        if race_m in races:
            return race_m, races[race_m]
    return None


@dataclass(frozen=True, slots=True)
class TopSpeedHint:
    """Reps of 400 m-pace work that were not clearly faster than 800 m (or mile) pace."""

    race_m: float
    slow_reps: int
    reps: int
    message: str


def top_speed_hint(
    reps: Sequence[tuple[float, int]], races: Mapping[float, int], margin: float = CLEARLY
) -> TopSpeedHint | None:
    """The hint for 400 m-pace work: ``reps`` are ``(distance_m, time_ns)`` of done reps.

    A runner who cannot get clearly above 800 m pace in these reps is short of
    top speed rather than of endurance, and gains more from flying sprints.
    None when every rep was clearly faster, or no 800 m or mile time is known.
    """
    race = top_speed_race(races)
    if race is None or not reps:
        return None
    race_m, race_ns = race
    slow = sum(1 for distance, time_ns in reps if time_ns >= clearly_faster_ns(scale_to_distance(race_ns, race_m, distance), margin))
    if not slow:
        return None
    message = (
        f"{slow} of {len(reps)} reps were not clearly faster than {race_label(race_m)} pace: top speed "
        "is probably the limit here. Add Maximum Velocity work (flying 30s) to the programme."
    )
    return TopSpeedHint(race_m, slow, len(reps), message)


@dataclass(frozen=True, slots=True)
class DistanceSummary:
    """An athlete's done reps over one distance: best, mean and slowest time."""

    distance_m: float
    reps: int
    best_ns: int
    mean_ns: int
    slowest_ns: int
    best_velocity_mps: float
    mean_velocity_mps: float

    WIRE: ClassVar[Wire] = Wire(hide=("best_ns", "mean_ns", "slowest_ns"), show=("best_s", "mean_s", "slowest_s"))

    @property
    def best_s(self) -> float:
        return self.best_ns / NS_PER_S

    @property
    def mean_s(self) -> float:
        return self.mean_ns / NS_PER_S

    @property
    def slowest_s(self) -> float:
        return self.slowest_ns / NS_PER_S


def summarize(distance_m: float, times_ns: Sequence[int]) -> DistanceSummary:
    """Best, mean and slowest of ``times_ns`` (at least one) over ``distance_m``."""
    best, slowest = min(times_ns), max(times_ns)
    mean = (2 * sum(times_ns) + len(times_ns)) // (2 * len(times_ns))  # rounded half up, in integers
    return DistanceSummary(
        distance_m, len(times_ns), best, mean, slowest,
        distance_m * NS_PER_S / best, distance_m * NS_PER_S / mean,
    )  # fmt: skip
