"""Built-in sessions: flying sprints, 400 m-pace work and distance runners' 400 m repeats.

Each has a stable slug, so a stored run can say which session it belonged to.

>>> library_workout("flying-30s").text
'3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gatectl.errors import WorkoutError


class WorkoutKind(StrEnum):
    """What a session trains, and so what its reps are measured against."""

    MAX_VELOCITY = "max-velocity"  # flying sprints: top speed, well above 400 m pace
    PACE_400M = "400m-pace"  # speed endurance: faster than 800 m pace
    TRACK_REPS = "track-reps"  # distance runners' repeats at set times or race paces


@dataclass(frozen=True, slots=True)
class LibraryWorkout:
    """A named session in workout notation."""

    slug: str
    name: str
    kind: WorkoutKind
    text: str
    note: str


LIBRARY: tuple[LibraryWorkout, ...] = (
    LibraryWorkout(
        "flying-30s", "Flying 30s", WorkoutKind.MAX_VELOCITY,
        "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.",
        "Jog in, be at top speed by the second marker and hold it over a 30 m fly zone; walk back "
        "between reps. Sprinters stay at this distance.",
    ),
    LibraryWorkout(
        "flying-40s", "Flying 40s", WorkoutKind.MAX_VELOCITY,
        "3 x 3 x 40m. 3:00 Rec between reps. 7:00 Rec between sets.",
        "The middle step for middle-distance runners, who can hold top speed a little longer "
        "than sprinters can.",
    ),
    LibraryWorkout(
        "flying-50s", "Flying 50s", WorkoutKind.MAX_VELOCITY,
        "3 x 3 x 50m. 3:00 Rec between reps. 8:00 Rec between sets.",
        "The longest fly zone, for non-sprinters who have mastered the 40s. If fly times drift "
        "up within a set, the zone is still too long.",
    ),
    LibraryWorkout(
        "400-pace-50s-100s", "50s, 100s, 50s", WorkoutKind.PACE_400M,
        "4 x 50m. 1:30 Rec between reps\n4 x 100m. 2:30 Rec between reps\n4 x 50m. 1:30 Rec between reps",
        "A first session at 400 m pace: short reps, long walks, each rep eased into from a rolling "
        "start. The notation leaves the rest between blocks to you.",
    ),
    LibraryWorkout(
        "400-pace-2x4x100", "2 sets of 4 x 100m", WorkoutKind.PACE_400M,
        "2 x (4 x 100m). 2:30 Rec between reps. 5:00 Rec between sets",
        "Two sets of 100s quicker than 800 m pace. End the set when a rep comes out slower "
        "than the one before it.",
    ),
    LibraryWorkout(
        "400-pace-100-200", "100m + 200m pairs", WorkoutKind.PACE_400M,
        "3 x (100m. 2:30 Rec. 200m. 5:00 Rec)",
        "Three pairs of a 100 and a 200 at 400 m pace, with the longer rest after the 200.",
    ),
    LibraryWorkout(
        "400-pace-3x2x200", "3 sets of 2 x 200m", WorkoutKind.PACE_400M,
        "3 x (2 x 200m). 3:00 Rec between reps. 6:00 Rec between sets",
        "Six 200s at 400 m pace in pairs. 400 m sprinters should stretch every rest by half "
        "again or double it (--sprinter400).",
    ),
    LibraryWorkout(
        "400-pace-cut-down", "300m down to 50s", WorkoutKind.PACE_400M,
        "300m. 7:00 Rec\n200m. 2:30 Rec. 200m. 5:00 Rec\n3 x 100m. 2:00 Rec between reps\n"
        "4 x 50m. 1:30 Rec between reps",
        "From one 300 down to 50s, all at 400 m pace, the rests shrinking with the reps. No rest "
        "is written before the 50s: start them when fresh.",
    ),
    LibraryWorkout(
        "12x400-even", "12 x 400 at 1:20", WorkoutKind.TRACK_REPS,
        "12 x 400 @ 1:20 / R1:20",
        "The club standard: even 400s with a rest as long as the rep. Over a season the same "
        "session gets quicker and the rests shorter.",
    ),
    LibraryWorkout(
        "6x400-max", "6 x 400 flat out", WorkoutKind.TRACK_REPS,
        "6 x 400 @ MAX / R-Full",
        "Few 400s as fast as possible with full recovery, for a finishing kick. Only for strong, "
        "experienced runners.",
    ),
    LibraryWorkout(
        "25x400-10k", "25 x 400 at 10k pace", WorkoutKind.TRACK_REPS,
        "25 x 400 @ 1:24 /R35-45s",
        "Many 400s at 10k pace on short rests (1:24 suits a 35-minute 10k), to learn the feel "
        "of race pace.",
    ),
    LibraryWorkout(
        "15x400-10k-plus-10", "15 x 400 at 10k pace + 10 s", WorkoutKind.TRACK_REPS,
        "15 x 400 @ 10K pace + 10sec /R1:00",
        "Where the road to 25 x 400 starts: a little slower than 10k pace, a minute's rest. "
        "Give your 10k time with --race 10k=MM:SS.",
    ),
    LibraryWorkout(
        "400-200-alternating", "400s and 200s", WorkoutKind.TRACK_REPS,
        "10 x (400 @ 10k pace /R25sec + 200 @ 5k pace /R1:20)",
        "Ten pairs: a 400 at 10k pace, a short breather, then a quicker 200 at 5k pace. "
        "Practises changing pace.",
    ),
    LibraryWorkout(
        "3k-tempo-10x400", "3k tempo + 10 x 400", WorkoutKind.TRACK_REPS,
        "3k @ 10k pace /R3:30 + 10 x 400 @ 10k pace /R1:20",
        "A 3 km run at 10k pace and then ten 400s at the same pace: whoever fades once tired "
        "will see it in the splits.",
    ),
    LibraryWorkout(
        "12x400-3k", "12 x 400 at 3K pace", WorkoutKind.TRACK_REPS,
        "12 x 400m @ 3K pace, 200m jog recovery",
        "400s at 3000 m race pace with a 200 m jog between. Hold the pace on every rep first; "
        "only then shorten the recoveries.",
    ),
)  # fmt: skip


def library_workout(slug: str) -> LibraryWorkout:
    """The built-in session with this slug; an unknown slug raises ``WorkoutError``."""
    for workout in LIBRARY:
        if workout.slug == slug:
            return workout
    raise WorkoutError(f"No built-in workout {slug!r}; `gatectl workout list` shows them all.")
