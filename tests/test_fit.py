"""A workout fits the gates when every rep is a distance they time: the fly zone or the whole line."""

import pytest

from gatectl.coaching.fit import check_fits, timed_distances
from gatectl.coaching.notation import parse_workout
from gatectl.errors import WorkoutError
from gatectl.timing.model import Layout


def test_the_gates_time_the_fly_zone_and_the_whole_line():
    assert timed_distances(Layout.parse("M1=0,M2=20,M3=60")) == (40.0, 60.0)
    assert timed_distances(Layout.parse("A=0,B=50")) == (50.0,)


@pytest.mark.parametrize(
    "text, layout",
    [
        ("3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.", "M1=0,M2=30,M3=60"),
        ("2 x 60m", "M1=0,M2=30,M3=60"),  # the whole line
        ("30m. 60m", "M1=0,M2=30,M3=60"),  # both in one session
        ("4 x 100m", "S=0,A=50,B=60,F=100"),
    ],
)
def test_a_workout_that_fits(text, layout):
    check_fits(parse_workout(text), Layout.parse(layout))


def test_the_issue_s_fly_40_layout_refuses_30m_reps_saying_what_to_change():
    with pytest.raises(WorkoutError) as caught:
        check_fits(parse_workout("3 x 3 x 30m"), Layout.parse("M1=0,M2=20,M3=60"))
    assert str(caught.value) == (
        "The gates time 40 m (the fly zone, M2→M3) or 60 m (the whole line, M1→M3), not 30 m reps. "
        "Change the layout on Control so the fly zone is 30 m (e.g. M1=0,M2=20,M3=50), or write the reps as 40 m."
    )


def test_every_distance_that_does_not_fit_is_named():
    with pytest.raises(WorkoutError, match=r"not 40 m and 50 m reps\. Change the layout on Control so the fly zone or the whole line is 40 m"):
        check_fits(parse_workout("30m. 40m. 50m"), Layout.parse("A=0,B=10,C=20,D=30"))


def test_a_two_gate_line_times_one_distance():
    with pytest.raises(WorkoutError, match=r"^The gates time 30 m \(the fly zone, A→B\), not 40 m reps"):
        check_fits(parse_workout("40m"), Layout.parse("A=0,B=30"))
