"""Crossing error of lap passages through one gate, by speed (not a test).

    python bench/bench_lap_crossings.py            # 1,000 passes at each speed
    python bench/bench_lap_crossings.py --quick    # 100, to check the script works

Track reps are timed by one gate on the line, at 4-8 m/s: slower than the
flying sprints ``bench_core`` times, so a torso is longer, and clothing flicker
can split it into pieces that are each as long as a sprinter's whole torso.
``longest`` and ``dual`` judge a torso by the gate's recent ones, so the gate
sees a whole lap session here (``lap_edges``: limbs, flicker, sensor jitter,
seed 3, a passage every 2 s). Prints, as a Markdown table, each crossing's error
against the truth plus the sensor's delay: p95 and max in ms, and how many of
the passes were timed more than 5 ms off.
"""

from __future__ import annotations

import argparse

from gatectl.sim.sprinters import SimOptions, lap_edges
from gatectl.timing.detect import GateDetector
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Crossing, DetectionSettings, Gate, Method

SPEEDS_MPS = (4.0, 5.0, 6.5, 8.0)
OFF_NS = 5 * NS_PER_MS


def errors_ns(speed_mps: float, method: Method, passes: int) -> list[int]:
    """Each pass's crossing error (ns): the crossing the gate timed, less the torso's truth and the sensor's delay."""
    gate = Gate("L", 0.0, ("La", "Lb") if method is Method.DUAL else ("L",))
    marks = [k * 2 * NS_PER_S for k in range(1, passes + 1)]
    options = SimOptions(limbs=True)
    detector = GateDetector(gate, method, DetectionSettings())
    events = [event for edge in lap_edges(gate, marks, speed_mps=speed_mps, seed=3, options=options) for event in detector.feed(edge)]
    times = [event.t_ns for event in [*events, *detector.flush()] if isinstance(event, Crossing)]
    if len(times) != passes:
        raise SystemExit(f"{method} at {speed_mps} m/s: {len(times)} crossings of {passes} passes")
    return [abs(t - mark - options.sensor_delay_ns) for t, mark in zip(times, marks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 passes at each speed")
    passes = 100 if parser.parse_args().quick else 1000
    print(f"Crossing error of {passes} lap passages at each speed (ms)\n")
    print("| speed | method | p95 | max | off > 5 ms |\n|---|---|---|---|---|")
    for speed in SPEEDS_MPS:
        for method in (Method.LONGEST, Method.DUAL):
            errors = sorted(errors_ns(speed, method, passes))
            p95 = errors[round(0.95 * (len(errors) - 1))]
            off = sum(1 for e in errors if e > OFF_NS)
            print(f"| {speed:g} m/s | {method.value} | {p95 / NS_PER_MS:.2f} | {errors[-1] / NS_PER_MS:.2f} | {off} |", flush=True)


if __name__ == "__main__":
    main()
