"""Coach corrections, the pure core: every kind, undo, order, and corrections that no longer apply."""

import pytest
from helpers import S
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.timing.corrections import (
    CORRECTED,
    REMOVED,
    SPLIT_OFF,
    AttachCrossing,
    Correction,
    CorrectionError,
    CrossingRef,
    DropCrossing,
    MergeRuns,
    SetAthlete,
    SplitRun,
    Undo,
    apply_corrections,
    change_from_payload,
    change_payload,
    check_new,
    describe,
)
from gatectl.timing.model import Crossing, Edge, Layout, Method, Run, RunStatus
from gatectl.timing.pipeline import time_edges
from gatectl.timing.results import report

FLYING = Layout.flying()


def at(gate, seconds):
    return Crossing(gate, round(seconds * S), Method.LONGEST)


def ref(crossing):
    return CrossingRef.of(crossing)


def fixes(*changes):
    return [Correction(k, change, "coach", "2026-12-02T10:42:00") for k, change in enumerate(changes, 1)]


def shape(done):
    return [(r.run.status, [(c.gate, c.t_ns / S) for c in r.run.crossings], r.run.reason) for r in done.runs]


BALL, M2, M3 = at("M1", 0), at("M2", 4), at("M3", 7)
RUN = Run(1, (BALL, M2, M3), RunStatus.COMPLETE)
LONE = at("M1", 2.5)  # a rejected crossing: the athlete's real M1
REJECTED = Run(2, (LONE,), RunStatus.REJECTED, "lone crossing at M1")


def test_no_corrections_give_the_assembled_runs_unchanged():
    done = apply_corrections([RUN, REJECTED], [], FLYING)
    assert [r.run for r in done.runs] == [RUN, REJECTED]
    assert [(r.source, r.changed, r.history) for r in done.runs] == [(0, False, ()), (1, False, ())]
    assert done.verdicts == ()


def test_drop_crossing_sets_it_aside_and_the_run_keeps_its_fly_time():
    done = apply_corrections([RUN], fixes(DropCrossing(ref(BALL))), FLYING)
    assert shape(done) == [
        (RunStatus.REJECTED, [("M1", 0)], REMOVED),
        (RunStatus.COMPLETE, [("M2", 4), ("M3", 7)], CORRECTED),
    ]
    aside, run = done.runs
    assert (run.source, run.changed, run.reshaped, run.history) == (0, True, True, (1,))
    assert (aside.source, aside.run.number, aside.history) == (None, 1, (1,))  # the number of the run it left
    result = report(run.run, FLYING)  # the same results code as any run's
    assert (result.fly.time_ns, result.unseen) == (3 * S, ("M1",))
    assert done.verdicts[0].applied


def test_dropping_the_start_of_the_fly_zone_leaves_no_fly_time():
    done = apply_corrections([RUN], fixes(DropCrossing(ref(M2))), FLYING)
    run = done.runs[0]
    assert (run.run.status, report(run.run, FLYING).fly) == (RunStatus.INCOMPLETE, None)


def test_attach_a_rejected_crossing_to_a_run():
    runs = [Run(1, (M2, M3), RunStatus.COMPLETE), Run(2, (at("M1", 1),), RunStatus.REJECTED, "orphan")]
    done = apply_corrections(runs, fixes(AttachCrossing(ref(runs[1].crossings[0]), ref(M3))), FLYING)
    assert shape(done) == [(RunStatus.COMPLETE, [("M1", 1), ("M2", 4), ("M3", 7)], CORRECTED)]
    assert (done.runs[0].source, done.runs[0].history) == (0, (1,))


def test_attach_replacing_a_ball_drop_then_attach():
    done = apply_corrections([RUN, REJECTED], fixes(DropCrossing(ref(BALL)), AttachCrossing(ref(LONE), ref(M2))), FLYING)
    assert shape(done) == [
        (RunStatus.REJECTED, [("M1", 0)], REMOVED),
        (RunStatus.COMPLETE, [("M1", 2.5), ("M2", 4), ("M3", 7)], CORRECTED),
    ]
    assert done.runs[1].history == (1, 2)


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (AttachCrossing(ref(LONE), ref(M2)), "The run would cross M1 twice (0.000 s, 2.500 s): drop one of them first."),
        (AttachCrossing(ref(M2), ref(LONE)), "The M2 crossing at 4.000 s is in a run: drop it from there first."),
        (AttachCrossing(ref(LONE), ref(LONE)), "A crossing cannot be attached to itself."),
        (DropCrossing(ref(LONE)), "The M1 crossing at 2.500 s is not in a run: it is already set aside."),
        (SplitRun(ref(BALL)), "The M1 crossing at 0.000 s starts its run: there is nothing before it to split off."),
        (MergeRuns(ref(BALL), ref(M3)), "The M1 crossing at 0.000 s and the M3 crossing at 7.000 s are already in one run."),
        (SetAthlete(ref(LONE), 3, "Ana"), "The M1 crossing at 2.500 s is set aside, not a run: nobody ran it."),
        (DropCrossing(ref(at("M2", 9))), "There is no longer the M2 crossing at 9.000 s in this session (a recompute changed it?)."),
        (Undo(7), "There is no earlier correction 7 to undo."),
    ],
)
def test_a_correction_that_cannot_apply_is_refused_with_a_sentence(change, sentence):
    with pytest.raises(CorrectionError) as refused:
        check_new([RUN, REJECTED], [], fixes(change)[0], FLYING)
    assert str(refused.value) == sentence


def test_attach_out_of_gate_order_is_refused():
    late_m1 = at("M1", 5)  # after M2 at 4 s
    runs = [Run(1, (M2, M3), RunStatus.COMPLETE), Run(2, (late_m1,), RunStatus.REJECTED, "orphan")]
    with pytest.raises(CorrectionError, match=r"cross M1 at 5.000 s after M2 at 4.000 s: a run goes through the gates in order"):
        check_new(runs, [], fixes(AttachCrossing(ref(late_m1), ref(M2)))[0], FLYING)


def test_split_a_run_in_two():
    two = Run(1, (at("M1", 0), at("M2", 4), at("M1", 6), at("M2", 10), at("M3", 13)), RunStatus.INCOMPLETE, "odd")
    # (assembly would never make that run; a split takes any run apart)
    done = apply_corrections([two], fixes(SplitRun(ref(two.crossings[2]))), FLYING)
    assert shape(done) == [
        (RunStatus.INCOMPLETE, [("M1", 0), ("M2", 4)], CORRECTED),
        (RunStatus.COMPLETE, [("M1", 6), ("M2", 10), ("M3", 13)], CORRECTED),
    ]
    assert [(r.source, r.run.number, r.history) for r in done.runs] == [(0, 1, (1,)), (None, 1, (1,))]


def test_split_off_a_single_crossing_sets_it_aside():
    done = apply_corrections([RUN], fixes(SplitRun(ref(M3))), FLYING)
    assert shape(done) == [
        (RunStatus.INCOMPLETE, [("M1", 0), ("M2", 4)], CORRECTED),
        (RunStatus.REJECTED, [("M3", 7)], SPLIT_OFF),
    ]
    done = apply_corrections([RUN], fixes(SplitRun(ref(M2))), FLYING)
    assert shape(done)[0] == (RunStatus.REJECTED, [("M1", 0)], SPLIT_OFF)


def test_merge_two_runs_keeps_the_earlier_one():
    first, second = Run(1, (at("M1", 0),), RunStatus.REJECTED, "lone"), Run(2, (M2, M3), RunStatus.COMPLETE)
    done = apply_corrections([first, second], fixes(MergeRuns(ref(M3), ref(first.crossings[0]))), FLYING)
    assert shape(done) == [(RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)], CORRECTED)]
    assert done.runs[0].source == 0


def test_merge_that_would_cross_a_gate_twice_is_refused():
    other = Run(2, (at("M2", 20), at("M3", 23)), RunStatus.COMPLETE)
    with pytest.raises(CorrectionError, match="cross M2 twice"):
        check_new([RUN, other], [], fixes(MergeRuns(ref(BALL), ref(other.crossings[0])))[0], FLYING)


def test_set_athlete_changes_who_not_the_run():
    ambiguous = Run(1, (BALL, M2, M3), RunStatus.COMPLETE, "ambiguous: check it", True)
    done = apply_corrections([ambiguous], fixes(SetAthlete(ref(M2), 3, "Ana"), SetAthlete(ref(M3), None)), FLYING)
    (run,) = done.runs
    assert run.run == ambiguous  # crossings, status, reason and ambiguity as assembly gave them
    assert (run.changed, run.reshaped, run.athlete_set, run.athlete_id, run.history) == (True, False, True, None, (1, 2))


def test_athlete_follows_a_merge():
    first, second = Run(1, (BALL,), RunStatus.REJECTED, "lone"), Run(2, (M2, M3), RunStatus.COMPLETE)
    done = apply_corrections([first, second], fixes(SetAthlete(ref(M2), 4, "Bo"), MergeRuns(ref(BALL), ref(M2))), FLYING)
    assert (done.runs[0].athlete_set, done.runs[0].athlete_id) == (True, 4)


def test_undo_restores_the_run_as_assembled_and_keeps_the_history():
    done = apply_corrections([RUN], fixes(DropCrossing(ref(BALL)), Undo(1)), FLYING)
    (run,) = done.runs
    assert (run.run, run.changed, run.history) == (RUN, False, (1, 2))
    assert [(v.id, v.applied, v.undone_by) for v in done.verdicts] == [(1, False, 2), (2, True, None)]


def test_undo_of_an_undo_applies_the_correction_again():
    done = apply_corrections([RUN], fixes(DropCrossing(ref(BALL)), Undo(1), Undo(2)), FLYING)
    assert shape(done)[1] == (RunStatus.COMPLETE, [("M2", 4), ("M3", 7)], CORRECTED)
    assert [(v.applied, v.undone_by) for v in done.verdicts] == [(True, None), (False, 3), (True, None)]


def test_a_second_undo_of_one_correction_is_refused():
    earlier = fixes(DropCrossing(ref(BALL)), Undo(1))
    with pytest.raises(CorrectionError, match="Correction 1 is already undone."):
        check_new([RUN], earlier, Correction(3, Undo(1), "coach", ""), FLYING)
    with pytest.raises(CorrectionError, match="no earlier correction 3"):
        check_new([RUN], earlier, Correction(3, Undo(3), "coach", ""), FLYING)


def test_undo_of_an_earlier_correction_replays_the_later_ones():
    # Drop the ball, attach the real M1, then undo the drop: the attach no longer applies (M1 twice), said so.
    done = apply_corrections([RUN, REJECTED], fixes(DropCrossing(ref(BALL)), AttachCrossing(ref(LONE), ref(M2)), Undo(1)), FLYING)
    assert shape(done) == [(RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)], None), (RunStatus.REJECTED, [("M1", 2.5)], "lone crossing at M1")]
    assert [(v.applied, v.reason) for v in done.verdicts] == [
        (False, None),
        (False, "The run would cross M1 twice (0.000 s, 2.500 s): drop one of them first."),
        (True, None),
    ]


def test_corrections_apply_in_the_order_made():
    split_then_merge = apply_corrections([RUN], fixes(SplitRun(ref(M2)), MergeRuns(ref(BALL), ref(M3))), FLYING)
    merge_then_split = apply_corrections([RUN], fixes(MergeRuns(ref(BALL), ref(M3)), SplitRun(ref(M2))), FLYING)
    assert shape(split_then_merge) == [(RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)], CORRECTED)]
    assert [v.applied for v in merge_then_split.verdicts] == [False, True]
    assert shape(merge_then_split)[0] == (RunStatus.REJECTED, [("M1", 0)], SPLIT_OFF)


def test_a_correction_whose_crossing_is_gone_is_kept_as_not_applied():
    gone = at("M2", 30)
    done = apply_corrections([RUN], fixes(DropCrossing(ref(gone)), DropCrossing(ref(BALL))), FLYING)
    assert [(v.applied, v.reason) for v in done.verdicts] == [
        (False, "There is no longer the M2 crossing at 30.000 s in this session (a recompute changed it?)."),
        (True, None),
    ]
    assert shape(done)[1][1] == [("M2", 4), ("M3", 7)]


def test_a_crossing_is_found_by_the_first_edge_of_its_passage_even_when_retimed():
    # Timed by the longest break (the torso) at 0.05 s; a different rule might time the same passage at 0.01 s.
    edges = (Edge("M1", 0, True), Edge("M1", 10 * 10**6, False), Edge("M1", 50 * 10**6, True), Edge("M1", 90 * 10**6, False))
    before = Crossing("M1", 50 * 10**6, Method.LONGEST, edges)
    after = Crossing("M1", 10**6, Method.FIRST, edges)
    named = CrossingRef.of(before)
    assert (named.edge_ns, named.t_ns) == (0, 50 * 10**6)
    assert named.names(after, lambda c: (c.edges[0].t_ns, c.edges[-1].t_ns))
    run = Run(1, (after, M2, M3), RunStatus.COMPLETE)
    assert shape(apply_corrections([run], fixes(DropCrossing(named)), FLYING))[1][1] == [("M2", 4), ("M3", 7)]


def test_span_can_come_from_the_store():
    spans = {("M1", 0): (-5, 20)}  # the store knows each crossing's first and last edge
    done = apply_corrections([RUN], fixes(DropCrossing(CrossingRef("M1", -5, 0))), FLYING, lambda c: spans.get((c.gate, c.t_ns), (c.t_ns, c.t_ns)))
    assert done.verdicts[0].applied


def test_corrections_over_a_whole_timed_session():
    # A ball through M1 just before the athlete: assembly may take it; the coach drops it.
    edges = []
    for gate, t in [("M1", 0.0), ("M1", 1.2), ("M2", 4.2), ("M3", 7.2)]:
        edges += [Edge(gate, round(t * S), True), Edge(gate, round(t * S) + 40 * 10**6, False)]
    result = time_edges(edges, FLYING)
    run = next(r for r in result.runs if r.status is RunStatus.COMPLETE)
    wrong = next(c for c in run.crossings if c.gate == "M1")
    other = next(r.crossings[0] for r in result.runs if r.status is RunStatus.REJECTED)
    done = apply_corrections(result.runs, fixes(DropCrossing(ref(wrong)), AttachCrossing(ref(other), ref(run.crossings[-1]))), FLYING)
    fixed = next(r.run for r in done.runs if r.run.status is RunStatus.COMPLETE)
    assert [c.t_ns for c in fixed.crossings] == sorted([other.t_ns, *[c.t_ns for c in run.crossings if c.gate != "M1"]])


@pytest.mark.parametrize(
    "change",
    [
        DropCrossing(ref(BALL)), AttachCrossing(ref(LONE), ref(M2)), SplitRun(ref(M2)), MergeRuns(ref(BALL), ref(LONE)),
        SetAthlete(ref(M2), 3, "Ana"), SetAthlete(ref(M2), None), Undo(4),
    ],
)  # fmt: skip
def test_payload_round_trip(change):
    assert change_from_payload(change.KIND.value, change_payload(change)) == change


@pytest.mark.parametrize(
    ("kind", "data", "sentence"),
    [
        ("explode", {}, "A correction is one of drop-crossing"),
        ("drop-crossing", {}, "A crossing is named by its gate"),
        ("drop-crossing", {"crossing": {"gate": "M1", "edge_ns": "x", "t_ns": 1}}, "whole numbers of nanoseconds"),
        ("drop-crossing", {"crossing": {"gate": "M1", "edge_ns": True, "t_ns": 1}}, "whole numbers of nanoseconds"),
        ("set-athlete", {"run": {"gate": "M1", "edge_ns": 0, "t_ns": 0}, "athlete_id": "3"}, "athlete is named by their id"),
        ("undo", {"correction": None}, "names the correction it undoes"),
    ],
)
def test_payload_that_is_not_a_change_is_refused(kind, data, sentence):
    with pytest.raises(CorrectionError, match=sentence):
        change_from_payload(kind, data)


def test_describe_for_the_history():
    made = {c.id: c for c in fixes(DropCrossing(ref(BALL)))}
    assert describe(DropCrossing(ref(BALL))) == "M1 crossing removed"
    assert describe(AttachCrossing(ref(LONE), ref(M2))) == "M1 crossing attached"
    assert describe(SplitRun(ref(M3))) == "split before M3"
    assert describe(MergeRuns(ref(BALL), ref(LONE))) == "merged with another run"
    assert describe(SetAthlete(ref(M2), 3, "Ana")) == "athlete set to Ana"
    assert describe(SetAthlete(ref(M2), None)) == "athlete cleared"
    assert describe(Undo(1), made) == "undid “M1 crossing removed”"
    assert describe(Undo(9), made) == "undid correction 9"


# Properties: whatever the coach does, no crossing is lost or doubled, and undoing everything gives assembly back.

CROSSINGS = [at(g, t) for g, t in [("M1", 0), ("M2", 4), ("M3", 7), ("M1", 2.5), ("M1", 20), ("M2", 24), ("M3", 27.1), ("M2", 30)]]
ASSEMBLED = [
    Run(1, tuple(CROSSINGS[:3]), RunStatus.COMPLETE), Run(2, (CROSSINGS[3],), RunStatus.REJECTED, "lone"),
    Run(3, tuple(CROSSINGS[4:7]), RunStatus.COMPLETE), Run(4, (CROSSINGS[7],), RunStatus.REJECTED, "orphan"),
]  # fmt: skip
REFS = [ref(c) for c in CROSSINGS]


@st.composite
def changes(draw, undos=True):
    made = []
    for k in range(1, draw(st.integers(0, 12)) + 1):
        one, two = draw(st.sampled_from(REFS)), draw(st.sampled_from(REFS))
        change = draw(st.sampled_from([
            DropCrossing(one), AttachCrossing(one, two), SplitRun(one), MergeRuns(one, two), SetAthlete(one, k, None),
            *([Undo(draw(st.integers(1, max(1, k - 1))))] if undos else []),
        ]))  # fmt: skip
        made.append(Correction(k, change, "coach", ""))
    return made


@given(changes())
@settings(max_examples=300, deadline=None)
def test_no_crossing_is_lost_or_doubled(corrections):
    done = apply_corrections(ASSEMBLED, corrections, FLYING)
    kept = sorted((c.gate, c.t_ns) for r in done.runs for c in r.run.crossings)
    assert kept == sorted((c.gate, c.t_ns) for c in CROSSINGS)
    assert [v.id for v in done.verdicts] == [c.id for c in corrections]
    for r in done.runs:
        gates = [FLYING.gates.index(FLYING.gate(c.gate)) for c in r.run.crossings]
        assert gates == sorted(set(gates))  # through the gates in order, each once
        assert (len(gates) == 1) == (r.run.status is RunStatus.REJECTED)
        if not r.changed:
            assert r.run == ASSEMBLED[r.source]


@given(changes(undos=False))
@settings(max_examples=200, deadline=None)
def test_undoing_every_correction_gives_the_assembled_runs(corrections):
    undos = [Correction(len(corrections) + k, Undo(c.id), "coach", "") for k, c in enumerate(corrections, 1)]
    done = apply_corrections(ASSEMBLED, [*corrections, *undos], FLYING)
    assert [r.run for r in done.runs] == ASSEMBLED
    assert not any(r.changed for r in done.runs)
    assert all(v.undone_by == len(corrections) + k for k, v in enumerate(done.verdicts[: len(corrections)], 1))
