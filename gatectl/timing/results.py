"""Results of a run: segment times, fly time and velocity, and race-pace comparisons.

Times stay integer nanoseconds until here; ``report`` converts to seconds and
m/s for display (JSON, dashboard), which is the only place floats appear.

>>> from gatectl.timing.model import Crossing, Layout, Run, RunStatus
>>> layout = Layout.parse("M1=0,M2=30,M3=60")
>>> run = Run(1, tuple(Crossing(g, t, "longest") for g, t in
...     [("M1", 0), ("M2", 3_600_000_000), ("M3", 6_700_000_000)]), RunStatus.COMPLETE)
>>> r = report(run, layout, {400: 47_000_000_000})
>>> r["fly"]["time_s"], round(r["fly"]["velocity_mps"], 3), round(r["vs_pace"]["400m"]["ratio"], 3)
(3.1, 9.677, 1.137)
"""

from __future__ import annotations

from collections.abc import Mapping

from gatectl.coaching.paces import race_label
from gatectl.timing.model import NS_PER_S, Layout, Run


def velocity_mps(distance_m: float, time_ns: int) -> float:
    return distance_m * NS_PER_S / time_ns


def pace_comparison(velocity: float, race_distance_m: float, race_time_ns: int) -> dict:
    """How a velocity compares with the average velocity of a race."""
    pace = velocity_mps(race_distance_m, race_time_ns)
    return {
        "ratio": velocity / pace,
        "percent": round(100 * velocity / pace, 1),
        "pace_mps": pace,
        "diff_mps": velocity - pace,
        "faster": velocity > pace,
    }


def report(run: Run, layout: Layout, paces: Mapping[float, int] | None = None) -> dict:
    """The run as the JSON object ``gatectl replay --json`` prints.

    ``paces`` maps race distances in metres to the athlete's times in ns
    (bests or goals); the fly velocity is compared with each. A run that
    missed a gate lists it in ``unseen`` (without M1: the fly time stands, the
    acceleration zone was not seen); ``line`` is the average from its first to
    its last crossing (without M2 that is all there is: no fly time is made up).
    ``ambiguous``: another match of the crossings was about as plausible.
    """
    times = {c.gate: c.t_ns for c in run.crossings}
    segments = []
    for segment in layout.segments:
        start, end = times.get(segment.start.name), times.get(segment.end.name)
        if start is None or end is None:
            continue
        time_ns = end - start
        segments.append(
            {
                "from": segment.start.name,
                "to": segment.end.name,
                "distance_m": segment.distance_m,
                "time_ns": time_ns,
                "time_s": time_ns / NS_PER_S,
                "velocity_mps": velocity_mps(segment.distance_m, time_ns),
            }
        )
    fly = None
    vs_pace: dict[str, dict] = {}
    zone = layout.fly_zone
    if segments and segments[-1]["from"] == zone.start.name and segments[-1]["to"] == zone.end.name:
        last = segments[-1]
        v = last["velocity_mps"]
        fly = {
            "distance_m": last["distance_m"],
            "time_ns": last["time_ns"],
            "time_s": last["time_s"],
            "velocity_mps": v,
            "kmh": v * 3.6,
            "per_100m_s": 100 / v,
            "equivalent_400m_s": 400 / v,
        }
        for distance, time_ns in sorted((paces or {}).items()):
            vs_pace[race_label(distance)] = pace_comparison(v, distance, time_ns)
    line = None
    if len(run.crossings) > 1:
        since, until = run.crossings[0], run.crossings[-1]
        distance = round(layout.gate(until.gate).position_m - layout.gate(since.gate).position_m, 6)
        time_ns = until.t_ns - since.t_ns
        line = {
            "from": since.gate,
            "to": until.gate,
            "distance_m": distance,
            "time_ns": time_ns,
            "time_s": time_ns / NS_PER_S,
            "velocity_mps": velocity_mps(distance, time_ns),
        }
    return {
        "number": run.number,
        "status": run.status.value,
        "crossings": times,
        "segments": segments,
        "fly": fly,
        "vs_pace": vs_pace,
        "reason": run.reason,
        "ambiguous": run.ambiguous,
        "unseen": [g.name for g in layout.gates if g.name not in times] if line else [],
        "line": line,
    }
