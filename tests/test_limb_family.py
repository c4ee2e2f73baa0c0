"""The limb family (bench/limb_family.py): a model to judge detection with must itself be sane."""

import itertools
import math
import random

import limb_family as lf
import pytest

from gatectl.timing.model import NS_PER_MS, Edge

MEMBER = lf.MEMBERS[0]


@pytest.fixture(scope="module")
def sample():
    return lf.simulate(lf.MEMBERS[4], reps=25, seed=3)


def per_beam(edges):
    beams = {}
    for edge in edges:
        beams.setdefault(edge.beam, []).append(edge)
    return beams


def test_the_family_spans_the_ranges_it_is_meant_to():
    speeds = [s for m in lf.MEMBERS for s in m.speed_mps]
    gaps = [g for m in lf.MEMBERS for g in m.flicker_ms]
    responses = [m.response_ms for m in lf.MEMBERS]
    assert (min(speeds), max(speeds)) == (6.0, 11.0)
    assert (min(gaps), max(gaps)) == (0.5, 6.0)
    assert (min(responses), max(responses)) == (0.5, 3.0)
    assert len({m.name for m in lf.MEMBERS}) == len(lf.MEMBERS) == 24


def test_edges_are_integer_ns_alternating_from_broken_on_every_beam(sample):
    assert sorted({e.beam for e in sample.single}) == ["M2", "M3"]
    assert sorted({e.beam for e in sample.dual}) == ["M2a", "M2b", "M3a", "M3b"]
    for edges in (sample.single, sample.dual):
        assert list(edges) == sorted(edges, key=lambda e: e.t_ns)
        for beam_edges in per_beam(edges).values():
            assert all(type(e.t_ns) is int for e in beam_edges)
            assert [e.broken for e in beam_edges] == [True, False] * (len(beam_edges) // 2)
            assert all(a.t_ns < b.t_ns for a, b in itertools.pairwise(beam_edges))


def test_the_single_gate_sees_the_dual_gates_lower_beam(sample):
    lower = [Edge(e.beam[:2], e.t_ns, e.broken) for e in sample.dual if e.beam.endswith("a")]
    assert lower == list(sample.single)


def test_the_torso_is_reported_after_it_arrives_and_no_rule_can_beat_best(sample):
    response = sample.member.response_ms * NS_PER_MS
    for rep in sample.reps:
        for gate in rep.gates:
            # best is the start of a reported break: never later than the torso's front as reported
            assert gate.best <= gate.truth + response + 50_000
            assert gate.dual_best <= gate.dual_truth + response + 50_000
            assert gate.dual_truth >= gate.truth  # both beams broken by the torso no sooner than one
        (m2, m3) = rep.gates
        fly_s = (m3.truth - m2.truth) / 1e9
        assert lf.FLY_M / fly_s == pytest.approx(rep.speed_mps, rel=0.03)  # a steady speed, ± a step's surge


def test_athletes_are_drawn_from_anthropometric_ranges():
    rng = random.Random(1)
    for speed in (6.0, 8.5, 11.0):
        for _ in range(50):
            a = lf.Athlete.draw(rng, speed)
            assert lf.STATURE_M[0] <= a.stature <= lf.STATURE_M[1]
            assert 1.5 <= speed / a.step_hz <= 2.7  # step length, metres
            assert lf.TRUNK_RADIUS_M[0] <= a.trunk_r <= lf.TRUNK_RADIUS_M[1]
    sprinters = [lf.Athlete.draw(rng, 11.0).knee_lift for _ in range(50)]
    joggers = [lf.Athlete.draw(rng, 6.0).knee_lift for _ in range(50)]
    assert min(sprinters) > max(joggers)  # sprinters lift their knees higher


def test_pose_follows_the_segment_lengths():
    athlete = lf.Athlete.draw(random.Random(2), 9.0)
    stride = lf.Stride(athlete, 9.0, phase=0.0)
    for t in (-0.05, 0.0, 0.03):
        trunk, thigh, shank, upper = stride.pose(t)[:4]
        assert math.dist(thigh[:2], thigh[2:4]) == pytest.approx(lf.THIGH * athlete.stature)
        assert math.dist(shank[:2], shank[2:4]) == pytest.approx(lf.SHANK * athlete.stature)
        assert math.dist(upper[:2], upper[2:4]) == pytest.approx(lf.UPPER_ARM * athlete.stature)
        assert trunk[3] > trunk[1]  # the trunk rises from the hips to the shoulders
        assert thigh[:2] == stride.pose(t)[5][:2]  # both thighs hang from the hip joint
    hip_x = stride.pose(0.0)[1][0]
    assert abs(hip_x) < 0.01  # the hip joint passes the gate at t ≈ 0
    # Phase 0: the right knee is at its highest, ahead of the hip.
    knee = stride.pose(0.0)[1][2:4]
    assert knee[0] - hip_x == pytest.approx(lf.THIGH * athlete.stature * math.sin(athlete.knee_lift), rel=0.02)


def test_a_beam_at_the_trunk_is_broken_when_the_trunk_arrives():
    athlete = lf.Athlete.draw(random.Random(4), 8.0)
    hip = lf.HIP_HEIGHT * athlete.stature * athlete.crouch
    passage = lf.passage(lf.Stride(athlete, 8.0, 1.0), (hip + 0.1,))
    (trunk,) = passage.trunk
    assert any(start <= trunk < end for start, end in passage.breaks[0])
    assert -0.05 < trunk < 0  # the trunk's front leads the hip joint by its half-depth


def test_flicker_never_opens_a_gap_inside_the_body():
    rng = random.Random(5)
    loose = next(m for m in lf.MEMBERS if "loose" in m.name)
    body = [(0, 20 * NS_PER_MS), (60 * NS_PER_MS, 90 * NS_PER_MS)]
    for _ in range(100):
        spans = lf.flicker(body, loose, 7.0, rng)
        for start, end in body:
            assert any(s <= start and end <= e for s, e in spans)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))
        # fabric reaches no further than its looseness allows
        reach = loose.fabric_m / 7.0 * 1e9
        assert spans[0][0] >= -reach and spans[-1][1] <= 90 * NS_PER_MS + reach


def test_the_sensor_delays_every_edge_and_swallows_what_it_cannot_resolve():
    rng = random.Random(6)
    member = MEMBER
    response = member.response_ms * NS_PER_MS
    for _ in range(100):
        spans, starts = lf.sense([(0, 10 * NS_PER_MS), (10 * NS_PER_MS + 1, 30 * NS_PER_MS)], member, rng)
        assert len(spans) == 1  # a gap shorter than half the response time is never seen
        assert 0.6 * response <= spans[0][0] <= response + 50_000
        assert starts == [spans[0][0], None]
    least = round(response / 2)
    spans, starts = lf.sense([(0, least - 1), (10 * NS_PER_MS, 10 * NS_PER_MS + least)], member, rng)
    assert len(spans) == 1 and starts[0] is None and starts[1] == spans[0][0]  # a too-short break is not seen


def test_best_start_is_the_break_holding_the_instant_or_the_next():
    spans = [(0, 10), (20, 50), (60, 70)]
    assert [lf.best_start(spans, t) for t in (5, 15, 20, 49, 50, 80)] == [0, 20, 20, 20, 60, None]


def test_both_broken_is_the_overlap_of_the_beams():
    assert lf.both_broken([(0, 10), (20, 40)], [(5, 25), (30, 35)]) == [(5, 10), (20, 25), (30, 35)]


def test_a_sample_is_the_same_for_the_same_seed():
    again = lf.simulate(lf.MEMBERS[4], reps=25, seed=3)
    assert again == lf.simulate(lf.MEMBERS[4], reps=25, seed=3)
    assert again != lf.simulate(lf.MEMBERS[4], reps=25, seed=4)
