"""The gate simulator: sprinters passing hip-height beam gates, as edges, with the truth.

Pure and deterministic: the same layout, athletes, options and seed give the
same edges on any machine; nothing here reads a clock or does I/O. The demo's
real-time source (``gatectl.sim.source``) and ``gatectl simulate`` wrap it.

**Truth** is the instant the athlete's torso front crosses the gate line at hip
height (the lower beam of a dual gate), *before* the sensor delay. Every edge
carries the sensor delay (the same at every gate) plus jitter, so a perfect
detector finds ``truth + sensor_delay_ns``: compare intervals such as the fly
time, where the delay cancels, or subtract ``sensor_delay_ns`` first.

Each rep draws from its own random streams (motion, body, each fault), so the
same seed gives the same athletes' runs and truth with or without limbs or faults.

>>> from gatectl.timing.model import Layout
>>> sim = simulate(Layout.parse("M1=0,M2=30,M3=60"), reps=1, seed=1)
>>> [(e.beam, e.broken) for e in sim.edges]
[('M1', True), ('M1', False), ('M2', True), ('M2', False), ('M3', True), ('M3', False)]
>>> round(sim.reps[0].fly_time_ns / 1e9, 2)
3.2
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from gatectl.errors import ConfigError
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Gate, Layout

DEFAULT_GAP_NS = 20 * NS_PER_S

# A break of one beam by one body part: (beam, start_ns, end_ns), real time.
_Break = tuple[str, int, int]


class Fault(StrEnum):
    """Trouble the simulator can inject on request."""

    MISSED = "missed"  # a torso break that does not register at one gate
    STUCK = "stuck"  # a beam goes broken and stays broken for 2–5 s
    SPURIOUS = "spurious"  # a stray 2–20 ms break on a beam before the athlete reaches it
    PAIR = "pair"  # the rep starts 1–2 s behind the previous one: two sprinters close together


@dataclass(frozen=True, slots=True)
class Sprinter:
    """A sprinter: top speed, how quickly they reach it, and the jog they start from.

    ``tau_s`` is the time constant of the acceleration: from a rolling start the
    speed closes 63 % of the gap to ``vmax_mps`` in ``tau_s`` seconds.
    """

    name: str
    vmax_mps: float = 9.5
    tau_s: float = 1.2
    approach_mps: float = 3.5

    def __post_init__(self) -> None:
        for name in ("vmax_mps", "tau_s", "approach_mps"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise ConfigError(f"Sprinter {self.name!r}: {name} must be a positive number, not {value!r}.")
        if not self.approach_mps < self.vmax_mps:
            raise ConfigError(
                f"Sprinter {self.name!r}: the jog-in ({self.approach_mps:g} m/s) must be slower than "
                f"the top speed vmax_mps ({self.vmax_mps:g} m/s)."
            )


DEFAULT_SPRINTER = Sprinter("Runner")  # the one who runs when nobody is named


@dataclass(frozen=True, slots=True)
class SimOptions:
    """What the simulated gates see besides the torso, and how they err.

    ``limbs`` adds knees, hands, a trailing arm and clothing flicker;
    ``fault_chance`` is the chance that each requested fault hits a given rep.
    Whether gates are dual comes from the layout (two beams per gate).
    """

    limbs: bool = False
    sensor_delay_ns: int = 1_500_000
    jitter_ns: int = 200_000  # standard deviation of each edge's timing error
    faults: frozenset[Fault] = frozenset()
    fault_chance: float = 1.0

    def __post_init__(self) -> None:
        for name in ("sensor_delay_ns", "jitter_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a whole number of nanoseconds ≥ 0, not {value!r}.")
        unknown = [f for f in self.faults if f not in set(Fault)]
        if unknown:
            raise ConfigError(
                f"Unknown fault {unknown[0]!r}; choose from {', '.join(f.value for f in Fault)}."
            )
        if not 0.0 <= self.fault_chance <= 1.0:
            raise ConfigError(f"fault_chance must be between 0 and 1, not {self.fault_chance!r}.")


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """A fault injected into a rep: where, and the real-time interval it covers.

    ``where`` is the gate for ``missed`` (the torso break it swallowed) and
    ``pair`` (from the previous sprinter's crossing of the first gate to this
    one's); the beam for ``stuck`` and ``spurious`` (the extra break).
    """

    kind: Fault
    where: str
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class SimRep:
    """One athlete's pass: ``truth`` maps each gate, in order, to the torso crossing."""

    number: int
    sprinter: Sprinter
    vmax_mps: float  # this rep's top speed: the sprinter's, ±2 %
    start_ns: int  # when the jog-in began, 10–20 m before the first gate
    truth: dict[str, int]
    faults: tuple[FaultEvent, ...] = ()

    @property
    def fly_time_ns(self) -> int:
        """The true time through the fly zone (the last segment)."""
        *_, entry, exit_ = self.truth.values()
        return exit_ - entry


@dataclass(frozen=True, slots=True)
class Simulation:
    """Edges in time order, and the reps that made them."""

    edges: tuple[Edge, ...]
    reps: tuple[SimRep, ...] = ()


@dataclass(frozen=True, slots=True)
class _Motion:
    """Rolling start with mono-exponential acceleration: v(t) = vmax − (vmax − v0)·e^(−t/τ)."""

    vmax_mps: float
    approach_mps: float
    tau_s: float
    run_in_m: float  # jog-in distance before the first gate

    def speed_mps(self, t_s: float) -> float:
        return self.vmax_mps - (self.vmax_mps - self.approach_mps) * math.exp(-t_s / self.tau_s)

    def distance_m(self, t_s: float) -> float:
        gain = (self.vmax_mps - self.approach_mps) * self.tau_s * (1.0 - math.exp(-t_s / self.tau_s))
        return self.vmax_mps * t_s - gain

    def time_at(self, distance_m: float) -> float:
        """Seconds from the start of the jog-in until ``distance_m`` is covered, by bisection."""
        # Speed never falls below min(v0, vmax), so that bounds the time from above.
        low, high = 0.0, distance_m / min(self.approach_mps, self.vmax_mps)
        for _ in range(64):  # far below a nanosecond
            middle = (low + high) / 2
            if self.distance_m(middle) < distance_m:
                low = middle
            else:
                high = middle
        return high


def _draw_motion(sprinter: Sprinter, rng: random.Random) -> _Motion:
    return _Motion(
        vmax_mps=sprinter.vmax_mps * rng.uniform(0.98, 1.02),
        approach_mps=sprinter.approach_mps * rng.uniform(0.88, 1.12),
        tau_s=sprinter.tau_s,
        run_in_m=rng.uniform(10.0, 20.0),
    )


def _passage(
    gate: Gate, t_ns: int, speed: float, rng: random.Random, limbs: bool
) -> tuple[list[_Break], list[_Break]]:
    """The torso's breaks and the limbs' breaks as a body crosses ``gate`` at ``t_ns``."""

    def span(beam: str, lead_m: float, depth_m: float) -> _Break:
        # A body part lead_m ahead of the torso front, depth_m deep, passing at speed.
        start = t_ns - round(lead_m / speed * NS_PER_S)
        return beam, start, start + max(1, round(depth_m / speed * NS_PER_S))

    low, high = gate.beams[0], gate.beams[-1]
    dual = len(gate.beams) == 2
    depth = rng.uniform(0.25, 0.35)
    torso = [span(low, 0.0, depth)]
    if dual:  # the chest leans ahead of the hips: the upper beam breaks a few ms first
        torso.append(span(high, rng.uniform(0.01, 0.05), depth + rng.uniform(-0.03, 0.03)))
    if not limbs:
        return torso, []

    if rng.random() < 0.3:  # clothing flicker splits one torso break
        i = rng.randrange(len(torso))
        beam, start, end = torso[i]
        cut = start + round((end - start) * rng.uniform(0.2, 0.8))
        gap = round(rng.uniform(1, 3) * NS_PER_MS)
        torso[i : i + 1] = [(beam, start, cut), (beam, min(cut + gap, end - 1), end)]
    parts: list[_Break] = []
    if rng.random() < 0.8:  # the leading knee or thigh, hip height: lower beam only
        parts.append(span(low, rng.uniform(0.2, 0.6), rng.uniform(0.12, 0.18)))
    for _ in range(rng.randint(0, 2)):  # swinging hands
        beam = rng.choice(gate.beams)
        start = t_ns - round(rng.uniform(-0.6, 0.6) / speed * NS_PER_S)
        end = start + round(rng.uniform(3, 10) * NS_PER_MS)
        parts.append((beam, start, end))
        if dual and rng.random() < 0.15:  # a hand across both beams, very briefly
            both = start + (end - start) // 3
            parts.append((high if beam == low else low, both, both + round(rng.uniform(1, 3) * NS_PER_MS)))
    if rng.random() < 0.6:  # the trailing arm, just behind the torso
        behind = -(depth + rng.uniform(0.05, 0.25))
        parts.append(span(rng.choice(gate.beams), behind, rng.uniform(0.08, 0.15)))
    return torso, parts


def _rep(
    layout: Layout, number: int, sprinter: Sprinter, motion: _Motion, start_ns: int,
    seed: int, options: SimOptions,
) -> tuple[SimRep, list[_Break]]:
    """The rep's truth and every beam break it causes, faults included."""

    def hits(fault: Fault) -> random.Random | None:
        rng = random.Random(f"{seed}:{number}:{fault}")
        return rng if fault in options.faults and rng.random() < options.fault_chance else None

    first = layout.gates[0].position_m
    truth: dict[str, int] = {}
    speeds: dict[str, float] = {}
    for gate in layout.gates:
        t_s = motion.time_at(motion.run_in_m + gate.position_m - first)
        truth[gate.name] = start_ns + round(t_s * NS_PER_S)
        speeds[gate.name] = motion.speed_mps(t_s)

    body = random.Random(f"{seed}:{number}:body")
    passages = {g.name: _passage(g, truth[g.name], speeds[g.name], body, options.limbs) for g in layout.gates}
    faults: list[FaultEvent] = []
    if rng := hits(Fault.MISSED):
        gate = rng.choice(layout.gates)
        torso, _ = passages[gate.name]
        faults.append(FaultEvent(Fault.MISSED, gate.name, min(b[1] for b in torso), max(b[2] for b in torso)))
        torso.clear()
    breaks = [b for torso, limbs in passages.values() for b in torso + limbs]
    if rng := hits(Fault.STUCK):
        beam = rng.choice(layout.beams)
        stuck = rng.randint(start_ns, truth[layout.gates[-1].name])
        faults.append(FaultEvent(Fault.STUCK, beam, stuck, stuck + round(rng.uniform(2, 5) * NS_PER_S)))
        breaks.append((beam, faults[-1].start_ns, faults[-1].end_ns))
    if rng := hits(Fault.SPURIOUS):
        # Before the athlete reaches that gate, so it stands apart from the body's breaks.
        beam = rng.choice(layout.beams)
        beam_gate = layout.gate_of_beam(beam)
        assert beam_gate is not None  # the beam is one of the layout's
        arrives = truth[beam_gate.name] - NS_PER_S // 2
        earliest = max(start_ns, arrives - 5 * NS_PER_S // 2)
        stray = rng.randint(earliest, max(earliest, arrives))
        faults.append(FaultEvent(Fault.SPURIOUS, beam, stray, stray + round(rng.uniform(2, 20) * NS_PER_MS)))
        breaks.append((beam, faults[-1].start_ns, faults[-1].end_ns))
    rep = SimRep(number, sprinter, motion.vmax_mps, start_ns, truth, tuple(faults))
    return rep, breaks


def _edges(breaks: list[_Break], options: SimOptions, rng: random.Random) -> list[Edge]:
    """Merge overlapping breaks per beam (the beam is simply broken) and stamp them as a sensor would."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for beam, start, end in breaks:
        spans.setdefault(beam, []).append((start, end))
    edges: list[Edge] = []
    for beam in sorted(spans):
        merged: list[list[int]] = []
        for start, end in sorted(spans[beam]):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        previous = None
        for start, end in merged:
            for t_ns, broken in ((start, True), (end, False)):
                t_ns += options.sensor_delay_ns
                if options.jitter_ns:
                    t_ns += round(rng.gauss(0.0, options.jitter_ns))
                if previous is not None:
                    t_ns = max(t_ns, previous + 1)  # jitter never reorders one beam's edges
                edges.append(Edge(beam, t_ns, broken))
                previous = t_ns
    edges.sort(key=lambda e: (e.t_ns, e.beam))
    return edges


def heats(
    layout: Layout,
    reps: int | None = None,
    *,
    sprinters: Sequence[Sprinter] = (DEFAULT_SPRINTER,),
    seed: int = 0,
    options: SimOptions = SimOptions(),
    start_ns: int = 0,
    gap_ns: int = DEFAULT_GAP_NS,
) -> Iterator[Simulation]:
    """Reps lazily, one heat at a time; endless when ``reps`` is None.

    A heat is the reps on the track together: one athlete, or two with the
    ``pair`` fault. Athletes take turns in roster order. The first heat's jog-in
    starts at ``start_ns``; each next one ``gap_ns`` after the last sprinter passed
    the last gate (and at least a second after the heat's last edge). Heats never
    overlap in time, so their edges can be played one heat after another.
    """
    _check(reps, sprinters, gap_ns)  # now, not at the first rep: the caller hears of bad input
    return _heats(layout, reps, tuple(sprinters), seed, options, start_ns, gap_ns)


def _heats(
    layout: Layout, reps: int | None, sprinters: tuple[Sprinter, ...],
    seed: int, options: SimOptions, start_ns: int, gap_ns: int,
) -> Iterator[Simulation]:
    def sprinter_for(number: int) -> tuple[Sprinter, _Motion]:
        sprinter = sprinters[(number - 1) % len(sprinters)]
        return sprinter, _draw_motion(sprinter, random.Random(f"{seed}:{number}:motion"))

    number, start = 1, start_ns
    while reps is None or number <= reps:
        sprinter, lead = sprinter_for(number)
        group = [_rep(layout, number, sprinter, lead, start, seed, options)]
        follower = number + 1
        pair = random.Random(f"{seed}:{follower}:{Fault.PAIR}")
        if (
            Fault.PAIR in options.faults
            and (reps is None or follower <= reps)
            and pair.random() < options.fault_chance
        ):
            sprinter, motion = sprinter_for(follower)
            # From the leader's jog-in mark, setting off 1–2 s later.
            motion = replace(motion, run_in_m=lead.run_in_m)
            behind = start + round(pair.uniform(1, 2) * NS_PER_S)
            rep, breaks = _rep(layout, follower, sprinter, motion, behind, seed, options)
            gate = layout.gates[0].name
            event = FaultEvent(Fault.PAIR, gate, group[0][0].truth[gate], rep.truth[gate])
            group.append((replace(rep, faults=(event, *rep.faults)), breaks))
        sensor = random.Random(f"{seed}:{number}:sensor")
        edges = _edges([b for _, breaks in group for b in breaks], options, sensor)
        yield Simulation(tuple(edges), tuple(rep for rep, _ in group))
        passed = max(rep.truth[layout.gates[-1].name] for rep, _ in group)
        start = max(passed + gap_ns, edges[-1].t_ns + NS_PER_S)
        number += len(group)


def simulate(
    layout: Layout,
    reps: int,
    *,
    sprinters: Sequence[Sprinter] = (DEFAULT_SPRINTER,),
    seed: int = 0,
    options: SimOptions = SimOptions(),
    start_ns: int = 0,
    gap_ns: int = DEFAULT_GAP_NS,
) -> Simulation:
    """``reps`` reps along ``layout``: every edge in time order, and the truth of each rep.

    >>> from gatectl.timing.model import Layout
    >>> sim = simulate(Layout.flying(), 3, sprinters=[Sprinter("Ada", vmax_mps=10.0)], seed=7)
    >>> [rep.sprinter.name for rep in sim.reps], len(sim.edges)
    (['Ada', 'Ada', 'Ada'], 18)
    """
    if reps is None:
        raise ConfigError("Give the number of reps to simulate, e.g. 5.")
    played = list(
        heats(layout, reps, sprinters=sprinters, seed=seed, options=options, start_ns=start_ns, gap_ns=gap_ns)
    )
    return Simulation(
        tuple(e for heat in played for e in heat.edges),
        tuple(rep for heat in played for rep in heat.reps),
    )


def lap_edges(
    gate: Gate, marks_ns: Sequence[int], *, speed_mps: float, seed: int = 0, options: SimOptions = SimOptions()
) -> tuple[Edge, ...]:
    """A sprinter lapping a track through one gate: the torso crosses the line at each of ``marks_ns``.

    Track reps are timed by one gate on the start/finish line; each pass is a
    body at ``speed_mps`` (limbs and faults as ``options`` ask, as at any gate).
    The truth is the marks, before the sensor delay, as for ``simulate``.

    >>> edges = lap_edges(Gate("L", 0.0, ("L",)), [0, 75 * NS_PER_S], speed_mps=5.3)
    >>> [(e.beam, e.broken) for e in edges]
    [('L', True), ('L', False), ('L', True), ('L', False)]
    """
    if not 0 < speed_mps < math.inf:
        raise ConfigError(f"speed_mps must be a positive number, not {speed_mps!r}.")
    if list(marks_ns) != sorted(marks_ns):
        raise ConfigError("The marks of a lapping sprinter must be in time order.")
    body = random.Random(f"{seed}:laps:body")
    breaks: list[_Break] = []
    for mark in marks_ns:
        torso, limbs = _passage(gate, mark, speed_mps, body, options.limbs)
        breaks += torso + limbs
    return tuple(_edges(breaks, options, random.Random(f"{seed}:laps:sensor")))


def overlay(*bodies: Sequence[Edge]) -> tuple[Edge, ...]:
    """Edges of several bodies at the same beams, as the beams see them: breaks that overlap are one.

    Each body's edges must alternate per beam, broken first (as ``simulate`` and
    ``lap_edges`` give them); so do the edges returned, in time order.

    >>> a, b = [Edge("M1", 0, True), Edge("M1", 50, False)], [Edge("M1", 40, True), Edge("M1", 90, False)]
    >>> [(e.t_ns, e.broken) for e in overlay(a, b)]
    [(0, True), (90, False)]
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for body in bodies:
        stamps: dict[str, list[int]] = {}
        for edge in body:
            stamps.setdefault(edge.beam, []).append(edge.t_ns)
        for beam, times in stamps.items():
            spans.setdefault(beam, []).extend(zip(times[::2], times[1::2]))
    edges = []
    for beam, pairs in spans.items():
        merged: list[list[int]] = []
        for start, end in sorted(pairs):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        edges += [Edge(beam, t, broken) for start, end in merged for t, broken in ((start, True), (end, False))]
    return tuple(sorted(edges, key=lambda e: (e.t_ns, e.beam)))


def _check(reps: int | None, sprinters: Sequence[Sprinter], gap_ns: int) -> None:
    if reps is not None and (not isinstance(reps, int) or isinstance(reps, bool) or reps < 1):
        raise ConfigError(f"The number of reps must be a whole number of at least 1, not {reps!r}.")
    if not sprinters:
        raise ConfigError("Give at least one sprinter to simulate.")
    if not isinstance(gap_ns, int) or isinstance(gap_ns, bool) or gap_ns < 0:
        raise ConfigError(f"gap_ns must be a whole number of nanoseconds ≥ 0, not {gap_ns!r}.")
