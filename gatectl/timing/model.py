"""The value types of the timing core: edges, gates, layouts, crossings, runs.

All are frozen dataclasses. Instants (``t_ns``) are integer nanoseconds on the
source's own clock; positions are metres.

>>> layout = Layout.parse("M1=0,M2=30,M3=60")
>>> [g.name for g in layout.gates], layout.fly_zone.distance_m
(['M1', 'M2', 'M3'], 30.0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from gatectl.errors import LayoutError
from gatectl.limits import GATE_POSITION_M

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000


class Method(StrEnum):
    """How a gate's beam breaks become one crossing."""

    FIRST = "first"  # first break once the beam has been clear for the re-arm time
    LONGEST = "longest"  # start of the longest break in the window: the torso rule
    DUAL = "dual"  # two stacked beams: the longest stretch with both broken


class Edge(NamedTuple):
    """One change of one beam: ``broken`` True when the beam was interrupted.

    A named tuple rather than a dataclass: a session holds hundreds of
    thousands of edges, and recompute builds them from rows at full speed.
    """

    beam: str
    t_ns: int
    broken: bool


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Thresholds of crossing detection, in nanoseconds.

    The defaults suit sprinting: a body passes a hip-height beam in under
    0.3 s even at a jog, a torso break lasts tens of milliseconds, clothing
    flicker opens gaps of a few milliseconds, and electrical glitches last
    microseconds.
    """

    rearm_ns: int = 300 * NS_PER_MS  # clear this long ends a passage and re-arms the gate
    window_ns: int = 300 * NS_PER_MS  # breaks starting this soon after the first compete
    glitch_ns: int = 1 * NS_PER_MS  # shorter breaks are electrical glitches, ignored
    bridge_ns: int = 4 * NS_PER_MS  # shorter gaps inside a break are clothing flicker (1–3 ms)

    def __post_init__(self) -> None:
        for name in ("rearm_ns", "window_ns", "glitch_ns", "bridge_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise LayoutError(f"{name} must be a whole number of nanoseconds ≥ 0, not {value!r}.")
        if self.window_ns == 0 or self.rearm_ns < self.bridge_ns:
            raise LayoutError(
                "Detection needs window_ns > 0 and rearm_ns ≥ bridge_ns: a gate cannot re-arm "
                "inside a gap it would bridge."
            )


@dataclass(frozen=True, slots=True)
class Gate:
    """A gate at ``position_m`` along the line, seen through one or two beams."""

    name: str
    position_m: float
    beams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """The stretch between two consecutive gates."""

    start: Gate
    end: Gate

    @property
    def distance_m(self) -> float:
        return round(self.end.position_m - self.start.position_m, 6)


def _metres(position_m: float) -> str:
    """A position as typed: ``30``, ``29.95``; exact, so a stored layout reads back the same."""
    return str(int(position_m)) if position_m.is_integer() else repr(position_m)


_GATE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")


@dataclass(frozen=True, slots=True)
class Layout:
    """Gates in a line, in running order, and how their crossings are detected.

    Any number of gates (two or more) works: the flying preset is three gates
    M1, M2, M3; 50 m reps with a split gate or 100 m with 10 m splits are just
    longer lines. The fly zone is always the last segment.
    """

    gates: tuple[Gate, ...]
    method: Method = Method.LONGEST
    settings: DetectionSettings = field(default_factory=DetectionSettings)

    def __post_init__(self) -> None:
        if len(self.gates) < 2:
            raise LayoutError("A layout needs at least two gates, e.g. M1=0,M2=30,M3=60.")
        names = [g.name for g in self.gates]
        for name in names:
            if not _GATE_NAME.match(name):
                raise LayoutError(
                    f"Gate name {name!r} must start with a letter and use only letters, digits and _."
                )
        if len(set(names)) != len(names):
            raise LayoutError(f"Gate names must be unique; got {', '.join(names)}.")
        for gate in self.gates:  # 1e308 m would overflow every velocity computed from it
            GATE_POSITION_M.check(gate.position_m, f"Position of gate {gate.name}", LayoutError)
        for before, after in zip(self.gates, self.gates[1:]):
            if not after.position_m > before.position_m:
                raise LayoutError(
                    f"Gate {after.name} at {after.position_m:g} m must be further along than "
                    f"{before.name} at {before.position_m:g} m."
                )
        beams = [b for g in self.gates for b in g.beams]
        if len(set(beams)) != len(beams):
            raise LayoutError(f"Beam names must be unique; got {', '.join(beams)}.")
        for gate in self.gates:
            expected = 2 if self.method is Method.DUAL else 1
            if len(gate.beams) != expected:
                raise LayoutError(
                    f"Gate {gate.name} has {len(gate.beams)} beam(s); detection "
                    f"'{self.method}' needs {expected}."
                )

    @classmethod
    def from_positions(
        cls,
        positions: dict[str, float],
        method: Method | str = Method.LONGEST,
        settings: DetectionSettings | None = None,
    ) -> Layout:
        """Gates named and placed by ``positions``; dual gates get beams ``<gate>a``, ``<gate>b``."""
        try:
            method = Method(method)
        except ValueError:
            raise LayoutError(
                f"Detection method {method!r} is not one of {', '.join(m.value for m in Method)}."
            ) from None
        gates = tuple(
            Gate(name, float(pos), (f"{name}a", f"{name}b") if method is Method.DUAL else (name,))
            for name, pos in sorted(positions.items(), key=lambda item: item[1])
        )
        return cls(gates, method, settings or DetectionSettings())

    @classmethod
    def parse(
        cls,
        text: str,
        method: Method | str = Method.LONGEST,
        settings: DetectionSettings | None = None,
    ) -> Layout:
        """Read ``"M1=0,M2=30,M3=60"``: gate names and positions in metres."""
        positions: dict[str, float] = {}
        for part in text.split(","):
            name, sep, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name or not value:
                raise LayoutError(f"Layout part {part.strip()!r} must look like NAME=METRES, e.g. M2=30.")
            try:
                position = float(value)
            except ValueError:
                raise LayoutError(f"Position of gate {name} must be a number of metres, not {value!r}.") from None
            if position != position or position in (float("inf"), float("-inf")):
                raise LayoutError(f"Position of gate {name} must be a finite number of metres.")
            if name in positions:
                raise LayoutError(f"Gate {name} is named twice in the layout.")
            positions[name] = position
        layout = cls.from_positions(positions, method, settings)
        given = list(positions)
        ordered = [g.name for g in layout.gates]
        if given != ordered:
            raise LayoutError(
                f"Gates must be listed in running order with rising positions; got {', '.join(given)}."
            )
        return layout

    @classmethod
    def flying(
        cls, accel_m: float = 30.0, fly_m: float = 30.0, method: Method | str = Method.LONGEST
    ) -> Layout:
        """The flying sprint: M1 at 0, M2 after the acceleration zone, M3 after the fly zone."""
        return cls.from_positions({"M1": 0.0, "M2": accel_m, "M3": accel_m + fly_m}, method)

    def describe(self) -> str:
        """The layout as ``parse`` reads it."""
        return ",".join(f"{g.name}={_metres(g.position_m)}" for g in self.gates)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(Segment(a, b) for a, b in zip(self.gates, self.gates[1:]))

    @property
    def fly_zone(self) -> Segment:
        return self.segments[-1]

    def gate(self, name: str) -> Gate:
        for gate in self.gates:
            if gate.name == name:
                return gate
        raise LayoutError(f"There is no gate {name!r} in layout {self.describe()}.")

    def gate_of_beam(self, beam: str) -> Gate | None:
        for gate in self.gates:
            if beam in gate.beams:
                return gate
        return None

    @property
    def beams(self) -> tuple[str, ...]:
        return tuple(b for g in self.gates for b in g.beams)


@dataclass(frozen=True, slots=True)
class Crossing:
    """The moment a body (its torso, when the method can tell) crossed a gate."""

    gate: str
    t_ns: int
    method: Method
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something odd the core saw and set aside, kept with the reason why."""

    source: str  # beam or gate name
    t_ns: int
    reason: str


class RunStatus(StrEnum):
    OPEN = "open"  # still waiting for gates
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # timed out or missed a gate: kept with the reason
    REJECTED = "rejected"  # a crossing no run took (false trigger, walk-back, lone): kept with the reason


@dataclass(frozen=True, slots=True)
class Run:
    """One athlete's pass along the gates.

    ``crossings`` are in gate order; a gate the run never got is absent.
    ``number`` counts runs (and rejected crossings) in the order they were
    decided. ``ambiguous``: another match of the crossings was about as
    plausible; the reason names it, and the coach should check the run.
    """

    number: int
    crossings: tuple[Crossing, ...]
    status: RunStatus
    reason: str | None = None
    ambiguous: bool = False

    @property
    def started_ns(self) -> int:
        return self.crossings[0].t_ns

    def crossing_at(self, gate: str) -> Crossing | None:
        for crossing in self.crossings:
            if crossing.gate == gate:
                return crossing
        return None
