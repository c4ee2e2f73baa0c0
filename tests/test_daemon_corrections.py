"""A correction of the live session: applied on the daemon thread, published, kept by recompute."""

from datetime import UTC, datetime

import pytest
from helpers import assert_live_equals_recompute, run_once

from gatectl.store import Store
from gatectl.timing.corrections import CorrectionError, CrossingRef, DropCrossing, Undo

AT = datetime(2026, 12, 2, 10, 42, tzinfo=UTC)


def first_crossing(db_path, session_id, run):
    with Store(db_path) as store:
        row = next(store.db["crossings"].rows_where("session_id = ? and gate = 'M1' and t_ns = ?", [session_id, run["crossings"]["M1"]]))
    return CrossingRef("M1", row["edges_from_ns"], row["t_ns"])


def test_a_live_correction_is_applied_and_published(daemon, gates, db_path):
    run = run_once(gates, daemon)
    session_id = daemon.snapshot().session_id
    sub = daemon.bus.subscribe()
    correction_id = daemon.correct(session_id, DropCrossing(first_crossing(db_path, session_id, run)), "coach", AT)
    events = []
    while (event := sub.get(timeout=1)) is not None:
        events.append(event)
    assert [e.kind for e in events][:1] == ["corrected"]
    assert events[0].data == {"session": session_id, "correction": correction_id}
    published = {e.data.status.value: e.data for e in events if e.kind == "run"}
    assert set(published) == {"complete", "rejected"}  # the run without the ball, the ball set aside
    assert (published["complete"].fly.time_s, published["complete"].unseen) == (run["fly"]["time_s"], ("M1",))
    # Another run after it is assembled and stored as usual, the correction kept.
    run_once(gates, daemon)
    daemon.stop()
    before = assert_live_equals_recompute(db_path, session_id)  # corrections survive recompute
    assert [r.status.value for r in sorted(before["runs"], key=lambda r: r.number)].count("complete") == 2


def test_a_live_correction_that_does_not_apply_is_refused(daemon, gates, db_path):
    run_once(gates, daemon)
    session_id = daemon.snapshot().session_id
    with pytest.raises(CorrectionError, match="no earlier correction 5"):
        daemon.correct(session_id, Undo(5), "coach", AT)
    with pytest.raises(CorrectionError, match="is not the live session"):
        daemon.correct(session_id + 1, Undo(5), "coach", AT)
    assert daemon.snapshot().session_id == session_id  # the daemon carries on
