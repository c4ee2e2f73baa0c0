"""The one edge where typed values become JSON: each value's wire form, pinned, and its round trip."""

import doctest
import json
from dataclasses import dataclass

import pytest

import gatectl.jsonable
from gatectl.coaching.laps import LapReport, LapSplit, LapStart, StartKind, Track
from gatectl.coaching.library import WorkoutKind
from gatectl.coaching.quality import check_pace
from gatectl.coaching.runner import Athlete
from gatectl.daemon.workout import LiveWorkout, WorkoutPlan, page_state
from gatectl.jsonable import Wire, json_object, jsonable
from gatectl.timing.model import NS_PER_S, Crossing, Layout, Method, Run, RunStatus
from gatectl.timing.results import RunReport, RunView, report

S = NS_PER_S
FLY30 = Layout.flying()
RUN_KEYS = ["number", "status", "crossings", "segments", "fly", "vs_pace", "reason", "ambiguous", "unseen", "line", "sync"]
STORED_KEYS = [*RUN_KEYS, "lap", "id", "session", "athlete", "athlete_id", "voided", "void_reason", "set", "rep"]
ADA = Athlete(1, "Ada", {400.0: 50 * S, 800.0: 110 * S})


def wire(value):
    """``jsonable``, checked to survive ``json`` unchanged."""
    data = jsonable(value)
    assert json.loads(json.dumps(data)) == data
    return data


def flying_run(number=1, m1_ns=0, status=RunStatus.COMPLETE, reason=None):
    times = (m1_ns, m1_ns + 3_600_000_001, m1_ns + 6_700_000_124)[: 3 if status is RunStatus.COMPLETE else 2]
    return Run(number, tuple(Crossing(g, t, Method.LONGEST) for g, t in zip(("M1", "M2", "M3"), times)), status, reason)


def stored(result: RunReport, **who) -> RunView:
    fields = {"lap": None, "id": 7, "session": 2, "athlete": "Ada", "athlete_id": 1, "voided": False, "void_reason": None,
              "set_no": 1, "rep_no": 2, **who}
    return RunView.of(result, **fields)


def test_docstring_examples():
    assert doctest.testmod(gatectl.jsonable).failed == 0


def test_a_run_report_is_the_replay_contract():
    r = report(flying_run(), FLY30, {400: 50 * S})
    data = wire(r)
    assert list(data) == RUN_KEYS
    assert (data["number"], data["status"], data["reason"]) == (1, "complete", None)
    assert data["crossings"] == {"M1": 0, "M2": 3_600_000_001, "M3": 6_700_000_124}
    assert [list(s) for s in data["segments"]] == [["from", "to", "distance_m", "time_ns", "time_s", "velocity_mps"]] * 2
    assert data["segments"][1] == {"from": "M2", "to": "M3", "distance_m": 30.0, "time_ns": 3_100_000_123,
                                   "time_s": 3.100000123, "velocity_mps": r.segments[1].velocity_mps}  # fmt: skip
    assert list(data["fly"]) == ["distance_m", "time_ns", "time_s", "velocity_mps", "kmh", "per_100m_s", "equivalent_400m_s"]
    assert data["fly"]["time_ns"] == r.fly.time_ns == 3_100_000_123 and data["fly"]["kmh"] == r.fly.kmh
    assert data["vs_pace"] == {"400m": {"pace_mps": 8.0, "ratio": r.vs_pace["400m"].ratio, "percent": 121.0,
                                        "diff_mps": r.vs_pace["400m"].diff_mps, "faster": True}}  # fmt: skip
    assert (data["ambiguous"], data["unseen"], data["sync"]) == (False, [], None)  # sync: measured for stored runs only
    assert data["line"] == {"from": "M1", "to": "M3", "distance_m": 60.0, "time_ns": 6_700_000_124,
                            "time_s": 6.700000124, "velocity_mps": r.line.velocity_mps}  # fmt: skip


def test_an_unfinished_run_has_nulls_and_empties():
    data = wire(report(flying_run(status=RunStatus.INCOMPLETE, reason="timed out"), FLY30, {400: 50 * S}))
    assert (data["status"], data["fly"], data["vs_pace"], data["reason"], len(data["segments"])) == ("incomplete", None, {}, "timed out", 1)


def test_a_stored_run_adds_who_and_whether_it_counts():
    view = stored(report(flying_run(), FLY30), voided=True, void_reason="false start")
    data = wire(view)
    assert list(data) == STORED_KEYS
    assert {k: data[k] for k in STORED_KEYS[len(RUN_KEYS):]} == {
        "lap": None, "id": 7, "session": 2, "athlete": "Ada", "athlete_id": 1, "voided": True, "void_reason": "false start", "set": 1, "rep": 2,
    }  # fmt: skip
    assert json_object(view) == data


def test_a_lap_rep_carries_its_lap():
    lap = LapReport(800.0, StartKind.GO, 5 * S, 161_500_000_001, (80 * S, 81_500_000_001), 160 * S,
                    check_pace(161_500_000_001, 160 * S, 800.0), 90 * S)  # fmt: skip
    data = wire(stored(report(Run(3, (), RunStatus.COMPLETE), FLY30), lap=lap))
    assert (data["segments"], data["fly"], data["vs_pace"], data["crossings"]) == ([], None, {}, {})
    assert data["lap"] == {
        "distance_m": 800.0, "start": "go", "started_ns": 5 * S, "time_ns": 161_500_000_001, "splits_ns": [80 * S, 81_500_000_001],
        "target_ns": 160 * S, "check": {"verdict": "on-target", "target_s": 160.0, "diff_s": 1.500000001},
        "time_s": 161.500000001, "splits_s": [80.0, 81.500000001], "velocity_mps": lap.velocity_mps, "kmh": lap.kmh,
        "target_s": 160.0, "recovery_s": 90.0,
    }  # fmt: skip
    unfinished = wire(LapReport(400.0, StartKind.ROLLING, 0, None, (), None, None, None))
    assert [unfinished[k] for k in ("time_s", "velocity_mps", "kmh", "target_s", "check", "recovery_s")] == [None] * 6


@pytest.fixture
def workout():
    """Ada's workout after her first rep, a rest under way, at 10 s after it ended."""
    plan = WorkoutPlan("2 x 30m. 1:00 Rec between reps", WorkoutKind.MAX_VELOCITY, (ADA,))
    runner, _ = plan.runner().start(0)
    result = report(flying_run(1, 10 * S), FLY30, ADA.races)
    runner, _ = runner.run_started(10 * S)
    runner, _ = runner.run_finished(21, 1, result, 17 * S)
    return LiveWorkout(plan, 4, runner)


def test_the_workout_state_is_the_live_page_s_json(workout):
    ended = 10 * S + 6_700_000_124
    state = page_state(workout, ended + 10 * S)
    data = wire(state)
    assert list(data) == ["session", "text", "slug", "kind", "mode", "lap_gate", "lap_m", "start", "countdown_s", "wave_s", "rest_scale",
                          "status", "next", "running", "set", "rep", "athletes", "last", "armed", "needs_go", "lap", "effects",
                          "finished", "group", "summary"]  # fmt: skip
    assert {k: data[k] for k in ("session", "kind", "mode", "lap_gate", "countdown_s", "wave_s", "status", "set", "rep", "lap", "group", "summary")} == {
        "session": 4, "kind": "max-velocity", "mode": "line", "lap_gate": None, "countdown_s": None, "wave_s": None, "status": "resting",
        "set": 1, "rep": 2, "lap": None, "group": None, "summary": None,
    }  # fmt: skip
    [ada] = data["athletes"]
    assert data["next"] == ada
    assert list(ada) == ["id", "name", "status", "done", "planned", "next", "rest", "rest_left_ns", "rest_max_left_ns",
                         "rest_elapsed_ns", "jog_m", "suggest_end_set", "last", "bests"]  # fmt: skip
    assert ada["bests"] == {"distance_m": 30.0, "session_s": 3.100000123, "set_s": 3.100000123}  # set 1 rep 2 next: set 1's best so far
    assert (ada["rest_left_ns"], ada["rest_elapsed_ns"]) == (50 * S, 10 * S)  # what is left *then*
    assert ada["next"] == {"set": 1, "rep": 2, "reps_in_set": 2, "sets": 1, "distance_m": 30.0, "target": {
        "style": "faster-than", "text": state.next_up.next_rep.target.text, "velocity_mps": 8.0,
        "paces": [{"race": "400m", "velocity_mps": 8.0, "time_s": 3.75}, {"race": "800m", "velocity_mps": 800 / 110, "time_s": 4.125}],
        "time_s": 3.75,
    }}  # fmt: skip
    last = ada["last"]
    assert last == {
        "set": 1, "rep": 1, "distance_m": 30.0, "outcome": "done", "run": 21, "velocity_mps": 30 / 3.100000123,
        "check": {"verdict": "beat", "target_s": 3.75, "diff_s": -0.649999877}, "drop_off": None, "reason": None,
        "time_s": 3.100000123, "splits_s": [3.600000001, 3.100000123], "rest_s": None,
    }  # fmt: skip
    assert data["last"] == {**last, "athlete": 1, "name": "Ada"}
    assert state.last.attempt.time_ns == 3_100_000_123  # integer ns in the value, seconds on the wire


def test_effects_a_lap_under_way_and_the_summary(workout):
    track = WorkoutPlan("400 @ 1:20", WorkoutKind.TRACK_REPS, (ADA,), track=Track("M1", 400), start=StartKind.GO)
    live = LiveWorkout(track, 5, track.runner(), 1 / 6, lap=LapStart(1, StartKind.GO, 100 * S, 400.0, 1, None),
                       splits=[LapSplit(1, 1, 179 * S, 79 * S, 79 * S, 400.0)])  # fmt: skip
    live.runner, effects = live.runner.start(90 * S)
    data = wire(page_state(live, 98 * S, timer="running", effects=effects))
    assert {k: data[k] for k in ("mode", "lap_gate", "lap_m", "start", "countdown_s", "rest_scale")} == {
        "mode": "track", "lap_gate": "M1", "lap_m": 400.0, "start": "go", "countdown_s": 5.0, "rest_scale": 1 / 6}
    assert data["lap"] == {"number": 1, "start": "go", "distance_m": 400.0, "crossings": 1, "elapsed_ns": -2 * S, "splits_s": [79.0]}
    assert data["effects"] == [{"cue": "call", "athlete": 1, "message": effects[0].message}]
    workout.runner, _ = workout.runner.end(30 * S)
    summary = wire(page_state(workout, 30 * S).summary)
    assert summary == [{
        "id": 1, "name": "Ada", "planned": 2, "done": 1, "skipped": 0, "run_again": 0, "on_target": 1, "checked": 1,
        "distances": [{"distance_m": 30.0, "reps": 1, "best_velocity_mps": 30 / 3.100000123, "mean_velocity_mps": 30 / 3.100000123,
                       "best_s": 3.100000123, "mean_s": 3.100000123, "slowest_s": 3.100000123}],
        "drop_offs": [], "top_speed": None,
    }]  # fmt: skip


def test_values_without_a_json_form_are_refused_with_a_sentence():
    with pytest.raises(TypeError, match="set has no JSON form: make it a dataclass, an enum, a tuple or a mapping."):
        jsonable({"ids": {1, 2}})

    @dataclass(frozen=True)
    class Misnamed:
        time_ns: int
        WIRE = Wire(hide=("time_s",), show=("velocity",))

    with pytest.raises(TypeError, match="Misnamed.WIRE names time_s, velocity: not a field"):
        jsonable(Misnamed(1))
    with pytest.raises(TypeError, match="int is not a dataclass instance."):
        json_object(3)
