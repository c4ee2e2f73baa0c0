"""Track reps for a group on one gate: whose crossing each one was (``gatectl.coaching.group_laps``)."""

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.coaching.group_laps import AthleteLaps, Entrant, GroupLaps, GroupSettings, assign, parse_waves, wave_starts
from gatectl.errors import WorkoutError
from gatectl.timing.model import NS_PER_S, RunStatus

S = NS_PER_S
AMA, BEN, CY = 1, 2, 3
LAP = (400.0,)
THREE_LAPS = (400.0, 400.0, 400.0)


def s(*seconds: float) -> tuple[int, ...]:
    return tuple(round(x * S) for x in seconds)


def athlete(laps: GroupLaps, athlete_id: int) -> AthleteLaps:
    return next(a for a in laps.athletes if a.athlete_id == athlete_id)


def owners(laps: GroupLaps) -> list[int | None]:
    return [c.athlete_id for c in laps.calls]


def group(starts: tuple[int, ...], splits: tuple[float, ...] = LAP, expected_s: tuple[float | None, ...] | None = None) -> tuple[Entrant, ...]:
    expected = expected_s or (None,) * len(starts)
    return tuple(
        Entrant(i + 1, start, splits, None if e is None else round(e * S)) for i, (start, e) in enumerate(zip(starts, expected))
    )


# ---- Together, in waves, by pace ----------------------------------------------------------------------


def test_together_with_targets_each_crossing_goes_to_who_is_expected_then():
    entrants = group(s(0, 0, 0), expected_s=(70, 80, 90))
    laps = assign(entrants, s(71.2, 79.5, 88.8), 100 * S)
    assert owners(laps) == [AMA, BEN, CY]
    assert [a.time_ns for a in laps.athletes] == list(s(71.2, 79.5, 88.8))
    assert laps.done and not laps.ambiguous


def test_together_without_targets_the_queue_order_decides_the_first_lap_then_pace_follows():
    entrants = group(s(0, 0, 0), THREE_LAPS)
    # Lap 1 in queue order; laps 2 and 3 each at the athlete's own lap-1 pace (72, 76, 80 s).
    crossings = sorted(s(72, 76, 80, 144.5, 152.2, 159.6, 216.1, 228.9, 241.0))
    laps = assign(entrants, crossings, 300 * S)
    assert owners(laps) == [AMA, BEN, CY] * 3
    assert athlete(laps, CY).splits_ns == s(80, 79.6, 81.4)
    assert all(a.status is RunStatus.COMPLETE for a in laps.athletes)


@pytest.mark.parametrize("wave_s", [2, 3, 5, 10])
def test_waves_each_athlete_timed_from_their_own_start(wave_s):
    starts = wave_starts(0, 3, wave_s * S)
    entrants = group(starts, THREE_LAPS, expected_s=(240, 240, 240))
    # Each runs 80 s laps from their own start, give or take a few tenths.
    wobble = (0.2, -0.2, 0.1)
    crossings = sorted(start + round((80 * lap + wobble[i] * lap) * S) for i, start in enumerate(starts) for lap in (1, 2, 3))
    laps = assign(entrants, crossings, 400 * S)
    for i, a in enumerate(laps.athletes):
        assert a.started_ns == starts[i]
        assert a.time_ns == round((240 + 3 * wobble[i]) * S)
    assert not laps.ambiguous  # 2 s apart or more: nobody side by side


def test_waves_closer_than_side_by_side_are_ambiguous_not_guessed():
    entrants = group(wave_starts(0, 2, S // 2), LAP, expected_s=(80, 80))
    laps = assign(entrants, s(80.1, 80.5), 90 * S)
    assert [c.ambiguous_with for c in laps.calls] == [(BEN,), (AMA,)]
    assert all(a.ambiguous for a in laps.athletes)


def test_wave_starts_in_queue_order():
    assert wave_starts(10 * S, 3, 5 * S) == s(10, 15, 20)
    assert wave_starts(10 * S, 3, 0) == s(10, 10, 10)
    with pytest.raises(WorkoutError, match="waves"):
        wave_starts(0, 3, -1)


# ---- Overtaking -----------------------------------------------------------------------------------


def test_a_faster_athlete_in_a_later_wave_overtakes_and_is_followed_by_pace():
    # Ama leaves first aiming at 90 s, Ben 10 s later at 72 s: he is back first.
    entrants = group(s(0, 10), LAP, expected_s=(90, 72))
    laps = assign(entrants, s(82.4, 90.6), 100 * S)
    assert owners(laps) == [BEN, AMA]
    assert athlete(laps, BEN).time_ns == round(72.4 * S)
    assert not laps.ambiguous


def test_an_overtake_on_the_line_is_doubted_there_and_each_pace_followed_after():
    # Ama leaves first on 80 s laps; Ben 10 s later on 70 s laps draws level on the line after lap 1 and goes past.
    entrants = group(s(0, 10), THREE_LAPS, expected_s=(240, 210))
    laps = assign(entrants, sorted(s(80.2, 160.1, 240.3) + s(80.0, 150.2, 220.1)), 400 * S)
    assert {c.t_ns for c in laps.ambiguous} == set(s(80.0, 80.2))  # level on the line: who was ahead?
    assert athlete(laps, AMA).marks_ns[1:] == s(160.1, 240.3)
    assert athlete(laps, BEN).marks_ns[1:] == s(150.2, 220.1)
    assert athlete(laps, AMA).time_ns == round(240.3 * S) and athlete(laps, BEN).time_ns == round(210.1 * S)


def test_an_overtake_the_gate_cannot_tell_from_pace_noise_is_doubted_then_marked():
    # Ama (75 s lap 1) slows to 85; Ben (78) holds 78 and passes her. Or did Ama slow by 6 s and Ben by 4?
    entrants = group(s(0, 0), THREE_LAPS)
    crossings = sorted(s(75, 160, 245) + s(78, 156, 234))
    laps = assign(entrants, crossings, 400 * S)
    assert {c.t_ns for c in laps.ambiguous} >= set(s(156, 160))
    marked = assign(entrants, crossings, 400 * S, marks={156 * S: BEN, 234 * S: BEN})
    assert athlete(marked, AMA).marks_ns == s(75, 160, 245)
    assert athlete(marked, BEN).marks_ns == s(78, 156, 234)


# ---- A whole rep swapped: the targets misled the first lap ----------------------------------------

# Ama aims at 236 s and runs 240 (80 s laps); Ben aims at 242 and runs 236.1 (78.7 s laps). Together,
# each lap of one fits the other's target as well as their own: every lap after the first fits either.
MISLED = group(s(0, 0), THREE_LAPS, expected_s=(236, 242))
MISLED_CROSSINGS = sorted(s(80, 160, 240) + s(78.7, 157.4, 236.1))


def test_a_rep_swapped_whole_because_the_targets_misled_is_in_doubt_not_shown_as_theirs():
    laps = assign(MISLED, MISLED_CROSSINGS, 400 * S)
    ama, ben = athlete(laps, AMA), athlete(laps, BEN)
    # Before: Ama was shown Ben's 236.1 s and Ben Ama's 240.0 s, neither in doubt.
    assert (ama.time_ns == round(240 * S) and ben.time_ns == round(236.1 * S)) or (ama.ambiguous and ben.ambiguous)
    assert ama.ambiguous and ben.ambiguous
    # One question for the pair, on the first crossing of each: Ama or Ben?
    assert {c.t_ns for c in laps.ambiguous} == set(s(78.7, 80))
    assert {(c.athlete_id, *c.ambiguous_with) for c in laps.ambiguous} == {(AMA, BEN), (BEN, AMA)}


@pytest.mark.parametrize("mark", [{80 * S: AMA}, {round(78.7 * S): BEN}])
def test_one_mark_on_the_crossing_in_doubt_settles_a_swapped_pair_for_the_whole_rep(mark):
    laps = assign(MISLED, MISLED_CROSSINGS, 400 * S, marks=mark)
    assert athlete(laps, AMA).marks_ns == s(80, 160, 240)
    assert athlete(laps, BEN).marks_ns == s(78.7, 157.4, 236.1)
    assert not laps.ambiguous and not any(a.ambiguous for a in laps.athletes)


# ---- Missed and stray crossings -----------------------------------------------------------------


def test_a_missed_crossing_is_kept_and_the_rep_still_timed_at_the_finish():
    entrants = group(s(0, 5), THREE_LAPS, expected_s=(240, 255))
    crossings = sorted(s(80, 240) + s(90, 175, 260))  # Ama's lap-2 crossing never came
    laps = assign(entrants, crossings, 300 * S)
    ama = athlete(laps, AMA)
    assert ama.status is RunStatus.COMPLETE and ama.time_ns == 240 * S
    assert ama.marks_ns == (80 * S, None, 240 * S)
    assert ama.missed == (2,)
    assert ama.splits_ns == s(80, 160)  # one split for the two laps
    assert athlete(laps, BEN).marks_ns == s(90, 175, 260)
    assert not laps.ambiguous  # Ben's crossings fit Ben far better than Ama


def test_a_stray_crossing_fits_nobody_and_is_kept_with_its_reason():
    entrants = group(s(0, 0), LAP, expected_s=(80, 85))
    laps = assign(entrants, s(2.1, 50, 80.3, 84.7), 100 * S)
    assert not laps.ambiguous
    assert owners(laps) == [None, None, AMA, BEN]
    assert "too soon for anyone's lap" in laps.calls[0].reason
    assert "fits no athlete's lap" in laps.calls[1].reason
    assert [a.time_ns for a in laps.athletes] == list(s(80.3, 84.7))


def test_a_crossing_before_the_go_is_a_false_start():
    laps = assign(group(s(10, 10), LAP, (80, 80)), s(9.5, 90, 95), 100 * S)
    assert laps.calls[0].athlete_id is None and "before the go: a false start" in laps.calls[0].reason


def test_a_crossing_after_everyone_finished_is_kept_as_a_stray():
    laps = assign(group(s(0,), LAP, (80,)), s(80, 95), 100 * S)
    assert "after every athlete finished" in laps.calls[1].reason


def test_a_crossing_is_never_lost_nor_counted_twice():
    crossings = s(1, 40, 79, 83, 85, 100, 160, 170, 250)
    laps = assign(group(s(0, 3, 6), THREE_LAPS, (240, 250, 260)), crossings, 400 * S)
    assert [c.t_ns for c in laps.calls] == list(crossings)
    taken = [m for a in laps.athletes for m in a.marks_ns if m is not None]
    assert sorted(taken) == sorted(c.t_ns for c in laps.calls if c.athlete_id is not None)


# ---- Side by side ---------------------------------------------------------------------------------


def test_a_side_by_side_finish_is_ambiguous_for_both():
    laps = assign(group(s(0, 0), LAP, (80, 80)), s(79.9, 80.2), 90 * S)
    assert owners(laps) == [AMA, BEN]  # the queue's order, shown as a guess
    assert [c.ambiguous_with for c in laps.calls] == [(BEN,), (AMA,)]
    assert [a.ambiguous for a in laps.athletes] == [True, True]


def test_two_bodies_through_the_beam_as_one_crossing_are_ambiguous():
    laps = assign(group(s(0, 0), LAP, (80, 80)), s(80.1,), 200 * S)
    assert laps.calls[0].athlete_id == AMA and laps.calls[0].ambiguous_with == (BEN,)
    ben = athlete(laps, BEN)
    assert ben.status is RunStatus.INCOMPLETE and ben.ambiguous and "timed out waiting for crossing 1 of 1" in ben.reason


def test_crossings_a_few_seconds_apart_are_told_by_pace_not_doubted():
    laps = assign(group(s(0, 0), LAP, (78, 82)), s(78.4, 81.6), 90 * S)
    assert owners(laps) == [AMA, BEN] and not laps.ambiguous


def test_a_missed_first_crossing_with_a_wave_close_behind_is_told_by_the_crossings_after():
    # Ama's lap-1 crossing is missing; Ben, 5 s behind, crossed 5 s after she was due: his, as his next laps show.
    entrants = group(s(0, 5), THREE_LAPS, (240, 240))
    laps = assign(entrants, sorted(s(160, 240) + s(85, 165, 245)), 300 * S)
    assert athlete(laps, AMA).marks_ns == (None, 160 * S, 240 * S) and athlete(laps, AMA).missed == (1,)
    assert athlete(laps, BEN).marks_ns == s(85, 165, 245)
    assert not laps.ambiguous


# ---- The coach's marks ------------------------------------------------------------------------------


def test_the_coachs_mark_settles_a_side_by_side_finish():
    crossings = s(79.9, 80.2)
    laps = assign(group(s(0, 0), LAP, (80, 80)), crossings, 90 * S, marks={crossings[0]: BEN})
    assert owners(laps) == [BEN, AMA]
    assert laps.calls[0].marked and not laps.ambiguous
    assert [a.time_ns for a in laps.athletes] == list(s(80.2, 79.9))
    assert not any(a.ambiguous for a in laps.athletes)


def test_a_mark_gives_a_merged_crossing_to_the_other_athlete():
    crossings = s(80.1,)
    laps = assign(group(s(0, 0), LAP, (80, 80)), crossings, 200 * S, marks={crossings[0]: BEN})
    assert athlete(laps, BEN).time_ns == round(80.1 * S)
    assert athlete(laps, AMA).status is RunStatus.INCOMPLETE
    assert not laps.ambiguous


def test_a_mark_may_take_a_stray_crossing():
    crossings = s(50, 80)
    laps = assign(group(s(0, 0), LAP, (80, 100)), crossings, 200 * S, marks={crossings[0]: BEN})
    assert athlete(laps, BEN).time_ns == 50 * S and athlete(laps, AMA).time_ns == 80 * S


@pytest.mark.parametrize(
    "who, at_s, why",
    [(9, 80, "not in this group rep"), (BEN, 20, "faster than anyone runs"), (AMA, 2, "faster than anyone runs")],
)
def test_a_mark_that_cannot_apply_is_refused_with_why_and_the_crossing_assigned_as_before(who, at_s, why):
    crossings = tuple(sorted({at_s * S, 80 * S, 81 * S}))
    plain = assign(group(s(0, 0), LAP, (80, 80)), crossings, 200 * S)
    laps = assign(group(s(0, 0), LAP, (80, 80)), crossings, 200 * S, marks={at_s * S: who})
    assert len(laps.refused_marks) == 1 and laps.refused_marks[0][0] == at_s * S and why in laps.refused_marks[0][1]
    assert owners(laps) == owners(plain)


# ---- Time-outs and stops ----------------------------------------------------------------------------


def test_an_athlete_times_out_after_their_last_splits_window():
    entrants = group(s(0, 0), LAP, (80, 80))
    assert not assign(entrants, s(80,), 96 * S).done  # Ben is due until 80 s + 20 %
    laps = assign(entrants, s(80,), 96 * S + 1)
    assert laps.done and athlete(laps, BEN).status is RunStatus.INCOMPLETE


def test_without_expectation_the_slowest_lap_bounds_the_wait():
    entrants = group(s(0,), LAP)
    slowest = 400_000 * S // 1500  # 400 m at 1.5 m/s, in whole mm and ns
    assert not assign(entrants, (), slowest).done
    assert assign(entrants, (), slowest + 1).done


def test_stopping_ends_whoever_is_still_running_with_the_reason():
    laps = assign(group(s(0, 0), THREE_LAPS, (240, 240)), s(80, 81), 100 * S, stop="cancelled")
    assert [a.reason for a in laps.athletes] == ["cancelled waiting for crossing 2 of 3"] * 2
    assert all(a.status is RunStatus.INCOMPLETE and a.splits_ns == (a.marks_ns[0],) for a in laps.athletes)


def test_a_part_lap_first_split_is_expected_at_its_share_of_the_rep():
    entrants = (Entrant(AMA, 0, (200.0, 400.0), 120 * S), Entrant(BEN, 0, (200.0, 400.0), 150 * S))
    laps = assign(entrants, s(40, 50, 120, 150), 160 * S)
    assert owners(laps) == [AMA, BEN, AMA, BEN]


# ---- Bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entrants, crossings, match",
    [
        ((), (), "at least one athlete"),
        ((Entrant(1, 0, LAP), Entrant(1, 0, LAP)), (), "once only"),
        ((Entrant(1, 0, LAP),), (5, 3), "time order"),
    ],
)
def test_bad_groups_are_refused_with_a_sentence(entrants, crossings, match):
    with pytest.raises(WorkoutError, match=match):
        assign(entrants, crossings, 0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Entrant(1, 0, ()), "positive split"),
        (lambda: Entrant(1, 0, (float("nan"),)), "positive split"),
        (lambda: Entrant(1, 0, LAP, 0), "above zero"),
        (lambda: GroupSettings(tolerance=Fraction(0)), "tolerance"),
        (lambda: GroupSettings(side_by_side_ns=-1), "side_by_side_ns"),
        (lambda: GroupSettings(doubt_ns=0.5), "doubt_ns"),
        (lambda: GroupSettings(lap_spread=Fraction(0)), "lap_spread"),
        (lambda: GroupSettings(target_spread=Fraction(1)), "target_spread"),
        (lambda: GroupSettings(swap_doubt=Fraction(-1)), "swap_doubt"),
        (lambda: GroupSettings(min_velocity_mps=20.0), "velocities"),
    ],
)
def test_bad_settings_are_refused(make, match):
    with pytest.raises(WorkoutError, match=match):
        make()


# ---- Judged on groups we did not pick ------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    paces=st.lists(st.integers(60, 100), min_size=1, max_size=5),
    wave_s=st.integers(0, 10),
    laps=st.integers(1, 4),
    wobble=st.lists(st.integers(-150, 150), min_size=20, max_size=20),  # ms per lap
    data=st.data(),
)
def test_any_group_each_athlete_timed_right_or_the_doubt_said(paces, wave_s, laps, wobble, data):
    starts = wave_starts(0, len(paces), wave_s * S)
    entrants = tuple(Entrant(i + 1, start, (400.0,) * laps, pace * laps * S) for i, (start, pace) in enumerate(zip(starts, paces)))
    truth: dict[int, int] = {}
    for i, (start, pace) in enumerate(zip(starts, paces)):
        t = start + i * 1_000_000  # two bodies at the same nanosecond are one crossing
        for lap in range(laps):
            t += pace * S + wobble[(i * 4 + lap) % 20] * 1_000_000
            truth[t] = i + 1
    crossings = sorted(truth)
    dropped = data.draw(st.sampled_from([None, *crossings]))
    seen = [t for t in crossings if t != dropped]
    result = assign(entrants, seen, crossings[-1] + 1000 * S)
    assert [c.t_ns for c in result.calls] == seen  # nothing lost
    assert result.done
    doubted = {a.athlete_id for a in result.athletes if a.ambiguous}
    for call in result.calls:
        # Every crossing is its athlete's, unless the gate could not tell and said so.
        assert call.athlete_id == truth[call.t_ns] or call.ambiguous or {call.athlete_id, truth[call.t_ns]} & doubted, call
    if dropped is None:
        assert all(a.status is RunStatus.COMPLETE for a in result.athletes)
    else:
        assert sum(len(a.missed) + (a.status is RunStatus.INCOMPLETE) for a in result.athletes) >= 1  # the lost crossing is said


# ---- The lap timer: a group rep from edges, the coach's marks, a record replayed --------------------


from helpers import passage  # noqa: E402

from gatectl.coaching.laps import (  # noqa: E402
    Command,
    GroupEntry,
    GroupProgress,
    GroupRevision,
    GroupStart,
    LapCommand,
    LapRep,
    LapTimerState,
    LapTiming,
    time_laps,
)
from gatectl.sim.sprinters import SimOptions, lap_edges, overlay  # noqa: E402
from gatectl.timing.model import Anomaly, Edge, Gate  # noqa: E402

GATE = Gate("L", 0.0, ("L",))


def bodies(*marks_s: tuple[float, ...]) -> list[Edge]:
    """Each athlete's torso through the one gate at their marks, as the beam sees them all."""
    return list(overlay(*(sorted((e for m in marks for e in passage(("L",), m * 1000)), key=lambda e: e.t_ns) for marks in marks_s)))


def replay(edges: list[Edge], commands: list[LapCommand]):
    return time_laps(edges, commands, LapTiming(GATE))


def entries(starts_s: tuple[float, ...], distance_m: float = 400.0, target_s: float | None = 80.0) -> tuple[GroupEntry, ...]:
    target = None if target_s is None else round(target_s * S)
    return tuple(GroupEntry(i + 1, round(start * S), distance_m, target, target) for i, start in enumerate(starts_s))


def test_a_group_rep_from_edges_gives_each_athlete_their_rep():
    go = [LapCommand(0, Command.GROUP_GO, group=entries((10, 15, 20), 800, 160))]
    edges = bodies((90.1, 170.3), (96.0, 175.2), (99.8, 181.0))
    result = replay(edges, go)
    reps = {r.athlete_id: r for r in result.reps}
    assert [reps[i].number for i in (1, 2, 3)] == [1, 2, 3]
    assert reps[1].time_ns == round(160.3 * S) and reps[2].time_ns == round(160.2 * S) and reps[3].time_ns == round(161.0 * S)
    assert reps[1].splits_ns == s(80.1, 80.2) and not any(r.ambiguous for r in reps.values())
    assert all(r.check is not None for r in reps.values())


def test_the_simulators_lapping_group_is_timed_through_detection():
    # Three athletes on 75, 78 and 82 s laps, waves 3 s apart, limbs and clothing flicker on.
    laps = {1: 75.0, 2: 78.0, 3: 82.0}
    starts = {1: 0.0, 2: 3.0, 3: 6.0}
    runs = [lap_edges(GATE, [round((starts[i] + laps[i] * k) * S) for k in (1, 2, 3)], speed_mps=5.5, seed=i, options=SimOptions()) for i in laps]
    group = tuple(GroupEntry(i, round(starts[i] * S), 1200.0, round(3 * laps[i] * S), round(3 * laps[i] * S)) for i in laps)
    result = replay(list(overlay(*runs)), [LapCommand(0, Command.GROUP_GO, group=group)])
    times = {r.athlete_id: r.time_ns for r in result.reps}
    for i in laps:
        assert abs(times[i] - round(3 * laps[i] * S)) < 20_000_000  # the torso, give or take the sensor's jitter


def test_a_group_rep_live_shows_progress_and_ends_when_everyone_has():
    timing = LapTiming(GATE)
    start = timing.go_group(entries((0, 0), 400, 80))
    assert isinstance(start[0], GroupStart) and start[0].numbers == (1, 2)
    assert timing.timer.state is LapTimerState.RUNNING
    events = []
    for edge in bodies((79.0,), (82.0,)):
        events += timing.feed(edge)
    events += timing.advance(90 * S)
    progress = [e for e in events if isinstance(e, GroupProgress)]
    assert progress and progress[-1].laps.done
    reps = [e for e in events if isinstance(e, LapRep)]
    assert [(r.athlete_id, r.time_ns) for r in reps] == [(1, 79 * S), (2, 82 * S)]
    assert timing.timer.state is LapTimerState.IDLE
    follow = timing.go_group(entries((200, 205), 400, 80))
    assert follow[0].recovery_ns == 200 * S - 82 * S  # from the group's last finish


def test_a_crossing_before_the_go_is_a_false_start_of_the_group():
    result = replay(bodies((5.0,), (90.0,), (92.0,)), [LapCommand(0, Command.GROUP_GO, group=entries((10, 10)))])
    assert any("before the go: a false start" in a.reason for a in result.anomalies)
    assert [r.time_ns for r in result.reps] == list(s(80, 82))


def test_strays_and_missed_crossings_are_kept_as_anomalies():
    go = [LapCommand(0, Command.GROUP_GO, group=entries((0, 5), 1200, 240))]
    result = replay(bodies((50.0, 80.0, 240.0), (85.0, 165.0, 245.0)), go)
    reasons = [a.reason for a in result.anomalies]
    assert any("fits no athlete's lap" in r for r in reasons)
    assert any("rep 1: no crossing for lap 2 of 3" in r for r in reasons)
    assert [r.time_ns for r in result.reps] == list(s(240, 240))


def test_cancelling_a_group_rep_ends_whoever_runs_incomplete():
    timing = LapTiming(GATE)
    timing.go_group(entries((0, 0), 800, 160))
    events = timing.cancel(100 * S, "the workout ended")
    reps = [e for e in events if isinstance(e, LapRep)]
    assert [r.reason for r in reps] == ["the workout ended waiting for crossing 1 of 2"] * 2


def test_a_group_go_while_a_rep_runs_is_refused():
    timing = LapTiming(GATE)
    timing.go(0, 400)
    with pytest.raises(WorkoutError, match="already running"):
        timing.go_group(entries((1, 1)))


def test_a_mark_after_the_rep_revises_it_and_a_replay_gives_the_revised_reps():
    edges = bodies((79.9,), (80.4,))  # 0.5 s apart: two crossings, side by side
    go = LapCommand(0, Command.GROUP_GO, group=entries((0, 0)))
    timing = LapTiming(GATE)
    before = time_laps(edges, [go, LapCommand(90 * S, Command.CLOSE)], timing, flush=False)
    assert [r.ambiguous for r in before.reps] == [True, True]
    crossing_ns = before.crossings[0].t_ns
    revised = timing.mark(crossing_ns, 2)
    assert isinstance(revised[0], GroupRevision)
    assert [(r.athlete_id, r.time_ns, r.ambiguous) for r in revised[0].reps] == [(1, before.reps[1].time_ns, False), (2, crossing_ns, False)]
    assert timing.mark(crossing_ns, 2) == []  # marked already
    mark = LapCommand(100 * S, Command.MARK, crossing_ns=crossing_ns, athlete_id=2)
    again = replay(edges, [go, mark])
    assert [(r.athlete_id, r.time_ns, r.ambiguous) for r in again.reps] == [(r.athlete_id, r.time_ns, r.ambiguous) for r in revised[0].reps]


@pytest.mark.parametrize(
    "crossing, athlete_id, match",
    [(1234, 1, "not one of a group rep's"), (None, 9, "did not run in that group rep"), (None, 2, "cannot be athlete 2's")],
)
def test_a_mark_that_cannot_apply_is_refused(crossing, athlete_id, match):
    timing = LapTiming(GATE)
    time_laps(bodies((3.0,), (80.0,)), [LapCommand(0, Command.GROUP_GO, group=entries((0, 0))), LapCommand(85 * S, Command.CLOSE)], timing, flush=False)
    first = timing.timer._done[0].crossings[0] if timing.timer.group_laps is None else timing.timer.group_laps.calls[0].t_ns
    with pytest.raises(WorkoutError, match=match):
        timing.mark(first if crossing is None else crossing, athlete_id)


def test_anomalies_are_plain_anomalies():
    result = replay(bodies((50.0, 80.0)), [LapCommand(0, Command.GROUP_GO, group=entries((0,)))])
    assert all(isinstance(a, Anomaly) for a in result.anomalies)


# ---- How a group leaves, as written --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, waves",
    [("together", 0), ("Together", 0), ("waves 5 s apart", 5 * S), ("waves 2.5s", 2_500_000_000), ("3", 3 * S), ("0", 0), ("", None), ("one", None)],
)
def test_how_a_group_leaves_is_read_as_a_coach_writes_it(text, waves):
    assert parse_waves(text) == waves


@pytest.mark.parametrize(
    "text, words",
    [
        ("waves", "Write how the group leaves: together, or waves 5 s apart"),
        ("waves 61 s apart", "must be from 0 to 60 s, not 61"),
        ("nan", "not nan"),
        ("-1", "not -1"),
        ("9" * 5000, "not 5000 characters"),
        ("soon", "not 'soon'"),
    ],
)
def test_a_gap_between_waves_out_of_bounds_is_a_sentence(text, words):
    with pytest.raises(WorkoutError, match=re.escape(words)):
        parse_waves(text)
