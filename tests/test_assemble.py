import pytest
from helpers import S

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


def test_run_is_reported_the_moment_it_completes():
    assembler = RunAssembler(FLYING)
    assert assembler.feed(at("M1", 0)) == assembler.feed(at("M2", 4)) == []
    assert [r.status for r in assembler.open_runs] == [RunStatus.OPEN]
    assert [r.status for r in assembler.feed(at("M3", 7))] == [RunStatus.COMPLETE]
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
    assert summary(runs) == [
        (2, RunStatus.REJECTED, [("M2", 1)]),
        (1, RunStatus.COMPLETE, [("M1", 0), ("M2", 4), ("M3", 7)]),
    ]
    assert runs[0].reason == "false trigger at M2: M1→M2 (30 m) would be run at 30.0 m/s, faster than 13 m/s"


def test_false_trigger_at_the_same_instant():
    runs = assemble([at("M1", 0), at("M2", 0), at("M2", 4), at("M3", 7)])
    assert "would be run instantly" in runs[0].reason


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


def test_run_times_out_naming_the_gate_it_never_reached():
    assembler = RunAssembler(FLYING)  # 30 m at 1.5 m/s: 20 s to reach M2
    assembler.feed(at("M1", 0))
    assert assembler.advance(20 * S) == []
    (run,) = assembler.advance(20 * S + 1)
    assert run.status is RunStatus.INCOMPLETE
    assert run.reason.startswith("no crossing at M2 after M1")
    assert [c.gate for c in run.crossings] == ["M1"]
    assert assembler.open_runs == []


def test_timeout_counts_from_the_last_gate_reached():
    assembler = RunAssembler(FLYING)
    assembler.feed(at("M1", 0))
    assembler.feed(at("M2", 15))
    assert assembler.advance(34 * S) == []  # M2 + 20 s
    (run,) = assembler.advance(35 * S + 1)
    assert "no crossing at M3" in run.reason


def test_crossing_after_a_timeout_is_an_orphan():
    runs = assemble([at("M1", 0), at("M2", 25)])
    assert summary(runs) == [(1, RunStatus.INCOMPLETE, [("M1", 0)]), (2, RunStatus.REJECTED, [("M2", 25)])]
    assert "orphan" in runs[1].reason


def test_flush_leaves_open_runs_incomplete():
    runs = assemble([at("M1", 0), at("M2", 4)])
    assert summary(runs) == [(1, RunStatus.INCOMPLETE, [("M1", 0), ("M2", 4)])]
    assert runs[0].reason.startswith("no crossing at M3 after M2")


def test_numbers_count_runs_and_rejections_in_the_order_they_began():
    runs = assemble([at("M2", 1), at("M1", 2), at("M1", 3), at("M2", 3.5), at("M2", 6), at("M3", 9)])
    assert sorted((r.number, r.status) for r in runs) == [
        (1, RunStatus.REJECTED),  # orphan at M2
        (2, RunStatus.COMPLETE),
        (3, RunStatus.INCOMPLETE),
        (4, RunStatus.REJECTED),  # M1 at 3 → M2 at 3.5 is 60 m/s for run 2
    ]


@pytest.mark.parametrize("order", [("M1", "M2"), ("M2", "M1")])
def test_crossings_at_the_same_instant_on_different_gates(order):
    # One athlete reaches M2 the moment the next one starts at M1.
    assembler = RunAssembler(FLYING)
    assembler.feed(at("M1", 0))
    runs = [r for gate in order for r in assembler.feed(at(gate, 5))]
    runs += assembler.feed(at("M3", 8)) + assembler.feed(at("M2", 9)) + assembler.feed(at("M3", 12))
    assert summary(runs) == [
        (1, RunStatus.COMPLETE, [("M1", 0), ("M2", 5), ("M3", 8)]),
        (2, RunStatus.COMPLETE, [("M1", 5), ("M2", 9), ("M3", 12)]),
    ]


def test_any_number_of_gates():
    layout = Layout.parse(",".join(f"S{i}={10 * i}" for i in range(11)))
    (run,) = assemble([Crossing(f"S{i}", i * S + (i > 0) * S, Method.FIRST) for i in range(11)], layout)
    assert run.status is RunStatus.COMPLETE
    assert len(run.crossings) == 11
