import itertools

import pytest

from gatectl.coaching.laps import LapRep, LapTiming
from gatectl.errors import ConfigError
from gatectl.sim.sprinters import Fault, SimOptions, Sprinter, heats, lap_edges, overlay, simulate
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout

FLY30 = Layout.parse("M1=0,M2=30,M3=60")
DUAL = Layout.parse("M1=0,M2=30,M3=60", method="dual")
DELAY = SimOptions().sensor_delay_ns
EXACT = SimOptions(jitter_ns=0)  # edges at the physical break plus the delay, to the nanosecond


def breaks(edges, beam):
    """(start, end) of each break of ``beam``."""
    times = [e.t_ns for e in edges if e.beam == beam]
    return list(zip(times[::2], times[1::2]))


def broken_at(edges, beam, t_ns):
    return any(start <= t_ns < end for start, end in breaks(edges, beam))


def test_same_seed_same_simulation_and_another_seed_differs():
    options = SimOptions(limbs=True, faults=frozenset(Fault))
    first = simulate(DUAL, 4, seed=11, options=options)
    assert simulate(DUAL, 4, seed=11, options=options) == first
    assert simulate(DUAL, 4, seed=12, options=options).edges != first.edges


def test_truth_runs_gate_by_gate_and_fly_times_match_top_speed():
    sim = simulate(FLY30, 40, seed=3)
    for rep in sim.reps:
        assert list(rep.truth) == ["M1", "M2", "M3"]
        assert rep.truth["M1"] < rep.truth["M2"] < rep.truth["M3"]
        assert abs(rep.vmax_mps / 9.5 - 1) <= 0.02
        # By M2 the runner is within a whisker of top speed: the fly 30 takes 30 m / vmax, a touch more.
        ideal_ns = 30 / rep.vmax_mps * NS_PER_S
        assert ideal_ns <= rep.fly_time_ns <= ideal_ns * 1.01
    fly_s = [rep.fly_time_ns / NS_PER_S for rep in sim.reps]
    assert min(fly_s) > 3.10 and max(fly_s) < 3.25
    assert max(fly_s) - min(fly_s) > 0.02  # reps vary


def test_acceleration_zone_is_slower_than_the_fly_zone():
    for rep in simulate(FLY30, 10, seed=4).reps:
        assert rep.truth["M2"] - rep.truth["M1"] > rep.fly_time_ns + 50 * NS_PER_MS


@pytest.mark.parametrize("layout", [FLY30, DUAL], ids=["single", "dual"])
@pytest.mark.parametrize(
    "options",
    [SimOptions(), SimOptions(limbs=True), SimOptions(limbs=True, faults=frozenset(Fault), jitter_ns=3 * NS_PER_MS)],
    ids=["torso", "limbs", "faults-and-big-jitter"],
)
def test_edges_are_sorted_and_alternate_on_every_beam(layout, options):
    edges = simulate(layout, 8, seed=5, options=options).edges
    assert [e.t_ns for e in edges] == sorted(e.t_ns for e in edges)
    for beam in layout.beams:
        own = [e for e in edges if e.beam == beam]
        assert own, beam
        assert [e.broken for e in own] == [True, False] * (len(own) // 2)
        assert all(a.t_ns < b.t_ns for a, b in itertools.pairwise(own))


def test_torso_alone_breaks_each_beam_once_from_truth_plus_delay():
    sim = simulate(FLY30, 3, seed=6, options=EXACT)
    for rep in sim.reps:
        for gate, t_ns in rep.truth.items():
            near = [(s, e) for s, e in breaks(sim.edges, gate) if abs(s - t_ns) < NS_PER_S]
            assert len(near) == 1
            start, end = near[0]
            assert start == t_ns + DELAY
            assert 20 * NS_PER_MS < end - start < 120 * NS_PER_MS  # 0.25–0.35 m deep at 3–10 m/s


def test_limbs_break_the_beam_before_the_torso_and_leave_truth_alone():
    plain = simulate(FLY30, 10, seed=7, options=EXACT)
    limbs = simulate(FLY30, 10, seed=7, options=SimOptions(limbs=True, jitter_ns=0))
    assert [r.truth for r in limbs.reps] == [r.truth for r in plain.reps]
    early = 0
    for rep in limbs.reps:
        for gate, t_ns in rep.truth.items():
            first = min(s for s, _ in breaks(limbs.edges, gate) if abs(s - t_ns) < NS_PER_S)
            early += first < t_ns + DELAY
            speed_floor = 3.0  # m/s: nobody is slower than the jog-in
            assert t_ns + DELAY - first <= 0.6 / speed_floor * NS_PER_S  # limbs lead by ≤ 0.6 m
            assert broken_at(limbs.edges, gate, t_ns + DELAY + NS_PER_MS // 2)  # the torso is there
    assert early >= 15  # of 30 passages: a knee usually leads
    assert len(limbs.edges) > len(plain.edges)


def test_dual_torso_breaks_both_beams_upper_a_few_ms_first():
    sim = simulate(DUAL, 5, seed=8, options=EXACT)
    for rep in sim.reps:
        for gate, t_ns in rep.truth.items():
            (lower_start, _), = [b for b in breaks(sim.edges, gate + "a") if abs(b[0] - t_ns) < NS_PER_S]
            (upper_start, _), = [b for b in breaks(sim.edges, gate + "b") if abs(b[0] - t_ns) < NS_PER_S]
            assert lower_start == t_ns + DELAY
            assert 0 < lower_start - upper_start < 20 * NS_PER_MS
            assert broken_at(sim.edges, gate + "b", t_ns + DELAY + NS_PER_MS)


def test_dual_knees_break_only_the_lower_beam():
    sim = simulate(DUAL, 10, seed=9, options=SimOptions(limbs=True, jitter_ns=0))
    lower_early = upper_long_early = 0
    for rep in sim.reps:
        for gate, t_ns in rep.truth.items():
            # Before the chest (≤ 0.05 m ahead) only knees and hands break a beam; on the upper beam
            # those breaks are hands: 10 ms at most.
            lean_ns = round(0.05 / 3.0 * NS_PER_S)
            for start, _ in breaks(sim.edges, gate + "a"):
                lower_early += t_ns - NS_PER_S < start < t_ns + DELAY - lean_ns
            for start, end in breaks(sim.edges, gate + "b"):
                if t_ns - NS_PER_S < start < t_ns + DELAY - lean_ns:
                    upper_long_early += end - start > 10 * NS_PER_MS
    assert lower_early >= 10
    assert upper_long_early == 0


def test_missed_fault_removes_one_torso_break():
    plain = simulate(FLY30, 4, seed=10, options=EXACT)
    sim = simulate(FLY30, 4, seed=10, options=SimOptions(jitter_ns=0, faults=frozenset({Fault.MISSED})))
    assert len(sim.edges) == len(plain.edges) - 2 * len(sim.reps)
    for rep in sim.reps:
        (fault,) = rep.faults
        assert fault.kind is Fault.MISSED
        assert fault.start_ns == rep.truth[fault.where]
        assert not any(abs(s - rep.truth[fault.where]) < NS_PER_S for s, _ in breaks(sim.edges, fault.where))
        for gate in set(rep.truth) - {fault.where}:
            assert broken_at(sim.edges, gate, rep.truth[gate] + DELAY + NS_PER_MS)


def test_stuck_fault_holds_a_beam_broken_for_seconds():
    sim = simulate(FLY30, 3, seed=11, options=SimOptions(jitter_ns=0, faults=frozenset({Fault.STUCK})))
    for rep in sim.reps:
        (fault,) = rep.faults
        assert fault.kind is Fault.STUCK and fault.where in FLY30.beams
        assert 2 * NS_PER_S <= fault.end_ns - fault.start_ns <= 5 * NS_PER_S
        assert rep.start_ns <= fault.start_ns <= rep.truth["M3"]
        assert any(
            s <= fault.start_ns + DELAY and fault.end_ns + DELAY <= e for s, e in breaks(sim.edges, fault.where)
        )


def test_spurious_fault_adds_one_stray_break_before_the_athlete_arrives():
    plain = simulate(FLY30, 4, seed=12, options=EXACT)
    sim = simulate(FLY30, 4, seed=12, options=SimOptions(jitter_ns=0, faults=frozenset({Fault.SPURIOUS})))
    assert len(sim.edges) == len(plain.edges) + 2 * len(sim.reps)
    for rep in sim.reps:
        (fault,) = rep.faults
        assert fault.kind is Fault.SPURIOUS
        assert (fault.start_ns + DELAY, fault.end_ns + DELAY) in breaks(sim.edges, fault.where)
        assert 2 * NS_PER_MS <= fault.end_ns - fault.start_ns <= 20 * NS_PER_MS
        assert fault.end_ns < rep.truth[fault.where]


def test_pair_fault_sends_a_second_runner_one_to_two_seconds_behind():
    roster = [Sprinter("Ada", vmax_mps=9.0), Sprinter("Bo", vmax_mps=9.0)]
    sim = simulate(FLY30, 4, sprinters=roster, seed=13, options=SimOptions(faults=frozenset({Fault.PAIR})))
    assert [r.number for r in sim.reps] == [1, 2, 3, 4]
    assert [r.sprinter.name for r in sim.reps] == ["Ada", "Bo", "Ada", "Bo"]
    leaders, followers = sim.reps[0::2], sim.reps[1::2]
    assert all(not r.faults for r in leaders)
    for leader, follower in zip(leaders, followers):
        (fault,) = follower.faults
        assert fault.kind is Fault.PAIR
        assert (fault.start_ns, fault.end_ns) == (leader.truth["M1"], follower.truth["M1"])
        behind = follower.truth["M1"] - leader.truth["M1"]
        assert 0.8 * NS_PER_S < behind < 2.2 * NS_PER_S
        assert follower.truth["M1"] < leader.truth["M3"]  # both on the track at once


def test_fault_chance_zero_injects_nothing():
    sim = simulate(FLY30, 5, seed=14, options=SimOptions(faults=frozenset(Fault), fault_chance=0.0))
    assert sim == simulate(FLY30, 5, seed=14)


def test_heats_are_endless_lazy_and_never_overlap():
    roster = [Sprinter("Ada"), Sprinter("Bo"), Sprinter("Cy")]
    played = list(itertools.islice(heats(FLY30, sprinters=roster, seed=15, start_ns=10**12, gap_ns=15 * NS_PER_S), 30))
    reps = [rep for heat in played for rep in heat.reps]
    assert [r.number for r in reps] == list(range(1, 31))
    assert [r.sprinter.name for r in reps[:4]] == ["Ada", "Bo", "Cy", "Ada"]
    assert reps[0].start_ns == 10**12
    for before, after in itertools.pairwise(played):
        assert before.edges[-1].t_ns < after.edges[0].t_ns
        assert after.reps[0].start_ns >= before.reps[-1].truth["M3"] + 15 * NS_PER_S


def test_heats_match_simulate():
    sim = simulate(FLY30, 6, seed=16, options=SimOptions(limbs=True))
    played = list(heats(FLY30, 6, seed=16, options=SimOptions(limbs=True)))
    assert tuple(e for heat in played for e in heat.edges) == sim.edges


@pytest.mark.parametrize(
    "make",
    [
        lambda: simulate(FLY30, 0),
        lambda: simulate(FLY30, 2, sprinters=[]),
        lambda: simulate(FLY30, 2, gap_ns=-1),
        lambda: heats(FLY30, -3),
        lambda: Sprinter("Ada", vmax_mps=-9.5),
        lambda: Sprinter("Ada", vmax_mps=3.0, approach_mps=3.5),
        lambda: SimOptions(jitter_ns=-1),
        lambda: SimOptions(sensor_delay_ns=1.5),
        lambda: SimOptions(faults=frozenset({"late"})),
        lambda: SimOptions(fault_chance=2.0),
    ],
)
def test_bad_input_is_a_config_error(make):
    with pytest.raises(ConfigError):
        make()


def test_a_lapping_runner_through_one_gate():
    gate = Layout.parse("L=0,X=1").gate("L")
    marks = [10 * NS_PER_S, 88 * NS_PER_S, 165 * NS_PER_S]
    edges = lap_edges(gate, marks, speed_mps=5.2, seed=3, options=SimOptions(limbs=True))
    assert lap_edges(gate, marks, speed_mps=5.2, seed=3, options=SimOptions(limbs=True)) == edges  # deterministic
    timing = LapTiming(gate)
    timing.arm(800)
    events = [e for edge in edges for e in timing.feed(edge)] + timing.flush()
    [rep] = [e for e in events if isinstance(e, LapRep)]
    assert [abs(t - (b - a)) < 1 * NS_PER_MS for t, a, b in zip(rep.splits_ns, marks, marks[1:])] == [True, True]


@pytest.mark.parametrize("marks, speed, message", [([0], 0, "speed_mps"), ([5, 1], 5, "time order")])
def test_a_lapping_runner_needs_a_speed_and_marks_in_order(marks, speed, message):
    with pytest.raises(ConfigError, match=message):
        lap_edges(Layout.flying().gate("M1"), marks, speed_mps=speed)


def test_overlay_merges_bodies_at_the_same_beam():
    runner = [Edge("M1", 0, True), Edge("M1", 50, False), Edge("M2", 10, True), Edge("M2", 20, False)]
    walker = [Edge("M1", 40, True), Edge("M1", 300, False), Edge("M1", 400, True), Edge("M1", 450, False)]
    assert overlay(runner, walker) == (
        Edge("M1", 0, True), Edge("M2", 10, True), Edge("M2", 20, False), Edge("M1", 300, False),
        Edge("M1", 400, True), Edge("M1", 450, False),
    )  # fmt: skip
    assert overlay() == ()
