from itertools import pairwise

import pytest
from helpers import MS, SETTINGS, S, beam_edges, breaks, layout, ns, stream
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.timing.detect import GateDetector, LayoutDetector, detect
from gatectl.timing.model import Anomaly, Crossing, Edge, Method

GLITCH, BRIDGE, WINDOW, REARM = (SETTINGS.glitch_ns, SETTINGS.bridge_ns, SETTINGS.window_ns, SETTINGS.rearm_ns)


def crossing_times(edges, method="longest", text="A=0,B=10"):
    found, _ = detect(edges, layout(text, method))
    return [(c.gate, c.t_ns) for c in found]


def at_a(*ms):
    return [("A", ns(t)) for t in ms]


@pytest.mark.parametrize("method", ["first", "longest"])
def test_single_clean_break(method):
    assert crossing_times(breaks("A", (100, 160)), method) == at_a(100)


def test_single_clean_break_dual():
    edges = breaks("Aa", (100, 170)) + breaks("Ab", (103, 160))
    assert crossing_times(edges, "dual") == at_a(103)


KNEE_TORSO_ARM = breaks("A", (0, 15), (40, 110), (130, 140))


@pytest.mark.parametrize(("method", "expected"), [("first", 0), ("longest", 40)])
def test_knee_torso_arm(method, expected):
    assert crossing_times(KNEE_TORSO_ARM, method) == at_a(expected)


def test_flicker_gaps_shorter_than_bridge_are_joined():
    # Knee 45 ms; torso two 30 ms pieces 2 ms apart: joined, 62 ms, the longest.
    edges = breaks("A", (0, 45), (60, 90), (92, 122))
    assert crossing_times(edges) == at_a(60)


@pytest.mark.parametrize("gap_ms", [BRIDGE / MS, BRIDGE / MS + 5])
def test_gaps_of_bridge_or_more_are_not_joined(gap_ms):
    edges = breaks("A", (0, 45), (60, 90), (90 + gap_ms, 120 + gap_ms))
    assert crossing_times(edges) == at_a(0)  # two 30 ms pieces lose to the 45 ms knee


def test_gap_one_ns_short_of_bridge_is_joined():
    edges = [Edge("A", 0, True), Edge("A", 10 * MS, False), Edge("A", 10 * MS + BRIDGE - 1, True), Edge("A", 15 * MS, False)]
    crossings, _ = detect(edges, layout())
    assert [(c.t_ns, c.edges) for c in crossings] == [(0, tuple(edges))]


@pytest.mark.parametrize("method", ["first", "longest"])
def test_glitch_is_ignored_and_reported(method):
    edges = breaks("A", (0, 0.5), (50, 100))
    crossings, anomalies = detect(edges, layout(method=method))
    assert [c.t_ns for c in crossings] == [ns(50)]
    assert [(a.source, a.t_ns) for a in anomalies] == [("A", 0)]
    assert "500000 ns is shorter than the 1 ms glitch threshold" in anomalies[0].reason


def test_break_of_exactly_glitch_length_counts():
    edges = [Edge("A", 0, True), Edge("A", GLITCH, False), Edge("A", 50 * MS, True), Edge("A", 50 * MS + GLITCH - 1, False)]
    crossings, anomalies = detect(edges, layout(method="first"))
    assert [c.t_ns for c in crossings] == [0]
    assert [a.t_ns for a in anomalies] == [50 * MS]


def test_passage_of_only_glitches_gives_no_crossing():
    edges = breaks("A", (0, 0.5), (10, 10.2), (20, 20.9))
    crossings, anomalies = detect(edges, layout())
    assert crossings == []
    assert [a.t_ns for a in anomalies] == [0, ns(10), ns(20)]


@pytest.mark.parametrize("method", ["first", "longest"])
@pytest.mark.parametrize(("clear_ns", "count"), [(REARM - 1, 1), (REARM, 2), (REARM + 1, 2)])
def test_rearm(method, clear_ns, count):
    second = 50 * MS + clear_ns
    edges = [Edge("A", 0, True), Edge("A", 50 * MS, False), Edge("A", second, True), Edge("A", second + 60 * MS, False)]
    assert [c.t_ns for c in detect(edges, layout(method=method))[0]] == [0, second][:count]


@pytest.mark.parametrize(("start_ms", "expected"), [(WINDOW / MS - 1, WINDOW / MS - 1), (WINDOW / MS, 0)])
def test_longer_break_after_the_window_is_not_chosen(start_ms, expected):
    edges = breaks("A", (0, 20), (start_ms, start_ms + 100))
    assert crossing_times(edges) == at_a(expected)


def test_window_counts_from_the_first_break_that_is_no_glitch():
    edges = breaks("A", (0, 0.5), (2.5, 20), (302, 400))  # glitch bridged into the first break: anchor 0
    assert crossing_times(edges) == at_a(0)
    edges = breaks("A", (0, 0.5), (100, 120), (350, 450))  # the glitch stands alone: anchor 100
    assert crossing_times(edges) == at_a(350)


def test_ties_go_to_the_earliest():
    assert crossing_times(breaks("A", (0, 30), (50, 80), (100, 130))) == at_a(0)


def test_stuck_beam_crosses_once_when_the_window_has_passed():
    edges = breaks("A", (100, None)) + breaks("B", (5000, 5060))
    crossings, _ = detect(edges, layout())
    assert [(c.gate, c.t_ns) for c in crossings] == [("A", ns(100)), ("B", ns(5000))]


def test_stuck_beam_is_judged_as_it_stands_at_the_end():
    # Record ends 50 ms into a break: no window has passed, flush decides.
    edges = breaks("A", (0, 10), (20, None)) + breaks("B", (60, 60.5))
    assert crossing_times(edges) == at_a(20)


def test_flush_while_broken_keeps_the_crossing_of_an_earlier_break():
    # The record ends the instant a second break starts: the first break is the crossing.
    edges = breaks("A", (0, 20), (60, None))
    assert crossing_times(edges) == at_a(0)
    assert crossing_times(edges, "first") == at_a(0)


def test_flush_while_broken_with_nothing_yet_to_judge():
    assert crossing_times(breaks("A", (0, None))) == []


def test_flush_after_clear_decides_before_the_window_ends():
    assert crossing_times(breaks("A", (0, 15), (40, 110))) == at_a(40)


def test_dual_knee_on_the_lower_beam_alone_is_no_crossing():
    assert crossing_times(breaks("Aa", (0, 30), (60, 70)), "dual") == []


def test_dual_crossing_is_when_both_beams_are_broken():
    edges = breaks("Aa", (0, 80)) + breaks("Ab", (20, 90))
    crossings, _ = detect(edges, layout(method="dual"))
    assert [(c.gate, c.t_ns, c.method) for c in crossings] == [("A", ns(20), Method.DUAL)]
    assert crossings[0].edges[0] == Edge("Ab", ns(20), True)


def test_dual_long_torso_overlap_beats_brief_hand_overlap():
    hand = breaks("Ab", (0, 15)) + breaks("Aa", (5, 25))  # both broken 5..15
    torso = breaks("Aa", (60, 140)) + breaks("Ab", (70, 130))  # both broken 70..130
    assert crossing_times(hand + torso, "dual") == at_a(70)


def test_dual_ties_go_to_the_earliest():
    edges = breaks("Aa", (0, 30), (100, 130)) + breaks("Ab", (0, 30), (100, 130))
    assert crossing_times(edges, "dual") == at_a(0)


def test_crossing_edges_are_the_passage_up_to_the_decision():
    crossings, _ = detect(KNEE_TORSO_ARM + breaks("B", (1000, 1050)), layout())
    a = crossings[0]
    assert a.edges == tuple(KNEE_TORSO_ARM)  # window ends at 300 ms, after the arm
    first, _ = detect(KNEE_TORSO_ARM, layout(method="first"))
    assert first[0].edges[0] == KNEE_TORSO_ARM[0]
    assert set(first[0].edges) <= set(KNEE_TORSO_ARM)


def test_crossings_come_in_time_order_then_gate_order():
    edges = breaks("B", (0, 60)) + breaks("A", (20, 80)) + breaks("C", (0, 60))
    assert crossing_times(edges, text="A=0,B=10,C=20") == [("B", 0), ("C", 0), ("A", ns(20))]


def feed_all(detector, edges):
    events = []
    for edge in edges:
        events += detector.feed(edge)
    return events + detector.flush()


@pytest.mark.parametrize(
    ("edges", "reason"),
    [
        ([Edge("A", 100, True), Edge("A", 50, False)], "edge arrived out of order (50 after 100): ignored"),
        ([Edge("A", 100, True), Edge("A", 200, True)], "beam reported broken twice in a row (an edge was missed): ignored"),
        ([Edge("A", 100, True), Edge("A", 2 * MS, False), Edge("A", 3 * MS, False)], "beam reported clear twice in a row"),
        ([Edge("X", 100, True)], "no gate has a beam named X: ignored"),
    ],
)
def test_anomalies_are_reported_and_ignored(edges, reason):
    events = feed_all(LayoutDetector(layout()), edges)
    anomalies = [e for e in events if isinstance(e, Anomaly)]
    assert any(reason in a.reason for a in anomalies), anomalies
    assert anomalies[0].source == edges[-1].beam


def test_anomaly_does_not_disturb_the_crossing():
    edges = breaks("A", (0, 60)) + [Edge("A", ns(60), False), Edge("X", ns(70), True)]
    events = feed_all(LayoutDetector(layout()), edges)
    assert [e.t_ns for e in events if isinstance(e, Crossing)] == [0]
    assert len([e for e in events if isinstance(e, Anomaly)]) == 2


def test_edge_earlier_than_the_last_of_its_beam_is_out_of_order():
    detector = GateDetector(layout().gate("A"), Method.LONGEST, SETTINGS)
    assert detector.feed(Edge("A", 100, False)) == []
    assert detector.feed(Edge("A", 50, True))[0].reason == "edge arrived out of order (50 after 100): ignored"


def test_first_clear_only_confirms_the_start_state():
    events = feed_all(LayoutDetector(layout()), [Edge("A", 0, False)] + breaks("A", (10, 70)))
    assert [e.t_ns for e in events] == [ns(10)]


def test_gate_detector_rejects_a_beam_of_another_gate():
    detector = GateDetector(layout().gate("A"), Method.LONGEST, SETTINGS)
    assert detector.feed(Edge("B", 0, True))[0].reason == "beam B is not part of gate A"


def test_edge_behind_the_clock_is_ignored():
    # Time already passed 1 s: an edge stamped earlier comes too late to be judged.
    detector = LayoutDetector(layout())
    events = feed_all(detector, breaks("B", (1000, 1060)) + [Edge("A", 10 * MS, True)])
    assert [(e.gate, e.t_ns) for e in events if isinstance(e, Crossing)] == [("B", S)]
    assert [e.source for e in events if isinstance(e, Anomaly)] == ["A"]


def test_late_edge_never_makes_a_second_crossing():
    # The torso's edges reach the detector after an edge of gate B one second later.
    detector = LayoutDetector(layout())
    late = breaks("A", (40, 110))
    events = feed_all(detector, breaks("A", (0, 15)) + breaks("B", (1000, 1060)) + late)
    assert [(e.gate, e.t_ns) for e in events if isinstance(e, Crossing)] == [("A", 0), ("B", ns(1000))]
    assert len([e for e in events if isinstance(e, Anomaly)]) == 2


def test_dual_beams_out_of_order_do_not_move_the_crossing():
    detector = GateDetector(layout(method="dual").gate("A"), Method.DUAL, SETTINGS)
    events = feed_all(detector, [Edge("Aa", ns(100), True), Edge("Ab", ns(90), True), Edge("Ab", ns(200), False)])
    assert not [e for e in events if isinstance(e, Crossing) and e.t_ns < ns(100)]


def test_glitching_gate_does_not_hold_back_other_gates():
    # Gate B glitches every 100 ms (a loose wire): its passage never ends, yet A's crossing is released.
    detector = LayoutDetector(layout())
    events = []
    for edge in sorted(breaks("A", (0, 60)) + [e for k in range(30) for e in breaks("B", (100 * k, 100 * k + 0.01))], key=lambda e: e.t_ns):
        events += detector.feed(edge)
    assert [(e.gate, e.t_ns) for e in events if isinstance(e, Crossing)] == [("A", 0)]


# --- properties -------------------------------------------------------------------


@st.composite
def layout_and_edges(draw):
    method = draw(st.sampled_from(["first", "longest", "dual"]))
    lay = layout("A=0,B=10,C=20", method)
    return lay, draw(beam_edges(lay.beams))


def anomaly_key(a):
    return (a.t_ns, a.source, a.reason)


@settings(max_examples=120, deadline=None)
@given(layout_and_edges(), st.data())
def test_streaming_gives_the_crossings_of_a_batch(case, data):
    lay, edges = case
    batch, batch_anomalies = detect(edges, lay)
    events = stream(LayoutDetector(lay), edges, data)
    crossings = [e for e in events if isinstance(e, Crossing)]
    assert crossings == batch
    order = {g.name: i for i, g in enumerate(lay.gates)}
    assert crossings == sorted(crossings, key=lambda c: (c.t_ns, order[c.gate]))  # released in time order
    assert sorted((e for e in events if isinstance(e, Anomaly)), key=anomaly_key) == sorted(batch_anomalies, key=anomaly_key)


@settings(max_examples=150, deadline=None)
@given(layout_and_edges())
def test_crossing_is_the_start_of_a_break_within_its_passage(case):
    lay, edges = case
    crossings, _ = detect(edges, lay)
    for crossing in crossings:
        beams = lay.gate(crossing.gate).beams
        assert crossing.method is lay.method
        assert crossing.edges, crossing
        assert all(e.beam in beams for e in crossing.edges)
        assert list(crossing.edges) == sorted(crossing.edges, key=lambda e: e.t_ns)
        first = crossing.edges[0]
        assert first.broken and first.t_ns <= crossing.t_ns  # never earlier than its passage
        assert any(e.broken and e.t_ns == crossing.t_ns and e in edges for e in crossing.edges)


def gate_breaks(edges, beams):
    """(start, end) of each stretch with every beam of a gate broken; end None: to the end."""
    broken, spans = dict.fromkeys(beams, False), []
    for edge in sorted((e for e in edges if e.beam in beams), key=lambda e: e.t_ns):
        was = all(broken.values())
        broken[edge.beam] = edge.broken
        if all(broken.values()) and not was:
            spans.append([edge.t_ns, None])
        elif was and not all(broken.values()):
            spans[-1][1] = edge.t_ns
    return spans


@settings(max_examples=100, deadline=None)
@given(layout_and_edges())
def test_one_crossing_per_passage(case):
    # Between two crossings of a gate it was clear for the re-arm time: one body, one crossing.
    lay, edges = case
    crossings, _ = detect(edges, lay)
    for gate in lay.gates:
        spans = gate_breaks(edges, gate.beams)
        times = [c.t_ns for c in crossings if c.gate == gate.name]
        assert set(times) <= {start for start, _ in spans}
        for before, after in pairwise(times):
            assert any(
                a[1] is not None and before <= a[1] and b[0] <= after and b[0] - a[1] >= SETTINGS.rearm_ns
                for a, b in pairwise(spans)
            )


@settings(max_examples=100, deadline=None)
@given(layout_and_edges(), st.sampled_from([10**18, -(10**15), 7]))
def test_shifting_every_edge_shifts_every_crossing_exactly(case, offset):
    lay, edges = case
    shifted = [Edge(e.beam, e.t_ns + offset, e.broken) for e in edges]
    assert [(c.gate, c.t_ns - offset) for c in detect(shifted, lay)[0]] == [(c.gate, c.t_ns) for c in detect(edges, lay)[0]]


# --- a limb bridged to the torso ----------------------------------------------------


def test_hand_bridged_to_the_torso_is_not_the_crossing():
    # A hand passes 2 ms (2 cm at 10 m/s) ahead of the torso: the bridge joins them, but the
    # hand's 4 ms are short beside the torso's 30, so the crossing is the torso's front.
    assert crossing_times(breaks("A", (0, 4), (6, 36))) == at_a(6)


def test_dual_hand_bridged_to_the_torso_is_not_the_crossing():
    edges = breaks("Aa", (0, 4), (6, 40)) + breaks("Ab", (0, 4), (6, 36))
    assert crossing_times(edges, "dual") == at_a(6)


def test_dual_sliver_of_overlap_ahead_of_the_torso_is_not_the_crossing():
    # The upper beam's limb break overlaps the lower beam's torso for 0.5 ms, 2 ms before the
    # torso reaches the upper beam: a sliver, short beside the torso, not the body's front.
    edges = breaks("Aa", (0, 30)) + breaks("Ab", (0, 0.5), (2.5, 30))
    assert crossing_times(edges, "dual") == at_a(2.5)


def test_single_beam_glitch_short_piece_goes_with_the_next():
    # On one beam, a piece shorter than a glitch still goes with the raw break after it.
    assert crossing_times(breaks("A", (0, 0.5), (2.5, 30))) == at_a(0)


def test_torso_split_by_flicker_is_timed_at_its_first_piece():
    # Flicker splits the torso: its first piece (8 ms) is long beside the second (20 ms).
    assert crossing_times(breaks("A", (0, 8), (10, 30))) == at_a(0)


def test_limb_share_is_judged_as_the_break_stood_when_the_window_closed():
    # A hand, then the beam stays broken: the torso's piece grows past the window; the
    # crossing is released once the window has closed, at the torso, live as in a batch.
    edges = breaks("A", (0, 10), (12, None)) + breaks("B", (5000, 5060))
    crossings, _ = detect(edges, layout())
    assert [(c.gate, c.t_ns) for c in crossings] == [("A", ns(12)), ("B", ns(5000))]
    events = feed_all(LayoutDetector(layout()), edges)
    assert [(e.gate, e.t_ns) for e in events if isinstance(e, Crossing)] == [("A", ns(12)), ("B", ns(5000))]


def test_a_break_bridged_after_the_window_closed_is_judged_without_its_later_pieces():
    # The longest break begins 0.4 ms before the window closes and outgrows the first only
    # after a piece bridged to it; that piece was not there when the window closed (found by
    # bench/bench_faults.py: the detector raised StopIteration).
    edges = breaks("A", (0, 135), (WINDOW / MS - 0.4, 370), (372, 520)) + breaks("B", (5000, 5060))
    expected = [("A", ns(WINDOW / MS - 0.4)), ("B", ns(5000))]
    assert crossing_times(edges) == expected
    events = feed_all(LayoutDetector(layout()), edges)
    assert [(e.gate, e.t_ns) for e in events if isinstance(e, Crossing)] == expected


# --- a whole torso after a limb, judged by the gate's recent torsos ------------------------


def after(history, *spans):
    """Passages through gate A, one a second (each given by its raw breaks), then the passage
    of ``spans``: the times of the crossings of A, the last one that of ``spans``."""
    edges = [e for k, passage in enumerate([*history, spans]) for e in breaks("A", *passage, at=1000 * k)]
    return [t - ns(1000 * k) for k, (_, t) in enumerate(crossing_times(edges))]


SPRINT_TORSO = [(0, 30)]  # a torso at sprint speed: 30 ms, the gate's median then
LIMB_THEN_TORSO = ((0, 6), (8, 40))  # a 6 ms hand 2 ms ahead of a 32 ms torso


def test_first_crossing_of_a_gate_keeps_a_limb_long_beside_the_torso():
    # The gate has timed no torso yet: nothing says how long a whole one is, so the 6 ms hand,
    # long beside the 32 ms torso (3/20 of it is 4.8 ms), is the crossing, as before.
    assert after([], *LIMB_THEN_TORSO) == [0]


def test_limb_ahead_of_a_whole_torso_is_not_the_crossing():
    # After one sprint torso (30 ms), a 32 ms raw break is a whole torso by itself: the
    # 6 ms break bridged ahead of it is a limb, and the crossing is the torso's front.
    assert after([SPRINT_TORSO], *LIMB_THEN_TORSO) == [0, ns(8)]
    edges = [e for beam in ("Aa", "Ab") for e in breaks(beam, (0, 30)) + breaks(beam, *LIMB_THEN_TORSO, at=1000)]
    assert crossing_times(edges, "dual") == at_a(0, 1008)


def test_whole_torso_is_27_ms_at_least():
    # Recent torsos of 20 ms do not make a 24 ms piece a whole torso: 27 ms is a torso at 10 m/s.
    assert after([[(0, 20)]] * 5, (0, 6), (8, 32)) == [0] * 6
    assert after([[(0, 20)]] * 5, (0, 6), (8, 35)) == [0] * 5 + [ns(8)]


def test_torso_split_at_sprint_speed_is_timed_at_its_first_piece():
    # After sprint torsos of 30 ms, flicker splits one into 8 ms and 28 ms: the second piece is
    # no whole torso beside the gate's recent ones, so the first piece is the torso's front.
    assert after([SPRINT_TORSO] * 5, (0, 8), (10, 38)) == [0] * 6


def test_torso_split_after_slow_passages_is_timed_at_its_first_piece():
    # Laps at 5 m/s: whole torsos of 70-90 ms. One split by flicker into 20 ms and 60 ms is
    # timed at its first piece, though 60 ms is a whole torso at sprint speed.
    slow = [[(0, 70)], [(0, 80)], [(0, 90)], [(0, 85)], [(0, 75)]]
    assert after(slow, (0, 20), (22, 82))[-1] == 0
    # A sprinter after them: the threshold is the slow torsos' (80 ms), so a hand ahead of a
    # sprint torso is kept as before (more cautious), until the sprinters' torsos set it again.
    assert after(slow, *LIMB_THEN_TORSO)[-1] == 0
    assert after(slow + [SPRINT_TORSO] * 3, *LIMB_THEN_TORSO)[-1] == ns(8)


def test_a_split_torso_counts_whole_in_the_gates_history():
    # Slow laps whose torsos flicker split (20 ms, then 58 ms): each counts as a 80 ms torso,
    # so the next one's 61 ms second piece is no whole torso: timed at its first piece. Had
    # the history kept the longest pieces (58 ms), that piece would pass for a whole torso.
    split = [[(0, 20), (22, 80)]] * 5
    assert after(split, (0, 20), (22, 83)) == [0] * 6


@pytest.mark.parametrize("walkers", range(6))
def test_walk_backs_in_the_history_only_make_the_rule_more_cautious(walkers):
    # Walkers' torsos (250 ms) among the gate's last five raise the threshold: a crossing is
    # never later than with sprint torsos only, and with three walkers of five the hand stays.
    history = [SPRINT_TORSO] * (5 - walkers) + [[(0, 250)]] * walkers
    assert after(history, *LIMB_THEN_TORSO)[-1] == (ns(8) if walkers < 3 else 0)
    assert after(history, (0, 8), (10, 38))[-1] == 0


def test_only_the_last_five_torsos_count():
    # Five walkers long ago, then five sprinters: the walkers no longer hold the threshold up.
    assert after([[(0, 250)]] * 5 + [SPRINT_TORSO] * 5, *LIMB_THEN_TORSO)[-1] == ns(8)
    assert after([[(0, 250)]] * 5 + [SPRINT_TORSO] * 2, *LIMB_THEN_TORSO)[-1] == 0


# --- one torso per body: of two torso-sized breaks close together, the later -------------------

FOREARM_THEN_TORSO = ((0, 28), (30, 56))  # a 28 ms forearm 2 ms ahead of a 26 ms torso, bridged


def test_of_two_torso_sized_pieces_the_later_is_the_torso():
    # After sprint torsos of 30 ms, a raw break of 24 ms or more is torso-sized (4/5 of them).
    # A forearm carried across the beam ahead of the torso is as long as a torso, and longer
    # than this one: a body has one torso, so the crossing is the later piece's front.
    assert after([SPRINT_TORSO] * 3, *FOREARM_THEN_TORSO) == [0] * 3 + [ns(30)]
    # Before the gate has timed a torso, nothing says how long one is: the first piece, as before.
    assert after([], *FOREARM_THEN_TORSO) == [0]


def test_a_torso_split_into_halves_is_timed_at_its_first_piece():
    # Flicker splits a 30 ms torso into halves: neither is torso-sized beside the gate's torsos.
    assert after([SPRINT_TORSO] * 3, (0, 14), (16, 30)) == [0] * 4


@pytest.mark.parametrize(("gap_ms", "expected_ms"), [(8, 36), (14, 42), (15, 0), (20, 0)])
def test_a_torso_sized_limb_less_than_half_a_torso_ahead_is_not_the_crossing(gap_ms, expected_ms):
    # The forearm's break ends more than the 4 ms bridge before the torso's: two breaks. Less
    # than half a torso (15 ms) apart they are one body, and the torso is the later; further
    # apart, the longest break is the crossing, as before.
    limb, torso = (0, 28), (28 + gap_ms, 28 + gap_ms + 26)
    assert after([SPRINT_TORSO] * 3, limb, torso)[-1] == ns(expected_ms)


def test_breaks_between_a_limb_and_the_torso_keep_them_one_body():
    # A hand's 3 ms break between the forearm's and the torso's, each gap 6 ms: still one body.
    assert after([SPRINT_TORSO] * 3, (0, 28), (34, 37), (43, 69))[-1] == ns(43)


def test_a_trailing_arm_after_the_torso_is_not_the_crossing():
    # The trailing arm (15 ms, 8 ms behind) is short beside a torso: the torso is the crossing.
    assert after([SPRINT_TORSO] * 3, (0, 30), (38, 53))[-1] == 0


@st.composite
def passages_of_one_gate(draw):
    """Several passages through gate A, each raw breaks bridged or not, maybe the last broken to the end."""
    method = draw(st.sampled_from(["longest", "dual"]))
    lay = layout("A=0,B=10", method)
    edges, t = [], draw(st.integers(0, S))
    count = draw(st.integers(1, 7))
    for k in range(count):
        pieces = draw(st.lists(st.integers(1, 120 * MS), min_size=1, max_size=4))
        for i, length in enumerate(pieces):
            edges += [Edge(beam, t, True) for beam in lay.gate("A").beams]
            if not (k == count - 1 and i == len(pieces) - 1 and draw(st.booleans())):
                edges += [Edge(beam, t + length, False) for beam in lay.gate("A").beams]
            t += length + draw(st.one_of(st.integers(1, BRIDGE), st.sampled_from([BRIDGE - 1, REARM - 1, REARM])))
        t += draw(st.sampled_from([REARM, REARM + 1, S]))
    later = [e for beam in lay.gate("B").beams for e in breaks(beam, (2000 + t / MS, 2050 + t / MS))]
    return lay, edges + later


@settings(max_examples=150, deadline=None)
@given(passages_of_one_gate(), st.data())
def test_streaming_a_gates_passages_gives_the_crossings_of_a_batch(case, data):
    # A crossing depends on the gate's earlier passages: live, they are judged in the same order.
    lay, edges = case
    batch, _ = detect(edges, lay)
    events = stream(LayoutDetector(lay), edges, data)
    assert [e for e in events if isinstance(e, Crossing)] == batch


@st.composite
def bridged_passages(draw):
    """Raw breaks of every length joined across gaps shorter than the bridge, maybe broken to the end."""
    method = draw(st.sampled_from(["longest", "dual"]))
    lay = layout("A=0,B=10", method)
    edges, t = [], draw(st.integers(0, S))
    pieces = draw(st.lists(st.integers(1, 80 * MS), min_size=1, max_size=6))
    for i, length in enumerate(pieces):
        for beam in lay.gate("A").beams:
            edges.append(Edge(beam, t, True))
        last = i == len(pieces) - 1
        if not (last and draw(st.booleans())):
            for beam in lay.gate("A").beams:
                edges.append(Edge(beam, t + length, False))
        t += length + draw(st.one_of(st.integers(1, BRIDGE - 1), st.sampled_from([BRIDGE - 1, BRIDGE])))
    later = [e for beam in lay.gate("B").beams for e in breaks(beam, (2000 + t / MS, 2050 + t / MS))]
    return lay, edges + later


@settings(max_examples=150, deadline=None)
@given(bridged_passages(), st.data())
def test_streaming_bridged_passages_gives_the_crossings_of_a_batch(case, data):
    lay, edges = case
    batch, _ = detect(edges, lay)
    events = stream(LayoutDetector(lay), edges, data)
    assert [e for e in events if isinstance(e, Crossing)] == batch
    starts = {e.t_ns for e in edges if e.broken and e.beam.startswith("A")}
    assert {c.t_ns for c in batch if c.gate == "A"} <= starts
