import doctest

import pytest

from gatectl.coaching import library as workout_library
from gatectl.coaching.library import LIBRARY, LibraryWorkout, WorkoutKind, library_workout
from gatectl.coaching.notation import Rest, expand, parse_workout
from gatectl.coaching.paces import parse_race
from gatectl.errors import WorkoutError

S = 1_000_000_000


def test_docstring_examples_hold():
    assert doctest.testmod(workout_library).failed == 0


@pytest.mark.parametrize("entry", LIBRARY, ids=[w.slug for w in LIBRARY])
def test_every_entry_parses_and_expands(entry: LibraryWorkout):
    reps = expand(parse_workout(entry.text), dict([parse_race("10k=35:00"), parse_race("5k=16:30")]))
    assert reps and reps[-1].recovery is None
    assert all(r.distance_m > 0 for r in reps)


@pytest.mark.parametrize("entry", LIBRARY, ids=[w.slug for w in LIBRARY])
def test_every_entry_is_described(entry: LibraryWorkout):
    assert entry.slug == entry.slug.lower() and " " not in entry.slug
    assert entry.name and entry.text
    assert isinstance(entry.kind, WorkoutKind)
    assert entry.note.endswith(".") and 1 <= entry.note.count(". ") + 1 <= 2


def test_slugs_are_unique_and_every_kind_is_present():
    assert len({w.slug for w in LIBRARY}) == len(LIBRARY)
    assert {w.kind for w in LIBRARY} == set(WorkoutKind)


@pytest.mark.parametrize(
    "slug, distance, set_rest", [("flying-30s", 30, 360), ("flying-40s", 40, 420), ("flying-50s", 50, 480)]
)
def test_flying_sprints_are_three_sets_of_three(slug, distance, set_rest):
    workout = library_workout(slug)
    assert workout.kind is WorkoutKind.MAX_VELOCITY
    reps = expand(parse_workout(workout.text))
    expected = [(s, n, distance) for s in (1, 2, 3) for n in (1, 2, 3)]
    assert [(r.set_no, r.rep_no, r.distance_m) for r in reps] == expected
    assert [r.recovery for r in reps[:3]] == [Rest(180 * S, 180 * S)] * 2 + [Rest(set_rest * S, set_rest * S)]


def test_the_400m_pace_sessions_come_from_the_reference():
    texts = {w.text for w in LIBRARY if w.kind is WorkoutKind.PACE_400M}
    assert "2 x (4 x 100m). 2:30 Rec between reps. 5:00 Rec between sets" in texts
    assert "3 x (100m. 2:30 Rec. 200m. 5:00 Rec)" in texts
    assert len(texts) == 5


def test_track_sessions_resolve_race_paces():
    reps = expand(parse_workout(library_workout("15x400-10k-plus-10").text), dict([parse_race("10k=35:00")]))
    assert {r.target_ns for r in reps} == {94 * S}


def test_unknown_slug_says_where_to_look():
    with pytest.raises(WorkoutError, match="No built-in workout 'flying-60s'; `gatectl workout list`"):
        library_workout("flying-60s")
