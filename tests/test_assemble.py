import pytest
from helpers import S

from gatectl.errors import ConfigError
from gatectl.timing.assemble import AssemblySettings, RunAssembler
from gatectl.timing.model import Crossing, Layout, Method, RunStatus

FLYING = Layout.flying()


def at(gate, seconds):
    return Crossing(gate, round(seconds * S), Method.LONGEST)


def assemble(crossings, layout=FLYING, settings=None):
    assembler = RunAssembler(layout, settings)
    runs = [run for c in crossings for run in assembler.feed(c)]
    return runs + assembler.flush()


def summary(runs):
    return [(r.number, r.status, [(c.gate, c.t_ns / S) for c in r.crossings]) for r in runs]


def test_complete_run():
    crossings = [at("M1", 0), at("M2", 4), at("M3", 7)]
    (run,) = assemble(crossings)
    assert (run.number, run.status, run.crossings, run.reason) == (1, RunStatus.COMPLETE, tuple(crossings), None)


def test_run_is_reported_once_the_decision_wait_is_over():
    # A later crossing may still change the match (a ball just before the athlete at M3): wait 2 s.
    assembler = RunAssembler(FLYING)
    assert assembler.feed(at("M1", 0)) == assembler.feed(at("M2", 4)) == assembler.feed(at("M3", 7)) == []
    assert [r.status for r in assembler.open_runs] == [RunStatus.OPEN]
    assert assembler.next_deadline_ns == 9 * S
    assert assembler.advance(9 * S) == []
    assert [r.status for r in assembler.advance(9 * S + 1)] == [RunStatus.COMPLETE]
    assert assembler.open_runs == []


def test_athletes_on_the_course_together_are_matched_first_in_first_out():
    crossings = sorted(
        [at("M1", 0), at("M2", 4), at("M3", 7), at("M1", 1), at("M2", 5.2), at("M3", 8.3)], key=lambda c: c.t_ns
    )
    assert summary(assemble(crossings)) == [
        (1, RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)]),
        (2, RunStatus.COMPLETE, [("M1", 1), ("M2", 5.2), ("M3", 8.3)]),
    ]


def test_false_trigger_is_kept_and_the_run_waits_for_the_real_crossing():
    runs = assemble([at("M1", 0), at("M2", 1), at("M2", 4), at("M3", 7)])  # 30 m in 1 s: 30 m/s
    assert summary(runs) == [  # the run is decided first: the false trigger could still have begun one
        (1, RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)]),
        (2, RunStatus.REJECTED, [("M2", 1)]),
    ]
    assert runs[1].reason == "false trigger at M2: M1→M2 (30 m) would be run at 30.0 m/s, faster than 13 m/s"


def test_false_trigger_at_the_same_instant():
    runs = assemble([at("M1", 0), at("M2", 0), at("M2", 4), at("M3", 7)])
    (rejected,) = [r for r in runs if r.status is RunStatus.REJECTED]
    assert "would be run instantly" in rejected.reason


@pytest.mark.parametrize(("elapsed_ns", "status"), [(S, RunStatus.COMPLETE), (S - 1, RunStatus.REJECTED)])
def test_exactly_the_top_velocity_is_allowed(elapsed_ns, status):
    layout = Layout.parse("A=0,B=13")  # 13 m at 13 m/s: one second
    runs = assemble([Crossing("A", 0, Method.LONGEST), Crossing("B", elapsed_ns, Method.LONGEST)], layout)
    assert runs[0].status is status


def test_top_velocity_can_be_set():
    runs = assemble([at("M1", 0), at("M2", 2), at("M3", 4)], settings=AssemblySettings(max_velocity_mps=16))
    assert [r.status for r in runs] == [RunStatus.COMPLETE]


def test_orphan_crossing_is_kept_as_rejected():
    runs = assemble([at("M2", 4), at("M1", 10), at("M2", 14), at("M3", 17)])
    assert summary(runs)[0] == (1, RunStatus.REJECTED, [("M2", 4)])
    assert runs[0].reason == "orphan crossing at M2: no run was waiting for it"
    assert (runs[1].number, runs[1].status) == (2, RunStatus.COMPLETE)


def test_crossing_at_a_gate_the_layout_lacks_is_rejected():
    (run,) = assemble([at("M9", 1)])
    assert (run.status, run.reason) == (RunStatus.REJECTED, "gate M9 is not in layout M1=0,M2=30,M3=60")


def test_lone_crossing_is_rejected_once_no_gate_could_follow_it():
    # A single-gate crossing never makes a run (it took an athlete off the queue as an "incomplete" one).
    assembler = RunAssembler(FLYING)  # M2 missed, 60 m at 2.5 m/s: 24 s to reach M3
    assembler.feed(at("M1", 0))
    assert assembler.advance(24 * S) == []
    (run,) = assembler.advance(24 * S + 1)
    assert run.status is RunStatus.REJECTED
    assert run.reason.startswith("lone crossing at M1")
    assert [c.gate for c in run.crossings] == ["M1"]
    assert assembler.open_runs == []


def test_timeout_counts_from_the_last_gate_reached():
    assembler = RunAssembler(FLYING, AssemblySettings(min_velocity_mps=1.5, min_pair_velocity_mps=1.5))  # M1→M2 at 2 m/s is a run
    assembler.feed(at("M1", 0))
    assembler.feed(at("M2", 15))
    assert assembler.advance(34 * S) == []  # M2 + 20 s
    (run,) = assembler.advance(35 * S + 1)
    assert "no crossing at M3" in run.reason


def test_crossing_after_a_timeout_is_an_orphan():
    runs = assemble([at("M1", 0), at("M2", 25)])  # 1.2 m/s: a walk, and M1 alone is no run
    assert summary(runs) == [(1, RunStatus.REJECTED, [("M1", 0)]), (2, RunStatus.REJECTED, [("M2", 25)])]
    assert "orphan" in runs[1].reason
    assert "slower than a run" in runs[1].reason


def test_flush_leaves_open_runs_incomplete():
    runs = assemble([at("M1", 0), at("M2", 4)])
    assert summary(runs) == [(1, RunStatus.INCOMPLETE, [("M1", 0), ("M2", 4)])]
    assert runs[0].reason.startswith("no crossing at M3 after M2")


def test_numbers_count_runs_and_rejections_in_the_order_they_began():
    runs = assemble([at("M2", 1), at("M1", 2), at("M1", 3), at("M2", 3.5), at("M2", 6), at("M3", 9)])
    assert sorted((r.number, r.status) for r in runs) == [
        (1, RunStatus.REJECTED),  # orphan at M2
        (2, RunStatus.COMPLETE),
        (3, RunStatus.REJECTED),  # M1 at 3 alone: no run (FIFO made it an incomplete one)
        (4, RunStatus.REJECTED),  # M1 at 3 → M2 at 3.5 is 60 m/s for run 2
    ]


@pytest.mark.parametrize("order", [("M1", "M2"), ("M2", "M1")])
def test_crossings_at_the_same_instant_on_different_gates(order):
    # One athlete reaches M2 the moment the next one starts at M1.
    assembler = RunAssembler(FLYING)
    assembler.feed(at("M1", 0))
    runs = [r for gate in order for r in assembler.feed(at(gate, 5))]
    runs += assembler.feed(at("M3", 8)) + assembler.feed(at("M2", 9)) + assembler.feed(at("M3", 12)) + assembler.flush()
    assert summary(runs) == [
        (1, RunStatus.COMPLETE, [("M1", 0), ("M2", 5), ("M3", 8)]),
        (2, RunStatus.COMPLETE, [("M1", 5), ("M2", 9), ("M3", 12)]),
    ]


def test_any_number_of_gates():
    layout = Layout.parse(",".join(f"S{i}={10 * i}" for i in range(11)))
    (run,) = assemble([Crossing(f"S{i}", i * S + (i > 0) * S, Method.FIRST) for i in range(11)], layout)
    assert run.status is RunStatus.COMPLETE
    assert len(run.crossings) == 11


# --- runs by what a sprinter can do -------------------------------------------------


def by_status(runs):
    return {status: [r for r in runs if r.status is status] for status in RunStatus}


def test_missed_m1_keeps_the_fly_time():
    (run,) = assemble([at("M2", 1), at("M3", 4)])
    assert (run.status, [c.gate for c in run.crossings]) == (RunStatus.COMPLETE, ["M2", "M3"])
    assert run.reason == "M1 not seen: timed from M2, acceleration zone not seen"
    assert not run.ambiguous


def test_missed_m2_never_invents_a_fly_time():
    (run,) = assemble([at("M1", 0), at("M3", 7)])
    assert (run.status, [c.gate for c in run.crossings]) == (RunStatus.INCOMPLETE, ["M1", "M3"])
    assert run.reason == "no crossing at M2 (missed break?): no fly time; M1→M3 is the average over the whole line"


def test_walk_back_is_rejected_and_never_makes_a_run():
    # A run, then the athlete walks back through M3, M2 and M1 at 1.4 m/s.
    crossings = [at("M1", 0), at("M2", 4), at("M3", 7), at("M3", 60), at("M2", 60 + 30 / 1.4), at("M1", 60 + 60 / 1.4)]
    runs = assemble(crossings)
    assert [[c.gate for c in r.crossings] for r in by_status(runs)[RunStatus.COMPLETE]] == [["M1", "M2", "M3"]]
    rejected = by_status(runs)[RunStatus.REJECTED]
    assert [(r.crossings[0].gate, r.reason.split(":")[0]) for r in rejected] == [
        ("M3", "orphan crossing at M3"),
        ("M2", "walk-back at M2"),
        ("M1", "walk-back at M1"),
    ]
    assert len(runs) == 4


def test_walk_through_is_too_slow_for_a_run():
    runs = assemble([at("M1", 0), at("M2", 30 / 1.4), at("M3", 60 / 1.4)])
    assert [r.status for r in runs] == [RunStatus.REJECTED] * 3
    assert "slower than a run (2.5 m/s): someone walking through?" in runs[1].reason


@pytest.mark.parametrize("stray", [("M1", -0.4), ("M1", 1.5), ("M2", 1.0), ("M3", 2.0), ("M3", 9.5), ("M2", 8)])
def test_a_crossing_at_one_gate_never_takes_part_in_a_run(stray):
    gate, seconds = stray  # somebody crossing one gate, or a ball, near the athlete's run
    crossings = sorted([at("M1", 0), at("M2", 3.8), at("M3", 6.9), at(gate, seconds)], key=lambda c: c.t_ns)
    runs = assemble(crossings)
    (run,) = by_status(runs)[RunStatus.COMPLETE]
    assert [c.t_ns for c in run.crossings] == [0, round(3.8 * S), round(6.9 * S)]
    assert not run.ambiguous
    (stray_run,) = by_status(runs)[RunStatus.REJECTED]
    assert stray_run.crossings == (at(gate, seconds),) and stray_run.reason


def test_ball_that_fits_as_well_as_the_athlete_makes_the_run_ambiguous():
    # M2 at 3.5 s (a ball) or at 4.0 s: 8.6 then 8.6 m/s, or 7.5 then 10 m/s: both are sprints.
    runs = assemble([at("M1", 0), at("M2", 3.5), at("M2", 4), at("M3", 7)])
    (run,) = by_status(runs)[RunStatus.COMPLETE]
    assert run.ambiguous
    assert run.reason.startswith("ambiguous: M2 at +")
    assert len(by_status(runs)[RunStatus.REJECTED]) == 1


def test_missed_m1_with_a_second_m3_is_ambiguous_not_guessed():
    runs = assemble([at("M2", 1), at("M3", 4), at("M3", 4.4)])
    (run,) = by_status(runs)[RunStatus.COMPLETE]
    assert run.ambiguous and "M3 at +" in run.reason


@pytest.mark.parametrize("gap", [1.0, 1.5, 2.0])
def test_athletes_close_together_are_kept_apart(gap):
    # A accelerates 7.5 → 9.7 m/s; B, ``gap`` s behind, 8.1 → 9.4 m/s.
    a = [at("M1", 0), at("M2", 4), at("M3", 7.1)]
    b = [at("M1", gap), at("M2", gap + 3.7), at("M3", gap + 6.9)]
    runs = assemble(sorted(a + b, key=lambda c: c.t_ns))
    assert [(r.status, list(r.crossings), r.ambiguous) for r in runs] == [
        (RunStatus.COMPLETE, a, False),
        (RunStatus.COMPLETE, b, False),
    ]


def test_three_athletes_with_missed_crossings_are_kept_apart():
    a = [at("M1", 0), at("M2", 3.6), at("M3", 6.6)]
    b = [at("M1", 1.2), at("M3", 8.4)]  # B's M2 missed
    c = [at("M2", 8.2), at("M3", 11.3)]  # C's M1 missed
    runs = assemble(sorted(a + b + c, key=lambda x: x.t_ns))
    assert sorted(([x.gate for x in r.crossings], r.status) for r in runs) == [
        (["M1", "M2", "M3"], RunStatus.COMPLETE),
        (["M1", "M3"], RunStatus.INCOMPLETE),
        (["M2", "M3"], RunStatus.COMPLETE),
    ]
    assert {r.crossings[0].t_ns for r in runs} == {0, round(1.2 * S), round(8.2 * S)}


def test_acceleration_from_a_standing_start_with_5_m_splits():
    layout = Layout.parse("S0=0,S5=5,S10=10,S15=15,S20=20,S30=30")
    times = [0, 1.25, 2.0, 2.65, 3.25, 4.35]  # 4 m/s over the first 5 m, then 6.7, 7.7, 8.3, 9.1
    crossings = [Crossing(g.name, round(t * S), Method.LONGEST) for g, t in zip(layout.gates, times)]
    (run,) = assemble(crossings, layout)
    assert (run.status, run.crossings, run.reason) == (RunStatus.COMPLETE, tuple(crossings), None)


def test_a_missed_split_gate_is_named():
    layout = Layout.parse(",".join(f"S{i}={10 * i}" for i in range(6)))
    crossings = [Crossing(f"S{i}", round((i + 0.5) * S), Method.FIRST) for i in (0, 1, 3, 4, 5)]
    (run,) = assemble(crossings, layout)
    assert (run.status, run.reason) == (RunStatus.COMPLETE, "no crossing at S2 (missed break?)")


def test_two_missed_gates_in_a_row_split_the_run_unless_allowed():
    layout = Layout.parse(",".join(f"S{i}={10 * i}" for i in range(6)))
    crossings = [Crossing(f"S{i}", i * S, Method.FIRST) for i in (0, 1, 4, 5)]
    assert len(assemble(crossings, layout)) == 2
    (run,) = assemble(crossings, layout, AssemblySettings(max_missed_gates=2))
    assert run.reason == "no crossing at S2, S3 (missed break?)"


def test_a_sudden_change_of_speed_breaks_the_run():
    # 10 m/s to M2, then 30 m in 6 s (5 m/s): half speed is no sprint. Which two belong together is anyone's guess.
    runs = assemble([at("M1", 0), at("M2", 3), at("M3", 9)])
    assert sorted(len(r.crossings) for r in runs) == [1, 2]
    (run,) = [r for r in runs if len(r.crossings) == 2]
    assert run.ambiguous and run.reason.startswith("ambiguous: M1 at -3.00 s, without M3 would fit about as well")


def test_a_stray_crossing_before_m1_leaves_the_fly_time_certain():
    runs = assemble([at("M1", -0.4), at("M1", 0), at("M2", 3.8), at("M3", 6.9)])
    (run,) = by_status(runs)[RunStatus.COMPLETE]
    assert not run.ambiguous
    assert run.reason.startswith("acceleration zone uncertain: M1 at -0.40 s would fit about as well")


def test_a_decision_waits_for_a_crossing_that_could_still_follow():
    assembler = RunAssembler(FLYING)
    assembler.feed(at("M1", 0))
    assembler.feed(at("M2", 4))  # M3 missed: M2 could be followed for 30 m / 2.5 m/s = 12 s
    assert assembler.next_deadline_ns == 16 * S
    (run,) = assembler.advance(16 * S + 1)
    assert run.status is RunStatus.INCOMPLETE


@pytest.mark.parametrize(
    "settings",
    [dict(min_velocity_mps=0), dict(max_velocity_mps=float("nan")), dict(min_velocity_mps=14), dict(min_speed_ratio=1.5),
     dict(max_missed_gates=-1), dict(decision_wait_ns=1.5), dict(ambiguity_margin=-1), dict(overtake_cost=True)],
)
def test_settings_are_bounded(settings):
    with pytest.raises(ConfigError):
        AssemblySettings(**settings)


def test_two_crossings_that_may_be_someone_walking_back_are_ambiguous():
    # Someone crosses M3 walking back, then M2 20 s later, as another crosses M3: a "fly" of 3 s.
    runs = assemble([at("M3", 0), at("M2", 20), at("M3", 23)])
    (pair,) = [r for r in runs if len(r.crossings) == 2]
    assert pair.ambiguous and pair.reason.startswith("ambiguous: M2 may be someone walking back, crossed after M3")


def test_a_walker_already_past_explains_no_later_crossing():
    # The walker crossed M2 at 20 s; the athlete (M1 missed) crosses M2 at 25 s and M3 at 28 s.
    runs = assemble([at("M3", 0), at("M2", 20), at("M2", 25), at("M3", 28)])
    (run,) = by_status(runs)[RunStatus.COMPLETE]
    assert [c.t_ns for c in run.crossings] == [25 * S, 28 * S] and not run.ambiguous
    assert [r.reason.split(":")[0] for r in by_status(runs)[RunStatus.REJECTED]] == ["orphan crossing at M3", "walk-back at M2"]


def test_a_run_s_own_last_crossing_is_no_walk_back():
    first = [at("M1", 0), at("M2", 4), at("M3", 7)]
    runs = assemble([*first, at("M2", 25), at("M3", 28)])  # the next athlete, M1 missed
    assert [(len(r.crossings), r.status, r.ambiguous) for r in runs] == [(3, RunStatus.COMPLETE, False), (2, RunStatus.COMPLETE, False)]
