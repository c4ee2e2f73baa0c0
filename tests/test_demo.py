"""The demo's club on the simulated gates: free running, following a workout, track reps on one gate.

The simulator's clock moves at once when it sleeps (``SteppingClock``), so
whole workouts, rests included, run in a second or two.
"""

import time
from itertools import pairwise

import pytest
from fakes import SteppingClock
from helpers import FLY30, LIMBS, START, assert_live_equals_recompute

from gatectl.coaching.laps import StartKind, Track
from gatectl.coaching.library import WorkoutKind
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.workout import WorkoutPlan, group
from gatectl.demo import DemoClub, enrol
from gatectl.sim.source import ROSTER, SimSource
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S

S, MS = NS_PER_S, NS_PER_MS


class Club:
    """A daemon on a SimSource that the demo's club scripts, on a stepping clock."""

    def __init__(self, tmp_path, seed=1, rest_scale=1.0, free_running=False):
        self.path = tmp_path / "demo.db"
        with Store(self.path) as store:
            self.ids = enrol(store)
        self.clock = SteppingClock(START, START + 10 * 3600 * S)
        # Free running off unless tested: on this clock a free sprinter's edges are all out at once,
        # so one could land just as the workout's session opens (in real time the window is a few ms).
        self.club = DemoClub(self.ids, seed=seed, options=LIMBS, free_running=free_running)
        source = SimSource(FLY30, seed=seed, options=LIMBS, script=self.club, clock=self.clock, sleep=self.clock.sleep)
        self.daemon = Daemon(source, lambda: Store(self.path), FLY30, tick_ns=MS, rest_scale=rest_scale)
        self.club.follow(self.daemon)

    def plan(self, text, kind, names=("Amara", "Ben", "Chloe"), **options):
        with Store(self.path) as store:
            return WorkoutPlan(text, kind, group(store, [self.ids[n] for n in names]), **options)

    def until(self, done, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.daemon.snapshot().workout
            if done(state):
                return state
            time.sleep(0.005)
        pytest.fail(f"the demo did not get there: {state}")

    def runs(self, session_id=None):
        with Store(self.path) as store:
            return sorted(store.runs(session_id=session_id or self.daemon.snapshot().session_id), key=lambda r: r.number)


@pytest.fixture
def club(tmp_path):
    club = Club(tmp_path, rest_scale=1 / 6)
    club.daemon.start()
    yield club
    club.daemon.stop()


def test_enrol_is_once_with_race_times_that_fit(tmp_path):
    with Store(tmp_path / "x.db") as store:
        ids = enrol(store)
        assert enrol(store) == ids and list(ids) == [a.name for a in ROSTER]
        amara = store.paces(ids["Amara"])
        assert sorted(amara) == [400.0, 800.0, 3000.0] and amara[400.0] < amara[800.0] / 2


def test_free_running_until_a_workout_starts(tmp_path):
    club = Club(tmp_path, free_running=True)
    club.daemon.start()
    deadline = time.monotonic() + 20
    while len([r for r in club.runs() if r.status == "complete"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    runs = [r for r in club.runs() if r.status == "complete"]
    assert [r.athlete for r in runs[:3]] == ["Amara", "Ben", "Chloe"]  # each queued as they set off
    assert all(r.set_no is None for r in runs)
    club.daemon.start_workout(club.plan("30m", WorkoutKind.MAX_VELOCITY, names=("Ben",)))
    state = club.until(lambda s: s.finished)
    assert state.summary[0].done == 1 and not club.club.free_running
    club.daemon.stop()


def test_the_club_follows_a_flying_workout(club):
    """Whoever is called runs; the last of the group tires in each set's second rep: a drop-off."""
    old = club.daemon.snapshot().session_id
    club.daemon.start_workout(club.plan("2 x 2 x 30m. 1:00 Rec between reps. 2:00 Rec between sets.", WorkoutKind.MAX_VELOCITY))
    state = club.until(lambda s: s.finished)
    summary = {s.name: s for s in state.summary}
    assert [summary[n].done for n in ("Amara", "Ben", "Chloe")] == [4, 4, 4]
    assert [(d.set_no, d.rep_no) for d in summary["Chloe"].drop_offs] == [(1, 2), (2, 2)]
    runs = [r for r in club.runs() if r.status != "rejected"]
    assert [(r.athlete, r.set_no, r.rep_no) for r in runs] == [
        (name, s, r) for s in (1, 2) for r in (1, 2) for name in ("Amara", "Ben", "Chloe")
    ]  # rep-major, every run the called athlete's
    assert all(r.status == "complete" and r.vs_pace["400m"].faster for r in runs)
    assert club.runs(old) == []
    time.sleep(0.05)
    assert club.daemon.snapshot().workout.finished and len(club.runs()) == len(runs)  # after it: no more free running


def test_track_reps_with_rolling_starts_and_jog_recoveries(club):
    """One gate on the line: the club rolls through it when it is armed, and is ready after its jog."""
    plan = club.plan("3 x 400m @ 3K pace, 200m jog recovery", WorkoutKind.TRACK_REPS, names=("Amara", "Ben"), track=Track("M1", 400))
    club.daemon.start_workout(plan)
    session = club.daemon.snapshot().session_id
    state = club.until(lambda s: s.finished)
    summary = {s.name: s for s in state.summary}
    assert [summary[n].done for n in ("Amara", "Ben")] == [3, 3]
    runs = club.runs()
    assert all(r.lap.start == "rolling" and r.lap.distance_m == 400 for r in runs)
    verdicts = {(r.athlete, r.rep_no): r.lap.check.verdict for r in runs}
    assert verdicts.pop(("Ben", 2)) == "slow"  # tired: 6 % off the pace
    assert set(verdicts.values()) == {"on-target"}
    assert [d.rep_no for d in summary["Ben"].drop_offs] == [2]
    club.daemon.new_session()
    assert_live_equals_recompute(club.path, session)


def test_a_go_start_waits_for_the_coach(club):
    plan = club.plan("2 x 200m @ 30 / R30s", WorkoutKind.TRACK_REPS, names=("Chloe",), track=Track("M1", 400), start=StartKind.GO, countdown_ns=3 * S)
    club.daemon.start_workout(plan)
    session = club.daemon.snapshot().session_id
    for rep in (1, 2):
        club.until(lambda s: s.needs_go or (s.next_up and s.next_up.status == "resting"))
        club.daemon.workout_input("go")  # resting: the coach's go cuts the rest short
        club.until(lambda s, rep=rep: s.athletes[0].done == rep)
    runs = club.runs()
    assert [(r.lap.start, r.status) for r in runs] == [("go", "complete")] * 2
    assert all(29 < r.lap.time_s < 33 for r in runs)
    club.daemon.new_session()
    assert_live_equals_recompute(club.path, session)


@pytest.mark.parametrize("waves_s", [0, 3, 8])
def test_a_group_runs_track_reps_together_or_in_waves(club, waves_s):
    """One gate, three athletes at once: each rep's crossings told apart, each athlete's times their own."""
    plan = club.plan(
        "3 x 400m @ 3K pace, 200m jog recovery", WorkoutKind.TRACK_REPS, track=Track("M1", 400), start=StartKind.GO,
        countdown_ns=3 * S, waves_ns=waves_s * S,
    )  # fmt: skip
    club.daemon.start_workout(plan)
    session = club.daemon.snapshot().session_id
    state = club.until(lambda s: s.finished)
    summary = {s.name: s for s in state.summary}
    assert [summary[n].done for n in ("Amara", "Ben", "Chloe")] == [3, 3, 3]
    runs = [r for r in club.runs() if r.status == "complete"]
    assert len(runs) == 9 and all(r.lap.start == "go" for r in runs)
    for rep in (1, 2, 3):
        starts = sorted((r.lap.started_ns, r.athlete) for r in runs if r.rep_no == rep)
        assert [name for _, name in starts] == ["Amara", "Ben", "Chloe"]  # in the queue's order, a wave apart
        assert [b - a for (a, _), (b, _) in pairwise(starts)] == [waves_s * S] * 2
    verdicts = {(r.athlete, r.rep_no): r.lap.check.verdict for r in runs}
    assert verdicts.pop(("Chloe", 2)) == "slow"  # tired: 6 % off the pace, and still hers
    assert set(verdicts.values()) == {"on-target"}  # every crossing went to whoever ran it
    for rep in (2, 3):  # the group's rest: from the last finisher of the rep before to the go
        before = max(r.lap.started_ns + r.lap.time_ns for r in runs if r.rep_no == rep - 1)
        go = min(r.lap.started_ns for r in runs if r.rep_no == rep)
        assert {r.lap.recovery_ns for r in runs if r.rep_no == rep} == {go - before}
    club.daemon.new_session()
    assert_live_equals_recompute(club.path, session)
