
import pytest
from helpers import MS, S
from hypothesis import given
from hypothesis import strategies as st

from gatectl.coaching.library import WorkoutKind, library_workout
from gatectl.coaching.notation import expand, parse_workout
from gatectl.coaching.quality import (
    Against,
    TargetStyle,
    Verdict,
    check_faster_than,
    check_pace,
    clearly_faster_ns,
    comparison_groups,
    drop_off,
    on_target_tolerance_ns,
    summarize,
    target_for,
    top_speed_hint,
    top_speed_race,
)

MILE = 1609.344
MAXV, PACE400, TRACK = WorkoutKind.MAX_VELOCITY, WorkoutKind.PACE_400M, WorkoutKind.TRACK_REPS
ADA = {400.0: 50 * S, 800.0: 110 * S}



# ---- Targets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "time_s, verdict",
    [(80, Verdict.ON_TARGET), (81, Verdict.ON_TARGET), (79, Verdict.ON_TARGET), (81.000000001, Verdict.SLOW), (78.999999999, Verdict.FAST)],
)
def test_paced_rep_is_on_target_within_a_second_per_lap(time_s, verdict):
    check = check_pace(round(time_s * S), 80 * S, 400)
    assert check.verdict is verdict
    assert check.diff_ns == round(time_s * S) - 80 * S
    assert check.tolerance_ns == S


def test_tolerance_grows_with_the_distance():
    assert on_target_tolerance_ns(200) == S // 2
    assert on_target_tolerance_ns(3000) == 7_500_000_000
    assert on_target_tolerance_ns(400, per_400m_ns=2 * S) == 2 * S
    assert check_pace(41 * S, 40 * S, 200).verdict is Verdict.SLOW  # ±0.5 s over a 200


def test_a_pace_to_beat_must_be_beaten_not_equalled():
    assert check_faster_than(3_399_999_999, 34 * S // 10).verdict is Verdict.BEAT
    missed = check_faster_than(34 * S // 10, 34 * S // 10)
    assert (missed.verdict, missed.diff_ns, missed.tolerance_ns) == (Verdict.MISSED, 0, 0)


def test_clearly_faster_is_two_percent_in_velocity():
    assert clearly_faster_ns(102 * S) == 100 * S
    assert clearly_faster_ns(105 * S, 0.05) == 100 * S
    assert clearly_faster_ns(100 * S, 0) == 100 * S


# ---- What a rep aims at ----------------------------------------------------------------------------


def rep(text, races=None):
    return expand(parse_workout(text), races)[0]


def test_flying_sprints_must_beat_400m_pace():
    target = target_for(MAXV, rep("30m"), ADA)
    assert (target.style, target.time_ns, target.velocity_mps) == (TargetStyle.FASTER_THAN, 3_750 * MS, 8.0)
    assert target.text == "faster than 400m pace (3.75 s)"
    assert [(p.race, p.time_ns) for p in target.paces] == [("400m", 3_750 * MS), ("800m", 4_125 * MS)]


def test_without_a_400m_time_there_is_nothing_to_beat():
    target = target_for(MAXV, rep("30m"), {800.0: 110 * S})
    assert (target.style, target.time_ns, target.text) == (TargetStyle.NONE, None, "faster than 400m pace: the 400m time is not known")


def test_400m_pace_reps_must_be_clearly_faster_than_800m_pace():
    target = target_for(PACE400, rep("100m"), {800.0: 102 * S})  # 12.75 s per 100 m
    assert (target.style, target.time_ns) == (TargetStyle.FASTER_THAN, 12_500 * MS)
    assert target.text == "clearly faster than 800m pace (under 12.50 s)"
    assert "mile pace" in target_for(PACE400, rep("100m"), {1609.344: 240 * S}).text
    assert target_for(PACE400, rep("100m"), {400.0: 50 * S}).style is TargetStyle.NONE


def test_paced_reps_run_their_target():
    target = target_for(TRACK, rep("400 @ 1:20"), {})
    assert (target.style, target.time_ns, target.velocity_mps, target.text) == (TargetStyle.ON_PACE, 80 * S, 5.0, "1:20")
    race = {3000.0: 576 * S}
    target = target_for(TRACK, rep("400m @ 3K pace", race), race)
    assert (target.style, target.time_ns, target.text) == (TargetStyle.ON_PACE, 76_800 * MS, "3k pace (1:16.8)")


def test_a_target_in_the_notation_wins_over_the_kind():
    target = target_for(PACE400, rep("100m @ 14"), {800.0: 102 * S})
    assert (target.style, target.time_ns, target.text) == (TargetStyle.ON_PACE, 14 * S, "14 s")


def test_targets_without_a_time():
    assert target_for(TRACK, rep("400 @ 10k pace"), {}).text == "10k pace: the 10k time is not known"
    assert target_for(TRACK, rep("400 @ MAX"), {}).style is TargetStyle.MAX
    assert target_for(TRACK, rep("400"), {}).text == "no target"


# ---- Drop-offs ------------------------------------------------------------------------------------


def test_first_rep_has_nothing_to_drop_off_from():
    assert drop_off(10 * S, []) is None


def test_drop_off_against_the_best_of_the_set():
    found = drop_off(3_10 * S // 100, [3_00 * S // 100, 3_05 * S // 100])
    assert (found.reference_ns, found.against, found.percent_slower) == (3 * S, Against.BEST, 3.3)


def test_drop_off_against_the_previous_rep():
    earlier = [3_00 * S // 100, 3_05 * S // 100]
    assert drop_off(3_10 * S // 100, earlier, against=Against.PREVIOUS) is None  # 1.6 % slower than 3.05
    assert drop_off(3_12 * S // 100, earlier, against=Against.PREVIOUS).reference_ns == 3_05 * S // 100


def test_exactly_the_margin_is_no_drop_off():
    assert drop_off(102 * S, [100 * S]) is None
    assert drop_off(102 * S + 1, [100 * S]).percent_slower == 2.0
    assert drop_off(100 * S + 1, [100 * S], margin=0) is not None


@given(st.lists(st.integers(S, 20 * S), min_size=1, max_size=8), st.integers(S, 20 * S), st.sampled_from(list(Against)))
def test_a_rep_at_least_as_fast_as_its_reference_is_never_flagged(earlier, time_ns, against):
    reference = min(earlier) if against is Against.BEST else earlier[-1]
    found = drop_off(time_ns, earlier, against=against)
    assert (found is not None) == (time_ns > reference * 1.02)
    if time_ns <= reference:
        assert found is None


def test_sets_of_one_distance_are_compared_within_the_set():
    assert comparison_groups(expand(parse_workout("3 x 3 x 30m"))) == (0, 0, 0, 1, 1, 1, 2, 2, 2)


def test_mixed_sets_compare_each_distance_across_sets():
    assert comparison_groups(expand(parse_workout(library_workout("400-pace-100-200").text))) == (0, 1) * 3


def test_blocks_of_the_same_distance_are_separate_sets():
    plan = expand(parse_workout(library_workout("400-pace-50s-100s").text))
    assert comparison_groups(plan) == (0,) * 4 + (1,) * 4 + (2,) * 4


def test_cut_down_session_groups():
    plan = expand(parse_workout(library_workout("400-pace-cut-down").text))
    assert [r.distance_m for r in plan] == [300, 200, 200, 100, 100, 100, 50, 50, 50, 50]
    assert comparison_groups(plan) == (0, 1, 1, 2, 2, 2, 3, 3, 3, 3)


# ---- Top speed ------------------------------------------------------------------------------------


def test_top_speed_race_is_the_800_else_the_mile():
    assert top_speed_race({800.0: 120 * S, MILE: 260 * S}) == (800.0, 120 * S)
    assert top_speed_race({MILE: 260 * S, 400.0: 55 * S}) == (MILE, 260 * S)
    assert top_speed_race({400.0: 55 * S}) is None


def test_hint_counts_reps_not_clearly_faster_than_800m_pace():
    races = {800.0: 120 * S}  # 15 s per 100 m; clearly faster: under 14.705882353 s
    reps = [(100.0, 14 * S), (100.0, 14_705_882_353), (100.0, 14_705_882_352), (200.0, 31 * S)]
    hint = top_speed_hint(reps, races)
    assert (hint.race_m, hint.slow_reps, hint.reps) == (800.0, 2, 4)
    assert hint.message.startswith("2 of 4 reps were not clearly faster than 800m pace")
    assert "Maximum Velocity" in hint.message


def test_no_hint_when_every_rep_is_clearly_faster_or_nothing_to_compare():
    assert top_speed_hint([(100.0, 14 * S)], {800.0: 120 * S}) is None
    assert top_speed_hint([(100.0, 16 * S)], {400.0: 50 * S}) is None
    assert top_speed_hint([], {800.0: 120 * S}) is None


def test_hint_uses_the_mile_without_an_800():
    hint = top_speed_hint([(200.0, 33 * S)], {MILE: 4 * 60 * S})  # mile pace: 29.8 s per 200 m
    assert "mile pace" in hint.message


# ---- Summary --------------------------------------------------------------------------------------


def test_summary_of_a_distance():
    summary = summarize(30.0, [3 * S, 3_10 * S // 100, 3_05 * S // 100])
    assert (summary.reps, summary.best_ns, summary.mean_ns, summary.slowest_ns) == (3, 3 * S, 3_05 * S // 100, 3_10 * S // 100)
    assert summary.best_velocity_mps == 10.0
    assert summary.mean_velocity_mps == pytest.approx(30 / 3.05)


def test_mean_rounds_half_up():
    assert summarize(100.0, [1, 2]).mean_ns == 2
    assert summarize(100.0, [1, 1, 2]).mean_ns == 1
