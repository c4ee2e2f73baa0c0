from itertools import pairwise

import pytest
from helpers import MS, S, passage
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.coaching import laps
from gatectl.coaching.laps import LapRep, LapSettings, LapSplit, LapStart, LapTimer, LapTiming, StartKind
from gatectl.coaching.quality import Verdict
from gatectl.errors import LayoutError, WorkoutError
from gatectl.sim.sprinters import SimOptions, Sprinter, simulate
from gatectl.timing.model import Anomaly, Crossing, Edge, Gate, Layout, Method, RunStatus

GATE = Gate("L", 0.0, ("L",))


def crossing(t_ns: int, gate: str = "L") -> Crossing:
    return Crossing(gate, t_ns, Method.LONGEST)


def run(timer: LapTimer, *times_s: float) -> list:
    events = []
    for t in times_s:
        events += timer.feed(crossing(round(t * S)))
    return events


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def lapping_edges(*marks_s: float) -> list[Edge]:
    """A runner through the one gate with the torso at each mark: knee ahead, clothing flicker, arm behind."""
    edges = [e for mark in marks_s for e in passage(("L",), mark * 1000)]
    return sorted(edges, key=lambda e: e.t_ns)


def play(timing: LapTiming, edges: list[Edge], step_ns: int = 100 * MS) -> list:
    """Feed edges as a live daemon would, advancing the clock every ``step_ns`` between them."""
    events = []
    now = edges[0].t_ns
    for edge in edges:
        while now + step_ns < edge.t_ns:
            now += step_ns
            events += timing.advance(now)
        events += timing.feed(edge)
        now = edge.t_ns
    return events + timing.flush()



# ---- Distances ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "distance, splits",
    [(400, (400,)), (800, (400, 400)), (1200, (400, 400, 400)), (200, (200,)), (600, (200, 400)), (100, (100,))],
)
def test_splits_are_whole_laps_after_a_part_lap(distance, splits):
    assert LapTimer("L").splits_m(distance) == splits


def test_splits_on_a_short_indoor_lap():
    assert LapTimer("L", LapSettings(lap_m=200)).splits_m(800) == (200,) * 4


@pytest.mark.parametrize("distance", [0, -400, float("inf"), float("nan")])
def test_a_rep_needs_a_distance(distance):
    with pytest.raises(WorkoutError, match="positive number of metres"):
        LapTimer("L").splits_m(distance)


def test_settings_are_checked():
    with pytest.raises(WorkoutError, match="lap must be"):
        LapSettings(lap_m=0)
    with pytest.raises(WorkoutError, match="min_velocity_mps < max_velocity_mps"):
        LapSettings(min_velocity_mps=14.0)


# ---- Starts ---------------------------------------------------------------------------------------


def test_go_start_two_laps_with_a_target():
    timer = LapTimer("L")
    [start] = timer.go(10 * S, 800, target_ns=159 * S)
    assert (start.number, start.start, start.started_ns, start.crossings, start.recovery_ns) == (1, StartKind.GO, 10 * S, 2, None)
    assert timer.state == "running"
    events = run(timer, 10.6, 89, 171.5)
    [leaving] = of(events, Anomaly)
    assert leaving.reason.startswith("the athlete leaving the line, or a false trigger: 400 m")
    splits = of(events, LapSplit)
    assert [(s.lap, s.split_ns, s.elapsed_ns, s.distance_m) for s in splits] == [(1, 79 * S, 79 * S, 400), (2, 82_500 * MS, 161_500 * MS, 800)]
    [rep] = of(events, LapRep)
    assert (rep.status, rep.time_ns, rep.splits_ns, rep.ended_ns) == (RunStatus.COMPLETE, 161_500 * MS, (79 * S, 82_500 * MS), 171_500 * MS)
    assert (rep.check.verdict, rep.check.diff_ns, rep.check.tolerance_ns) == (Verdict.SLOW, 2_500 * MS, 2 * S)
    assert timer.state == "idle"


def test_go_can_be_in_the_future_and_a_crossing_before_it_is_a_false_start():
    timer = LapTimer("L")
    timer.go(10 * S, 400)
    [early] = run(timer, 9.5)
    assert early.reason == "crossed 0.50 s before the go: a false start, not timed"
    assert of(run(timer, 75), LapRep)[0].time_ns == 65 * S


def test_part_lap_rep_from_a_go_ends_at_the_line():
    timer = LapTimer("L")
    timer.go(0, 200, target_ns=30 * S)
    [split, rep] = run(timer, 29.6)
    assert (split.distance_m, rep.time_ns, rep.check.verdict) == (200, 29_600 * MS, Verdict.ON_TARGET)


def test_rolling_start_and_the_recovery_to_the_next_start():
    timer = LapTimer("L")
    timer.arm(400, target_ns=80 * S)
    assert timer.state == "armed"
    [start] = run(timer, 5)
    assert (start.start, start.started_ns, start.crossings) == (StartKind.ROLLING, 5 * S, 1)
    [rep] = of(run(timer, 83.8), LapRep)
    assert (rep.start, rep.time_ns, rep.check.verdict, rep.check.diff_ns) == (StartKind.ROLLING, 78_800 * MS, Verdict.FAST, -1_200 * MS)
    timer.arm(400)
    [start] = run(timer, 163.8)
    assert (start.number, start.recovery_ns) == (2, 80 * S)
    [rep] = of(run(timer, 243), LapRep)
    assert (rep.recovery_ns, rep.target_ns, rep.check) == (80 * S, None, None)


def test_rolling_start_needs_whole_laps():
    with pytest.raises(WorkoutError, match="whole number of 400 m laps. Start it with a go from 200 m before the gate"):
        LapTimer("L").arm(600)


def test_three_laps_split_each_lap():
    timer = LapTimer("L")
    timer.arm(1200)
    events = run(timer, 0, 70, 141, 213)
    assert [s.distance_m for s in of(events, LapSplit)] == [400, 800, 1200]
    assert of(events, LapRep)[0].splits_ns == (70 * S, 71 * S, 72 * S)


def test_a_crossing_with_nothing_armed_is_not_timed():
    [jog] = run(LapTimer("L"), 3)
    assert jog.reason == "no rep is armed or running: crossing not timed"


def test_a_crossing_of_another_gate_is_not_timed():
    timer = LapTimer("L")
    timer.arm(400)
    [other] = timer.feed(crossing(S, gate="M2"))
    assert other.source == "M2" and "not the lap gate L" in other.reason
    assert timer.state == "armed"


# ---- False triggers and time-outs ------------------------------------------------------------------


def test_a_lap_too_fast_to_run_is_a_false_trigger_and_the_rep_goes_on():
    timer = LapTimer("L")
    timer.arm(800)
    events = run(timer, 0, 12, 30.7, 61, 140)
    stray = of(events, Anomaly)
    assert [a.t_ns for a in stray] == [12 * S, 30_700 * MS]
    assert stray[0].reason == "a false trigger: 400 m to this crossing would be run at 33.3 m/s, faster than 13 m/s; not timed"
    assert of(events, LapRep)[0].splits_ns == (61 * S, 79 * S)


def test_a_crossing_at_the_same_instant_is_run_instantly():
    timer = LapTimer("L")
    timer.arm(400)
    [stray] = run(timer, 1, 1)[1:]
    assert "would be run instantly" in stray.reason


def test_a_rep_slower_than_a_walk_times_out():
    timer = LapTimer("L")
    timer.go(0, 400)
    deadline = round(400 * S / 1.5)
    assert timer.next_deadline_ns == deadline
    assert timer.advance(deadline) == []
    [rep] = timer.advance(deadline + 1)
    assert (rep.status, rep.reason, rep.time_ns, rep.ended_ns) == (RunStatus.INCOMPLETE, "timed out waiting for crossing 1 of 1", None, 0)
    assert timer.next_deadline_ns is None
    assert "no rep is armed" in run(timer, 300)[0].reason


def test_the_deadline_follows_the_last_split():
    timer = LapTimer("L")
    timer.arm(800)
    run(timer, 0, 70)
    assert timer.next_deadline_ns == 70 * S + round(400 * S / 1.5)
    [rep] = timer.feed(crossing(500 * S))[:1]
    assert rep.reason == "timed out waiting for crossing 2 of 2"
    assert (rep.splits_ns, rep.ended_ns) == ((70 * S,), 70 * S)


def test_cancel_and_flush():
    timer = LapTimer("L")
    timer.arm(400)
    assert timer.cancel(0) == [] and timer.state == "idle"
    timer.go(0, 800)
    run(timer, 65)
    [rep] = timer.cancel(70 * S, "the athlete stopped")
    assert (rep.status, rep.reason, rep.splits_ns) == (RunStatus.INCOMPLETE, "the athlete stopped waiting for crossing 2 of 2", (65 * S,))
    timer.go(80 * S, 400)
    [rep] = timer.flush()
    assert rep.reason == "the record ended waiting for crossing 1 of 1"
    assert timer.flush() == []


def test_cancel_after_the_deadline_gives_the_time_out():
    timer = LapTimer("L")
    timer.go(0, 400)
    [rep] = timer.cancel(400 * S)
    assert rep.reason.startswith("timed out")


def test_commands_that_cannot_apply():
    timer = LapTimer("L")
    with pytest.raises(WorkoutError, match="target time must be above zero"):
        timer.go(0, 400, target_ns=0)
    timer.go(0, 400)
    with pytest.raises(WorkoutError, match="already running"):
        timer.go(S, 400)
    with pytest.raises(WorkoutError, match="already running"):
        timer.arm(400)
    run(timer, 70)
    with pytest.raises(WorkoutError, match="before time already timed"):
        timer.go(69 * S, 400)


def test_go_replaces_an_armed_rolling_start():
    timer = LapTimer("L")
    timer.arm(400)
    timer.go(0, 800)
    events = run(timer, 70)
    assert of(events, LapSplit) and not of(events, LapStart)


# ---- Edges in, through the detector -----------------------------------------------------------------


def test_lap_timing_from_edges_with_limbs():
    timing = LapTiming(GATE)
    timing.go(0, 800, target_ns=150 * S)
    events = play(timing, lapping_edges(0.7, 74.25, 149.5))
    [rep] = of(events, LapRep)
    # the torso is timed, not the knee 50 ms ahead: exactly the marks
    assert rep.splits_ns == (74_250 * MS, 75_250 * MS)
    assert rep.check.verdict is Verdict.ON_TARGET
    assert len(of(events, Crossing)) == 3


def test_a_rep_is_not_timed_out_while_its_last_crossing_is_judged():
    timing = LapTiming(GATE)
    timing.go(0, 400)
    deadline = timing.timer.next_deadline_ns
    edges = lapping_edges(deadline / S - 0.1)  # the torso 100 ms before the deadline, decided 300 ms later
    events = []
    for edge in edges:
        events += timing.feed(edge)
        events += timing.advance(edge.t_ns + 150 * MS)  # past the deadline, inside the window
    events += timing.advance(deadline + S)
    [rep] = of(events, LapRep)
    assert rep.status is RunStatus.COMPLETE


def test_lap_timing_cancel_uses_the_settled_instant():
    timing = LapTiming(GATE)
    timing.go(0, 400)
    [rep] = [e for e in timing.cancel(S) if isinstance(e, LapRep)]
    assert rep.reason == "cancelled waiting for crossing 1 of 1"


def simulated_laps(laps: int, seed: int) -> tuple[list[Edge], list[int]]:
    """A simulated athlete lapping one gate: a line of gates a lap apart, all seen by one beam."""
    line = Layout.from_positions({f"G{k}": 400.0 * k for k in range(laps + 1)})
    sim = simulate(line, 1, sprinters=[Sprinter("Eve", vmax_mps=6.4)], seed=seed, options=SimOptions(limbs=True))
    edges = [Edge("L", e.t_ns, e.broken) for e in sim.edges]
    return edges, list(sim.reps[0].truth.values())


@pytest.mark.parametrize("seed", range(4))
def test_rolling_start_on_the_simulator(seed):
    edges, truth = simulated_laps(3, seed)
    timing = LapTiming(GATE)
    timing.arm(1200, target_ns=190 * S)
    events = play(timing, edges)
    [rep] = of(events, LapRep)
    true_splits = [b - a for a, b in pairwise(truth)]
    assert rep.status is RunStatus.COMPLETE and rep.start is StartKind.ROLLING
    assert all(abs(got - true) < 2 * MS for got, true in zip(rep.splits_ns, true_splits))
    assert abs(rep.time_ns - (truth[-1] - truth[0])) < 2 * MS
    assert not of(events, Anomaly)


def test_go_start_on_the_simulator_sets_aside_leaving_the_line():
    edges, truth = simulated_laps(2, seed=5)
    timing = LapTiming(GATE)
    go = truth[0] - 2 * S  # the athlete set off from just behind the line two seconds before crossing it
    timing.go(go, 800)
    events = play(timing, edges)
    [leaving] = of(events, Anomaly)
    assert leaving.reason.startswith("the athlete leaving the line")
    [rep] = of(events, LapRep)
    assert abs(rep.time_ns - (truth[-1] - go)) < 2 * MS


# ---- Properties ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    laps=st.lists(st.integers(31 * S, 260 * S), min_size=1, max_size=4),
    rolling=st.booleans(),
    advances=st.lists(st.integers(0, 300 * S), max_size=6),
)
def test_splits_are_the_crossings_apart_however_time_is_advanced(laps, rolling, advances):
    """A rep of whole laps at lawful speeds: split times are exactly the gaps, live or in one go."""
    marks = [10 * S]
    for lap in laps:
        marks.append(marks[-1] + lap)
    timer = LapTimer("L")
    if rolling:
        timer.arm(400 * len(laps))
        crossings = marks
    else:
        timer.go(marks[0], 400 * len(laps))
        crossings = marks[1:]
    events = []
    extra = sorted(a for a in advances if a < crossings[-1])
    for t in crossings:
        while extra and extra[0] <= t:
            events += timer.advance(extra.pop(0))
        events += timer.feed(crossing(t))
    [rep] = of(events, LapRep)
    assert rep.splits_ns == tuple(laps) and rep.time_ns == sum(laps)
    assert not of(events, Anomaly)


# ---- A track session: the gate, the coach's commands, a record replayed ---------------------------


def test_a_track_is_a_gate_of_the_layout_and_a_lap():
    layout = Layout.flying()
    timing = laps.Track("M1", 200).timing(layout)
    assert (timing.detector.gate.name, timing.timer.settings.lap_m) == ("M1", 200)
    with pytest.raises(WorkoutError, match="lap must be"):
        laps.Track("M1", 0)
    with pytest.raises(LayoutError, match="'L' is not one of M1, M2, M3"):
        laps.Track("L").timing(layout)


@settings(max_examples=40, deadline=None)
@given(
    go_first=st.booleans(),
    lap_s=st.lists(st.integers(60, 90), min_size=2, max_size=2),
    clock_steps_ms=st.integers(20, 2000),
)
def test_a_record_replays_into_the_reps_timed_live(go_first, lap_s, clock_steps_ms):
    """Commands applied where the live timing had got to; time_laps gives the same reps in one go."""
    layout = Layout.parse("L=0,X=10")
    gate = layout.gate("L")
    marks = [20 * S, 20 * S + lap_s[0] * S, 20 * S + (lap_s[0] + lap_s[1]) * S]
    edges = lapping_edges(*(m / S for m in marks)) + [Edge("X", 5 * S, True), Edge("X", 5 * S + 90 * MS, False)]
    edges.sort(key=lambda e: e.t_ns)
    live = laps.Track("L").timing(layout)
    commands, events, now = [], [], 0
    pending = [(10 * S, "go" if go_first else "arm"), (marks[1] + 3 * S, "arm")]
    step = clock_steps_ms * MS
    for edge in edges:
        while now + step < edge.t_ns:  # the daemon's clock, moving between edges
            now += step
            events += live.advance(now)
            while pending and pending[0][0] <= now:
                _, kind = pending.pop(0)
                command = (
                    laps.LapCommand(now, laps.Command.GO, 400, None, start_ns=now + 5 * S)
                    if kind == "go" else laps.LapCommand(now, laps.Command.ARM, 400)
                )
                commands.append(command)
                events += command.apply(live)
        if edge.beam in gate.beams:
            events += live.feed(edge)
    commands.append(laps.LapCommand(now, laps.Command.CLOSE))
    events += commands[-1].apply(live) + live.flush()
    replayed = laps.time_laps(edges, commands, laps.Track("L").timing(layout))
    assert replayed.reps == tuple(of(events, LapRep))
    assert replayed.crossings == tuple(of(events, Crossing))
    assert replayed.anomalies == tuple(of(events, Anomaly))
    assert len(replayed.reps) == 2


def test_a_cancel_ends_the_rep_running_and_disarms():
    timing = LapTiming(GATE)
    timing.arm(400)
    assert laps.LapCommand(S, laps.Command.CANCEL, reason="nobody was called").apply(timing) == []
    assert timing.timer.state == "idle"
    timing.go(2 * S, 400)
    [rep] = laps.LapCommand(3 * S, laps.Command.CANCEL, reason="the workout ended").apply(timing)
    assert (rep.status, rep.reason) == (RunStatus.INCOMPLETE, "the workout ended waiting for crossing 1 of 1")


def test_a_lap_command_missing_its_distance_or_start_is_refused():
    timing = LapTiming(GATE)
    with pytest.raises(WorkoutError, match="A lap arm needs the rep's distance."):
        laps.LapCommand(S, laps.Command.ARM).apply(timing)
    with pytest.raises(WorkoutError, match="A lap go needs the rep's distance and the instant its countdown ends."):
        laps.LapCommand(S, laps.Command.GO, 400).apply(timing)
    assert timing.timer.state == "idle"
