"""Workouts on the daemon: the runner driven by simulated crossings, a fake clock and the coach's taps."""

from datetime import UTC, datetime

import pytest
from helpers import LIMBS, LINE_GATE, TRACK, Live, assert_live_equals_recompute, laps

from gatectl.cli import main
from gatectl.coaching.laps import StartKind, Track
from gatectl.coaching.library import WorkoutKind, library_workout
from gatectl.coaching.runner import Athlete
from gatectl.daemon.driver import follow_runs
from gatectl.daemon.workout import WorkoutPlan, group
from gatectl.errors import LayoutError, WorkoutError
from gatectl.jsonable import jsonable
from gatectl.sim.sprinters import Sprinter, lap_edges, overlay, simulate
from gatectl.store import Store
from gatectl.timing.corrections import DropCrossing, SetAthlete, Undo
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout

S, MS = NS_PER_S, NS_PER_MS
FLY30 = Layout.flying(30, 30)
SPEEDS = {"Ana": 9.4, "Ben": 8.8, "Cy": 9.8}


@pytest.fixture
def live(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        for name, vmax in SPEEDS.items():
            athlete = store.add_athlete(name)
            store.set_race_time(athlete, 400, round(400 * S / (vmax * 0.79)))
            store.set_race_time(athlete, 3000, 600 * S)  # 3K pace: 80 s a lap
    live = Live(path)
    live.daemon.start()
    yield live
    live.daemon.stop()


def plan(live, text, kind=WorkoutKind.MAX_VELOCITY, names=("Ana", "Ben", "Cy"), **options):
    with live.store() as store:
        ids = [store.find_athlete(name)["id"] for name in names]
        return WorkoutPlan(text, kind, group(store, ids), **options)


def now(live):
    return live.source.now_ns()


def sprint(live, name, vmax, seed):
    """The athlete runs a flying 30, starting a few seconds from now; returns the run published."""
    before = len(live.events("run"))
    sim = simulate(FLY30, 1, sprinters=[Sprinter(name, vmax_mps=vmax)], seed=seed, options=LIMBS, start_ns=now(live) + 2 * S)
    live.play(sim.edges, then_ns=2 * S)
    [run] = live.events("run")[before:]
    return run


def wait_out_the_rest(live, state):
    """Move the clock to the end of the next athlete's countdown; the effects the workout gave meanwhile."""
    before = len(live.events("workout"))
    end = now(live) + state.next_up.rest_left_ns
    for t in (end - 10 * S, end):  # the warning, then the end
        live.source.advance_to(t)
        live.settle()
    return [e for w in live.events("workout")[before:] for e in w.effects]


def cues(states):
    return [(e.cue, e.athlete_id) for s in states for e in s.effects]


def test_flying_30s_for_three_athletes_walked_through_on_the_daemon(live):
    """The issue's session: next athlete, results against 400 m pace, countdowns, a drop-off, the summary."""
    state = live.daemon.start_workout(plan(live, library_workout("flying-30s").text, slug="flying-30s"))
    ids = {a.name: a.id for a in state.athletes}
    names = {v: k for k, v in ids.items()}
    assert (state.status, state.next_up.name, state.set_no, state.rep_no) == ("ready", "Ana", 1, 1)
    assert state.next_up.next_rep.target.text.startswith("faster than 400m pace (")
    assert live.daemon.snapshot().queue == (ids["Ana"], ids["Ben"], ids["Cy"])
    assert cues(live.events("workout")) == [("call", ids["Ana"])]
    order, seed, beeps, ended_set = [], 0, [], False
    while not state.finished:
        if state.status == "resting":
            beeps += wait_out_the_rest(live, state)
        else:
            athlete = state.next_up
            order.append((athlete.name, state.set_no, state.rep_no))
            fading = (athlete.name, state.set_no, state.rep_no) == ("Cy", 2, 2)
            seed += 1
            run = sprint(live, athlete.name, SPEEDS[athlete.name] * (0.9 if fading else 1.0), seed)
            assert (run.athlete, run.set_no, run.rep_no) == (athlete.name, order[-1][1], order[-1][2])
            assert run.vs_pace["400m"].faster is not fading or run.vs_pace["400m"].percent > 100
            if fading:
                shown = live.daemon.snapshot().workout
                cy = next(a for a in shown.athletes if a.name == "Cy")
                assert cy.suggest_end_set and cy.last.drop_off.percent_slower > 2
                assert ("drop-off", ids["Cy"]) in cues(live.events("workout")[-3:])
                live.daemon.workout_input("end-set", ids["Cy"])
                ended_set = True
        state = live.daemon.snapshot().workout
    assert ended_set
    assert order[:3] == [("Ana", 1, 1), ("Ben", 1, 1), ("Cy", 1, 1)]
    assert len(order) == 26  # Cy's set 2 rep 3 was skipped
    # Each countdown that was waited out beeped 10 s before its end, then at the end, then called.
    assert [e.cue for e in beeps if e.cue != "drop-off"][:3] == ["rest-warning", "rest-over", "call"]
    assert {names[e.athlete_id] for e in beeps if e.cue == "rest-over"} == {"Ana", "Ben", "Cy"}
    summary = {s.name: s for s in state.summary}
    assert [(summary[n].done, summary[n].skipped) for n in ("Ana", "Ben", "Cy")] == [(9, 0), (9, 0), (8, 1)]
    assert (2, 2) in [(d.set_no, d.rep_no) for d in summary["Cy"].drop_offs]  # others may fade by chance (±2 %)
    assert live.daemon.snapshot().queue == ()
    with live.store() as store:
        saved = store.workout(live.daemon.snapshot().session_id)
        assert (saved["slug"], saved["ended"], saved["options"]["mode"]) == ("flying-30s", True, "line")
        assert [s["done"] for s in saved["summary"]] == [9, 9, 8]
    assert_live_equals_recompute(live.path, live.daemon.snapshot().session_id)  # the rep labels survive a recompute


def test_a_voided_run_is_run_again(live):
    live.daemon.start_workout(plan(live, "2 x 30m. 1:00 Rec between reps", names=("Ana",)))
    run = sprint(live, "Ana", 9.4, 1)
    with live.store() as store:
        store.void_run(run.id, "false start")
    live.daemon.run_voided(run.id)
    state = live.daemon.snapshot().workout
    ana = state.athletes[0]
    assert (ana.done, ana.next_rep.rep_no, ana.last.outcome) == (0, 1, "voided")
    assert state.status == "resting"  # a first rep run again: after its own recovery


def test_the_coach_skips_repeats_and_ends(live):
    state = live.daemon.start_workout(plan(live, "2 x 30m. 1:00 Rec between reps", names=("Ana", "Ben")))
    ana, ben = (a.id for a in state.athletes)
    state = live.daemon.workout_input("skip")  # Ana is not there: Ben goes
    assert (state.next_up.id, live.daemon.snapshot().queue) == (ben, (ben, ana))
    sprint(live, "Ben", 8.8, 1)
    state = live.daemon.workout_input("repeat")
    assert state.athletes[1].last.outcome == "repeated"
    with pytest.raises(WorkoutError, match="Go starts track reps"):
        live.daemon.workout_input("go")
    with pytest.raises(WorkoutError, match="Unknown workout action"):
        live.daemon.workout_input("dance")
    state = live.daemon.workout_input("end")
    assert state.finished and [s.skipped for s in state.summary] == [1, 0]
    assert cues(live.events("workout")[-1:]) == [("finished", None)]


def test_ready_cuts_a_rest_short(live):
    live.daemon.start_workout(plan(live, "2 x 30m. 3:00 Rec between reps", names=("Ana",)))
    sprint(live, "Ana", 9.4, 1)
    assert live.daemon.snapshot().workout.status == "resting"
    assert live.daemon.workout_input("ready").status == "ready"


def test_runs_while_disarmed_are_not_reps(live):
    state = live.daemon.start_workout(plan(live, "2 x 30m", names=("Ana",)))
    live.daemon.set_armed(False)
    run = sprint(live, "Ana", 9.4, 1)
    assert run.voided and run.athlete is None and run.set_no is None
    assert live.daemon.snapshot().workout.athletes[0].done == 0
    assert state.next_up.id == live.daemon.snapshot().workout.next_up.id


def test_no_workout_no_taps(live):
    assert live.daemon.snapshot().workout is None
    with pytest.raises(WorkoutError, match="No workout is running"):
        live.daemon.workout_input("skip")


def test_a_workout_that_cannot_run_leaves_the_session_alone(live):
    session = live.daemon.snapshot().session_id
    with pytest.raises(WorkoutError, match="leaves no time"):
        live.daemon.start_workout(plan(live, "400 @ 3k pace - 2:00", WorkoutKind.TRACK_REPS, names=("Ana",)))
    with pytest.raises(LayoutError, match="'L' is not one of M1, M2, M3"):
        live.daemon.start_workout(plan(live, "400", names=("Ana",), track=Track("L")))
    with pytest.raises(WorkoutError, match=r"^The gates time 30 m \(the fly zone, M2→M3\) or 60 m \(the whole line, M1→M3\), not 40 m reps"):
        live.daemon.start_workout(plan(live, "3 x 40m", names=("Ana",)))
    assert live.daemon.snapshot().session_id == session and live.daemon.snapshot().workout is None


def test_a_new_session_ends_the_workout(live):
    live.daemon.start_workout(plan(live, "2 x 30m", names=("Ana",)))
    old = live.daemon.snapshot().session_id
    live.daemon.new_session()
    assert live.daemon.snapshot().workout is None and live.daemon.snapshot().session_id == old + 1
    with live.store() as store:
        assert store.workout(old)["ended"] is True


# ---- Track reps on one gate -----------------------------------------------------------------------


def test_12_x_400_at_3k_pace_with_one_gate(live):
    """Rolling starts through the line, a 200 m jog between, each rep against its target; a recompute agrees."""
    text = library_workout("12x400-3k").text.replace("12 x", "3 x")
    state = live.daemon.start_workout(plan(live, text, WorkoutKind.TRACK_REPS, names=("Ana",), track=TRACK))
    session = live.daemon.snapshot().session_id
    assert (state.timing.mode, state.timing.lap_m, state.armed, state.needs_go) == ("track", 400, True, False)
    assert state.next_up.next_rep.target.time_s == 80.0
    assert [g.gate for g in live.daemon.snapshot().gates] == ["M1"]
    live.play([Edge("M3", now(live) + S, True), Edge("M3", now(live) + S + 80 * MS, False)])  # another gate: not timed
    for number, lap in enumerate((79.4, 80.5, 83.0), 1):
        laps(live, 5, lap, seed=number)
        state = live.daemon.snapshot().workout
        run = live.events("run")[-1]
        assert (run.rep_no, run.lap.time_s, run.lap.target_s) == (number, pytest.approx(lap, abs=0.01), 80.0)
        assert run.lap.check.verdict == ("slow" if lap > 81 else "on-target")
        if number < 3:
            assert (state.status, state.next_up.jog_m, state.armed) == ("recovering", 200.0, False)
            state = live.daemon.workout_input("ready")
            assert state.armed
    assert state.finished and state.summary[0].on_target == 2
    assert state.last.attempt.check.verdict == "slow" and state.last.attempt.drop_off.percent_slower > 2
    with live.store() as store:
        assert [c.kind for c in store.lap_commands(session)] == ["arm", "arm", "arm"]
        assert store.track(session) == TRACK
    live.daemon.new_session()  # closes the track session
    before = assert_live_equals_recompute(live.path, session)
    assert [r.lap.splits_s for r in before["runs"]] == [(pytest.approx(t, abs=0.01),) for t in (79.4, 80.5, 83.0)]


def test_a_go_start_counts_down_and_times_from_the_go(live):
    state = live.daemon.start_workout(plan(live, "2 x 800 @ 2:40 / R30s", WorkoutKind.TRACK_REPS, names=("Ana",), track=TRACK, start=StartKind.GO, countdown_ns=5 * S))
    session = live.daemon.snapshot().session_id
    assert (state.armed, state.needs_go) == (False, True)
    laps(live, 1, speed=2)  # a jog through the line before the go: not timed
    go_at = now(live)
    state = live.daemon.workout_input("go")
    assert state.status == "running" and state.lap.elapsed_ns == -5 * S
    live.play(lap_edges(LINE_GATE, [go_at + 2 * S], speed_mps=2, seed=9), then_ns=0)  # crossing before the go: a false start
    live.source.advance_to(go_at + 5 * S)
    marks = [go_at + 5 * S + 79 * S, go_at + 5 * S + 159 * S]
    live.play(lap_edges(LINE_GATE, marks, speed_mps=5, seed=3, options=LIMBS), then_ns=2 * S)
    run = live.events("run")[-1]
    assert (run.status, run.lap.start, run.lap.splits_s) == ("complete", "go", (pytest.approx(79, abs=0.01), pytest.approx(80, abs=0.01)))
    assert any("before the go" in a["reason"] for a in live.events("anomaly"))
    assert any(w.lap and len(w.lap.splits_s) == 1 for w in live.events("workout"))  # the lap split, live
    state = live.daemon.snapshot().workout
    assert (state.status, state.needs_go) == ("resting", False)
    live.daemon.workout_input("end")
    live.daemon.new_session()
    assert_live_equals_recompute(live.path, session)


def test_a_rep_abandoned_on_the_track_times_out_and_is_run_again(live):
    live.daemon.start_workout(plan(live, "2 x 400 @ 1:20 / R1:00", WorkoutKind.TRACK_REPS, names=("Ana",), track=TRACK))
    laps(live, 3)  # through the line, and never back
    live.source.advance_to(now(live) + 400 * S)
    live.settle()
    run = live.events("run")[-1]
    assert (run.status, run.rep_no) == ("incomplete", 1)
    state = live.daemon.snapshot().workout
    assert (state.athletes[0].last.outcome, state.next_up.next_rep.rep_no) == ("incomplete", 1)


def test_ending_a_track_workout_mid_rep_cancels_the_rep(live):
    session = live.daemon.start_workout(plan(live, "2 x 400 @ 1:20 / R1:00", WorkoutKind.TRACK_REPS, names=("Ana",), track=TRACK)).session
    laps(live, 3)
    live.daemon.workout_input("end")
    run = live.events("run")[-1]
    assert (run.status, run.reason) == ("incomplete", "the workout ended waiting for crossing 1 of 1")
    live.daemon.new_session()
    assert_live_equals_recompute(live.path, session)


def test_the_plan_checks_its_group(tmp_path):
    with Store(tmp_path / "x.db") as store, pytest.raises(WorkoutError, match="at least one athlete"):
        group(store, [])
    assert WorkoutPlan("30m", WorkoutKind.MAX_VELOCITY, (Athlete(1, "A"),)).timing().mode == "line"


def test_fast_rests_scale_every_countdown(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        store.add_athlete("Ana")
    fast = Live(path)
    fast.daemon.rest_scale = 1 / 12
    fast.daemon.start()
    try:
        state = fast.daemon.start_workout(plan(fast, "2 x 30m. 3:00 Rec between reps", names=("Ana",)))
        assert state.rest_scale == pytest.approx(1 / 12)
        sprint(fast, "Ana", 9.4, 1)
        left = fast.daemon.snapshot().workout.next_up.rest_left_ns
        assert 12 * S < left <= 15 * S  # 3:00 / 12, from the end of the run
    finally:
        fast.daemon.stop()


def test_a_max_velocity_rep_shows_the_athlete_s_best_of_the_session_and_of_the_set(live):
    live.daemon.start_workout(plan(live, "2 x 2 x 30m. 0:10 Rec between reps. 0:20 Rec between sets", names=("Ana",)))
    assert live.daemon.snapshot().workout.athletes[0].bests is None  # nothing run yet
    times = []
    for seed in (1, 2, 3):
        run = sprint(live, "Ana", 9.4, seed)
        times.append(run.fly.time_ns)
        state = live.daemon.workout_input("ready")
        bests = state.athletes[0].bests
        assert (bests.distance_m, bests.session_ns) == (30.0, min(times))
        if len(times) == 2:  # set 2 under way, nothing in it yet
            assert state.athletes[0].next_rep.set_no == 2 and bests.set_ns is None
    assert bests.set_ns == times[2]  # set 2's only rep so far
    assert jsonable(bests) == {"distance_m": 30.0, "session_s": min(times) / S, "set_s": times[2] / S}


def test_a_groups_side_by_side_finish_is_marked_by_the_coach_and_stays_marked(live):
    """Ana and Ben finish half a second apart: the page says it cannot tell, the coach's tap settles it for good."""
    state = live.daemon.start_workout(plan(
        live, "2 x 400 @ 1:20 / R1:00", WorkoutKind.TRACK_REPS, names=("Ana", "Ben"), track=TRACK, start=StartKind.GO,
        countdown_ns=5 * S, waves_ns=0,
    ))  # fmt: skip
    ids = {a.name: a.id for a in state.athletes}
    session = state.session
    assert (state.timing.wave_s, state.status, state.needs_go) == (0, "ready", True)
    go_at = now(live) + 5 * S
    state = live.daemon.workout_input("go")
    assert state.group is not None and [a.elapsed_ns for a in state.group.athletes] == [-5 * S, -5 * S]  # the countdown
    live.source.advance_to(go_at)
    bodies = [lap_edges(LINE_GATE, [go_at + t], speed_mps=5, seed=i, options=LIMBS) for i, t in enumerate((80 * S, 80_500 * MS))]
    live.play(overlay(*bodies), then_ns=20 * S)
    state = live.daemon.snapshot().workout
    assert state.group.done and len(state.group.doubts) == 2
    first = state.group.doubts[0]
    assert (first.athlete, first.could_be) == (ids["Ana"], (ids["Ana"], ids["Ben"]))
    runs = {r.athlete: r for r in live.runs()}
    assert [runs[n].lap.time_s for n in ("Ana", "Ben")] == [pytest.approx(80, abs=0.01), pytest.approx(80.5, abs=0.01)]
    with pytest.raises(WorkoutError, match="did not run in that group rep"):
        live.daemon.workout_mark(int(first.crossing), 999)
    state = live.daemon.workout_mark(int(first.crossing), ids["Ben"])  # "this was Ben"
    assert state.group.doubts == () and not any(a.ambiguous for a in state.group.athletes)
    runs = {r.athlete: r for r in live.runs()}
    assert [runs[n].lap.time_s for n in ("Ben", "Ana")] == [pytest.approx(80, abs=0.01), pytest.approx(80.5, abs=0.01)]
    last = {a.name: a.last for a in state.athletes}
    assert [last[n].time_s for n in ("Ben", "Ana")] == [pytest.approx(80, abs=0.01), pytest.approx(80.5, abs=0.01)]
    assert any(r.athlete == "Ben" and not r.ambiguous for r in live.events("run"))  # the page hears the revised runs
    with live.store() as store:
        assert [(m.crossing_ns, m.athlete_id) for m in store.lap_marks(session)] == [(int(first.crossing), ids["Ben"])]
    live.daemon.workout_input("end")
    live.daemon.new_session()
    kept = assert_live_equals_recompute(live.path, session)  # the mark is applied again
    assert {r.athlete: round(r.lap.time_s) for r in kept["runs"]} == {"Ben": 80, "Ana": 80}


def test_the_workout_summary_follows_the_coach_s_corrections(live):
    """A rep's run corrected: the live page's workout and the stored summary take the corrected run; an undo gives
    the rep back; a correction of a session no longer live brings its stored summary up to date too."""
    at = datetime(2026, 12, 2, 10, 42, tzinfo=UTC)
    state = live.daemon.start_workout(plan(live, "2 x 30m. 1:00 Rec between reps", names=("Ana",)))
    session_id = state.session
    run = sprint(live, "Ana", 9.4, 1)
    ana = live.daemon.snapshot().workout.athletes[0]
    assert (ana.done, ana.last.run_id, ana.last.time_s) == (1, run.id, run.fly.time_s)

    def stored():
        with live.store() as store:
            (row,) = store.workout(session_id)["summary"]
            return row["done"], [d["reps"] for d in row["distances"]]

    assert stored() == (1, [1])
    with live.store() as store:
        m2 = store.crossing_ref(session_id, "M2", run.crossings["M2"])
    dropped = live.daemon.correct(session_id, DropCrossing(m2), "coach", at)  # no fly zone: the rep is not timed
    ana = live.daemon.snapshot().workout.athletes[0]
    assert (ana.done, ana.last.outcome, ana.next_rep.rep_no) == (0, "incomplete", 1)
    assert live.events("workout")[-1].athletes[0].done == 0  # the live page was told
    assert stored() == (0, [])
    live.daemon.correct(session_id, Undo(dropped), "coach", at)
    ana = live.daemon.snapshot().workout.athletes[0]
    assert (ana.done, ana.last.time_s) == (1, run.fly.time_s)
    assert stored() == (1, [1])
    live.daemon.new_session()  # the workout ends with its session; corrected later, from History
    with live.store() as store:
        store.correct(session_id, DropCrossing(m2), "coach", at)
        follow_runs(store, session_id, None)
    assert stored() == (0, [])
    with live.store() as store:  # the dropped crossing's edges no longer make it: the correction no longer applies
        store.db.execute("update corrections set payload = replace(payload, '\"M2\"', '\"M3\"')")
        store.db.conn.commit()
    assert main(["recompute", "--db", str(live.path), "--session", str(session_id)]) == 0
    assert stored() == (1, [1])  # a recompute's runs make the stored summary too


def test_a_rep_the_coach_gives_to_another_athlete_counts_for_them(live):
    state = live.daemon.start_workout(plan(live, "2 x 30m. 1:00 Rec between reps", names=("Ana", "Ben")))
    ana, ben = (a.id for a in state.athletes)
    run = sprint(live, "Ben", 8.8, 1)  # Ana was called, Ben ran
    assert [a.done for a in live.daemon.snapshot().workout.athletes] == [1, 0]
    with live.store() as store:
        m1 = store.crossing_ref(state.session, "M1", run.crossings["M1"])
    live.daemon.correct(state.session, SetAthlete(m1, ben, "Ben"), "coach", datetime(2026, 12, 2, 10, 42, tzinfo=UTC))
    ana_now, ben_now = live.daemon.snapshot().workout.athletes
    assert (ana_now.done, ben_now.done, ben_now.last.time_s) == (0, 1, run.fly.time_s)
    with live.store() as store:
        assert [(row["id"], row["done"]) for row in store.workout(state.session)["summary"]] == [(ana, 0), (ben, 1)]
