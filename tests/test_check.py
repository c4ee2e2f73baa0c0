"""The pre-session check (pure): beam states, breaks since the check began, flicker, the walk, clock, disk."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gatectl.timing.check import (
    FLICKER_BREAKS,
    FLICKER_WINDOW_NS,
    FULL_DISK_BYTES,
    KEPT_BREAKS,
    LOW_DISK_BYTES,
    PASS_NS,
    STUCK_NS,
    BeamCheck,
    clock_verdict,
    disk_verdict,
)
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

MS, S = NS_PER_MS, NS_PER_S
GATES = [("M1", ["M1"]), ("M2", ["M2"]), ("M3", ["M3"])]


def fed(*edges: Edge) -> BeamCheck:
    check = BeamCheck()
    for edge in edges:
        check.edge(edge)
    return check


def hand(beam: str, at_ms: int, ms: int = 80) -> list[Edge]:
    return [Edge(beam, at_ms * MS, True), Edge(beam, (at_ms + ms) * MS, False)]


def test_states_unknown_clear_broken_stuck():
    check = fed(Edge("M1", 0, False), Edge("M2", 1 * S, True))
    at = lambda now: {g.gate: g.state for g in check.view(GATES, now, 0).gates}  # noqa: E731
    assert at(1 * S) == {"M1": "clear", "M2": "broken", "M3": "unknown"}
    assert at(1 * S + STUCK_NS - 1)["M2"] == "broken"
    assert at(1 * S + STUCK_NS)["M2"] == "stuck"
    report = check.view(GATES, 1 * S + STUCK_NS, 0)
    assert report.gates[1].beams[0].held_ns == STUCK_NS and not report.aligned


def test_a_hand_ticks_its_gate_and_the_walk_moves_on():
    check = fed(*(Edge(g, 0, False) for g in ("M1", "M2", "M3")))
    report = check.view(GATES, 1 * S, 0)
    assert report.next_gate == "M1" and report.aligned and not any(g.ticked for g in report.gates)
    for edge in hand("M1", 2000):
        check.edge(edge)
    report = check.view(GATES, 3 * S, 0)
    assert [g.ticked for g in report.gates] == [True, False, False] and report.next_gate == "M2"
    for edge in hand("M3", 4000) + hand("M2", 5000):
        check.edge(edge)
    report = check.view(GATES, 6 * S, 0)
    assert report.next_gate is None and report.as_json()["walk"] == {"next": None, "done": True}


def test_a_break_still_going_or_too_short_is_not_a_pass():
    check = fed(Edge("M1", 0, False), Edge("M1", 1 * S, True))
    assert not check.view(GATES[:1], 1 * S + 500 * MS, 0).gates[0].ticked  # the hand is still in the beam
    check.edge(Edge("M1", 1 * S + PASS_NS - 1, False))
    assert check.view(GATES[:1], 2 * S, 0).gates[0].beams[0].passes == 0
    check.edge(Edge("M1", 3 * S, True))
    check.edge(Edge("M1", 3 * S + PASS_NS, False))
    assert check.view(GATES[:1], 4 * S, 0).gates[0].beams[0].passes == 1


def test_counts_start_when_the_check_began():
    check = fed(Edge("M1", 0, False), *hand("M1", 1000), *hand("M1", 3000), *hand("M1", 5000))
    assert check.view(GATES[:1], 6 * S, 0).gates[0].breaks == 3
    assert check.view(GATES[:1], 6 * S, 2 * S).gates[0].breaks == 2
    assert check.view(GATES[:1], 6 * S, 5 * S + 1).gates[0].breaks == 0
    # A pass counts for a check that began while the hand was in the beam: it ended since.
    assert check.view(GATES[:1], 6 * S, 5 * S + 1).gates[0].ticked


def test_a_dual_gate_is_ticked_when_both_beams_saw_a_hand():
    dual = [("M1", ["M1a", "M1b"])]
    check = fed(Edge("M1a", 0, False), Edge("M1b", 0, False), *hand("M1a", 1000))
    gate = check.view(dual, 2 * S, 0).gates[0]
    assert not gate.ticked and gate.breaks == 1 and [b.passes for b in gate.beams] == [1, 0]
    for edge in hand("M1b", 3000):
        check.edge(edge)
    assert check.view(dual, 4 * S, 0).gates[0].ticked


def test_a_gate_shows_its_worst_beam():
    dual = [("M1", ["M1a", "M1b"])]
    assert fed(Edge("M1a", 0, False), Edge("M1b", 0, True)).view(dual, 3 * S, 0).gates[0].state == "stuck"
    assert fed(Edge("M1a", 0, False)).view(dual, 3 * S, 0).gates[0].state == "unknown"
    assert fed(Edge("M1a", 0, False), Edge("M1b", 2 * S, True)).view(dual, 3 * S, 0).gates[0].state == "broken"


def flicker(beam: str, count: int, at_ms: int) -> list[Edge]:
    edges = []
    for i in range(count):
        start = (at_ms + 500 * i) * MS
        edges += [Edge(beam, start, True), Edge(beam, start + 3 * MS, False)]
    return edges


def test_many_short_breaks_are_a_flicker_for_as_long_as_they_go_on():
    check = fed(Edge("M1", 0, False), *flicker("M1", FLICKER_BREAKS - 1, 1000))
    assert not check.view(GATES[:1], 3 * S, 0).gates[0].flickering
    check = fed(Edge("M1", 0, False), *flicker("M1", FLICKER_BREAKS, 1000))
    last_end = (1000 + 500 * (FLICKER_BREAKS - 1)) * MS + 3 * MS
    first_end = 1003 * MS
    report = check.view(GATES[:1], last_end, 0)
    assert report.gates[0].flickering and not report.aligned and report.gates[0].breaks == FLICKER_BREAKS
    assert not report.gates[0].ticked  # flickers are not a hand
    assert check.view(GATES[:1], first_end + FLICKER_WINDOW_NS, 0).gates[0].flickering
    assert not check.view(GATES[:1], first_end + FLICKER_WINDOW_NS + 1, 0).gates[0].flickering  # one has aged out


def test_hands_are_not_a_flicker():
    check = fed(Edge("M1", 0, False), *hand("M1", 1000, PASS_NS // MS), *hand("M1", 1200), *hand("M1", 1400))
    assert not check.view(GATES[:1], 2 * S, 0).gates[0].flickering


def test_late_and_repeated_edges_change_nothing():
    check = fed(Edge("M1", 0, False), Edge("M1", 1 * S, True), Edge("M1", 500 * MS, False), Edge("M1", 1 * S + 1, True))
    beam = check.view(GATES[:1], 2 * S, 0).gates[0].beams[0]
    assert (beam.state, beam.breaks, beam.held_ns) == ("broken", 1, 1 * S)
    clear_again = fed(Edge("M1", 0, False), Edge("M1", 1, False))
    assert clear_again.view(GATES[:1], 2, 0).gates[0].breaks == 0


def test_a_beam_broken_at_start_ends_its_break_when_it_clears():
    check = fed(Edge("M1", 0, True), Edge("M1", 100 * MS, False))
    beam = check.view(GATES[:1], 1 * S, 0).gates[0].beams[0]
    assert (beam.state, beam.breaks, beam.passes) == ("clear", 1, 1)


def test_old_breaks_are_forgotten_beyond_the_bound():
    check = fed(Edge("M1", 0, False), *(e for i in range(KEPT_BREAKS + 10) for e in hand("M1", 100 * i + 1, 30)))
    assert check.view(GATES[:1], 10**15, 0).gates[0].breaks == KEPT_BREAKS


@given(st.lists(st.tuples(st.integers(1, 200 * MS), st.integers(1, 200 * MS)), max_size=40), st.integers(0, 4 * S))
def test_counts_match_a_plain_count_of_the_breaks(spans, since):
    """Against a model written apart: breaks starting at or after ``since``; passes ending then, long enough."""
    edges, t, breaks = [Edge("M1", 0, False)], 0, []
    for gap, length in spans:
        start, end = t + gap, t + gap + length
        edges += [Edge("M1", start, True), Edge("M1", end, False)]
        breaks.append((start, end))
        t = end
    now = t + 1
    beam = fed(*edges).view(GATES[:1], now, since).gates[0].beams[0]
    assert beam.breaks == sum(s >= since for s, _ in breaks)
    assert beam.passes == sum(e >= since and e - s >= PASS_NS for s, e in breaks)
    short_recent = sum(e >= now - FLICKER_WINDOW_NS and e - s < PASS_NS for s, e in breaks)
    assert beam.flickering == (short_recent >= FLICKER_BREAKS)
    assert beam.state == "clear"


def test_json_for_the_dashboard():
    data = fed(Edge("M1", 0, False), *hand("M1", 1000)).view(GATES[:1], 2 * S, 0).as_json()
    assert data == {
        "now_ns": 2 * S, "since_ns": 0, "aligned": True, "walk": {"next": None, "done": True},
        "gates": [{"gate": "M1", "state": "clear", "breaks": 1, "flickering": False, "ticked": True,
                   "beams": [{"beam": "M1", "state": "clear", "for_s": 0.0, "breaks": 1, "passes": 1, "flickering": False}]}],
    }  # fmt: skip


def test_the_clock_is_wrong_before_a_moment_that_has_passed():
    assert clock_verdict(100, [("gatectl was installed", 50), ("the newest session", 90)]) == {"ok": True, "reason": None}
    assert clock_verdict(100, []) == {"ok": True, "reason": None}
    wrong = clock_verdict(60, [("gatectl was installed", 50), ("the newest session (2026-11-30)", 90)])
    assert wrong["ok"] is False and "before the newest session (2026-11-30)" in str(wrong["reason"])
    both = clock_verdict(10, [("gatectl was installed", 50), ("the newest session", 90)])
    assert "the newest session" in str(both["reason"])  # the latest moment it is before
    assert clock_verdict(90, [("x", 90)])["ok"] is True


def test_free_disk():
    assert disk_verdict(LOW_DISK_BYTES)["ok"] is True
    low = disk_verdict(LOW_DISK_BYTES - 1)
    assert low["ok"] is False and "GB free" in str(low["reason"])
    full = disk_verdict(FULL_DISK_BYTES - 1)
    assert full["ok"] is False and "may not fit" in str(full["reason"])
