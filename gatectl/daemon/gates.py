"""The gate monitor: is each beam clear, blocked by a body, or stuck?

A beam blocked longer than a body takes to pass (``STUCK_NS``) is stuck or
misaligned: the coach must look at it. The monitor follows every raw edge
and the source's clock; it reports a gate's status when one of its beams
changes and once when one becomes stuck (``GateMonitor.edge`` and ``check``
return the gates to tell about).

>>> m1, monitor = Gate("M1", 0.0, ("M1",)), GateMonitor()
>>> monitor.edge(Edge("M1", 5 * NS_PER_S, True))
'M1'
>>> monitor.status(m1, 6 * NS_PER_S).state
'blocked'
>>> monitor.check(8 * NS_PER_S)
['M1']
>>> monitor.status(m1, 8 * NS_PER_S).state
'stuck'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatectl.timing.check import STUCK_NS
from gatectl.timing.model import NS_PER_S, Edge, Gate

STATES = ("stuck", "blocked", "clear")  # worst first: a gate is as bad as its worst beam


@dataclass(frozen=True, slots=True)
class BeamStatus:
    beam: str
    state: str  # one of STATES
    since_ns: int | None  # the beam's last change, on the source's clock
    blocked_ns: int  # how long it has been blocked (0 when clear)

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "since_ns": self.since_ns, "for_s": self.blocked_ns / NS_PER_S}


@dataclass(frozen=True, slots=True)
class GateStatus:
    gate: str
    position_m: float
    state: str  # its worst beam's
    beams: tuple[BeamStatus, ...]

    def as_json(self) -> dict[str, Any]:
        return {"gate": self.gate, "position_m": self.position_m, "state": self.state, "beams": {b.beam: b.as_json() for b in self.beams}}


class GateMonitor:
    """The beams' last changes; on the daemon thread only."""

    def __init__(self) -> None:
        self._last: dict[str, Edge] = {}  # each beam's latest edge
        self._stuck_told: set[str] = set()

    def edge(self, edge: Edge) -> str | None:
        """Follow a raw edge; the beam whose status changed, or None for a late edge."""
        last = self._last.get(edge.beam)
        if last is not None and edge.t_ns < last.t_ns:
            return None  # a late edge: the status already moved on
        self._last[edge.beam] = edge
        self._stuck_told.discard(edge.beam)
        return edge.beam

    def check(self, now_ns: int) -> list[str]:
        """The beams that have just become stuck at ``now_ns``, each told once until it changes."""
        stuck = [
            beam for beam, last in self._last.items()
            if last.broken and beam not in self._stuck_told and now_ns - last.t_ns >= STUCK_NS
        ]  # fmt: skip
        self._stuck_told.update(stuck)
        return stuck

    def beam(self, beam: str, now_ns: int) -> BeamStatus:
        last = self._last.get(beam)
        if last is None:
            return BeamStatus(beam, "clear", None, 0)
        blocked_ns = max(now_ns - last.t_ns, 0) if last.broken else 0
        state = "stuck" if last.broken and now_ns - last.t_ns >= STUCK_NS else "blocked" if last.broken else "clear"
        return BeamStatus(beam, state, last.t_ns, blocked_ns)

    def status(self, gate: Gate, now_ns: int) -> GateStatus:
        beams = tuple(self.beam(b, now_ns) for b in gate.beams)
        return GateStatus(gate.name, gate.position_m, min((b.state for b in beams), key=STATES.index), beams)
