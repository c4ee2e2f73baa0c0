"""Clock-sync bounds of a run: the pure log and sums, stored with every run, rebuilt by recompute, flagged above the bound."""

import doctest
import json

import pytest

import gatectl.timing.sync
from gatectl.config import parse_config
from gatectl.errors import ConfigError
from gatectl.export import runs_csv
from gatectl.jsonable import jsonable
from gatectl.sim.sprinters import simulate
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Crossing, Edge, Layout, Method, Run, RunStatus
from gatectl.timing.results import RunSync
from gatectl.timing.sync import DEFAULT_LIMIT_NS, BeamSync, SyncLog, run_sync, sync_changes

S, MS, US = NS_PER_S, NS_PER_MS, 1000
FLY30 = Layout.flying(30, 30)
BEAMS = {"M1": ("M1",), "M2": ("M2",), "M3": ("M3",)}
TIMES = {"M1": 0, "M2": 3 * S, "M3": 6 * S}


def test_docstring_examples():
    assert doctest.testmod(gatectl.timing.sync).failed == 0


# The log --------------------------------------------------------------------------------


def test_the_log_answers_the_entry_in_force_at_an_instant():
    log = SyncLog([BeamSync("M2", 200, "a", 30), BeamSync("M2", 100, "a", 50), BeamSync("M3", 150, "b", 7)])
    assert [log.at("M2", t).uncertainty_ns for t in (100, 150, 199, 200, 10**12)] == [50, 50, 50, 30, 30]
    assert log.at("M2", 99).uncertainty_ns == 50  # before its first entry: the first (the batch began a little later)
    assert log.at("M3", 0) == BeamSync("M3", 150, "b", 7)
    assert log.at("M1", 100) is None  # never logged: the Pi's own clock


def test_an_empty_log_is_the_pis_clock_everywhere():
    assert SyncLog([]).at("M1", 0) is None


# The run's bound ------------------------------------------------------------------------


def test_gates_on_the_pis_clock_add_nothing():
    sync = run_sync(TIMES, BEAMS, SyncLog([]), MS)
    assert (dict(sync.gates), sync.uncertainty_ns, sync.flagged, sync.why) == ({"M1": 0, "M2": 0, "M3": 0}, 0, False, None)


def test_one_node_among_gpio_gates_adds_its_own_bound():
    sync = run_sync(TIMES, BEAMS, SyncLog([BeamSync("M3", 0, "n3", 40 * US)]), MS)
    assert (dict(sync.gates), sync.uncertainty_ns) == ({"M1": 0, "M2": 0, "M3": 40 * US}, 40 * US)


def test_two_nodes_add_up():
    log = SyncLog([BeamSync("M2", 0, "n2", 300 * US), BeamSync("M3", 0, "n3", 800 * US), BeamSync("M1", 0, "n1", 100 * US)])
    sync = run_sync(TIMES, BEAMS, log, MS)
    assert sync.uncertainty_ns == 1100 * US  # M2 + M3, the worst pair
    assert sync.flagged
    assert sync.why == (
        "Clock sync of the gate nodes (M1 ±100 µs, M2 ±300 µs, M3 ±800 µs) may have moved its times by up to 1.1 ms, "
        "more than the 1 ms allowed: check the nodes' links on the Check page."
    )


def test_two_gates_on_one_node_share_its_clock():
    log = SyncLog([BeamSync("M2", 0, "n", 700 * US), BeamSync("M3", 0, "n", 700 * US)])
    assert run_sync({"M2": 3 * S, "M3": 6 * S}, BEAMS, log, MS).uncertainty_ns == 0  # one offset: it cancels
    assert run_sync(TIMES, BEAMS, log, MS).uncertainty_ns == 700 * US  # M1 on the Pi against either


def test_a_dual_gate_takes_its_worse_beam_and_two_clocks_never_cancel():
    beams = {"M2": ("M2a", "M2b"), "M3": ("M3a", "M3b")}
    log = SyncLog([BeamSync("M2a", 0, "n", 10), BeamSync("M2b", 0, "m", 30), BeamSync("M3a", 0, "n", 20), BeamSync("M3b", 0, "m", 5)])
    sync = run_sync({"M2": 1, "M3": 2}, beams, log, MS)
    assert (dict(sync.gates), sync.uncertainty_ns) == ({"M2": 30, "M3": 20}, 50)


def test_a_lone_crossing_has_no_interval_to_be_off():
    assert run_sync({"M3": 6 * S}, BEAMS, SyncLog([BeamSync("M3", 0, "n", 900 * US)]), MS).uncertainty_ns == 0


def test_the_sentence_says_small_times_in_us_and_larger_in_ms():
    why = RunSync({"M2": 29_400, "M3": 999_400}, 1_028_800, 10_000).why
    assert why.startswith("Clock sync of the gate nodes (M2 ±29 µs, M3 ±999 µs) may have moved its times by up to 1.03 ms, more than the 10 µs")


def test_the_bound_is_strict_and_the_uncertainty_in_us():
    assert not RunSync({"M2": 500 * US, "M3": 500 * US}, MS, MS).flagged
    assert RunSync({"M2": 500 * US, "M3": 500 * US + 1}, MS + 1, MS).flagged
    assert jsonable(RunSync({"M3": 1500}, 1500, MS)) == {
        "gates": {"M3": 1500}, "uncertainty_ns": 1500, "limit_ns": MS, "uncertainty_us": 1.5, "flagged": False, "why": None,
    }  # fmt: skip


def test_the_value_at_each_crossing_is_used():
    log = SyncLog([BeamSync("M3", 0, "n", 2 * MS), BeamSync("M3", 5 * S, "n", 50 * US)])
    assert run_sync(TIMES, BEAMS, log, MS).gates["M3"] == 50 * US
    assert run_sync({"M1": 0, "M3": 4 * S}, BEAMS, log, MS).gates["M3"] == 2 * MS


# What the daemon logs -------------------------------------------------------------------


def test_a_batch_logs_each_changed_node_beam_from_its_first_edge():
    edges = [("M3", 50, True), ("M2", 60, True), ("M3", 40, False), ("M1", 45, True)]
    clocks = {"M2": ("a", 10), "M3": ("b", 12)}
    assert sync_changes(edges, clocks, {}) == [BeamSync("M3", 40, "b", 12), BeamSync("M2", 60, "a", 10)]
    assert sync_changes(edges, clocks, {"M2": ("a", 10)}) == [BeamSync("M3", 40, "b", 12)]
    assert sync_changes(edges, clocks, dict(clocks)) == []
    assert sync_changes(edges, {"M3": ("c", 12)}, {"M3": ("b", 12)}) == [BeamSync("M3", 40, "c", 12)]  # another node now
    assert sync_changes([], clocks, {}) == []


# Stored with every run ------------------------------------------------------------------


def run_at(number, *times_s, gates=("M1", "M2", "M3")):
    return Run(number, tuple(Crossing(g, round(t * S), Method.LONGEST) for g, t in zip(gates, times_s)), RunStatus.COMPLETE, None)


@pytest.fixture
def store():
    with Store(":memory:") as s:
        yield s


def test_a_session_keeps_its_bound(store):
    assert store.session(store.start_session(FLY30))["sync_limit_ns"] == DEFAULT_LIMIT_NS == 5 * MS
    assert store.session(store.start_session(FLY30, sync_limit_ns=300 * US))["sync_limit_ns"] == 300 * US


def test_a_run_is_stored_with_its_sync_and_a_recompute_rebuilds_it(store):
    session = store.start_session(FLY30, sync_limit_ns=500 * US)
    edges = simulate(FLY30, 2, seed=3, start_ns=10 * S).edges
    store.add_sync(session, [BeamSync("M2", 0, "n2", 200 * US), BeamSync("M3", 0, "n3", 100 * US), BeamSync("M3", 40 * S, "n3", 400 * US)])
    store.add_edges(session, edges)
    store.recompute(session)
    before = [(r.number, r.sync) for r in store.runs(session_id=session)]
    assert len(before) == 2 and all(sync is not None for _, sync in before)
    first, second = sorted(before)
    assert first[1].uncertainty_ns == 300 * US and not first[1].flagged
    assert second[1].gates["M3"] == 400 * US and second[1].uncertainty_ns == 600 * US and second[1].flagged
    row = store.db.execute("select sync_gates, sync_ns from runs where number = 2").fetchone()
    assert (json.loads(row[0]), row[1]) == ({"M1": 0, "M2": 200 * US, "M3": 400 * US}, 600 * US)
    store.recompute(session)
    assert sorted((r.number, r.sync) for r in store.runs(session_id=session)) == sorted(before)


def test_live_runs_get_the_same_figure_as_a_recompute(store):
    session = store.start_session(FLY30)
    store.add_sync(session, [BeamSync("M3", 0, "n3", 10 * US), BeamSync("M3", 5 * S, "n3", 1200 * US), BeamSync("M2", 8 * S, "n2", 20 * US)])
    store.add_derived(session, [run_at(1, 1, 4, 7), run_at(2, 10, 13, 16)])
    live = sorted((r.number, r.sync) for r in store.runs(session_id=session))
    assert [dict(s.gates) for _, s in live] == [{"M1": 0, "M2": 20 * US, "M3": 1200 * US}] * 2  # run 1 crossed M2 before its first entry: that one
    passes = [("M1", 1), ("M2", 4), ("M3", 7), ("M1", 10), ("M2", 13), ("M3", 16)]  # the same runs' crossings, as raw edges
    store.add_edges(session, [e for beam, t in passes for e in (Edge(beam, t * S, True), Edge(beam, t * S + 80 * MS, False))])
    store.recompute(session)
    assert sorted((r.number, r.sync) for r in store.runs(session_id=session)) == live


def test_a_run_of_a_session_from_before_the_sync_log_says_not_measured(store):
    session = store.start_session(FLY30)
    store.db.execute("update sessions set sync_limit_ns = null where id = ?", [session])
    store.add_derived(session, [run_at(1, 1, 4, 7)])
    assert store.runs(session_id=session)[0].sync is None
    assert jsonable(store.runs(session_id=session)[0])["sync"] is None


def test_the_flag_is_in_the_json_and_the_export(store):
    session = store.start_session(FLY30, sync_limit_ns=MS)
    store.add_sync(session, [BeamSync("M2", 0, "n2", 900 * US), BeamSync("M3", 0, "n3", 900 * US)])
    store.add_derived(session, [run_at(1, 1, 4, 7)])
    run = store.runs(session_id=session)[0]
    data = jsonable(run)["sync"]
    assert (data["uncertainty_us"], data["flagged"]) == (1800.0, True) and "1.8 ms" in data["why"]
    header, row = runs_csv([run]).splitlines()
    cells = dict(zip(header.split(","), row.split(",")))
    assert (cells["sync_uncertainty_us"], cells["sync_flagged"]) == ("1800.0", "1")


# The bound in the config ----------------------------------------------------------------


def config_with(sync):
    data = {"source": {"kind": "sim"}, "gates": [{"name": "M1", "position_m": 0}, {"name": "M2", "position_m": 30}], "database": {"path": "x.db"}}
    return parse_config({**data, "sync": sync})


def test_the_config_sets_the_bound():
    assert config_with({}).sync_limit_ns == 5 * MS  # half the hundredth a fly time is shown to
    assert config_with({"limit_ms": 0.25}).sync_limit_ns == 250 * US
    assert config_with({"limit_ms": 2}).sync_limit_ns == 2 * MS


@pytest.mark.parametrize(("sync", "words"), [
    ({"limit_ms": 0}, "sync.limit_ms: must be from 0.01 to 1000 ms, not 0."),
    ({"limit_ms": 1e9}, "sync.limit_ms: must be from 0.01 to 1000 ms"),
    ({"limit_ms": float("inf")}, "not inf"),
    ({"limit_ms": "1"}, "sync.limit_ms: must be a whole number or number"),
    ({"limit_ms": True}, "sync.limit_ms: must be"),
    ({"limit": 1}, "sync.limit: unknown field"),
])  # fmt: skip
def test_a_bad_bound_is_named(sync, words):
    with pytest.raises(ConfigError, match=None) as caught:
        config_with(sync)
    assert words in str(caught.value)


# On the pages ---------------------------------------------------------------------------


def test_history_control_and_the_api_show_a_flagged_run_and_why(app, daemon, db_path):
    from helpers import login

    session = daemon.snapshot().session_id  # the daemon's own: Control lists its runs
    with Store(db_path) as store:
        store.add_sync(session, [BeamSync("M2", 0, "n2", 3500 * US), BeamSync("M3", 0, "n3", 3000 * US)])
        flagged, fine = store.add_derived(session, [run_at(1, 1, 4, 7), run_at(2, 10, 13, 16, gates=("M1", "M2"))])
    client = app.test_client()
    html = client.get(f"/history/sessions/{session}").get_data(as_text=True)
    assert html.count('class="syncflag"') == 1 and "sync ±6500 µs" in html
    assert "may have moved its times by up to 6.5 ms, more than the 5 ms allowed" in html
    data = client.get(f"/api/runs/{flagged}").get_json()
    assert (data["sync"]["flagged"], data["sync"]["uncertainty_us"], data["sync"]["gates"]) == (True, 6500.0, {"M1": 0, "M2": 3500 * US, "M3": 3000 * US})
    assert client.get(f"/api/runs/{fine}").get_json()["sync"] == {
        "gates": {"M1": 0, "M2": 3500 * US}, "uncertainty_ns": 3500 * US, "limit_ns": 5 * MS, "uncertainty_us": 3500.0, "flagged": False, "why": None,
    }  # fmt: skip
    assert login(client).status_code == 302
    control = client.get("/control").get_data(as_text=True)
    assert "tag warn syncflag" in control and "check the nodes&#39; links on the Check page." in control
