
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatectl.coaching import notation as workout
from gatectl.coaching.notation import (
    FullRest,
    JogRest,
    MaxEffort,
    RacePace,
    Rest,
    TimeTarget,
    expand,
    parse_workout,
    reps_as_json,
    total_distance_m,
)
from gatectl.coaching.paces import format_duration_ns, parse_race
from gatectl.errors import WorkoutError

S = 1_000_000_000


def plan(text, *races, **options):
    return expand(parse_workout(text), dict(parse_race(r) for r in races), **options)


def rest(rep):
    """The rest after a rep, compactly: seconds, (min, max) seconds, "full", ("jog", m) or None."""
    r = rep.recovery
    if isinstance(r, Rest):
        return r.min_ns / S if r.min_ns == r.max_ns else (r.min_ns / S, r.max_ns / S)
    if isinstance(r, JogRest):
        return ("jog", r.distance_m)
    return "full" if isinstance(r, FullRest) else None


def rows(reps):
    return [(r.set_no, r.rep_no, r.distance_m, rest(r)) for r in reps]



# ---- sprint notation


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.",
            [(1, 1, 30, 180), (1, 2, 30, 180), (1, 3, 30, 360),
             (2, 1, 30, 180), (2, 2, 30, 180), (2, 3, 30, 360),
             (3, 1, 30, 180), (3, 2, 30, 180), (3, 3, 30, None)],
        ),
        (
            "2 x (4 x 100m). 2:30 Rec between reps. 5:00 Rec between sets",
            [(1, 1, 100, 150), (1, 2, 100, 150), (1, 3, 100, 150), (1, 4, 100, 300),
             (2, 1, 100, 150), (2, 2, 100, 150), (2, 3, 100, 150), (2, 4, 100, None)],
        ),
        (
            "3 x (100m. 2:30 Rec. 200m. 5:00 Rec)",
            [(1, 1, 100, 150), (1, 2, 200, 300), (2, 1, 100, 150), (2, 2, 200, 300),
             (3, 1, 100, 150), (3, 2, 200, None)],
        ),
        (
            "3 x (2 x 200m). 3:00 Rec between reps. 6:00 Rec between sets",
            [(1, 1, 200, 180), (1, 2, 200, 360), (2, 1, 200, 180), (2, 2, 200, 360),
             (3, 1, 200, 180), (3, 2, 200, None)],
        ),
        ("4 x 50m. 1:30 Rec between reps", [(1, 1, 50, 90), (1, 2, 50, 90), (1, 3, 50, 90), (1, 4, 50, None)]),
        (
            # lines run one after another; each line is a set; nothing is written after the 100s
            "300m. 7:00 Rec\n200m. 2:30 Rec. 200m. 5:00 Rec\n3 x 100m. 2:00 Rec between reps\n"
            "4 x 50m. 1:30 Rec between reps",
            [(1, 1, 300, 420), (2, 1, 200, 150), (2, 2, 200, 300),
             (3, 1, 100, 120), (3, 2, 100, 120), (3, 3, 100, None),
             (4, 1, 50, 90), (4, 2, 50, 90), (4, 3, 50, 90), (4, 4, 50, None)],
        ),
    ],
)  # fmt: skip
def test_sprint_notation_expands_in_running_order(text, expected):
    reps = plan(text)
    assert rows(reps) == expected
    assert all(r.target is None and r.target_ns is None for r in reps)


def test_between_reps_alone_also_covers_the_gap_between_sets():
    assert [rest(r) for r in plan("2 x 2 x 30m. 3:00 Rec between reps")] == [180, 180, 180, None]


def test_a_rest_written_after_a_repeat_follows_every_rep():
    assert [rest(r) for r in plan("3 x 50m. 1:30 Rec")] == [90, 90, None]


def test_a_reps_own_rest_wins_over_between_reps():
    reps = plan("2 x (100m. 2:30 Rec. 200m). 1:00 Rec between reps. 4:00 Rec between sets")
    assert rows(reps) == [(1, 1, 100, 150), (1, 2, 200, 240), (2, 1, 100, 150), (2, 2, 200, None)]


def test_nested_groups_flatten_into_the_outer_sets():
    reps = plan("2 x (3 x (100m. 200m))")
    assert [(r.set_no, r.rep_no) for r in reps] == [(s, n) for s in (1, 2) for n in range(1, 7)]
    assert [r.distance_m for r in reps[:6]] == [100, 200] * 3


def test_loose_reps_share_a_set_and_a_repeat_starts_a_new_one():
    reps = plan("400 /R1:00 + 200 /R1:00 + 3 x 100 /R30s")
    assert rows(reps) == [(1, 1, 400, 60), (1, 2, 200, 60), (2, 1, 100, 30), (2, 2, 100, 30), (2, 3, 100, None)]


@pytest.mark.parametrize(
    "text",
    [
        "3X3X30M.3:00 REC BETWEEN REPS.6:00 rec Between Sets",
        "  3 x 3 x 30 m .  3:00 rec between reps ;  6:00 recovery between sets ",
        "3 × 3 × 30 metres. 3' rest between reps. 6' rest between sets.",
        "3 x [3 x 30m]. 3:00 Rec between reps. 6:00 Rec between sets.",
    ],
)
def test_case_spacing_and_spelling_are_forgiven(text):
    assert plan(text) == plan("3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets.")


# ---- track notation


def test_even_400s_are_one_set():
    reps = plan("12 x 400 @ 1:20 / R1:20")
    assert [(r.set_no, r.rep_no) for r in reps] == [(1, n) for n in range(1, 13)]
    assert {(r.distance_m, r.target, r.target_ns) for r in reps} == {(400, TimeTarget(80 * S), 80 * S)}
    assert [rest(r) for r in reps] == [80] * 11 + [None]


def test_a_rest_range_keeps_both_ends():
    reps = plan("25 x 400 @ 1:24 /R35-45s")
    assert len(reps) == 25 and reps[0].target_ns == 84 * S
    assert reps[0].recovery == Rest(35 * S, 45 * S)
    assert reps[-1].recovery is None


def test_max_effort_with_full_recovery():
    reps = plan("6 x 400 @ MAX / R-Full")
    assert [(r.target, r.target_ns) for r in reps] == [(MaxEffort(), None)] * 6
    assert [rest(r) for r in reps] == ["full"] * 5 + [None]


def test_alternating_400s_and_200s_at_race_paces():
    reps = plan("10 x (400 @ 10k pace /R25sec + 200 @ 5k pace /R1:20)", "10k=35:00", "5k=16:30")
    assert len(reps) == 20
    assert rows(reps[:4]) == [(1, 1, 400, 25), (1, 2, 200, 80), (2, 1, 400, 25), (2, 2, 200, 80)]
    assert [r.target_ns for r in reps[:2]] == [84 * S, 39_600_000_000]
    assert [str(r.target) for r in reps[:2]] == ["10k pace", "5k pace"]
    assert rows(reps[-1:]) == [(10, 2, 200, None)]


def test_pace_offset_adds_to_the_target():
    reps = plan("15 x 400 @ 10K pace + 10sec /R1:00", "10k=35:00")
    assert len(reps) == 15
    assert reps[0].target == RacePace(10_000, offset_ns=10 * S)
    assert str(reps[0].target) == "10k pace + 10 s"
    assert {r.target_ns for r in reps} == {94 * S}
    assert [rest(r) for r in reps] == [60] * 14 + [None]


@pytest.mark.parametrize("minus", ["–", "-", "—"])
def test_pace_offset_subtracts_with_any_dash(minus):
    [rep] = plan(f"400 @ 10k pace {minus} 20sec", "10k=35:00")
    assert rep.target_ns == 64 * S
    assert str(rep.target) == "10k pace - 20 s"


def test_tempo_then_400s_are_two_sets():
    reps = plan("3k @ 10k pace /R3:30 + 10 x 400 @ 10k pace /R1:20", "10k=35:00")
    assert rows(reps[:3]) == [(1, 1, 3000, 210), (2, 1, 400, 80), (2, 2, 400, 80)]
    assert reps[0].target_ns == 630 * S
    assert rows(reps[-1:]) == [(2, 10, 400, None)]


@pytest.mark.parametrize("text", ["12 x 400m @ 3K, 200m jog recovery", "12 x 400m @ 3K pace, 200m jog recovery"])
def test_jog_recovery_is_a_distance(text):
    reps = plan(text, "3000m=9:00")
    assert [rest(r) for r in reps] == [("jog", 200)] * 11 + [None]
    assert {(r.target, r.target_ns) for r in reps} == {(RacePace(3000), 72 * S)}
    assert reps_as_json(reps)["reps"][0]["recovery_distance_m"] == 200
    assert reps_as_json(reps)["reps"][0]["recovery_after_s"] is None


def test_a_pace_without_its_race_time_keeps_the_reference():
    [rep] = plan("400 @ 10k pace + 10sec", "5k=16:30")
    assert rep.target_ns is None
    assert str(rep.target) == "10k pace + 10 s"


@pytest.mark.parametrize(
    "target, race_m",
    [("mile pace", 1609.344), ("Half-M pace", 21_097.5), ("half marathon pace", 21_097.5),
     ("marathon pace", 42_195), ("1600m pace", 1600), ("1600 pace", 1600), ("5K", 5000)],
)  # fmt: skip
def test_race_paces_by_name_or_distance(target, race_m):
    [rep] = plan(f"400 @ {target}")
    assert rep.target == RacePace(race_m)


def test_a_bare_number_target_is_seconds():
    assert plan("200 @ 32")[0].target == TimeTarget(32 * S)


def test_a_bare_number_is_a_distance_unless_a_rest_word_follows():
    assert rows(plan("2 x 200m. 60")) == [(1, 1, 200, None), (1, 2, 200, None), (2, 1, 60, None)]
    assert rows(plan("2 x 200m. 60 Rec")) == [(1, 1, 200, 60), (1, 2, 200, None)]


def test_an_offset_that_leaves_no_time_is_an_error():
    with pytest.raises(WorkoutError, match="leaves no time for 200 m"):
        plan("200 @ 10k pace - 1:00", "10k=35:00")


def test_jog_recovery_after_r():
    assert rest(plan("2 x 1k @ half-M pace R/1K jog")[0]) == ("jog", 1000)


# ---- units


@pytest.mark.parametrize(
    "written, seconds",
    [("3:00", 180), ("90s", 90), ("25sec", 25), ("25 secs", 25), ("1'30\"", 90), ("1’30”", 90), ("3'", 180),
     ("45\"", 45), ("2min", 120), ("2 mins", 120), ("1:00:00", 3600), ("1:08.5", 68.5), ("90", 90)],
)  # fmt: skip
def test_rest_times(written, seconds):
    assert rest(plan(f"2 x 300m. {written} Rec")[0]) == seconds
    assert rest(plan(f"2 x 300m /R{written}")[0]) == seconds


@pytest.mark.parametrize(
    "written, seconds",
    [("35-45s", (35, 45)), ("35s-45s", (35, 45)), ("1-2min", (60, 120)), ("1:30-2:00", (90, 120))],
)
def test_rest_ranges(written, seconds):
    assert rest(plan(f"2 x 300m /R{written}")[0]) == seconds


@pytest.mark.parametrize(
    "written, metres",
    [("400", 400), ("400m", 400), ("400 m", 400), ("3k", 3000), ("3K", 3000), ("1.5k", 1500), ("2 km", 2000),
     ("1 mile", 1609.344), ("60 metres", 60)],
)  # fmt: skip
def test_distances(written, metres):
    assert plan(f"{written}")[0].distance_m == metres


# ---- errors point at the fragment


@pytest.mark.parametrize(
    "text, fragment, column, message",
    [
        ("3 x 3 x 30y. 3:00 Rec", "30y", 9, "unknown unit 'y'"),
        ("3 x @ 1:20", "@", 5, "expected a distance such as 400m"),
        ("3 x . 3:00 Rec", ".", 5, "expected a distance such as 400m"),
        ("@ 1:20", "@", 1, "expected a rep such as 400m"),
        ("300m. 7:00 Rec banana", "banana", 16, "expected '.', ',' or '+' after '7:00 Rec'"),
        ("300m 7:00 Rec", "7:00", 6, "expected '.', ',' or '+' after '300m'"),
        ("300m. 3:75 Rec", "3:75", 7, "must be under 60"),
        ("2 x 400 /R1:2x", "x", 14, "expected '.', ',' or '+'"),
        ("2.5 x 400", "2.5 x", 1, "whole number"),
        ("12 x 0m", "0m", 6, "longer than 0 m"),
        ("3 x (100m. 200m", "(", 5, "never closed"),
        ("3 x 100m)", ")", 9, "closes no bracket"),
        ("3 x ()", "()", 5, "hold no rep"),
        ("3:00 Rec. 300m", "3:00 Rec", 1, "must come after the rep"),
        ("300m. 7:00 Rec between reps", "7:00 Rec between reps", 7, "'between reps' needs a repeat"),
        ("4 x 50m. 1:30 Rec between sets", "1:30 Rec between sets", 10, "no sets before it"),
        ("2 x (4 x 100m. 5:00 Rec between sets)", "5:00 Rec between sets", 16, "after the closing bracket"),
        ("300m. 7:00 Rec. 5:00 Rec", "5:00 Rec", 17, "already given (7:00)"),
        ("12 x 400 / R-equal", "equal", 14, "expected a rest after R"),
        ("12 x 400 @ 1:20 / 1:20", "/ 1:20", 17, "expected R and a rest"),
        ("400 / R45-35s", "45-35s", 8, "shortest first"),
        ("400 @ pace", "pace", 7, "expected a target after '@'"),
        ("400 # 3", "#", 5, "no meaning in a workout"),
        ("3 x", "", 4, "expected a distance"),
    ],
)
def test_unreadable_text_is_pointed_at(text, fragment, column, message):
    with pytest.raises(WorkoutError) as caught:
        parse_workout(text)
    head, source, carets = str(caught.value).splitlines()
    assert message in head
    assert f"at column {column}:" in head
    assert (f"Cannot read {fragment!r}" if fragment else "Unexpected end of line") in head
    assert source == f"  {text}"
    assert carets == "  " + " " * (column - 1) + "^" * max(len(fragment), 1)


def test_errors_in_later_lines_name_the_line():
    with pytest.raises(WorkoutError, match=r"'fish' at line 2, column 24: expected 'reps' or 'sets'"):
        parse_workout("300m. 7:00 Rec\n200m. 2:00 Rec between fish")


@pytest.mark.parametrize("text", ["", "   \n\n  ", ". ,"])
def test_empty_text_is_an_error(text):
    with pytest.raises(WorkoutError, match="The workout is empty"):
        parse_workout(text)


# ---- 400 m sprinters


@pytest.mark.parametrize("factor, rests", [(1.5, [270, 540, 270]), (2.0, [360, 720, 360]), (1.0, [180, 360, 180])])
def test_sprinters_rest_longer_after_reps_over_50m(factor, rests):
    text = "3 x (2 x 200m). 3:00 Rec between reps. 6:00 Rec between sets"
    reps = plan(text, sprinter400=True, sprinter_factor=factor)
    assert [rest(r) for r in reps] == rests + rests[1:2] + [rests[0], None]


def test_sprinter_default_factor_is_one_and_a_half():
    assert rest(plan("2 x 100m /R35-45s", sprinter400=True)[0]) == (52.5, 67.5)


def test_sprinter_rests_unchanged_after_50m_and_for_full_or_jog():
    assert [rest(r) for r in plan("3 x 50m. 1:30 Rec between reps", sprinter400=True)] == [90, 90, None]
    assert rest(plan("2 x 400 /R-Full", sprinter400=True)[0]) == "full"
    assert rest(plan("2 x 400, 200m jog", sprinter400=True)[0]) == ("jog", 200)


@pytest.mark.parametrize("factor", [0.9, 2.1, -1.0])
def test_sprinter_factor_outside_1_to_2_is_an_error(factor):
    with pytest.raises(WorkoutError, match="between 1.0 and 2.0"):
        plan("2 x 200m /R3:00", sprinter400=True, sprinter_factor=factor)


# ---- JSON and totals


def test_json_has_one_entry_per_rep_and_the_total():
    reps = plan("2 x 400 @ 10k pace + 5sec /R35-45s", "10k=35:00")
    assert reps_as_json(reps) == {
        "reps": [
            {"set": 1, "rep": 1, "distance_m": 400.0, "target_s": 89.0, "target": "10k pace + 5 s",
             "recovery_after_s": 35.0, "recovery_max_s": 45.0, "recovery": "35 s–45 s", "recovery_distance_m": None},
            {"set": 1, "rep": 2, "distance_m": 400.0, "target_s": 89.0, "target": "10k pace + 5 s",
             "recovery_after_s": None, "recovery_max_s": None, "recovery": None, "recovery_distance_m": None},
        ],
        "total_distance_m": 800.0,
    }  # fmt: skip


def test_total_distance_counts_reps_not_jogs():
    assert total_distance_m(plan("12 x 400m @ 3K, 200m jog recovery")) == 4800


# ---- properties


@given(
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([30, 40, 50, 60, 100]),
    st.integers(min_value=1, max_value=600),
    st.integers(min_value=1, max_value=900),
)
def test_sets_of_reps_expand_to_every_rep_with_its_rest(sets, per_set, distance, rep_rest, set_rest):
    text = (
        f"{sets} x {per_set} x {distance}m. {format_duration_ns(rep_rest * S, 0)} Rec between reps. "
        f"{format_duration_ns(set_rest * S, 0)} Rec between sets."
    )
    reps = plan(text)
    assert [(r.set_no, r.rep_no) for r in reps] == [(s, n) for s in range(1, sets + 1) for n in range(1, per_set + 1)]
    expected = [set_rest if n == per_set else rep_rest for s in range(sets) for n in range(1, per_set + 1)]
    assert [rest(r) for r in reps] == expected[:-1] + [None]
    assert total_distance_m(reps) == sets * per_set * distance


@given(st.integers(min_value=1, max_value=3 * 3600 - 1), st.sampled_from(["Rec", "rest", "recovery"]))
def test_every_formatted_rest_reads_back(seconds, word):
    assert plan(f"2 x 200m. {format_duration_ns(seconds * S, 0)} {word}")[0].recovery == Rest(seconds * S, seconds * S)


def test_rests_scaled_for_a_demo():
    text = "2 x (2 x 100m). 2:30 Rec between reps. 5:00 Rec between sets\n400 /R35-45s\n400 / R-Full\n300m. 200m jog recovery. 100m"
    reps = expand(workout.scale_rests(parse_workout(text), 0.1))
    assert [str(r.recovery) for r in reps] == ["15 s", "30 s", "15 s", "None", "3.5 s–4.5 s", "full", "200 m jog", "None"]
    with pytest.raises(WorkoutError, match="positive factor"):
        workout.scale_rests(parse_workout("30m"), 0)
