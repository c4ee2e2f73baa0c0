"""Does a workout fit the gates? A rep is timed over a stretch the gates measure, never rescaled.

Through a line of gates a rep is timed over the fly zone (the last two gates)
or over the whole line (first gate to last). A rep of any other distance would
need its time scaled from a stretch the athlete ran at another speed, and the
live page would show two times for one rep: such a workout is refused before it
starts, with the sentence that says what to change.

>>> from gatectl.coaching.notation import parse_workout
>>> check_fits(parse_workout("3 x 3 x 30m"), Layout.flying(30, 30))
>>> check_fits(parse_workout("3 x 3 x 30m"), Layout.parse("M1=0,M2=20,M3=60"))
Traceback (most recent call last):
...
gatectl.errors.WorkoutError: The gates time 40 m (the fly zone, M2→M3) or 60 m (the whole line, M1→M3), not 30 m reps. Change the layout on Control so the fly zone is 30 m (e.g. M1=0,M2=20,M3=50), or write the reps as 40 m.
"""

from __future__ import annotations

from gatectl.coaching.notation import Workout, expand
from gatectl.errors import WorkoutError
from gatectl.timing.model import Layout


def timed_distances(layout: Layout) -> tuple[float, ...]:
    """The stretches a run through ``layout`` is timed over: the fly zone, then the whole line."""
    fly = layout.fly_zone.distance_m
    line = round(layout.gates[-1].position_m - layout.gates[0].position_m, 6)
    return (fly,) if line == fly else (fly, line)


def check_fits(workout: Workout, layout: Layout) -> None:
    """Refuse (``WorkoutError``) a workout with a rep distance the gates of ``layout`` do not time."""
    measured = timed_distances(layout)
    wrong = sorted({rep.distance_m for rep in expand(workout)} - set(measured))
    if not wrong:
        return
    first, last = layout.gates[0].name, layout.gates[-1].name
    fly = layout.fly_zone
    stretches = f"{measured[0]:g} m (the fly zone, {fly.start.name}→{fly.end.name})"
    if len(measured) > 1:
        stretches += f" or {measured[1]:g} m (the whole line, {first}→{last})"
    reps = " and ".join(f"{d:g} m" for d in wrong)
    wanted = wrong[0]
    if len(layout.gates) == 3:  # the flying preset: move the last gate to make the fly zone fit
        moved = {g.name: g.position_m for g in layout.gates}
        moved[last] = round(fly.start.position_m + wanted, 6)
        example = ",".join(f"{name}={position:g}" for name, position in moved.items())
        change = f"Change the layout on Control so the fly zone is {wanted:g} m (e.g. {example})"
    else:
        change = f"Change the layout on Control so the fly zone or the whole line is {wanted:g} m"
    raise WorkoutError(f"The gates time {stretches}, not {reps} reps. {change}, or write the reps as {measured[0]:g} m.")
