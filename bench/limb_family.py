"""A second limb model: bodies through beam gates, written apart from ``gatectl.sim``.

A bench and test artifact, not product code: detection is judged on data it
was not fitted to (the brief's principle 7). The model is a sagittal-plane
stick figure of capsules (trunk, thighs, shanks, upper arms, forearms with the
hand) driven by a stride phase, carried past the gate at the athlete's speed.
A beam is broken while its point in the plane lies inside any capsule. On top
of the geometry come clothing flicker (fabric fluttering ahead of and behind the
body, with short clear gaps) and a
photoelectric sensor (a response delay with jitter on every edge, which also
swallows breaks and gaps shorter than it can resolve).

A *family* is a set of ``Member``s: a speed band with its running style, a
clothing, and a sensor. Each rep draws an athlete (stature, girths, lean, knee
lift, arm carriage) from anthropometric ranges. Every crossing comes with

* ``truth``: the instant the trunk's front reached the beam (on a dual gate,
  the later of its two beams), the moment a torso rule should time;
* ``torso_seen``: when that instant is reported by the sensor (truth plus the
  delay its edge got), from which ``best_start`` finds the start of the
  reported break that holds the torso's front: the best any rule that times
  a crossing at the start of a reported break could do.

>>> sample = simulate(MEMBERS[0], reps=2, seed=1)
>>> len(sample.reps), sorted({e.beam for e in sample.single})
(2, ['M2', 'M3'])
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gatectl.timing.detect import detect
from gatectl.timing.model import NS_PER_MS, NS_PER_S, DetectionSettings, Edge, Layout, Method

# --- anthropometry ------------------------------------------------------------------
# Segment lengths and heights as fractions of stature H: Drillis & Contini (1966), as
# tabulated in D. A. Winter, Biomechanics and Motor Control of Human Movement, 4th ed.
# (Wiley 2009), fig. 4.1.
HIP_HEIGHT = 0.530  # greater trochanter above the floor
SHOULDER_HEIGHT = 0.818
THIGH = 0.245
SHANK = 0.246
UPPER_ARM = 0.186
FOREARM = 0.146
HAND = 0.108
STATURE_M = (1.58, 1.95)  # athletes from a short woman to a tall man
# Depths and girths, as capsule radii in metres: rounded ranges spanning roughly the 5th to 95th
# percentiles of adult women and men in ANSUR II (Gordon et al. 2014, "2012 Anthropometric Survey
# of U.S. Army Personnel"), leaned towards the slim end for runners. Trunk: half the abdominal /
# buttock depth (0.18-0.28 m). Thigh near the knee and the knee itself: knee depth 0.09-0.13 m.
# Shank: calf depth 0.09-0.11 m. Upper arm: 0.07-0.10 m. Forearm and hand: forearm depth
# 0.06-0.08 m, a loosely closed hand 0.04-0.06 m.
TRUNK_RADIUS_M = (0.09, 0.14)
THIGH_RADIUS_M = (0.045, 0.065)
SHANK_RADIUS_M = (0.045, 0.055)
UPPER_ARM_RADIUS_M = (0.035, 0.05)
FOREARM_RADIUS_M = (0.022, 0.04)
HAND_SHARE = (0.45, 0.8)  # of the hand's length beyond the wrist, as a sprinter half closes it

# --- running style -------------------------------------------------------------------
# Step frequency 3.3-3.8 Hz at 6 m/s rising to 4.2-4.9 Hz at 11 m/s (Mero, Komi & Gregor 1992,
# Sports Med 13:376; step length = speed / frequency, 1.6-2.6 m). Angles in degrees from the
# vertical, forward positive, with typical ranges for distance running at 6 m/s and maximal
# sprinting at 11 m/s (Mann & Herman 1985; Novacheck 1998, Gait & Posture 7:77): peak thigh
# flexion (knee lift) 40-55 → 60-80, thigh extension at toe-off 15-30, peak knee flexion in
# swing 95-110 → 110-140, upper arm forward 25-40 → 45-75, back 25-40 → 40-65, elbow flexion
# in front 70-100, behind 40-80. Trunk lean 3-12. Horizontal speed varies ±2-5 % within a step,
# the hip ±1.5-3 cm vertically.


def _between(rng: random.Random, slow: tuple[float, float], fast: tuple[float, float], pace: float) -> float:
    """A draw from a range that moves from its slow to its fast bounds as ``pace`` goes 0 → 1."""
    low = slow[0] + (fast[0] - slow[0]) * pace
    high = slow[1] + (fast[1] - slow[1]) * pace
    return rng.uniform(low, high)


@dataclass(frozen=True, slots=True)
class Athlete:
    """One rep's body and style; lengths in metres, angles in radians."""

    stature: float
    trunk_r: float
    thigh_r: float
    shank_r: float
    upper_arm_r: float
    forearm_r: float
    hand_share: float
    lean: float
    knee_lift: float
    hip_extension: float
    knee_flexion: float
    arm_forward: float
    arm_back: float
    elbow_front: float
    elbow_back: float
    step_hz: float
    surge: float  # ± share of speed within a step
    bounce: float  # ± hip height within a step, m
    crouch: float  # running hip height as a share of standing

    @classmethod
    def draw(cls, rng: random.Random, speed: float) -> Athlete:
        pace = min(1.0, max(0.0, (speed - 6.0) / 5.0))
        rad = math.radians
        return cls(
            stature=rng.uniform(*STATURE_M),
            trunk_r=rng.uniform(*TRUNK_RADIUS_M),
            thigh_r=rng.uniform(*THIGH_RADIUS_M),
            shank_r=rng.uniform(*SHANK_RADIUS_M),
            upper_arm_r=rng.uniform(*UPPER_ARM_RADIUS_M),
            forearm_r=rng.uniform(*FOREARM_RADIUS_M),
            hand_share=rng.uniform(*HAND_SHARE),
            lean=rad(rng.uniform(3, 12)),
            knee_lift=rad(_between(rng, (40, 55), (60, 80), pace)),
            hip_extension=rad(rng.uniform(15, 30)),
            knee_flexion=rad(_between(rng, (95, 110), (110, 140), pace)),
            arm_forward=rad(_between(rng, (25, 40), (45, 75), pace)),
            arm_back=rad(_between(rng, (25, 40), (40, 65), pace)),
            elbow_front=rad(rng.uniform(70, 100)),
            elbow_back=rad(rng.uniform(40, 80)),
            step_hz=_between(rng, (3.3, 3.8), (4.2, 4.9), pace),
            surge=rng.uniform(0.02, 0.05),
            bounce=rng.uniform(0.015, 0.03),
            crouch=rng.uniform(0.95, 0.99),
        )


@dataclass(frozen=True, slots=True)
class Member:
    """One member of the family: speeds, clothing and sensor, and how the gates are set up."""

    name: str
    speed_mps: tuple[float, float]
    flicker_ms: tuple[float, float]  # clothing-flicker gap lengths
    fabric_m: float  # how far loose fabric can run ahead of (and trail) the body under it
    flutter: float  # chance that the fabric at a break's front or back flutters
    response_ms: float  # the sensor's response time: each edge is delayed 60-100 % of it
    beam_offset_m: tuple[float, float] = (-0.06, 0.12)  # beam above the athlete's running hip
    dual_spacing_m: tuple[float, float] = (0.12, 0.25)  # upper beam above the lower one


def _members() -> tuple[Member, ...]:
    speeds = {"jog": (6.0, 7.5), "stride": (7.5, 9.0), "sprint": (9.0, 11.0)}
    clothes = {"tight": ((0.5, 2.0), 0.02, 0.5), "loose": ((0.5, 6.0), 0.06, 0.9)}
    sensors = {"fast": 0.5, "slow": 3.0}
    # The beam above the athlete's running hip joint: set at hip height for a group of
    # athletes of different statures, or raised to the waist to keep the thighs out of it.
    beams = {"hip": (-0.06, 0.10), "waist": (0.10, 0.22)}
    return tuple(
        Member(f"{beam}-{speed}-{cloth}-{sensor}", band, gaps, fabric, flutter, response, offset)
        for beam, offset in beams.items()
        for speed, band in speeds.items()
        for cloth, (gaps, fabric, flutter) in clothes.items()
        for sensor, response in sensors.items()
    )


MEMBERS = _members()


# --- geometry --------------------------------------------------------------------------


def _margin(px: float, py: float, ax: float, ay: float, bx: float, by: float, r: float) -> float:
    """Signed distance from a point to a capsule's surface: negative inside."""
    dx, dy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    u = (wx * dx + wy * dy) / (dx * dx + dy * dy)
    u = 0.0 if u < 0.0 else 1.0 if u > 1.0 else u
    ex, ey = wx - u * dx, wy - u * dy
    return math.sqrt(ex * ex + ey * ey) - r


@dataclass(frozen=True, slots=True)
class Passage:
    """One body through one gate, before clothing and sensor: seconds from the hip passing."""

    breaks: tuple[tuple[tuple[float, float], ...], ...]  # per beam (lower first): (start, end)
    trunk: tuple[float, ...]  # per beam: when the trunk's front reached it


PARTS = ("trunk", "thigh", "shank", "upper arm", "forearm", "thigh", "shank", "upper arm", "forearm")  # as pose() lists them

Capsule = tuple[float, float, float, float, float]  # two ends (x, y) and a radius, metres


@dataclass(frozen=True, slots=True)
class Stride:
    """An athlete's motion at one speed: what ``pose`` needs at every instant."""

    athlete: Athlete
    speed: float
    phase: float  # stride phase when the hip joint passes the gate; 0 = right knee highest

    def pose(self, t: float) -> list[Capsule]:
        """The body ``t`` seconds after the hip joint passed x = 0 (the gate), as capsules in PARTS order."""
        a, h = self.athlete, self.athlete.stature
        step_w = 2 * math.pi * a.step_hz
        psi = self.phase + step_w / 2 * t
        hx = self.speed * t + a.surge * self.speed / step_w * math.sin(2 * psi)
        hy = HIP_HEIGHT * h * a.crouch + a.bounce * math.cos(2 * psi)
        trunk_len = (SHOULDER_HEIGHT - HIP_HEIGHT) * h
        sin_lean, cos_lean = math.sin(a.lean), math.cos(a.lean)
        sx, sy = hx + trunk_len * sin_lean, hy + trunk_len * cos_lean
        # The trunk runs from the buttocks (half its depth below the hip joint, towards the
        # gluteal fold) to the shoulders.
        seat = a.trunk_r / 2
        capsules = [(hx - seat * sin_lean, hy - seat * cos_lean, sx, sy, a.trunk_r)]
        thigh, shank, upper = THIGH * h, SHANK * h, UPPER_ARM * h
        fore = (FOREARM + a.hand_share * HAND) * h
        for side in (0.0, math.pi):
            # Each angle swings sinusoidally between its extremes over a stride.
            cos_l = math.cos(psi + side)
            theta = _swing(a.knee_lift, -a.hip_extension, cos_l)
            kappa = _swing(a.knee_flexion, _KNEE_STRAIGHT, math.cos(psi + side + 1.0))  # folds most just before full knee lift
            kx, ky = hx + thigh * math.sin(theta), hy - thigh * math.cos(theta)
            capsules.append((hx, hy, kx, ky, a.thigh_r))
            capsules.append((kx, ky, kx + shank * math.sin(theta - kappa), ky - shank * math.cos(theta - kappa), a.shank_r))
            # The arm on this side swings against the leg on this side.
            alpha = _swing(a.arm_forward, -a.arm_back, -cos_l)
            forearm = alpha + _swing(a.elbow_front, a.elbow_back, -cos_l)
            ex, ey = sx + upper * math.sin(alpha), sy - upper * math.cos(alpha)
            capsules.append((sx, sy, ex, ey, a.upper_arm_r))
            capsules.append((ex, ey, ex + fore * math.sin(forearm), ey - fore * math.cos(forearm), a.forearm_r))
        return capsules


_KNEE_STRAIGHT = math.radians(15)  # the least knee flexion in a stride, at take-off


def _swing(high: float, low: float, cos_phase: float) -> float:
    return (high + low) / 2 + (high - low) / 2 * cos_phase


def passage(stride: Stride, beam_heights: Sequence[float], step_m: float = 0.004) -> Passage:
    """Sample the body every ``step_m`` of travel and find where each beam is broken.

    A beam's edges are where a capsule's margin changes sign, placed by linear
    interpolation between samples (margins are smooth over 4 mm of travel).
    """
    reach = 0.8  # nothing at hip height is further than this from the hip joint
    dt = step_m / stride.speed
    beams = len(beam_heights)
    prev: list[list[float]] = [[] for _ in range(beams)]  # each capsule's margin at the last sample, trunk first
    spans: list[list[list[float]]] = [[] for _ in range(beams)]
    trunk: list[float | None] = [None] * beams
    for i in range(int(2 * reach / step_m) + 1):
        t = -reach / stride.speed + i * dt
        capsules = stride.pose(t)
        for b, y in enumerate(beam_heights):
            now = [_margin(0.0, y, *cap) for cap in capsules]
            before = prev[b]
            prev[b] = now
            if not before:
                continue
            # Each capsule's own entry or exit, placed between the samples; the beam is
            # broken from the first entry into a clear beam to the last exit.
            was, broken = min(before) < 0, min(now) < 0
            if broken and not was:
                spans[b].append([min(_root(t - dt, dt, p, m) for p, m in zip(before, now) if p >= 0 > m), math.inf])
            elif was and not broken:
                spans[b][-1][1] = max(_root(t - dt, dt, p, m) for p, m in zip(before, now) if p < 0 <= m)
            if trunk[b] is None and now[0] < 0 <= before[0]:
                trunk[b] = _root(t - dt, dt, before[0], now[0])
    found = [s for s in trunk if s is not None]
    if len(found) < beams or any(e == math.inf for sp in spans for _, e in sp):
        raise ValueError("a beam outside the trunk's reach, or broken past the body")
    return Passage(tuple(tuple((s, e) for s, e in sp) for sp in spans), tuple(found))


def _root(t: float, dt: float, before: float, after: float) -> float:
    """Where a margin that went from ``before`` to ``after`` over ``dt`` crossed zero."""
    return t + dt * before / (before - after)


# --- clothing and sensor ---------------------------------------------------------------


def flicker(spans: Iterable[tuple[int, int]], member: Member, speed: float, rng: random.Random) -> list[tuple[int, int]]:
    """Clothing flicker: loose fabric runs ahead of the body part it covers and trails it.

    Inside the body's outline nothing can open the beam (the body is behind the
    fabric), so flicker lives at a break's front and back: pieces of fluttering
    fabric with short clear gaps between them, before the solid body arrives
    and after it has gone.
    """
    low, high = (round(x * NS_PER_MS) for x in member.flicker_ms)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        out.append((start, end))
        for direction, edge in ((-1, start), (1, end)):
            if rng.random() >= member.flutter:
                continue
            reach = round(rng.uniform(0, member.fabric_m) / speed * NS_PER_S)
            cursor = 0  # time from the body's edge, outwards
            while True:
                near = cursor + rng.randint(low, high)
                if near >= reach:
                    break
                far = min(reach, near + round(rng.uniform(0.3, 3.0) * NS_PER_MS))
                out.append((edge - far, edge - near) if direction < 0 else (edge + near, edge + far))
                cursor = far
    out.sort()
    merged: list[list[int]] = []
    for start, end in out:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def sense(spans: Sequence[tuple[int, int]], member: Member, rng: random.Random) -> tuple[list[tuple[int, int]], list[int | None]]:
    """What the sensor reports. Its output changes only once the light has stayed changed for
    half its response time, so a shorter break or gap is not seen; each edge it does report is
    delayed by 60-100 % of the response time, plus up to 50 µs of stamping. Returns the
    reported breaks and, for each span, when its start was reported (None: not reported as
    the start of a break)."""
    least = round(member.response_ms * NS_PER_MS / 2)
    out: list[list[int]] = []
    starts: list[int | None] = []
    ended: int | None = None  # the last seen break's unreported end
    for start, end in spans:
        if out and ended is not None and start - ended < least:
            starts.append(None)  # the gap before it was too short: the break goes on
            ended = end
            out[-1][1] = end
            continue
        starts.append(start)
        out.append([start, end])
        ended = end
    reported: list[tuple[int, int]] = []
    seen: dict[int, int] = {}
    for start, end in out:
        if end - start < least:
            continue  # too short for the sensor
        s, e = start + sensor_delay(member, rng), end + sensor_delay(member, rng)
        if reported and s <= reported[-1][1]:
            reported[-1] = (reported[-1][0], e)  # jitter closed the gap: one break
        else:
            reported.append((s, e))
            seen[start] = s
    return reported, [None if t is None else seen.get(t) for t in starts]


def sensor_delay(member: Member, rng: random.Random) -> int:
    return round(member.response_ms * NS_PER_MS * rng.uniform(0.6, 1.0)) + rng.randint(0, 50_000)


def best_start(spans: Sequence[tuple[int, int]], seen: int) -> int | None:
    """The start of the reported break that holds the instant ``seen`` (or of the first after it).

    ``seen`` is when the torso's front was reported: no rule that times a
    crossing at the start of a reported break can do better than this break.
    """
    for start, end in spans:
        if end > seen:
            return start
    return None


def both_broken(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Stretches with both beams broken."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# --- a sample of reps -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Crossing:
    """Truth at one gate of one rep, for the single (lower) beam and the dual gate."""

    truth: int
    best: int  # start of the reported break holding the torso's front
    dual_truth: int
    dual_best: int


@dataclass(frozen=True, slots=True)
class Rep:
    speed_mps: float
    athlete: Athlete
    gates: tuple[Crossing, Crossing]  # M2, M3


@dataclass(frozen=True, slots=True)
class Sample:
    member: Member
    single: tuple[Edge, ...]  # beams M2, M3
    dual: tuple[Edge, ...]  # beams M2a (lower), M2b, M3a, M3b
    reps: tuple[Rep, ...]


FLY_M = 30.0
REP_EVERY_NS = 20 * NS_PER_S


def _edges(beam: str, spans: Iterable[tuple[int, int]]) -> list[Edge]:
    return [edge for s, e in spans for edge in (Edge(beam, s, True), Edge(beam, e, False))]


@dataclass(frozen=True, slots=True)
class _Body:
    speed: float
    athlete: Athlete
    passages: tuple[Passage, Passage]  # at M2 and at M3


@functools.lru_cache(maxsize=16)
def _bodies(band: tuple[float, float], offset: tuple[float, float], spacing: tuple[float, float], reps: int, seed: int) -> tuple[_Body, ...]:
    """The geometry of ``reps`` reps: members that differ only in clothing and sensor share it."""
    rng = random.Random(f"{band}/{seed}")
    out = []
    for _ in range(reps):
        speed = rng.uniform(*band)
        athlete = Athlete.draw(rng, speed)
        low = HIP_HEIGHT * athlete.stature * athlete.crouch + rng.uniform(*offset)
        heights = (low, low + rng.uniform(*spacing))  # the single gate's beam, and a dual gate's upper beam
        at_m2, at_m3 = (passage(Stride(athlete, speed, rng.uniform(0, 2 * math.pi)), heights) for _ in range(2))
        out.append(_Body(speed, athlete, (at_m2, at_m3)))
    return tuple(out)


def simulate(member: Member, reps: int, seed: int) -> Sample:
    """``reps`` flying reps through M2 and M3 (30 m apart), one every 20 s."""
    rng = random.Random(f"{member.name}/{seed}")
    single: list[Edge] = []
    dual: list[Edge] = []
    out: list[Rep] = []
    for k, body in enumerate(_bodies(member.speed_mps, member.beam_offset_m, member.dual_spacing_m, reps, seed)):
        crossings = []
        for g, (gate, geometry) in enumerate(zip(("M2", "M3"), body.passages)):
            at = (k + 1) * REP_EVERY_NS + g * round(FLY_M / body.speed * NS_PER_S)
            reported, seen, truths = [], [], []
            for beam_spans, trunk in zip(geometry.breaks, geometry.trunk):
                truth = at + round(trunk * NS_PER_S)
                raw = flicker([(at + round(s * NS_PER_S), at + round(e * NS_PER_S)) for s, e in beam_spans], member, body.speed, rng)
                spans, starts = sense(raw, member, rng)
                # The torso's front starts a break of its own, or arrives inside a limb's break.
                own = [s for (r, _), s in zip(raw, starts) if r == truth and s is not None]
                seen.append(own[0] if own else truth + sensor_delay(member, rng))
                reported.append(spans)
                truths.append(truth)
            single += _edges(gate, reported[0])
            dual += _edges(f"{gate}a", reported[0]) + _edges(f"{gate}b", reported[1])
            best = best_start(reported[0], seen[0])
            dual_best = best_start(both_broken(reported[0], reported[1]), max(seen))
            if best is None or dual_best is None:
                raise AssertionError(f"{member.name} seed {seed} rep {k}: the torso's break was not reported")
            crossings.append(Crossing(truths[0], best, max(truths), dual_best))
        out.append(Rep(body.speed, body.athlete, (crossings[0], crossings[1])))
    return Sample(member, tuple(sorted(single, key=_t)), tuple(sorted(dual, key=_t)), tuple(out))


def _t(edge: Edge) -> int:
    return edge.t_ns


# --- judging a detection method ------------------------------------------------------------


def layout(method: Method | str, settings: DetectionSettings | None = None) -> Layout:
    return Layout.parse(f"M2=0,M3={FLY_M:g}", method, settings)


def fly_errors(sample: Sample, method: Method | str, settings: DetectionSettings | None = None) -> list[int]:
    """Each rep's fly-time error (ns) when ``method`` times its crossings; a missed crossing counts
    as an error of a whole rep interval."""
    lay = layout(method, settings)
    dual = lay.method is Method.DUAL
    crossings, _ = detect(sample.dual if dual else sample.single, lay)
    found: dict[tuple[str, int], int] = {}
    for crossing in crossings:
        slot = round(crossing.t_ns / REP_EVERY_NS) - 1  # a rep's crossings lie within a second of its slot
        found.setdefault((crossing.gate, slot), crossing.t_ns)
    errors = []
    for k, rep in enumerate(sample.reps):
        m2, m3 = found.get(("M2", k)), found.get(("M3", k))
        start, end = rep.gates
        truth = (end.dual_truth - start.dual_truth) if dual else (end.truth - start.truth)
        errors.append(REP_EVERY_NS if m2 is None or m3 is None else (m3 - m2) - truth)
    return errors


def best_errors(sample: Sample, dual: bool) -> list[int]:
    """Each rep's fly-time error (ns) when every crossing is timed at ``best_start``."""
    if dual:
        return [(end.dual_best - start.dual_best) - (end.dual_truth - start.dual_truth) for start, end in (r.gates for r in sample.reps)]
    return [(end.best - start.best) - (end.truth - start.truth) for start, end in (r.gates for r in sample.reps)]


def p95_ms(errors_ns: Iterable[int]) -> float:
    """95th percentile of the absolute errors, in ms (nearest rank, as bench_core)."""
    ordered = sorted(abs(e) for e in errors_ns)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] / NS_PER_MS
