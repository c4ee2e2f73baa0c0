"""A restart after a crash or a power cut carries on: the session, its runs, the run under way, the workout.

A crash is what the database holds at an instant: a consistent copy taken
with SQLite's backup API while the daemon runs (what a SIGKILL leaves: every
commit, nothing after). Another daemon is started on the copy, as systemd
would. The crash suite (test_crash.py) does the same with real processes.
"""

import itertools
import sqlite3
from dataclasses import replace

import pytest
from helpers import FLY30, TRACK, Live, assert_live_equals_recompute, derived, laps, reps

from gatectl.coaching.laps import StartKind
from gatectl.coaching.library import WorkoutKind, library_workout
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.workout import WorkoutPlan, group
from gatectl.sim.sprinters import lap_edges, overlay
from gatectl.store import INTERRUPTED, Store
from gatectl.timing.model import NS_PER_S, Edge
from gatectl.timing.pipeline import time_edges

S = NS_PER_S


def crash(live, path):
    """What a crash now would leave on disk: every commit the daemon made so far."""
    live.settle()
    source, target = sqlite3.connect(live.path), sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    live.daemon.stop()  # the old process is gone; this one's further writes go to its own file


def restart(path, now_ns, boot=None):
    """systemd starting gatectl again on the database the crash left; the gates' clock reads ``now_ns``."""
    live = Live(path)
    live.source.advance_to(now_ns)
    live.source._now = now_ns  # a new boot's clock may be behind the old one
    live.daemon = Daemon(live.source, lambda: Store(path), FLY30, bus=live.bus, place="Club track", tick_ns=2 * S // 1000, boot=boot)
    live.daemon.start()
    return live


@pytest.fixture
def live(tmp_path):
    live = Live(tmp_path / "gatectl.db")
    live.daemon.start()
    yield live
    live.daemon.stop()


def mid_run(sim, rep):
    """The instant between a rep's fly-zone entry (M2) and its finish (M3)."""
    truth = sim.reps[rep]
    return (truth.truth["M2"] + truth.truth["M3"]) // 2


def intervals(crossings):
    """M1→M2 and M2→M3: exact in any clock epoch."""
    times = [crossings[gate] for gate in ("M1", "M2", "M3")]
    return [b - a for a, b in itertools.pairwise(times)]


def runs_of(path, session_id):
    with Store(path) as store:
        return sorted(store.runs(session_id=session_id), key=lambda r: r.number)


def test_a_restart_carries_on_with_the_session_and_the_run_under_way_finishes(live, tmp_path):
    sim = reps(3, gap_ns=20 * S)
    cut = mid_run(sim, 2)
    live.play([e for e in sim.edges if e.t_ns < cut], then_ns=0)
    session = live.daemon.snapshot().session_id
    crash(live, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", cut)
    assert again.daemon.snapshot().session_id == session  # not a new session
    again.play([e for e in sim.edges if e.t_ns >= cut])  # the gates' nodes send what was not acknowledged
    again.daemon.stop()
    runs = runs_of(again.path, session)
    expected = time_edges(sim.edges, FLY30).runs
    assert [(r.status, r.crossings) for r in runs] == [(r.status, {c.gate: c.t_ns for c in r.crossings}) for r in expected]
    assert all(r.status == "complete" for r in runs)
    with Store(again.path) as store:
        assert store.sessions()[0]["id"] == session and len(store.sessions()) == 1
    assert_live_equals_recompute(again.path, session)  # nothing doubled, nothing missing


def test_a_node_repeating_what_a_kill_between_commit_and_ack_left_makes_no_second_edge(live, tmp_path):
    """Killed after the edges were committed, before the node heard their ACKs: it sends them all again."""
    sim = reps(3, gap_ns=20 * S)
    cut = mid_run(sim, 2)
    before = [e for e in sim.edges if e.t_ns < cut]
    origin = {e: ("E661410400000001", 7, seq) for seq, e in enumerate(sim.edges, 1)}
    live.source.origins = lambda edges: [origin.get(e) for e in edges]
    live.source.edges_stored = lambda edges: None  # the ACKs die with the process
    live.play(before, then_ns=0)
    session = live.daemon.snapshot().session_id
    crash(live, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", cut)
    repeats = [Edge(e.beam, e.t_ns + 37_000, e.broken) for e in before]  # placed again by the new run's clock sync
    origin |= {repeat: origin[e] for repeat, e in zip(repeats, before)}
    again.source.origins = lambda edges: [origin.get(e) for e in edges]
    acked = []
    again.source.edges_stored = acked.extend
    again.source.emit(*repeats)  # at once, as a node repeats all it holds
    again.play([e for e in sim.edges if e.t_ns >= cut])
    again.daemon.stop()
    assert sorted(acked) == sorted(repeats + [e for e in sim.edges if e.t_ns >= cut])  # the repeats acknowledged too
    with Store(again.path) as store:
        assert store.edges(session) == sorted(sim.edges, key=lambda e: e.t_ns)  # each edge once, as first stored
    runs = runs_of(again.path, session)
    expected = time_edges(sim.edges, FLY30).runs
    assert [(r.status, r.crossings) for r in runs] == [(r.status, {c.gate: c.t_ns for c in r.crossings}) for r in expected]
    assert_live_equals_recompute(again.path, session)


def test_a_run_cut_short_by_the_restart_says_so_and_a_recompute_keeps_it(live, tmp_path):
    sim = reps(3, gap_ns=20 * S)
    cut = mid_run(sim, 2)
    live.play([e for e in sim.edges if e.t_ns < cut], then_ns=0)
    session = live.daemon.snapshot().session_id
    crash(live, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", cut + 30 * S)  # the athlete finished while nothing listened
    again.source.advance_to(cut + 60 * S)
    again.settle()
    again.daemon.stop()
    runs = runs_of(again.path, session)
    assert [r.status for r in runs] == ["complete", "complete", "incomplete"]
    assert runs[2].reason == INTERRUPTED
    assert_live_equals_recompute(again.path, session)


def test_what_was_stored_before_the_crash_is_not_stored_twice(live, tmp_path):
    """A run timed out and stored before the crash is still under way in a rebuild from the raw log."""
    sim = reps(2, gap_ns=20 * S)
    first = [e for e in sim.edges if e.t_ns < sim.reps[1].start_ns and e.beam != "M3"]  # rep 1 misses M3
    live.play(first, then_ns=60 * S)  # long enough for it to time out, and be stored, before the crash
    session = live.daemon.snapshot().session_id
    with Store(live.path) as store:
        before = derived(store, session)
    assert [r.status for r in runs_of(live.path, session)] == ["incomplete"]
    crash(live, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", first[-1].t_ns + 61 * S)
    again.settle()
    again.source.advance_to(first[-1].t_ns + 120 * S)
    again.settle()
    again.daemon.stop()
    with Store(again.path) as store:
        assert derived(store, session) == before  # no second copy of the run, of its crossings
    [run] = runs_of(again.path, session)
    assert run.reason != INTERRUPTED  # it ended before the crash, on its own


def test_after_a_reboot_a_new_clock_epoch_starts_and_the_run_under_way_is_interrupted(live, tmp_path):
    sim = reps(3, gap_ns=20 * S)
    cut = mid_run(sim, 2)
    live.play([e for e in sim.edges if e.t_ns < cut], then_ns=0)
    session = live.daemon.snapshot().session_id
    crash(live, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", 7 * S, boot="another-boot")  # a new boot's clock starts near zero
    assert again.daemon.snapshot().session_id == session
    later = reps(2, start_ns=9 * S, gap_ns=20 * S)  # on the new boot's clock
    acked = []
    again.source.edges_stored = acked.extend  # as a gate node's source: told which edges are on disk
    again.play(later.edges)
    again.daemon.stop()
    assert sorted(acked) == sorted(later.edges)  # in the source's own stamps, not the shifted ones it never sent
    runs = runs_of(again.path, session)
    assert [r.status for r in runs] == ["complete", "complete", "incomplete", "complete", "complete"]
    assert runs[2].reason == INTERRUPTED
    expected = time_edges(later.edges, FLY30).runs
    assert [intervals(r.crossings) for r in runs[3:]] == [intervals({c.gate: c.t_ns for c in r.crossings}) for r in expected]
    with Store(again.path) as store:
        edges = store.edges(session)
    assert edges == sorted(edges, key=lambda e: e.t_ns)  # one time line: the new epoch comes after the old
    assert_live_equals_recompute(again.path, session)


def test_a_second_crash_on_the_same_boot_keeps_the_shifted_clock(live, tmp_path):
    sim = reps(1, gap_ns=20 * S)
    live.play(sim.edges)
    session = live.daemon.snapshot().session_id
    crash(live, tmp_path / "one.db")
    second = restart(tmp_path / "one.db", 5 * S, boot="boot-b")  # rebooted: shifted
    later = reps(2, start_ns=6 * S, gap_ns=20 * S)
    cut = mid_run(later, 1)
    second.play([e for e in later.edges if e.t_ns < cut], then_ns=0)
    crash(second, tmp_path / "two.db")
    third = restart(tmp_path / "two.db", cut, boot="boot-b")  # crashed again, same boot: the same shift
    third.play([e for e in later.edges if e.t_ns >= cut])
    third.daemon.stop()
    runs = runs_of(third.path, session)
    assert [r.status for r in runs] == ["complete"] * 3  # the run under way at the second crash finished


# The workout ---------------------------------------------------------------------------------------


@pytest.fixture
def club(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        for name, vmax in (("Ana", 9.4), ("Ben", 8.8)):
            athlete = store.add_athlete(name)
            store.set_race_time(athlete, 400, round(400 * S / (vmax * 0.79)))
    live = Live(path)
    live.daemon.start()
    yield live
    live.daemon.stop()


def comparable(state):
    return replace(state, effects=())


def test_a_workout_under_way_resumes_where_it_was(club, tmp_path):
    with club.store() as store:
        plan = WorkoutPlan("4 x 30m. 3:00 Rec between reps.", WorkoutKind.MAX_VELOCITY, group(store, [store.find_athlete(n)["id"] for n in ("Ana", "Ben")]))
    club.daemon.start_workout(plan)
    sim = reps(1, start_ns=club.source.now_ns() + 2 * S)
    club.play(sim.edges, then_ns=2 * S)  # Ana's first rep
    club.daemon.workout_input("skip")  # the coach skips Ben's first
    club.settle()
    before = club.daemon.snapshot()
    now = club.source.now_ns()
    crash(club, tmp_path / "after.db")
    again = restart(tmp_path / "after.db", now)
    after = again.daemon.snapshot()
    assert after.session_id == before.session_id
    assert after.workout_running
    assert comparable(after.workout) == comparable(before.workout)  # the runner replayed from its inputs
    assert after.queue == before.queue
    head = after.queue[0]  # who runs next, as the runner had it before the crash
    done = {a.id: a.done for a in after.workout.athletes}
    more = reps(1, start_ns=now + 200 * S)  # after the rest
    again.play(more.edges, then_ns=2 * S)
    state = again.daemon.snapshot().workout
    assert {a.id: a.done for a in state.athletes} == {**done, head: done[head] + 1}  # the run went to them
    again.daemon.stop()
    with Store(again.path) as store:
        assert [s["id"] for s in store.sessions()] == [after.session_id, after.session_id - 1]  # none opened by the restart
        runs = sorted(store.runs(session_id=after.session_id), key=lambda r: r.number)
    assert [r.athlete_id for r in runs] == [before.workout.athletes[0].id, head]


def carry_on(live, tmp_path):
    """A crash now, and the daemon started again on what it left at the same clock: the snapshots before and after."""
    before = live.daemon.snapshot()
    now = live.source.now_ns()
    crash(live, tmp_path / "after.db")
    again = Live(tmp_path / "after.db")
    again.source.advance_to(now)
    again.daemon.start()
    return before, again, again.daemon.snapshot()


def test_a_track_workout_resumes_armed_for_the_next_rep(tmp_path):

    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        athlete = store.add_athlete("Ana")
        store.set_race_time(athlete, 3000, 600 * S)  # 3K pace: 80 s a lap
    live = Live(path)
    live.daemon.start()
    text = library_workout("12x400-3k").text.replace("12 x", "3 x")
    with live.store() as store:
        plan = WorkoutPlan(text, WorkoutKind.TRACK_REPS, group(store, [athlete]), track=TRACK)
    live.daemon.start_workout(plan)
    laps(live, 5, 79.4, seed=1)
    live.daemon.workout_input("ready")  # armed for a rolling start of rep 2
    before, again, after = carry_on(live, tmp_path)
    assert after.session_id == before.session_id and after.track == TRACK
    assert comparable(after.workout) == comparable(before.workout)
    assert after.workout.armed and after.workout.next_up.next_rep.rep_no == 2
    laps(again, 5, 80.5, seed=2)
    run = again.events("run")[-1]
    assert (run.status, run.rep_no, run.lap.time_s) == ("complete", 2, pytest.approx(80.5, abs=0.01))
    again.daemon.stop()
    with Store(again.path) as store:
        kinds = [c.kind.value for c in store.lap_commands(after.session_id)]
    assert kinds[:2] == ["arm", "arm"] and kinds.count("arm") == 2  # rep 2's arm kept from before the crash, not doubled


def group_gone(tmp_path, waves_ns):
    """Ana and Ben's 2 x 400 m as a group, the coach's go given: the daemon, the go's instant, their ids."""
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        ids = store.add_athlete("Ana"), store.add_athlete("Ben")
    live = Live(path)
    live.daemon.start()
    with live.store() as store:
        plan = WorkoutPlan("2 x 400 @ 1:20 / R1:00", WorkoutKind.TRACK_REPS, group(store, ids), track=TRACK, start=StartKind.GO, countdown_ns=5 * S, waves_ns=waves_ns)
    live.daemon.start_workout(plan)
    go = live.source.now_ns() + 5 * S
    live.daemon.workout_input("go")
    return live, go, ids


def test_a_groups_marked_rep_stays_marked_after_a_crash(tmp_path):
    """The coach said the first across was Ben: after a restart the group's reps, runs and workout still say so."""
    live, go, (_, ben) = group_gone(tmp_path, waves_ns=0)
    gate = FLY30.gate("M1")
    live.play(overlay(lap_edges(gate, [go + 80 * S], speed_mps=5, seed=1), lap_edges(gate, [go + 80 * S + S // 2], speed_mps=5, seed=2)), then_ns=20 * S)
    doubt = live.daemon.snapshot().workout.group.doubts[0]
    live.daemon.workout_mark(int(doubt.crossing), ben)
    before, again, after = carry_on(live, tmp_path)
    assert after.session_id == before.session_id
    last = {a.name: a.last.time_ns for a in after.workout.athletes}
    assert last == {a.name: a.last.time_ns for a in before.workout.athletes} and last["Ben"] < last["Ana"]
    assert after.workout.group == before.workout.group and after.workout.group.doubts == ()  # the panel as it was
    runs = {r.athlete: r.lap.time_ns for r in again.runs()}
    assert runs == {"Ben": last["Ben"], "Ana": last["Ana"]}
    again.daemon.stop()
    assert_live_equals_recompute(again.path, after.session_id)


def test_a_group_rep_under_way_at_a_crash_finishes_after_the_restart(tmp_path):
    live, go, _ = group_gone(tmp_path, waves_ns=5 * S)
    gate = FLY30.gate("M1")
    live.play(lap_edges(gate, [go + 79 * S], speed_mps=5, seed=1), then_ns=2 * S)  # Ana is in; Ben, 5 s behind, is not yet
    before, again, after = carry_on(live, tmp_path)
    group_before, group_after = before.workout.group, after.workout.group
    assert not group_after.done and [a.status for a in group_after.athletes] == ["complete", "running"]
    assert [a.laps for a in group_after.athletes] == [a.laps for a in group_before.athletes] == [1, 0]
    again.play(lap_edges(gate, [go + 5 * S + 81 * S], speed_mps=5, seed=2), then_ns=2 * S)
    state = again.daemon.snapshot().workout
    assert state.group.done and [a.done for a in state.athletes] == [1, 1]
    assert {r.athlete: round(r.lap.time_s) for r in again.runs()} == {"Ana": 79, "Ben": 81}  # each from their own wave
    again.daemon.stop()
