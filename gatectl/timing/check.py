"""The pre-session check: is every beam aligned, does each gate see a hand, is the date right?

Pure, like the rest of the timing core: fed the beams' edges and the source's
clock (integer ns), it says for each beam whether it is clear, broken or
stuck, how many breaks it had since a moment the viewer chose (when their
check began), whether it flickers (many breaks too short for a hand or a
body: a marginal beam, sun in the receiver, a stand moving in the wind),
and whether a hand has passed through it. A gate is ticked off in the "pass
a hand through each gate" walk once every one of its beams has seen a pass.

The Pi has no real-time clock: ``clock_verdict`` says when its date is
before a moment that has certainly passed (when gatectl was installed, the
newest session already recorded).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

STUCK_NS = 2 * NS_PER_S  # blocked longer than a body takes to pass: stuck or misaligned
PASS_NS = 20 * NS_PER_MS  # a hand through the beam breaks it at least this long; shorter is a flicker
FLICKER_WINDOW_NS = 10 * NS_PER_S
FLICKER_BREAKS = 3  # this many short breaks within the window: the beam flickers
KEPT_BREAKS = 2000  # per beam: hours of a check; the oldest are forgotten first
LOW_DISK_BYTES = 1_000_000_000  # ~ a season of sessions; below it the check warns
FULL_DISK_BYTES = 100_000_000  # below this a long session may not fit


@dataclass(frozen=True, slots=True)
class Break:
    start_ns: int
    end_ns: int | None  # None: still broken

    def length_ns(self, now_ns: int) -> int:
        return (self.end_ns if self.end_ns is not None else now_ns) - self.start_ns


@dataclass(slots=True)
class _Beam:
    broken: bool | None = None  # None: no edge yet, so its level is not known
    since_ns: int | None = None
    breaks: deque[Break] = field(default_factory=lambda: deque(maxlen=KEPT_BREAKS))


class BeamCheck:
    """Every beam's level and recent breaks, from its edges; ``view`` reports them for a check."""

    def __init__(self) -> None:
        self._beams: dict[str, _Beam] = {}

    def edge(self, edge: Edge) -> None:
        beam = self._beams.setdefault(edge.beam, _Beam())
        if beam.since_ns is not None and edge.t_ns < beam.since_ns:
            return  # late: the beam has moved on
        if beam.broken == edge.broken:
            return  # the same level again (a level reported twice): nothing happened
        if edge.broken:
            beam.breaks.append(Break(edge.t_ns, None))
        elif beam.breaks and beam.breaks[-1].end_ns is None:
            beam.breaks[-1] = Break(beam.breaks[-1].start_ns, edge.t_ns)
        beam.broken, beam.since_ns = edge.broken, edge.t_ns

    def beam_view(self, name: str, now_ns: int, since_ns: int) -> BeamReport:
        beam = self._beams.get(name, _Beam())
        started = [b for b in beam.breaks if b.start_ns >= since_ns]
        passes = [b for b in beam.breaks if b.end_ns is not None and b.end_ns >= since_ns and b.length_ns(now_ns) >= PASS_NS]
        flickers = [
            b for b in beam.breaks
            if b.end_ns is not None and b.end_ns >= now_ns - FLICKER_WINDOW_NS and b.length_ns(now_ns) < PASS_NS
        ]  # fmt: skip
        held_ns = now_ns - beam.since_ns if beam.broken and beam.since_ns is not None else 0
        state = "unknown" if beam.broken is None else "stuck" if held_ns >= STUCK_NS else "broken" if beam.broken else "clear"
        return BeamReport(name, state, max(held_ns, 0), len(started), len(passes), len(flickers) >= FLICKER_BREAKS)

    def view(self, gates: Sequence[tuple[str, Sequence[str]]], now_ns: int, since_ns: int) -> CheckReport:
        """The check of ``gates`` (name, beams) at ``now_ns``, counting from ``since_ns``."""
        rows = []
        for gate, beam_names in gates:
            beams = tuple(self.beam_view(b, now_ns, since_ns) for b in beam_names)
            rows.append(GateReport(gate, min((b.state for b in beams), key=_WORST_FIRST.index), beams))
        return CheckReport(now_ns, since_ns, tuple(rows))


_WORST_FIRST = ("stuck", "unknown", "broken", "clear")


@dataclass(frozen=True, slots=True)
class BeamReport:
    beam: str
    state: str  # clear, broken, stuck (broken for STUCK_NS or more), unknown (no edge yet)
    held_ns: int  # how long it has been broken
    breaks: int  # breaks that began since the check began
    passes: int  # breaks long enough for a hand that ended since the check began
    flickering: bool  # FLICKER_BREAKS short breaks within the last FLICKER_WINDOW_NS


@dataclass(frozen=True, slots=True)
class GateReport:
    gate: str
    state: str  # its worst beam's
    beams: tuple[BeamReport, ...]

    @property
    def breaks(self) -> int:
        return sum(b.breaks for b in self.beams)

    @property
    def flickering(self) -> bool:
        return any(b.flickering for b in self.beams)

    @property
    def ticked(self) -> bool:
        """A hand has passed through every one of its beams."""
        return all(b.passes > 0 for b in self.beams)


@dataclass(frozen=True, slots=True)
class CheckReport:
    now_ns: int
    since_ns: int
    gates: tuple[GateReport, ...]

    @property
    def next_gate(self) -> str | None:
        """The first gate of the walk still to tick off."""
        return next((g.gate for g in self.gates if not g.ticked), None)

    @property
    def aligned(self) -> bool:
        """Every beam clear and steady now."""
        return all(b.state == "clear" and not b.flickering for g in self.gates for b in g.beams)

    def as_json(self) -> dict[str, object]:
        return {
            "now_ns": self.now_ns,
            "since_ns": self.since_ns,
            "aligned": self.aligned,
            "walk": {"next": self.next_gate, "done": self.next_gate is None},
            "gates": [
                {
                    "gate": g.gate, "state": g.state, "breaks": g.breaks, "flickering": g.flickering, "ticked": g.ticked,
                    "beams": [
                        {"beam": b.beam, "state": b.state, "for_s": b.held_ns / NS_PER_S, "breaks": b.breaks,
                         "passes": b.passes, "flickering": b.flickering}
                        for b in g.beams
                    ],
                }
                for g in self.gates
            ],
        }  # fmt: skip


def clock_verdict(now_ns: int, not_before: Sequence[tuple[str, int]]) -> dict[str, object]:
    """Is the wall clock (epoch ns) plausibly right? It is wrong when before a moment that has passed."""
    passed = [(label, t) for label, t in not_before if now_ns < t]
    if not passed:
        return {"ok": True, "reason": None}
    label, _ = max(passed, key=lambda item: item[1])
    return {"ok": False, "reason": f"The Pi's date is before {label}: it is wrong (a Pi has no clock battery)."}


def disk_verdict(free_bytes: int) -> dict[str, object]:
    """Is there room for the session's raw edges and runs?"""
    free_gb = free_bytes / 1e9
    if free_bytes < FULL_DISK_BYTES:
        return {"ok": False, "free_gb": free_gb, "reason": f"Only {free_bytes // 1_000_000} MB free on the SD card: a session may not fit. Export and delete old data."}
    if free_bytes < LOW_DISK_BYTES:
        return {"ok": False, "free_gb": free_gb, "reason": f"Only {free_gb:.1f} GB free on the SD card: export and clear old sessions soon."}
    return {"ok": True, "free_gb": free_gb, "reason": None}
