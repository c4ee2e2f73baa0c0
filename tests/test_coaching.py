import json
from dataclasses import asdict
from itertools import pairwise

import pytest
from helpers import MS, S, passage
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.coaching.laps import LapRep, LapStart, LapTiming, StartKind
from gatectl.coaching.library import WorkoutKind, library_workout
from gatectl.coaching.notation import parse_workout
from gatectl.coaching.quality import Against, Verdict
from gatectl.coaching.runner import (
    Athlete,
    CoachingOptions,
    Cue,
    Outcome,
    Status,
    WorkoutRunner,
)
from gatectl.errors import WorkoutError
from gatectl.sim import sprinters as sim
from gatectl.timing.model import Crossing, Gate, Layout, Method, Run, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.results import RunView, report

FLY = Layout.flying()
ADA = Athlete(1, "Ada", {400.0: 50 * S, 800.0: 110 * S})
BO = Athlete(2, "Bo", {400.0: 55 * S})
CY = Athlete(3, "Cy", {400.0: 48 * S, 800.0: 105 * S})
MAXV, PACE400, TRACK = WorkoutKind.MAX_VELOCITY, WorkoutKind.PACE_400M, WorkoutKind.TRACK_REPS


def make(text, kind=MAXV, group=(ADA,), **options):
    return WorkoutRunner.create(parse_workout(text), kind, list(group), CoachingOptions(**options))


def result(number, *times_s, layout=FLY, status=RunStatus.COMPLETE, reason=None):
    """A run's report: its crossings at ``times_s``, gate by gate (fewer for an incomplete run)."""
    crossings = tuple(Crossing(g.name, round(t * S), Method.LONGEST) for g, t in zip(layout.gates, times_s))
    return report(Run(number, crossings, status, reason), layout)


def fly(number, m1_s, fly_s, accel_s=3.6):
    """A flying sprint: M1 at ``m1_s``, the fly zone in ``fly_s``; it ends at M1 + accel + fly."""
    return result(number, m1_s, m1_s + accel_s, m1_s + accel_s + fly_s)


class Walk:
    """Drives a runner, keeping it and every effect it gave."""

    def __init__(self, runner):
        self.runner, self.effects = runner, []

    def __call__(self, method, *args, **kwargs):
        self.runner, effects = getattr(self.runner, method)(*args, **kwargs)
        self.effects += effects
        return [(e.cue, e.athlete_id) for e in effects]

    def view(self, now_ns):
        return self.runner.view(now_ns)

    def athlete(self, now_ns, athlete_id):
        return next(a for a in self.view(now_ns).athletes if a.id == athlete_id)



# ---- Building a runner ------------------------------------------------------------------------------


def test_a_workout_needs_a_group_of_distinct_athletes():
    with pytest.raises(WorkoutError, match="at least one athlete"):
        make("30m", group=())
    with pytest.raises(WorkoutError, match="once only"):
        make("30m", group=(ADA, Athlete(1, "Another")))


def test_a_target_an_athlete_cannot_run_names_them():
    with pytest.raises(WorkoutError, match="^Ada: .*leaves no time"):
        make("400 @ 800m pace - 1:00", TRACK)


@pytest.mark.parametrize("option", [{"margin": 1.0}, {"clearly": -0.1}, {"warning_ns": -1}, {"on_target_per_400m_ns": 0.5}])
def test_options_are_checked(option):
    with pytest.raises(WorkoutError):
        CoachingOptions(**option)


# ---- Targets ----------------------------------------------------------------------------------------


def test_each_athlete_gets_their_own_race_pace():
    walk = Walk(make("2 x 400 @ 3K pace /R1:00", TRACK, group=(Athlete(1, "Ada", {3000.0: 600 * S}), Athlete(2, "Bo", {3000.0: 540 * S}))))
    walk("start", 0)
    assert [a.next_rep.target.time_ns for a in walk.view(0).athletes] == [80 * S, 72 * S]


# ---- Start, order and calls ------------------------------------------------------------------------


def test_before_the_start():
    runner = make("3 x 30m. 3:00 Rec between reps", group=(ADA, BO))
    view = runner.view(0)
    assert (view.status, view.next_athlete, view.queue, view.alarm_ns) == (Status.NOT_STARTED, None, (1, 2), None)
    assert [a.status for a in view.athletes] == [Status.NOT_STARTED] * 2
    for method, args in [("skip", (0,)), ("end", (0,)), ("ready", (1, 0)), ("repeat", (0,)), ("end_set", (0,))]:
        with pytest.raises(WorkoutError, match="not started"):
            getattr(runner, method)(*args)
    assert runner.run_finished(1, 1, fly(1, 0, 3), 5 * S).runner == runner  # gates before the start: ignored
    assert runner.tick(S).effects == ()


def test_start_calls_the_first_athlete():
    walk = Walk(make("3 x 30m. 3:00 Rec between reps", group=(ADA, BO)))
    assert walk("start", 0) == [(Cue.CALL, 1)]
    assert walk.effects[0].message == "Ada: your turn, set 1 rep 1 of 3, 30 m, faster than 400m pace (3.75 s)"
    view = walk.view(0)
    assert (view.status, view.next_athlete, view.set_no, view.rep_no) == (Status.READY, 1, 1, 1)
    with pytest.raises(WorkoutError, match="already started"):
        walk("start", 0)


def test_group_runs_rep_major_and_each_is_called_in_turn():
    walk = Walk(make("2 x 30m. 0:30 Rec between reps", group=(ADA, BO, CY)))
    walk("start", 0)
    assert walk.view(0).queue == (1, 2, 3)
    assert walk("run_finished", 11, 1, fly(11, 1, 3.0), 10 * S) == [(Cue.CALL, 2)]
    assert walk.view(10 * S).queue == (2, 3, 1)
    assert walk("run_finished", 12, 2, fly(12, 11, 3.1), 20 * S) == [(Cue.CALL, 3)]
    assert walk("run_finished", 13, 3, fly(13, 21, 3.2), 30 * S) == [(Cue.REST_WARNING, 1)]  # Ada rests until 37.6 s
    view = walk.view(30 * S)
    assert (view.status, view.next_athlete, view.set_no, view.rep_no, view.queue) == (Status.RESTING, 1, 1, 2, (1, 2, 3))
    assert walk("tick", 37_600 * MS) == [(Cue.REST_OVER, 1), (Cue.CALL, 1)]


def test_the_daemon_may_assign_a_run_out_of_order():
    walk = Walk(make("2 x 30m", group=(ADA, BO)))
    walk("start", 0)
    walk("run_finished", 1, 2, fly(1, 1, 3.0), 10 * S)  # Bo ran first after all
    assert [(a.id, a.done) for a in walk.view(10 * S).athletes] == [(1, 0), (2, 1)]
    assert walk.view(10 * S).queue == (1, 2)


def test_a_run_on_the_course_holds_the_next_call():
    walk = Walk(make("2 x 30m. 0:30 Rec between reps", group=(ADA, BO)))
    walk("start", 0)
    assert walk("run_started", 2 * S) == []
    view = walk.view(2 * S)
    assert (view.status, view.running, view.next_athlete, view.queue) == (Status.RUNNING, 1, 2, (1, 2))
    assert walk.athlete(2 * S, 1).status is Status.RUNNING
    assert walk("run_finished", 1, 1, fly(1, 2, 3.0), 9 * S) == [(Cue.CALL, 2)]
    walk("run_started", 20 * S, 2)
    assert walk("tick", 38_600 * MS) == [(Cue.REST_OVER, 1)]  # Ada's rest is over, but Bo is still running
    assert walk("run_finished", 2, 2, fly(2, 20, 3.0), 40 * S) == [(Cue.CALL, 1)]


def test_run_started_is_ignored_when_it_fits_nobody():
    walk = Walk(make("30m"))
    assert walk.runner.run_started(0).runner.on_course == ()  # not started: nobody on the course
    walk("start", 0)
    walk("run_started", S, 42)
    assert walk.runner.on_course == ()


# ---- Recoveries -------------------------------------------------------------------------------------


def test_countdown_beeps_ten_seconds_before_the_end_and_at_the_end():
    walk = Walk(make("2 x 30m. 3:00 Rec between reps"))
    walk("start", 0)
    assert walk("run_finished", 1, 1, fly(1, 10, 3.2), 17 * S) == []
    athlete = walk.athlete(17 * S, 1)
    assert (athlete.status, athlete.rest, athlete.rest_since_ns, athlete.rest_ends_ns) == (Status.RESTING, "3:00", 16_800 * MS, 196_800 * MS)
    assert walk.runner.alarm_ns == 186_800 * MS
    assert walk("tick", 186_800 * MS - 1) == []
    assert walk("tick", 186_800 * MS) == [(Cue.REST_WARNING, 1)]
    assert (walk.effects[-1].message, walk.runner.alarm_ns) == ("Ada: 10 seconds", 196_800 * MS)
    assert walk("tick", 190 * S) == []
    assert walk("tick", 196_800 * MS) == [(Cue.REST_OVER, 1), (Cue.CALL, 1)]
    assert walk.runner.alarm_ns is None
    assert walk("tick", 200 * S) == []
    assert walk.view(200 * S).status is Status.READY


def test_a_late_tick_gives_the_end_of_the_rest_but_not_the_stale_warning():
    walk = Walk(make("2 x 30m. 3:00 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 10, 3.2), 17 * S)
    assert walk("tick", 300 * S) == [(Cue.REST_OVER, 1), (Cue.CALL, 1)]
    assert [e.at_ns for e in walk.effects[-2:]] == [196_800 * MS, 300 * S]


def test_a_rest_shorter_than_the_warning_only_beeps_at_the_end():
    walk = Walk(make("2 x 30m. 8s Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk.runner.alarm_ns == 14_600 * MS
    assert walk("tick", 14_600 * MS) == [(Cue.REST_OVER, 1), (Cue.CALL, 1)]


def test_warning_time_is_an_option():
    walk = Walk(make("2 x 30m. 1:00 Rec between reps", warning_ns=5 * S))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk.runner.alarm_ns == 61_600 * MS
    walk("tick", 61_600 * MS)
    assert walk.effects[-1].message == "Ada: 5 seconds"


def test_a_rest_range_counts_down_to_its_shortest():
    walk = Walk(make("2 x 400 @ 1:20 /R35-45s", TRACK))
    walk("start", 0)
    walk("run_finished", 1, 1, result(1, 0, 80, layout=Layout.parse("S=0,F=400")), 81 * S)
    athlete = walk.athlete(81 * S, 1)
    assert (athlete.rest, athlete.rest_ends_ns, athlete.rest_max_ends_ns) == ("35 s–45 s", 115 * S, 125 * S)


def test_between_sets_the_longer_rest():
    walk = Walk(make("2 x 2 x 30m. 3:00 Rec between reps. 6:00 Rec between sets"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk.athlete(7 * S, 1).rest_ends_ns == 186_600 * MS
    walk("tick", 186_600 * MS)
    walk("run_finished", 2, 1, fly(2, 200, 3.0), 207 * S)
    athlete = walk.athlete(207 * S, 1)
    assert (athlete.rest, athlete.rest_ends_ns, athlete.next_rep.set_no, athlete.next_rep.sets) == ("6:00", 566_600 * MS, 2, 2)


def test_full_recovery_waits_for_the_coach():
    walk = Walk(make("3 x 400 @ MAX / R-Full", TRACK))
    walk("start", 0)
    walk("run_finished", 1, 1, result(1, 0, 62, layout=Layout.parse("S=0,F=400")), 63 * S)
    athlete = walk.athlete(63 * S, 1)
    assert (athlete.status, athlete.rest, athlete.rest_ends_ns, athlete.rest_since_ns) == (Status.RECOVERING, "full", None, 62 * S)
    assert (walk.view(63 * S).status, walk.runner.alarm_ns) == (Status.RECOVERING, None)
    assert walk("tick", 3_600 * S) == []
    assert walk("ready", 1, 3_600 * S) == [(Cue.CALL, 1)]
    assert walk.athlete(3_600 * S, 1).status is Status.READY


def test_ready_cuts_a_countdown_short():
    walk = Walk(make("2 x 30m. 3:00 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk("ready", 1, 60 * S) == [(Cue.CALL, 1)]
    assert (walk.athlete(60 * S, 1).rest_ends_ns, walk.runner.alarm_ns) == (None, None)
    assert walk("tick", 200 * S) == []


def test_jog_recovery_shows_the_distance_and_no_countdown():
    races = {3000.0: 576 * S}
    walk = Walk(make(library_workout("12x400-3k").text, TRACK, group=(Athlete(1, "Ada", races),)))
    walk("start", 0)
    walk("run_finished", 1, 1, result(1, 0, 77, layout=Layout.parse("S=0,F=400")), 78 * S)
    athlete = walk.athlete(78 * S, 1)
    assert (athlete.status, athlete.rest, athlete.jog_m, athlete.rest_ends_ns) == (Status.RECOVERING, "200 m jog", 200.0, None)


def test_an_unwritten_rest_between_blocks_is_the_coachs_call():
    walk = Walk(make("30m\n30m"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert (walk.athlete(7 * S, 1).status, walk.athlete(7 * S, 1).rest) == (Status.RECOVERING, None)


def test_a_400m_sprinter_rests_longer_after_reps_over_50m():
    group = (Athlete(1, "Ada", {800.0: 120 * S}), Athlete(2, "Sam", {800.0: 110 * S}, sprinter400=True))
    walk = Walk(make("2 x 200m. 3:00 Rec between reps", PACE400, group=group, sprinter_factor=2.0))
    walk("start", 0)
    line = Layout.parse("S=0,F=200")
    walk("run_finished", 1, 1, result(1, 0, 26, layout=line), 27 * S)
    walk("run_finished", 2, 2, result(2, 30, 54, layout=line), 55 * S)
    assert [a.rest_ends_ns for a in walk.view(55 * S).athletes] == [206 * S, 414 * S]


def test_the_rest_taken_is_recorded():
    walk = Walk(make("2 x 30m. 3:00 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 1, fly(2, 150, 3.0), 157 * S)  # back early: ran before the call
    assert [a.rest_ns for a in walk.runner.attempts[0]] == [None, 143_400 * MS]


# ---- Results and quality ------------------------------------------------------------------------------


def test_a_flying_rep_against_400m_pace():
    walk = Walk(make("2 x 30m. 3:00 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 7, 1, fly(7, 0, 3.0), 7 * S)
    [attempt] = walk.athlete(7 * S, 1).attempts
    assert (attempt.outcome, attempt.run_id, attempt.time_ns, attempt.velocity_mps, attempt.timed_m) == (Outcome.DONE, 7, 3 * S, 10.0, 30.0)
    assert (attempt.started_ns, attempt.ended_ns, attempt.splits_ns) == (0, 6_600 * MS, (3_600 * MS, 3 * S))
    assert (attempt.check.verdict, attempt.check.diff_ns) == (Verdict.BEAT, -750 * MS)
    walk("run_finished", 8, 1, fly(8, 200, 3.8), 207 * S)
    assert walk.runner.attempts[0][1].check.verdict is Verdict.MISSED


def test_a_line_with_splits_times_the_whole_rep():
    line = Layout.parse("M1=0,M2=50,M3=100")
    walk = Walk(make("2 x 100m. 2:30 Rec between reps", PACE400))
    walk("start", 0)
    walk("run_finished", 1, 1, result(1, 10, 16.5, 22.5, layout=line), 23 * S)
    attempt = walk.runner.attempts[0][0]
    assert (attempt.time_ns, attempt.timed_m, attempt.splits_ns) == (12_500 * MS, 100.0, (6_500 * MS, 6 * S))


def test_a_run_over_another_distance_is_never_rescaled_into_a_rep_time():
    # Before: a 30 m fly timed in 3.0 s was shown as a 4.0 s 40 m rep, beside the 3.0 s on the big
    # number. A workout that does not fit the gates is refused (test_fit); if such a run still
    # comes, it is not a rep and gets no time.
    walk = Walk(make("2 x 40m"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    attempt = walk.runner.attempts[0][0]
    assert (attempt.outcome, attempt.time_ns, attempt.velocity_mps, attempt.timed_m) == (Outcome.INCOMPLETE, None, None, None)
    assert attempt.reason == "the gates timed 30 m or 60 m, not the rep's 40 m"


def test_a_drop_off_warns_and_suggests_ending_the_set():
    walk = Walk(make("2 x 3 x 30m. 0:30 Rec between reps. 1:00 Rec between sets"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk("run_finished", 2, 1, fly(2, 40, 3.1), 47 * S) == [(Cue.DROP_OFF, 1)]
    assert walk.effects[-1].message == "Ada: set 1 rep 2 was 3.3 % slower than the best of the set: end the set?"
    assert walk.athlete(47 * S, 1).suggest_end_set
    walk("end_set", 48 * S)
    athlete = walk.athlete(48 * S, 1)
    assert [(a.rep_no, a.outcome) for a in athlete.attempts][-1] == (3, Outcome.SKIPPED)
    assert (athlete.next_rep.set_no, athlete.rest, athlete.rest_ends_ns, athlete.suggest_end_set) == (2, "1:00", 106_700 * MS, False)


def test_the_last_rep_of_a_set_is_flagged_without_the_suggestion():
    walk = Walk(make("2 x 30m. 0:30 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 1, fly(2, 40, 3.2), 47 * S)
    assert walk.effects[-2].message == "Ada: set 1 rep 2 was 6.7 % slower than the best of the set"


def test_drop_off_against_the_previous_rep():
    walk = Walk(make("3 x 30m. 0:30 Rec between reps", margin=0.02, against=Against.PREVIOUS))
    walk("start", 0)
    for number, fly_s in enumerate([3.0, 3.05, 3.1], 1):
        walk("run_finished", number, 1, fly(number, 40 * number, fly_s), (40 * number + 7) * S)
    assert [a.drop_off for a in walk.runner.attempts[0]] == [None, None, None]  # 1.7 % and 1.6 %


def test_paced_reps_on_target_never_drop_off():
    line = Layout.parse("S=0,F=400")
    walk = Walk(make("3 x 400 @ 1:20 / R1:00", TRACK))
    walk("start", 0)
    for number, (start, time) in enumerate([(0, 77), (140, 80.9), (280, 82)], 1):
        walk("run_finished", number, 1, result(number, start, start + time, layout=line), (start + time + 1) * S)
    attempts = walk.runner.attempts[0]
    assert [a.check.verdict for a in attempts] == [Verdict.FAST, Verdict.ON_TARGET, Verdict.SLOW]
    assert [a.drop_off is not None for a in attempts] == [False, False, True]


def test_a_void_recomputes_the_drop_offs():
    walk = Walk(make("3 x 30m. 0:30 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 1, fly(2, 40, 3.1), 47 * S)
    assert walk.runner.attempts[0][1].drop_off is not None
    walk("run_voided", 1, 50 * S)
    assert [(a.outcome, a.drop_off) for a in walk.runner.attempts[0]] == [(Outcome.VOIDED, None), (Outcome.DONE, None)]


# ---- Not a rep: void, repeat, incomplete ---------------------------------------------------------------


def test_a_voided_rep_is_run_again_after_the_rest_before_it():
    walk = Walk(make("30m. 2:00 Rec. 30m. 4:00 Rec. 30m"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 1, fly(2, 130, 3.0), 137 * S)
    assert walk.athlete(137 * S, 1).rest_ends_ns == 376_600 * MS  # 4:00 before rep 3
    walk("run_voided", 2, 140 * S)
    athlete = walk.athlete(140 * S, 1)
    assert (athlete.next_rep.rep_no, athlete.rest, athlete.rest_ends_ns, athlete.done) == (2, "2:00", 256_600 * MS, 1)
    assert athlete.attempts[1].outcome is Outcome.VOIDED and athlete.attempts[1].reason == "voided"
    assert walk.runner.run_voided(2, 141 * S).runner == walk.runner  # already voided
    assert walk.runner.run_voided(99, 141 * S).runner == walk.runner  # not a run of this workout


def test_a_voided_first_rep_rests_its_own_recovery():
    walk = Walk(make("30m. 2:00 Rec. 30m"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_voided", 1, 8 * S)
    athlete = walk.athlete(8 * S, 1)
    assert (athlete.next_rep.rep_no, athlete.rest_ends_ns) == (1, 126_600 * MS)


def test_an_athlete_running_a_rep_again_goes_to_the_back_of_the_round():
    walk = Walk(make("2 x 30m. 0:30 Rec between reps", group=(ADA, BO, CY)))
    walk("start", 0)
    for number, athlete in enumerate([1, 2, 3], 1):
        walk("run_finished", number, athlete, fly(number, 10 * number, 3.0), (10 * number + 7) * S)
    walk("tick", 100 * S)
    walk("run_finished", 4, 1, fly(4, 100, 3.0), 107 * S)
    walk("run_voided", 4, 108 * S)
    assert walk.view(108 * S).queue == (2, 3, 1)


def test_a_late_void_brings_the_missing_rep_first():
    walk = Walk(make("3 x 30m. 0:30 Rec between reps", group=(ADA, BO)))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 2, fly(2, 10, 3.0), 17 * S)
    walk("run_finished", 3, 1, fly(3, 50, 3.0), 57 * S)
    walk("run_voided", 1, 60 * S)
    view = walk.view(60 * S)
    assert (view.queue, walk.athlete(60 * S, 1).next_rep.rep_no) == ((1, 2), 1)


def test_a_void_after_the_last_rep_reopens_the_workout():
    walk = Walk(make("30m. 1:00 Rec. 30m"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk("run_finished", 2, 1, fly(2, 70, 3.0), 77 * S) == [(Cue.FINISHED, None)]
    assert walk.view(77 * S).status is Status.FINISHED
    assert walk("tick", 80 * S) == []
    walk("run_voided", 2, 90 * S)
    assert (walk.view(90 * S).status, walk.athlete(90 * S, 1).rest_ends_ns) == (Status.RESTING, 136_600 * MS)
    walk("tick", 136_600 * MS)
    assert walk("run_finished", 3, 1, fly(3, 140, 3.0), 147 * S) == [(Cue.FINISHED, None)]


def test_a_voided_run_from_the_store_is_not_a_rep():
    walk = Walk(make("2 x 30m. 1:00 Rec between reps"))
    walk("start", 0)
    ran = fly(1, 0, 3.0)
    stored = RunView.of(ran, lap=None, id=1, session=1, athlete="Ada", athlete_id=1, voided=True, void_reason="false start", set_no=None, rep_no=None)
    walk("run_finished", 1, 1, stored, 7 * S)
    [attempt] = walk.runner.attempts[0]
    assert (attempt.outcome, attempt.reason, attempt.ended_ns) == (Outcome.VOIDED, "false start", 6_600 * MS)
    assert walk.athlete(7 * S, 1).rest_ends_ns == 66_600 * MS  # rep 1 again, after its own recovery


def test_repeat_the_last_rep_run():
    walk = Walk(make("2 x 30m. 1:00 Rec between reps", group=(ADA, BO)))
    walk("start", 0)
    with pytest.raises(WorkoutError, match="no done rep to repeat"):
        walk("repeat", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    walk("run_finished", 2, 2, fly(2, 10, 3.0), 17 * S)
    walk("repeat", 18 * S)
    assert [a.outcome for a in walk.athlete(18 * S, 2).attempts] == [Outcome.REPEATED]
    walk("repeat", 19 * S, 1)
    assert walk.runner.attempts[0][0].reason == "the coach asked for it again"
    with pytest.raises(WorkoutError, match="not in this workout"):
        walk("repeat", 19 * S, 42)


def test_an_incomplete_run_is_run_again():
    walk = Walk(make("2 x 30m. 1:00 Rec between reps"))
    walk("start", 0)
    missed = result(1, 0, 3.6, status=RunStatus.INCOMPLETE, reason="timed out waiting for M3")
    walk("run_finished", 1, 1, missed, 30 * S)
    [attempt] = walk.runner.attempts[0]
    assert (attempt.outcome, attempt.reason, attempt.ended_ns) == (Outcome.INCOMPLETE, "timed out waiting for M3", 3_600 * MS)
    athlete = walk.athlete(30 * S, 1)
    assert (athlete.next_rep.rep_no, athlete.rest_ends_ns, athlete.done) == (1, 63_600 * MS, 0)


def test_a_lap_rep_that_timed_out_is_run_again():
    walk = Walk(make("2 x 400 @ 1:20 / R1:00", TRACK))
    timing = LapTiming(Gate("L", 0.0, ("L",)))
    walk("start", 0)
    timing.go(0, 400)
    [lap] = timing.advance(300 * S)
    walk("run_finished", lap.number, 1, lap, 300 * S)
    [attempt] = walk.runner.attempts[0]
    assert (attempt.outcome, attempt.reason, attempt.started_ns, attempt.ended_ns) == (Outcome.INCOMPLETE, "timed out waiting for crossing 1 of 1", 0, 0)
    assert walk.athlete(300 * S, 1).rest_ends_ns == 60 * S  # rep 1 again, after its own recovery


def test_runs_that_are_nobodys_reps_are_ignored():
    walk = Walk(make("2 x 30m", group=(ADA,)))
    walk("start", 0)
    before = walk.runner
    rejected = result(1, 5, status=RunStatus.REJECTED, reason="orphan crossing")
    assert walk.runner.run_finished(1, 1, rejected, 6 * S).runner == before
    assert walk.runner.run_finished(2, None, fly(2, 0, 3.0), 7 * S).runner == before
    assert walk.runner.run_finished(3, 42, fly(3, 0, 3.0), 7 * S).runner == before
    walk("run_finished", 4, 1, fly(4, 0, 3.0), 7 * S)
    after = walk.runner
    assert walk.runner.run_finished(4, 1, fly(4, 0, 3.0), 8 * S).runner == after  # seen before


# ---- Skip, end ----------------------------------------------------------------------------------------


def test_a_missing_rep_is_recorded_as_skipped():
    walk = Walk(make("2 x 30m. 1:00 Rec between reps", group=(ADA, BO)))
    walk("start", 0)
    assert walk("skip", S) == [(Cue.CALL, 2)]  # Ada is not there: Bo goes
    assert walk.view(S).queue == (2, 1)
    walk("skip", 2 * S, 1)
    ada = walk.athlete(2 * S, 1)
    assert [(a.rep_no, a.outcome) for a in ada.attempts] == [(1, Outcome.SKIPPED), (2, Outcome.SKIPPED)]
    assert (ada.status, ada.next_rep) == (Status.FINISHED, None)
    with pytest.raises(WorkoutError, match="Ada has no reps left"):
        walk("skip", 3 * S, 1)
    with pytest.raises(WorkoutError, match="not in this workout"):
        walk("ready", 42, 3 * S)
    [_, bo] = walk.runner.summary()
    assert (walk.runner.summary()[0].skipped, bo.skipped) == (2, 0)


def test_skip_without_anyone_waiting_needs_a_name_and_not_while_running():
    walk = Walk(make("30m", group=(ADA,)))
    walk("start", 0)
    walk("run_started", S)
    with pytest.raises(WorkoutError, match="Nobody is waiting"):
        walk("skip", 2 * S)
    with pytest.raises(WorkoutError, match="Ada is running: wait for the run to end"):
        walk("end_set", 2 * S, 1)


def test_the_coach_ends_the_workout():
    walk = Walk(make("3 x 30m. 1:00 Rec between reps"))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    assert walk("end", 10 * S) == [(Cue.FINISHED, None)]
    view = walk.view(10 * S)
    assert (view.status, view.next_athlete, view.queue, view.alarm_ns) == (Status.FINISHED, None, (), None)
    assert walk.athlete(10 * S, 1).status is Status.FINISHED
    with pytest.raises(WorkoutError, match="ended"):
        walk("skip", 11 * S)
    assert walk.runner.run_finished(2, 1, fly(2, 70, 3.0), 77 * S).runner == walk.runner
    assert walk.runner.tick(100 * S).effects == ()
    assert walk.runner.summary()[0].done == 1


def test_end_after_the_last_rep_announces_nothing_more():
    walk = Walk(make("30m"))
    walk("start", 0)
    assert walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S) == [(Cue.FINISHED, None)]
    assert walk("end", 8 * S) == []


# ---- Summary and views ---------------------------------------------------------------------------------


def test_summary_of_a_400m_pace_session_gives_the_top_speed_hint():
    line = Layout.parse("S=0,F=100")
    walk = Walk(make(library_workout("400-pace-2x4x100").text, PACE400, group=(Athlete(1, "Ada", {800.0: 120 * S}),)))
    walk("start", 0)
    for number, (start, time) in enumerate([(0, 14.0), (200, 15.0), (400, 14.2)], 1):
        walk("run_finished", number, 1, result(number, start, start + time, layout=line), (start + 16) * S)
    walk("repeat", 600 * S)
    [summary] = walk.runner.summary()
    assert (summary.planned, summary.done, summary.run_again, summary.on_target, summary.checked) == (8, 2, 1, 1, 2)
    assert [(d.distance_m, d.reps, d.best_ns) for d in summary.distances] == [(100.0, 2, 14 * S)]
    assert [a.rep_no for a in summary.drop_offs] == [2]
    assert summary.top_speed.message.startswith("1 of 2 reps were not clearly faster than 800m pace")


def test_no_top_speed_hint_outside_400m_pace_work():
    walk = Walk(make("2 x 30m", group=(Athlete(1, "Ada", {800.0: 120 * S}),)))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 5.0), 7 * S)
    assert walk.runner.summary()[0].top_speed is None


def test_the_view_is_json_ready():
    walk = Walk(make(library_workout("flying-30s").text, group=(ADA, BO)))
    walk("start", 0)
    walk("run_finished", 1, 1, fly(1, 0, 3.0), 7 * S)
    data = json.loads(json.dumps(asdict(walk.view(7 * S))))
    assert data["status"] == "ready" and data["next_athlete"] == 2 and data["kind"] == "max-velocity"
    ada = data["athletes"][0]
    assert (ada["status"], ada["done"], ada["planned"], ada["next_rep"]["target"]["style"]) == ("resting", 1, 9, "faster-than")
    assert ada["attempts"][0]["check"]["verdict"] == "beat"
    json.dumps([asdict(s) for s in walk.runner.summary()])


# ---- Whole sessions on the simulator -------------------------------------------------------------------


def test_flying_30s_for_three_athletes_on_the_simulator():
    """The issue's test: 3 x 3 x 30m for a group, walked through on simulated gates."""
    group = (ADA, BO, CY)
    speeds = {1: 9.4, 2: 8.8, 3: 9.8}
    walk = Walk(make(library_workout("flying-30s").text, group=group, margin=0.05))
    walk("start", 0)
    now, number, order, fading = 0, 0, [], None
    while walk.view(now).status is not Status.FINISHED:
        view = walk.view(now)
        if view.status is Status.RESTING:
            now = walk.runner.alarm_ns
            walk("tick", now)
            continue
        assert view.status is Status.READY and walk.effects[-1].cue in (Cue.CALL, Cue.DROP_OFF)
        athlete, here = view.next_athlete, walk.athlete(now, view.next_athlete)
        order.append((athlete, here.next_rep.set_no, here.next_rep.rep_no))
        vmax = speeds[athlete] * (0.85 if (athlete, view.set_no, view.rep_no) == (3, 2, 2) else 1.0)
        number += 1
        simulated = sim.simulate(
            FLY, 1, sprinters=[sim.Sprinter(here.name, vmax_mps=vmax)], seed=number,
            options=sim.SimOptions(limbs=True), start_ns=now + 20 * S,  # the walk to the start
        )  # fmt: skip
        [run] = time_edges(simulated.edges, FLY).runs
        walk("run_started", run.started_ns)
        now = run.crossings[-1].t_ns + S
        cues = walk("run_finished", number, athlete, report(run, FLY, group[athlete - 1].races), now)
        if (Cue.DROP_OFF, 3) in cues:
            fading = walk.effects[-len(cues)].message
            assert walk.athlete(now, 3).suggest_end_set
            walk("end_set", now, 3)
    # rep-major; Cy, who ended set 2 early, has rested longest when set 3 starts and goes first
    expected = [(a, s, r) for s in (1, 2) for r in (1, 2, 3) for a in (1, 2, 3) if (a, s, r) != (3, 2, 3)]
    expected += [(a, 3, r) for r in (1, 2, 3) for a in (3, 1, 2)]
    assert order == expected
    assert fading.startswith("Cy: set 2 rep 2 was ") and fading.endswith("slower than the best of the set: end the set?")
    # every countdown beeped 10 s before its end and at its end, and the athlete was called only then
    warnings = [e for e in walk.effects if e.cue is Cue.REST_WARNING]
    overs = [e for e in walk.effects if e.cue is Cue.REST_OVER]
    assert len(warnings) == len(overs) == 26 - 3 and [w.at_ns + 10 * S for w in warnings] == [o.at_ns for o in overs]
    attempts = {a.id: a.attempts for a in walk.view(now).athletes}
    for rows in attempts.values():
        done = [a for a in rows if a.outcome is Outcome.DONE]
        assert all(a.check.verdict is Verdict.BEAT for a in done)
        for before, after in pairwise(done):
            assert after.rest_ns >= (180 if before.set_no == after.set_no else 360) * S
    summary = {s.id: s for s in walk.runner.summary()}
    assert [(s.done, s.skipped, len(s.drop_offs)) for s in summary.values()] == [(9, 0, 0), (9, 0, 0), (8, 1, 1)]
    assert abs(summary[1].distances[0].best_velocity_mps - 9.4) < 0.4


def lap_edges(*marks_ns: int):
    return sorted((e for mark in marks_ns for e in passage(("L",), mark / MS)), key=lambda e: e.t_ns)


def test_12_x_400_at_3k_pace_with_one_gate():
    """The issue's test: 12 x 400 @ 3K pace, 200 m jog recovery, timed by one gate on the line."""
    ada = Athlete(1, "Ada", {3000.0: 576 * S})  # 1:16.8 per 400 m
    walk = Walk(make(library_workout("12x400-3k").text, TRACK, group=(ada,)))
    timing = LapTiming(Gate("L", 0.0, ("L",)))
    walk("start", 0)
    laps = [76.5, 77.2, 76.0, 77.6, 76.8, 76.4, 77.7, 80.0, 77.0, 76.9, 76.6, 76.1]
    now = 0
    for number, lap in enumerate(laps, 1):
        assert walk.effects[-1].cue in (Cue.CALL, Cue.DROP_OFF)
        target = walk.athlete(now, 1).next_rep.target
        timing.arm(400, target.time_ns)  # the call arms a rolling start
        start = now + 30 * S
        for event in [e for edge in lap_edges(start, start + round(lap * S)) for e in timing.feed(edge)] + timing.advance(start + round(lap * S) + S):
            if isinstance(event, LapStart):
                walk("run_started", event.started_ns)
            elif isinstance(event, LapRep):
                now = event.ended_ns + S
                assert event.check.verdict is (Verdict.SLOW if lap > 77.8 else Verdict.ON_TARGET)
                walk("run_finished", event.number, 1, event, now)
        if number < len(laps):
            assert walk.view(now).status is Status.RECOVERING  # jogging 200 m: no countdown
            now += 90 * S
            walk("ready", 1, now)
    assert walk.view(now).status is Status.FINISHED
    [summary] = walk.runner.summary()
    assert (summary.done, summary.checked, summary.on_target) == (12, 12, 11)
    attempts = walk.runner.attempts[0]
    # the 77.7 is 2.2 % slower than the best, but on target: only the 80.0 drops off
    assert [k for k, a in enumerate(attempts) if a.drop_off] == [7]
    assert [a.rest_ns for a in attempts[1:3]] == [121 * S, 121 * S]  # 1 s, ready after 90 s, 30 s to the line
    assert attempts[0].splits_ns == (76_500 * MS,)


# ---- Any order of inputs ------------------------------------------------------------------------------


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["run_finished", "incomplete", "rejected", "run_voided", "run_started", "skip", "end_set", "repeat", "ready", "tick", "end"]),
        st.sampled_from([None, 1, 2, 3, 42]),
        st.integers(0, 400),  # seconds on
        st.integers(1, 12),  # a run number
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ACTIONS)
def test_any_order_of_inputs_keeps_the_runner_consistent(actions):
    walk = Walk(make("2 x 2 x 30m. 0:30 Rec between reps. 1:00 Rec between sets", group=(ADA, BO, CY)))
    walk("start", 0)
    now = 0
    for action, athlete, step_s, number in actions:
        now += step_s * S
        t = now / S
        try:
            if action == "run_finished":
                effects = walk("run_finished", number, athlete, fly(number, t - 7, 3 + number / 100), now)
            elif action == "incomplete":
                effects = walk("run_finished", number, athlete, result(number, t - 7, status=RunStatus.INCOMPLETE), now)
            elif action == "rejected":
                effects = walk("run_finished", number, athlete, result(number, t, status=RunStatus.REJECTED), now)
            elif action == "run_voided":
                effects = walk("run_voided", number, now)
            elif action in ("run_started", "skip", "end_set", "repeat"):
                effects = walk(action, now, athlete)
            elif action == "ready":
                effects = walk("ready", athlete, now)
            else:
                effects = walk(action, now)
        except WorkoutError:
            assert action in ("skip", "end_set", "repeat", "ready", "end")
            continue
        view = walk.view(now)
        with_reps = {a.id for a in view.athletes if a.next_rep is not None}
        assert len(set(view.queue)) == len(view.queue)
        assert set(view.queue) == (set() if walk.runner.ended_ns is not None else with_reps)
        assert (view.status is Status.FINISHED) == (not view.queue)
        for a in view.athletes:
            settled = [x.index for x in a.attempts if x.outcome in (Outcome.DONE, Outcome.SKIPPED)]
            assert len(settled) == len(set(settled)) <= a.planned
        calls = [who for cue, who in effects if cue is Cue.CALL]
        assert calls in ([], [view.next_athlete])
        if view.running is not None:
            assert view.queue[0] == view.running


# ---- A group running each rep together (track reps on one gate) -------------------------------------


def group_lap(number, athlete_id, started_s, time_s, status=RunStatus.COMPLETE):
    """A group rep's lap rep of one athlete, as the lap timer gives it."""
    started = round(started_s * S)
    ended = started + round(time_s * S)
    return LapRep(number, StartKind.GO, 400.0, started, ended, (ended - started,), status, None, None, None, None, athlete_id)


def test_a_group_running_together_is_called_as_one_and_runs_as_one():
    walk = Walk(WorkoutRunner.create(parse_workout("3 x 400m. 1:00 Rec"), TRACK, [ADA, BO, CY], together=True))
    assert walk("start", 0) == [(Cue.CALL, 1)]
    assert walk.effects[0].message.startswith("Ada, Bo, Cy: your turn, set 1 rep 1 of 3, 400 m")
    for athlete in (1, 2, 3):
        assert walk("run_started", 5 * S, athlete) == []
    view = walk.view(6 * S)
    assert view.status is Status.RUNNING and {a.status for a in view.athletes} == {Status.RUNNING}
    assert walk("run_finished", 1, 1, group_lap(1, 1, 5, 70), 80 * S) == []
    assert walk("run_finished", 2, 2, group_lap(2, 2, 5, 74), 80 * S) == []
    assert walk.view(80 * S).status is Status.RUNNING  # Cy is still out
    assert walk("run_finished", 3, 3, group_lap(3, 3, 5, 80), 86 * S) == []  # Cy came in at 85 s: the group's rest starts
    rests = {a.id: (a.status, a.rest_since_ns, a.rest_ends_ns) for a in walk.view(90 * S).athletes}
    assert rests == {i: (Status.RESTING, 85 * S, 145 * S) for i in (1, 2, 3)}  # everyone from the last finisher's end
    assert walk("tick", 145 * S) == [(Cue.REST_OVER, 1), (Cue.CALL, 1)]
    assert walk.effects[-1].message.startswith("Ada, Bo, Cy: your turn, set 1 rep 2 of 3")


def test_a_group_is_ready_as_one_when_the_coach_says_so():
    walk = Walk(WorkoutRunner.create(parse_workout("2 x 400m. R-Full"), TRACK, [ADA, BO], together=True))
    walk("start", 0)
    for athlete in (1, 2):
        walk("run_started", 5 * S, athlete)
    walk("run_finished", 1, 1, group_lap(1, 1, 5, 70), 80 * S)
    walk("run_finished", 2, 2, group_lap(2, 2, 5, 72), 80 * S)
    assert {a.status for a in walk.view(100 * S).athletes} == {Status.RECOVERING}
    assert walk("ready", None, 200 * S) == [(Cue.CALL, 1)]
    assert {a.status for a in walk.view(200 * S).athletes} == {Status.READY}


def test_one_at_a_time_the_runner_still_follows_the_last_started():
    walk = Walk(make("2 x 30m", group=(ADA, BO)))
    walk("start", 0)
    walk("run_started", S, 1)
    walk("run_started", 2 * S, 2)
    assert walk.runner.on_course == (1,)
