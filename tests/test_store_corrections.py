"""Coach corrections in the store: kept beside the raw log, folded into the runs shown, kept by recompute."""

import json
from datetime import UTC, datetime

import pytest
from helpers import S, passage

from gatectl.coaching.laps import Track
from gatectl.errors import StoreError
from gatectl.store import Store
from gatectl.timing.corrections import (
    CORRECTED,
    REMOVED,
    AttachCrossing,
    CorrectionError,
    CrossingRef,
    DropCrossing,
    SetAthlete,
    SplitRun,
    Undo,
)
from gatectl.timing.model import Layout
from gatectl.timing.pipeline import time_edges
from gatectl.timing.sync import BeamSync

FLY30 = Layout.flying(30, 30)
AT = datetime(2026, 12, 2, 10, 42, tzinfo=UTC)
US = 1000  # ns


def edges_of(*passages_s):
    """Passages (gate, torso at seconds) as raw edges, in time order."""
    return sorted((e for gate, t in passages_s for e in passage((gate,), t * 1000)), key=lambda e: e.t_ns)


@pytest.fixture
def db():
    with Store(":memory:") as store:
        yield store


def session_of(db, *passages_s):
    session_id = db.start_session(FLY30)
    edges = edges_of(*passages_s)
    db.add_edges(session_id, edges)
    result = time_edges(edges, FLY30)
    db.add_derived(session_id, [*result.crossings, *result.anomalies, *result.runs])
    return session_id


@pytest.fixture
def flying(db):
    """A flying 30 (M1 at 10 s, M2 at 13.75 s, M3 at 17.5 s), and a lone crossing of M1 at 30 s."""
    return session_of(db, ("M1", 10), ("M2", 13.75), ("M3", 17.5), ("M1", 30))


def ref(db, session_id, gate, seconds):
    """How the dashboard names a stored crossing: gate, its first raw edge, its instant."""
    row = db.db.execute(
        "select gate, edges_from_ns, t_ns from crossings where session_id = ? and gate = ? and t_ns = ?", [session_id, gate, round(seconds * S)]
    ).fetchone()
    return CrossingRef(*row)


def shown(db, session_id):
    return sorted(
        ((r.status.value, {g: t / S for g, t in r.crossings.items()}, r.reason) for r in db.runs(session_id=session_id)), key=lambda r: min(r[1].values())
    )


def test_migration_adds_the_corrections_table_and_run_columns(db):
    assert {"id", "session_id", "kind", "payload", "who", "made_at", "undone_by", "applied", "note"} <= set(db.db["corrections"].columns_dict)
    assert {"corrected", "replaced", "source_id", "history"} <= set(db.db["runs"].columns_dict)


def test_drop_a_crossing(db, flying):
    (before,) = db.runs(session_id=flying, statuses=["complete"])
    correction_id, _ = db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    assert shown(db, flying) == [
        ("rejected", {"M1": 10.0}, REMOVED),
        ("complete", {"M2": 13.75, "M3": 17.5}, CORRECTED),
        ("rejected", {"M1": 30.0}, "lone crossing at M1: no later gate was crossed at a running pace after it (someone crossing one gate, a ball, or a start abandoned)"),
    ]
    (after,) = db.runs(session_id=flying, statuses=["complete"])
    assert after.fly == before.fly and after.unseen == ("M1",)  # the fly time, by the same code as any run's
    assert after.id != before.id
    with pytest.raises(StoreError, match=f"Run {before.id} was changed by a correction"):
        db.run(before.id)
    (row,) = db.correction_rows(flying)
    assert (row["id"], row["kind"], row["who"], row["made_at"], row["applied"], row["undone_by"]) == (
        correction_id, "drop-crossing", "coach", "2026-12-02T10:42:00+00:00", True, None
    )  # fmt: skip
    assert row["payload"]["crossing"]["gate"] == "M1"
    assert db.db.execute("select history from runs where id = ?", [after.id]).fetchone()[0] == json.dumps([correction_id])
    assert db.sessions()[0]["complete_runs"] == 1  # the replaced run is not counted twice


def test_raw_edges_are_never_edited(db, flying):
    edges = db.edges(flying)
    db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    assert db.edges(flying) == edges


def test_a_correction_that_does_not_apply_is_refused_and_not_kept(db, flying):
    with pytest.raises(CorrectionError, match="is not in a run: it is already set aside"):
        db.correct(flying, DropCrossing(ref(db, flying, "M1", 30)), "coach", AT)
    assert db.correction_rows(flying) == []
    assert [r.status.value for r in db.runs(session_id=flying)] == ["rejected", "complete"]


def test_undo_shows_the_run_as_assembled_again(db, flying):
    (before,) = db.runs(session_id=flying, statuses=["complete"])
    first, _ = db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    undo, _ = db.correct(flying, Undo(first), "coach", AT)
    (again,) = db.runs(session_id=flying, statuses=["complete"])
    assert again.id == before.id and again.crossings == before.crossings
    rows = db.correction_rows(flying)
    assert [(r["id"], r["applied"], r["undone_by"]) for r in rows] == [(first, False, undo), (undo, True, None)]
    assert db.db.execute("select history from runs where id = ?", [before.id]).fetchone()[0] == json.dumps([first, undo])
    with pytest.raises(CorrectionError, match=f"Correction {first} is already undone."):
        db.correct(flying, Undo(first), "coach", AT)


def test_corrections_survive_recompute(db):
    session_id = session_of(db, ("M1", 0), ("M1", 10), ("M2", 13.75), ("M3", 17.5), ("M1", 40), ("M2", 43.75), ("M3", 47.5))
    db.correct(session_id, DropCrossing(ref(db, session_id, "M1", 10)), "coach", AT)
    db.correct(session_id, AttachCrossing(ref(db, session_id, "M1", 0), ref(db, session_id, "M3", 17.5)), "coach", AT)
    db.correct(session_id, SplitRun(ref(db, session_id, "M3", 47.5)), "coach", AT)
    before = db.runs(session_id=session_id)
    assert shown(db, session_id)[:2] == [("complete", {"M1": 0.0, "M2": 13.75, "M3": 17.5}, CORRECTED), ("rejected", {"M1": 10.0}, REMOVED)]
    counts = db.recompute(session_id)
    assert db.runs(session_id=session_id) == before  # the same corrected runs, ids and all
    assert (counts["corrections"], counts["not_applied"]) == (3, 0)
    assert [r["applied"] for r in db.correction_rows(session_id)] == [True, True, True]


def test_attach_out_of_order_is_refused(db, flying):
    db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    with pytest.raises(CorrectionError, match="a run goes through the gates in order"):
        db.correct(flying, AttachCrossing(ref(db, flying, "M1", 30), ref(db, flying, "M3", 17.5)), "coach", AT)


def test_a_correction_whose_crossing_is_gone_after_recompute_is_reported(db, flying):
    correction_id, _ = db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    db.db.execute("delete from edges where session_id = ? and beam = 'M1' and t_ns < ?", [flying, 20 * S])  # as if never seen
    counts = db.recompute(flying)
    assert counts["not_applied"] == 1
    (row,) = db.correction_rows(flying)
    assert (row["id"], row["applied"]) == (correction_id, False)
    assert row["note"].startswith("There is no longer the M1 crossing at 10.000 s")
    assert [r.status.value for r in db.runs(session_id=flying)] == ["rejected", "complete"]


def test_a_corrected_run_keeps_its_athlete_void_and_rep(db, flying):
    ana, bo = db.add_athlete("Ana"), db.add_athlete("Bo")
    (run,) = db.runs(session_id=flying, statuses=["complete"])
    db.assign_run(run.id, ana)
    db.set_run_rep(run.id, 1, 2)
    db.correct(flying, DropCrossing(ref(db, flying, "M1", 10)), "coach", AT)
    (fixed,) = db.runs(session_id=flying, statuses=["complete"])
    assert (fixed.athlete_id, fixed.set_no, fixed.rep_no) == (ana, 1, 2)  # from the run it carries on
    db.void_run(fixed.id, "false start")
    with pytest.raises(StoreError, match="set-athlete correction"):
        db.assign_run(fixed.id, bo)
    db.correct(flying, SetAthlete(ref(db, flying, "M2", 13.75), bo, "Bo"), "coach", AT)
    (again,) = db.runs(session_id=flying, statuses=["complete"])
    assert (again.id, again.athlete_id, again.voided, again.void_reason) == (fixed.id, bo, True, "false start")
    db.recompute(flying)
    assert db.runs(session_id=flying, statuses=["complete"]) == [again]


def test_split_gives_a_new_run(db, flying):
    db.correct(flying, SplitRun(ref(db, flying, "M2", 13.75)), "coach", AT)
    assert [r[0] for r in shown(db, flying)] == ["rejected", "complete", "rejected"]
    assert shown(db, flying)[1][1] == {"M2": 13.75, "M3": 17.5}


def test_track_sessions_take_no_corrections(db):
    session_id = db.start_session(FLY30, track=Track("M1", 400))
    with pytest.raises(CorrectionError, match="times lap reps on one gate"):
        db.correct(session_id, Undo(1), "coach", AT)


def test_sessions_without_corrections_recompute_as_before(db, flying):
    assert set(db.recompute(flying)) == {"edges", "crossings", "runs", "anomalies"}


def test_a_corrected_run_carries_the_clock_sync_of_its_crossings(db):
    session_id = db.start_session(FLY30, sync_limit_ns=500 * US)
    db.add_sync(session_id, [BeamSync("M2", 0, "n2", 200 * US), BeamSync("M3", 0, "n3", 400 * US)])
    edges = edges_of(("M1", 10), ("M2", 13.75), ("M3", 17.5))
    db.add_edges(session_id, edges)
    db.recompute(session_id)
    db.correct(session_id, DropCrossing(ref(db, session_id, "M1", 10)), "coach", AT)
    (after,) = db.runs(session_id=session_id, statuses=["complete"])
    assert dict(after.sync.gates) == {"M2": 200 * US, "M3": 400 * US} and after.sync.uncertainty_ns == 600 * US and after.sync.flagged
    db.recompute(session_id)
    assert db.runs(session_id=session_id, statuses=["complete"])[0].sync == after.sync


def test_the_run_that_carries_a_run_on_after_corrections(db):
    """``carried``: what a workout hears of a run it heard before the coach corrected it."""
    session_id = session_of(db, ("M1", 10), ("M2", 13.75), ("M3", 17.5), ("M1", 40), ("M2", 43.75), ("M3", 47.5))
    first, second = sorted(db.runs(session_id=session_id, statuses=["complete"]), key=lambda r: r.number)
    assert db.carried(first.id) == first  # never corrected: itself
    split_id, _ = db.correct(session_id, SplitRun(ref(db, session_id, "M2", 13.75)), "coach", AT)
    split = db.carried(first.id)
    assert (split.status.value, split.crossings) == ("complete", {"M2": first.crossings["M2"], "M3": first.crossings["M3"]})  # the half that is timed
    assert db.carried(split.id) == split  # a corrected run: itself, under its id
    db.correct(session_id, Undo(split_id), "coach", AT)
    assert db.carried(first.id) == first
    assert db.carried(second.id) == second
    assert db.carried(999) is None
