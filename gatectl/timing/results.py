"""Results of a run: segment times, fly time and velocity, and race-pace comparisons.

Times stay integer nanoseconds in these values; seconds and velocities are
properties, computed for display. ``gatectl.jsonable`` gives each value the
JSON form ``gatectl replay --json`` prints and the API serves.

>>> from gatectl.timing.model import Crossing, Layout, Run, RunStatus
>>> layout = Layout.parse("M1=0,M2=30,M3=60")
>>> run = Run(1, tuple(Crossing(g, t, "longest") for g, t in
...     [("M1", 0), ("M2", 3_600_000_000), ("M3", 6_700_000_000)]), RunStatus.COMPLETE)
>>> r = report(run, layout, {400: 47_000_000_000})
>>> r.fly.time_s, round(r.fly.velocity_mps, 3), round(r.vs_pace["400m"].ratio, 3)
(3.1, 9.677, 1.137)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from gatectl.coaching.paces import race_label
from gatectl.jsonable import Wire
from gatectl.timing.model import NS_PER_S, Layout, Run, RunStatus

if TYPE_CHECKING:
    from gatectl.coaching.laps import LapReport


def velocity_mps(distance_m: float, time_ns: int) -> float:
    return distance_m * NS_PER_S / time_ns


@dataclass(frozen=True, slots=True)
class Segment:
    """The stretch between two gates, and how long the run took over it."""

    start: str  # gate names
    end: str
    distance_m: float
    time_ns: int

    WIRE: ClassVar[Wire] = Wire(rename={"start": "from", "end": "to"}, show=("time_s", "velocity_mps"))

    @property
    def time_s(self) -> float:
        return self.time_ns / NS_PER_S

    @property
    def velocity_mps(self) -> float:
        return velocity_mps(self.distance_m, self.time_ns)


@dataclass(frozen=True, slots=True)
class Fly:
    """The fly zone's time, and the velocity every way a coach reads it."""

    distance_m: float
    time_ns: int

    WIRE: ClassVar[Wire] = Wire(show=("time_s", "velocity_mps", "kmh", "per_100m_s", "equivalent_400m_s"))

    @property
    def time_s(self) -> float:
        return self.time_ns / NS_PER_S

    @property
    def velocity_mps(self) -> float:
        return velocity_mps(self.distance_m, self.time_ns)

    @property
    def kmh(self) -> float:
        return self.velocity_mps * 3.6

    @property
    def per_100m_s(self) -> float:
        return 100 / self.velocity_mps

    @property
    def equivalent_400m_s(self) -> float:
        return 400 / self.velocity_mps


@dataclass(frozen=True, slots=True)
class PaceComparison:
    """A velocity against the average velocity of a race (``pace_mps``)."""

    velocity_mps: float
    pace_mps: float

    WIRE: ClassVar[Wire] = Wire(hide=("velocity_mps",), show=("ratio", "percent", "diff_mps", "faster"))

    @property
    def ratio(self) -> float:
        return self.velocity_mps / self.pace_mps

    @property
    def percent(self) -> float:
        return round(100 * self.velocity_mps / self.pace_mps, 1)

    @property
    def diff_mps(self) -> float:
        return self.velocity_mps - self.pace_mps

    @property
    def faster(self) -> bool:
        return self.velocity_mps > self.pace_mps


@dataclass(frozen=True, slots=True)
class RunSync:
    """How far clock sync may have moved a run's times (``gatectl.timing.sync``).

    ``gates`` maps each gate crossed to its sync uncertainty in ns (0: stamped
    on the Pi's own clock); ``uncertainty_ns`` is the most a time between two
    of the crossings can be off by; above ``limit_ns`` (the configured bound)
    the run is ``flagged``, and ``why`` says so in a sentence.
    """

    gates: Mapping[str, int]
    uncertainty_ns: int
    limit_ns: int

    WIRE: ClassVar[Wire] = Wire(show=("uncertainty_us", "flagged", "why"))

    @property
    def uncertainty_us(self) -> float:
        return self.uncertainty_ns / 1000

    @property
    def flagged(self) -> bool:
        return self.uncertainty_ns > self.limit_ns

    @property
    def why(self) -> str | None:
        if not self.flagged:
            return None
        worst = ", ".join(f"{gate} ±{_small(ns)}" for gate, ns in self.gates.items() if ns)
        return (
            f"Clock sync of the gate nodes ({worst}) may have moved its times by up to {_small(self.uncertainty_ns)}, "
            f"more than the {_small(self.limit_ns)} allowed: check the nodes' links on the Check page."
        )


def _small(ns: int) -> str:
    """A short time for a sentence: ``29 µs``, ``1.1 ms``."""
    return f"{ns / 1000:.0f} µs" if ns < 999_500 else f"{ns / 1_000_000:.3g} ms"


def pace_comparison(velocity: float, race_distance_m: float, race_time_ns: int) -> PaceComparison:
    """How a velocity compares with the average velocity of a race."""
    return PaceComparison(velocity, velocity_mps(race_distance_m, race_time_ns))


@dataclass(frozen=True, slots=True)
class RunReport:
    """A run's results: what ``gatectl replay --json`` prints, one a line.

    ``crossings`` maps each gate crossed to its instant; ``fly`` is set when the
    run crossed both ends of the fly zone; ``vs_pace`` compares the fly velocity
    with each race pace given, keyed by race (``"400m"``), shortest first.
    """

    number: int
    status: RunStatus
    crossings: Mapping[str, int]
    segments: tuple[Segment, ...]
    fly: Fly | None
    vs_pace: Mapping[str, PaceComparison]
    reason: str | None
    ambiguous: bool  # another match of the crossings was about as plausible
    unseen: tuple[str, ...]  # gates a run (of two crossings or more) was not seen at
    line: Segment | None  # from its first crossing to its last; None for a lone crossing
    sync: RunSync | None  # how far clock sync may have moved its times; None: not measured (a trace, an older session)


@dataclass(frozen=True, slots=True)
class RunView(RunReport):
    """A stored run as the dashboard, the API and exports show it: its report (or a lap
    rep's: no segments, ``lap`` set), who ran it, whether it counts, the workout rep it was."""

    lap: LapReport | None
    id: int
    session: int
    athlete: str | None
    athlete_id: int | None
    voided: bool
    void_reason: str | None
    set_no: int | None  # the workout rep it was; None outside a workout
    rep_no: int | None

    WIRE: ClassVar[Wire] = Wire(rename={"set_no": "set", "rep_no": "rep"})

    @classmethod
    def of(
        cls, result: RunReport, *, lap: LapReport | None, id: int, session: int, athlete: str | None, athlete_id: int | None,
        voided: bool, void_reason: str | None, set_no: int | None, rep_no: int | None,
    ) -> RunView:
        """The stored run with ``result`` as its report."""
        return cls(
            result.number, result.status, result.crossings, result.segments, result.fly, result.vs_pace, result.reason,
            result.ambiguous, result.unseen, result.line, result.sync, lap, id, session, athlete, athlete_id, voided, void_reason, set_no, rep_no,
        )  # fmt: skip


def report(run: Run, layout: Layout, paces: Mapping[float, int] | None = None, sync: RunSync | None = None) -> RunReport:
    """The run's segments, fly zone and pace comparisons on ``layout``.

    ``paces`` maps race distances in metres to the athlete's times in ns
    (bests or goals); the fly velocity is compared with each. A run that
    missed a gate lists it in ``unseen`` (without M1: the fly time stands, the
    acceleration zone was not seen); ``line`` is the average from its first to
    its last crossing (without M2 that is all there is: no fly time is made up).
    ``sync``: the run's clock-sync bounds, when they were measured.
    ``ambiguous``: another match of the crossings was about as plausible.
    """
    times = {c.gate: c.t_ns for c in run.crossings}
    segments = []
    for segment in layout.segments:
        start, end = times.get(segment.start.name), times.get(segment.end.name)
        if start is None or end is None:
            continue
        segments.append(Segment(segment.start.name, segment.end.name, segment.distance_m, end - start))
    fly = None
    vs_pace: dict[str, PaceComparison] = {}
    zone = layout.fly_zone
    if segments and (segments[-1].start, segments[-1].end) == (zone.start.name, zone.end.name):
        fly = Fly(segments[-1].distance_m, segments[-1].time_ns)
        for distance, time_ns in sorted((paces or {}).items()):
            vs_pace[race_label(distance)] = pace_comparison(fly.velocity_mps, distance, time_ns)
    line = None
    if len(run.crossings) > 1:
        since, until = run.crossings[0], run.crossings[-1]
        distance = round(layout.gate(until.gate).position_m - layout.gate(since.gate).position_m, 6)
        line = Segment(since.gate, until.gate, distance, until.t_ns - since.t_ns)
    unseen = tuple(g.name for g in layout.gates if g.name not in times) if line else ()
    return RunReport(run.number, run.status, times, tuple(segments), fly, vs_pace, run.reason, run.ambiguous, unseen, line, sync)
