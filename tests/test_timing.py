import itertools

import pytest
from helpers import MS, S, beam_edges, breaks, layout, ns, passage, sprint, stream
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.sim.sprinters import overlay
from gatectl.timing.assemble import AssemblySettings
from gatectl.timing.model import Anomaly, Crossing, Edge, Run, RunStatus
from gatectl.timing.pipeline import Timing, time_edges
from gatectl.timing.results import report

FLYING = layout("M1=0,M2=30,M3=60")


def complete(runs):
    return [r for r in runs if r.status is RunStatus.COMPLETE]


@pytest.mark.parametrize(("method", "lead_ms"), [("longest", 0), ("dual", 0), ("first", 50)])
def test_sprint_is_timed_at_the_torso(method, lead_ms):
    lay = layout("M1=0,M2=30,M3=60", method)
    result = time_edges(sprint(lay, 1000, 10.0), lay)
    (run,) = result.runs
    assert run.status is RunStatus.COMPLETE
    assert [(c.gate, c.t_ns) for c in run.crossings] == [
        ("M1", ns(1000 - lead_ms)),
        ("M2", ns(4000 - lead_ms)),
        ("M3", ns(7000 - lead_ms)),
    ]
    assert result.crossings == run.crossings
    assert result.anomalies == ()


def test_time_edges_sorts_its_input():
    edges = sprint(FLYING, 0, 9.0)
    assert time_edges(list(reversed(edges)), FLYING) == time_edges(edges, FLYING)


def test_runs_are_listed_in_the_order_they_started():
    edges = sprint(FLYING, 0, 8.0) + breaks("M2", (20_000, 20_050))  # an orphan at M2 much later
    edges += sprint(FLYING, 30_000, 8.0)
    runs = time_edges(edges, FLYING).runs
    assert [(r.number, r.status) for r in runs] == [(1, RunStatus.COMPLETE), (2, RunStatus.REJECTED), (3, RunStatus.COMPLETE)]


def test_run_is_not_timed_out_while_its_crossing_is_being_judged():
    lay = layout("A=0,B=3")  # 3 m at 1.5 m/s: the run waits 2 s for B
    timing = Timing(lay, AssemblySettings(min_velocity_mps=1.5, min_pair_velocity_mps=1.5, decision_wait_ns=0))
    events = [e for edge in breaks("A", (0, 60)) + breaks("B", (1999, 2050)) for e in timing.feed(edge)]
    events += timing.advance(2200 * MS)  # past the deadline, but B's window is still open
    assert not [e for e in events if isinstance(e, Run)]
    events += timing.advance(2400 * MS)
    assert [r.status for r in events if isinstance(r, Run)] == [RunStatus.COMPLETE]


def test_glitching_gate_does_not_stop_runs_timing_out():
    timing = Timing(FLYING)
    glitches = [e for k in range(300) for e in breaks("M3", (1000 + 100 * k, 1000 + 100 * k + 0.01))]
    events = [e for edge in breaks("M1", (0, 60)) + glitches for e in timing.feed(edge)]
    events += timing.advance(25 * S)
    assert [(r.status, r.reason.split(" (")[0]) for r in events if isinstance(r, Run)] == [
        (RunStatus.REJECTED, "lone crossing at M1: no later gate was crossed at a running pace after it")
    ]


def test_late_edges_never_make_a_phantom_run():
    # Each gate's torso edges are delivered after the next gate's first edge.
    clean = sprint(FLYING, 0, 10.0) + breaks("M1", (20_000, 20_060))
    by_gate = {g: [e for e in clean if e.beam == g] for g in ("M1", "M2", "M3")}
    delivery = (
        by_gate["M1"][:2] + by_gate["M2"][:2] + by_gate["M1"][2:6] + by_gate["M3"][:2] + by_gate["M2"][2:6]
        + by_gate["M1"][8:] + by_gate["M3"][2:6] + by_gate["M1"][6:8] + by_gate["M2"][6:] + by_gate["M3"][6:]
    )
    assert sorted(delivery, key=lambda e: e.t_ns) == sorted(clean, key=lambda e: e.t_ns)
    timing = Timing(FLYING)
    events = [e for edge in delivery for e in timing.feed(edge)] + timing.flush()
    assert len(complete(e for e in events if isinstance(e, Run))) <= len(complete(time_edges(clean, FLYING).runs)) == 1
    assert [e for e in events if isinstance(e, Anomaly)]


# --- a track with its faults, for the properties below -------------------------------


@st.composite
def track_session(draw, lay):
    """Heats of 1-3 athletes close together (accelerating 5-9 m/s, then up to 1.4× faster), with missed
    crossings, walk-backs through the gates, people crossing one gate and balls."""
    bodies, start = [], 0.0
    positions = [g.position_m for g in lay.gates]
    for _ in range(draw(st.integers(1, 3))):
        end = start
        for k in range(draw(st.integers(1, 3))):
            t = start + k * draw(st.integers(600, 2500))
            accel, fly = draw(st.floats(5, 9)), draw(st.floats(1.0, 1.4))
            for i, gate in enumerate(lay.gates):
                if i:
                    t += 1000 * (positions[i] - positions[i - 1]) / (accel if i == 1 else accel * fly)
                if draw(st.integers(0, 9)) > 0:  # 1 in 10 missed
                    bodies.append(passage(gate.beams, t))
            end = max(end, t)
        if draw(st.booleans()):  # the athlete walks back at 1-2 m/s
            t, pace = end + draw(st.integers(3000, 20_000)), draw(st.floats(1, 2))
            for i in reversed(range(len(lay.gates))):
                bodies.append(passage(lay.gates[i].beams, t))
                t += 1000 * (positions[i] - positions[i - 1]) / pace if i else 0
            end = t
        for _ in range(draw(st.integers(0, 2))):  # somebody crossing one gate, or a ball
            gate = draw(st.sampled_from(lay.gates))
            t = draw(st.floats(start - 3000, end + 3000))
            if draw(st.booleans()):
                bodies.append(passage(gate.beams, t))
            else:
                bodies.append([e for beam in gate.beams for e in breaks(beam, (0, draw(st.integers(5, 30))), at=t)])
        start = end + draw(st.integers(3000, 40_000))
    return list(overlay(*bodies))


@st.composite
def faulty_layout_and_edges(draw):
    text = draw(st.sampled_from(["M1=0,M2=30,M3=60", "M1=0,M2=20,M3=50", "S0=0,S1=10,S2=20,S3=30,S4=40"]))
    lay = layout(text, draw(st.sampled_from(["first", "longest", "dual"])))
    return lay, draw(track_session(lay))


# --- properties -------------------------------------------------------------------


@st.composite
def athletes(draw, lay):
    """One to three athletes, one after another, each at a steady 5-11 m/s."""
    edges, start = [], 0.0
    for _ in range(draw(st.integers(1, 3))):
        start += draw(st.integers(500, 3000))
        velocity = draw(st.floats(5, 11))
        edges += sprint(lay, start, velocity)
        start += 1000 * lay.gates[-1].position_m / velocity
    return edges


@st.composite
def layout_and_edges(draw):
    """Random edges, athletes one after another, or a track with its faults (see ``track_session``)."""
    lay = layout(draw(st.sampled_from(["M1=0,M2=3,M3=6", "M1=0,M2=30,M3=60"])), draw(st.sampled_from(["first", "longest", "dual"])))
    return lay, draw(st.one_of(beam_edges(lay.beams), athletes(lay), track_session(lay)))


@settings(max_examples=200, deadline=None)
@given(st.one_of(layout_and_edges(), faulty_layout_and_edges()), st.data())
def test_live_timing_gives_the_runs_of_a_recompute(case, data):
    lay, edges = case
    batch = time_edges(edges, lay)
    events = stream(Timing(lay), edges, data)
    assert tuple(e for e in events if isinstance(e, Crossing)) == batch.crossings
    runs = sorted((e for e in events if isinstance(e, Run)), key=lambda r: (r.started_ns, r.number))
    assert tuple(runs) == batch.runs
    anomalies = sorted((e for e in events if isinstance(e, Anomaly)), key=lambda a: (a.t_ns, a.source, a.reason))
    assert anomalies == sorted(batch.anomalies, key=lambda a: (a.t_ns, a.source, a.reason))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["first", "longest", "dual"]), st.data())
def test_athletes_are_all_timed_exactly(method, data):
    lay = layout("M1=0,M2=30,M3=60", method)
    edges = data.draw(athletes(lay))
    runs = time_edges(edges, lay).runs
    assert len(complete(runs)) == len(runs) == len(edges) // len(sprint(lay, 0, 10.0))
    stamps = {e.t_ns for e in edges if e.broken}
    for run in runs:
        segments = report(run, lay).segments
        assert [s.time_ns for s in segments] == [b.t_ns - a.t_ns for a, b in zip(run.crossings, run.crossings[1:])]
        assert all(type(s.time_ns) is int for s in segments)
        assert {c.t_ns for c in run.crossings} <= stamps


@settings(max_examples=60, deadline=None)
@given(layout_and_edges(), st.sampled_from([10**18, 2**62 + 1, -(10**17)]))
def test_a_huge_clock_offset_changes_no_interval(case, offset):
    lay, edges = case
    shifted = [Edge(e.beam, e.t_ns + offset, e.broken) for e in edges]
    plain, moved = time_edges(edges, lay), time_edges(shifted, lay)
    assert [(r.number, r.status, r.reason) for r in moved.runs] == [(r.number, r.status, r.reason) for r in plain.runs]
    for a, b in zip(plain.runs, moved.runs):
        assert [c.t_ns + offset for c in a.crossings] == [c.t_ns for c in b.crossings]
        assert report(a, lay).segments == report(b, lay).segments
        assert report(a, lay).fly == report(b, lay).fly


@st.composite
def misdelivered(draw, edges):
    """Edges each held up by a random latency (up to 5 s), some swapped, some delivered twice."""
    latency = st.one_of(st.just(0), st.integers(0, 5 * S))
    order = [e for _, e in sorted(((e.t_ns + draw(latency), i), e) for i, e in enumerate(edges))]
    for _ in range(draw(st.integers(0, 6))):
        i, j = draw(st.integers(0, len(order) - 1)), draw(st.integers(0, len(order) - 1))
        if draw(st.booleans()):
            order[i], order[j] = order[j], order[i]
        else:
            order.insert(j, order[i])
    return order


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["first", "longest", "dual"]), st.data())
def test_reordered_or_repeated_edges_never_make_a_phantom_run(method, data):
    lay = layout("M1=0,M2=30,M3=60", method)
    edges = data.draw(athletes(lay))
    clean = time_edges(edges, lay)
    timing = Timing(lay)
    events = [e for edge in data.draw(misdelivered(edges)) for e in timing.feed(edge)] + timing.flush()
    assert len(complete(e for e in events if isinstance(e, Run))) <= len(complete(clean.runs))
    for gate in lay.gates:  # nor a phantom crossing, which is how a phantom run would begin
        count = len([e for e in events if isinstance(e, Crossing) and e.gate == gate.name])
        assert count <= len([c for c in clean.crossings if c.gate == gate.name])


@settings(max_examples=100, deadline=None)
@given(faulty_layout_and_edges())
def test_every_run_is_something_a_sprinter_can_do(case):
    lay, edges = case
    limits = AssemblySettings()
    result = time_edges(edges, lay)
    index = {g.name: i for i, g in enumerate(lay.gates)}
    used = [c for r in result.runs for c in r.crossings]
    assert sorted(used, key=lambda c: (c.t_ns, c.gate)) == sorted(result.crossings, key=lambda c: (c.t_ns, c.gate))
    for run in result.runs:
        if run.status is RunStatus.REJECTED:
            assert len(run.crossings) == 1 and run.reason
            continue
        assert len(run.crossings) >= 2
        speeds = []
        for a, b in itertools.pairwise(run.crossings):
            assert 0 < index[b.gate] - index[a.gate] <= 1 + limits.max_missed_gates  # forward only
            distance = lay.gate(b.gate).position_m - lay.gate(a.gate).position_m
            speeds.append(distance * S / (b.t_ns - a.t_ns))
            assert limits.min_velocity_mps <= speeds[-1] <= limits.max_velocity_mps
        for v1, v2 in itertools.pairwise(speeds):
            assert limits.min_speed_ratio <= v2 / v1 <= limits.max_speed_ratio
        fly = report(run, lay).fly
        assert (fly is not None) == (run.status is RunStatus.COMPLETE)
