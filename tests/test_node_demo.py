"""Gate nodes on the dashboard: each node's state, the ``nodes`` events, ``gatectl demo --nodes`` end to end.

The demo runs in a subprocess, its gates simulated nodes on pseudo-terminals
(``SimNodeGates``); its runs come through the serial source with the sync
uncertainty they were timed with, stored and kept by a recompute. The browser
test puts three nodes in three states on the live page and looks at it.
"""

from __future__ import annotations

import doctest
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import app_config, set_pin, wait_for

import gatectl.sim.nodegates
from gatectl.daemon.daemon import Daemon
from gatectl.daemon.events import EventBus
from gatectl.daemon.nodes import NodeWatch
from gatectl.sim.network import PtyNode
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.link import LinkSettings
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.sources.nodes.status import SILENT_S, NodeState, NodeStatus, beam_clocks, node_status
from gatectl.store import Store
from gatectl.timing.model import Layout

FLY30 = Layout.parse("M1=0,M2=30,M3=60")


def test_docstring_examples():
    assert doctest.testmod(gatectl.sim.nodegates).failed == 0


# A node's state, in a word and a sentence ---------------------------------------------------

IN_SYNC = NodeStatus(
    port="/dev/gatectl-M2", beams=("M2",), connected=True, error=None, node="E661410400000001", firmware="0.1.0", heard_s_ago=0.2,
    synced=True, sync_uncertainty_us=42.0, round_trip_ms=1.1, drift_ppm=12.5, unacked=0, buffer=0, capacity=512, lost_at_node=0,
    lines=300, bad_lines=0, repeats=0, refused=None,
)  # fmt: skip


@pytest.mark.parametrize(("changes", "state", "problem"), [
    ({}, NodeState.OK, None),
    ({"synced": False, "sync_uncertainty_us": None}, NodeState.SYNCING, "the node of M2 is not synchronised yet"),
    ({"synced": False}, NodeState.SYNCING, "the node of M2 is not synchronised yet"),  # a map, not yet enough exchanges
    ({"connected": False, "heard_s_ago": None, "node": None}, NodeState.ABSENT, "the node of M2 is not connected (/dev/gatectl-M2)"),
    ({"connected": False, "heard_s_ago": 4.0}, NodeState.RECONNECTING, "the node of M2 is lost: its port went away, reconnecting (/dev/gatectl-M2)"),
    ({"heard_s_ago": SILENT_S + 9.4}, NodeState.SILENT, "the node of M2 is lost: not heard for 12 s"),
    ({"heard_s_ago": SILENT_S}, NodeState.OK, None),  # three seconds is a beat or two late, not lost
    ({"refused": "speaks protocol 9; this gatectl speaks 1: update the firmware"}, NodeState.REFUSED,
     "the node of M2 speaks protocol 9; this gatectl speaks 1: update the firmware"),
    ({"lost_at_node": 3}, NodeState.OK, "the node of M2 lost 3 edge(s): its buffer was full"),
])  # fmt: skip
def test_a_nodes_state_and_what_to_fix(changes, state, problem):
    node = replace(IN_SYNC, **changes)
    assert (node.state, node.problem) == (state, problem)
    assert (node.as_json()["state"], node.as_json()["problem"]) == (state.value, problem)


def test_the_json_of_a_node_has_its_link_sync_and_buffer():
    data = IN_SYNC.as_json()
    assert {k: data[k] for k in ("lines", "bad_lines", "sync_uncertainty_us", "drift_ppm", "round_trip_ms", "buffer", "capacity")} == {
        "lines": 300, "bad_lines": 0, "sync_uncertainty_us": 42.0, "drift_ppm": 12.5, "round_trip_ms": 1.1, "buffer": 0, "capacity": 512,
    }  # fmt: skip


# The nodes on the event stream ----------------------------------------------------------


class Nodes:
    """A stand-in source whose nodes' status the test sets: a ``SerialSource`` with ``status`` replaced."""

    def __init__(self, *nodes):
        self.source = SerialSource([NodePort(n.beams, port=n.port) for n in nodes])
        self.now = [dict(n.as_json(), beams=list(n.beams)) for n in nodes]
        self.source.status = lambda: [{k: v for k, v in n.items() if k not in ("state", "problem")} for n in self.now]


def published(bus):
    sub = bus.subscribe(0)
    events = []
    while (event := sub.get(timeout=0)) is not None:
        events.append(event)
    return [e.data["nodes"] for e in events if e.kind == "nodes"]


def test_nodes_are_published_every_few_seconds_and_at_once_when_one_changes():
    nodes, bus, now = Nodes(IN_SYNC, replace(IN_SYNC, port="/dev/gatectl-M3", beams=("M3",))), EventBus(), [100.0]
    watch = NodeWatch(nodes.source, bus, every_s=2.0, clock=lambda: now[0])
    watch.tick()
    now[0] += 1.0
    nodes.now[1]["sync_uncertainty_us"] = 55.0  # a figure moves: it waits for the next look
    watch.tick()
    assert [[n["state"] for n in e] for e in published(bus)] == [["ok", "ok"]]
    now[0] += 0.5
    nodes.now[1]["connected"] = False  # unplugged: told at once
    watch.tick()
    now[0] += 1.9
    watch.tick()
    now[0] += 0.1
    watch.tick()  # 2 s after the last: the figures again
    assert [[n["state"] for n in e] for e in published(bus)] == [["ok", "ok"], ["ok", "reconnecting"], ["ok", "reconnecting"]]
    assert published(bus)[-1][1]["problem"].startswith("the node of M3 is lost")


def test_a_source_without_nodes_publishes_nothing():
    from fakes import FakeGates

    bus = EventBus()
    watch = NodeWatch(FakeGates(), bus)
    watch.tick()
    watch.tick()
    assert bus.last_id == 0


# Real nodes behind pseudo-terminals ------------------------------------------------------


@pytest.fixture
def three_nodes(tmp_path):
    """M1's node talks but never gets enough sync exchanges; M2's and M3's sync. Runs are flagged above 10 µs."""
    nodes = [PtyNode(str(tmp_path / f"node-M{i + 1}"), f"E66141040000000{i}", boot=i + 1, drift_ppm=(-40, 25, 10)[i]) for i in range(3)]
    syncing = SerialSource([NodePort(("M1",), port=nodes[0].path)], settings=LinkSettings(min_samples=10**9))
    synced = SerialSource([NodePort((f"M{i + 1}",), port=nodes[i].path) for i in (1, 2)])
    source = MixedSource([syncing, synced])
    db_path = tmp_path / "g.db"
    daemon = Daemon(source, lambda: Store(db_path), FLY30, tick_ns=5_000_000, sync_limit_ns=10_000)
    daemon.start()
    try:
        set_pin(db_path)
        wait_for(lambda: all(p.link.sync.exchanges >= 8 and p.link.last_beat is not None for p in syncing.ports + synced.ports), 20)
        yield create_app_for(db_path, daemon), source, nodes, db_path
    finally:
        daemon.stop()
        for node in nodes:
            node.close()


def create_app_for(db_path, daemon):
    from gatectl.web import create_app

    return create_app(app_config(), db_path=db_path, daemon=daemon)


def sprint_through(nodes, gap_s=2.8):
    """An athlete through M2 and M3 (30 m in 2.8 s): a torso break of 80 ms at each."""
    for node in nodes:
        node.beam(0, True)
        time.sleep(0.08)
        node.beam(0, False)
        time.sleep(gap_s)


def test_each_node_beam_has_its_clock_and_a_run_across_nodes_is_flagged(three_nodes):
    app, source, nodes, db_path = three_nodes
    clocks = beam_clocks(source)
    assert set(clocks) == {"M1", "M2", "M3"} and clocks["M2"][0] == "E661410400000001"
    assert all(0 < uncertainty < 50_000_000 for _, uncertainty in clocks.values())
    assert [n.state for n in node_status(source)] == [NodeState.SYNCING, NodeState.OK, NodeState.OK]
    client = app.test_client()
    assert [n["state"] for n in client.get("/api/live").get_json()["nodes"]] == ["syncing", "ok", "ok"]
    sprint_through(nodes[1:])
    run = wait_for(lambda: next(iter(client.get("/api/live").get_json()["runs"]), None), 20)
    assert run["status"] == "complete" and run["unseen"] == ["M1"]
    sync = run["sync"]
    assert set(sync["gates"]) == {"M2", "M3"} and all(v > 0 for v in sync["gates"].values())
    assert sync["uncertainty_ns"] == sync["gates"]["M2"] + sync["gates"]["M3"] and sync["limit_ns"] == 10_000
    assert sync["flagged"] is (sync["uncertainty_ns"] > 10_000)
    with Store(db_path) as store:
        session = store.latest_session_id()
        logged = store.sync_log(session)
        assert {beam for beam in ("M1", "M2", "M3") if logged.at(beam, 0) is not None} == {"M2", "M3"}  # M1 sent no edge
        before = [r.sync for r in store.runs(session_id=session)]
        store.recompute(session)
        assert [r.sync for r in store.runs(session_id=session)] == before
    nodes[2].unplug()
    wait_for(lambda: [n["state"] for n in client.get("/api/check").get_json()["nodes"]] == ["syncing", "ok", "reconnecting"])


# gatectl demo --nodes --------------------------------------------------------------------


@pytest.fixture
def demo_nodes(tmp_path):
    """``gatectl demo --nodes`` in a subprocess; yields (base URL, its output so far, the database)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "demo.db"
    log = tmp_path / "demo.log"
    with open(log, "w+") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "gatectl", "demo", "--nodes", "--port", str(port), "--db", str(db), "--seed", "7"],
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            yield f"http://127.0.0.1:{port}", log, db, demo
        finally:
            if demo.poll() is None:
                demo.send_signal(signal.SIGTERM)
                try:
                    demo.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    demo.kill()


def get_json(url):
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def first_run(base, demo, timeout=90):
    def ready():
        assert demo.poll() is None, "the demo stopped"
        try:
            runs = get_json(base + "/api/live")["runs"]
        except OSError:
            return None
        return next((r for r in runs if r["status"] == "complete"), None)

    return wait_for(ready, timeout)


def test_demo_nodes_times_runs_through_the_nodes_and_stores_their_sync(demo_nodes):
    base, log, db, demo = demo_nodes
    run = first_run(base, demo)
    assert set(run["sync"]["gates"]) == {"M1", "M2", "M3"}
    assert all(0 < ns < 1_000_000 for ns in run["sync"]["gates"].values())  # each node within a ms over a pseudo-terminal
    assert 0 < run["sync"]["uncertainty_ns"] < 1_000_000 < run["sync"]["limit_ns"] == 5_000_000 and run["sync"]["flagged"] is False
    nodes = get_json(base + "/api/live")["nodes"]
    assert [(n["beams"], n["state"], n["connected"]) for n in nodes] == [(["M1"], "ok", True), (["M2"], "ok", True), (["M3"], "ok", True)]
    assert all(n["lines"] > 10 and n["bad_lines"] == 0 and n["buffer"] is not None and n["round_trip_ms"] > 0 for n in nodes)
    assert [n["state"] for n in get_json(base + "/api/check")["nodes"]] == ["ok", "ok", "ok"]
    folder = Path(nodes[0]["port"]).parent
    assert folder.is_dir()
    demo.send_signal(signal.SIGTERM)
    demo.wait(timeout=20)
    out = log.read_text()
    assert "gate nodes: " in out and "gatectl: stopped;" in out and "Traceback" not in out
    assert not folder.exists()  # the nodes' ports go with the demo
    with Store(db) as store:
        session = store.latest_session_id()
        stored = {r.id: r.sync for r in store.runs(session_id=session)}
        assert stored[run["id"]].uncertainty_ns == run["sync"]["uncertainty_ns"]
        store.recompute(session)
        assert {r.id: r.sync for r in store.runs(session_id=session)} == stored


def test_demo_nodes_publishes_the_nodes_on_the_stream(demo_nodes):
    import http.client

    base, _, _, demo = demo_nodes
    port = int(base.rsplit(":", 1)[1])
    wait_for(lambda: demo.poll() is None and _answers(base), 30)
    viewer = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    viewer.request("GET", "/api/stream")
    response = viewer.getresponse()
    text = b""
    deadline = time.monotonic() + 15
    while b"event: nodes" not in text:
        assert time.monotonic() < deadline, text[-500:]
        text += response.read1(4096)
    viewer.close()
    data = json.loads(text.split(b"event: nodes\ndata: ", 1)[1].split(b"\n", 1)[0])
    assert [n["beams"] for n in data["nodes"]] == [["M1"], ["M2"], ["M3"]]


def _answers(base):
    try:
        get_json(base + "/api/live")
        return True
    except OSError:
        return False


# The live page in chromium ---------------------------------------------------------------


@pytest.mark.browser
def test_the_live_page_shows_each_node_and_a_flagged_run(three_nodes):
    from browser import chromium_page, serve_in_thread, shoot, wait_until

    app, _, nodes, _ = three_nodes
    base = serve_in_thread(app)
    with chromium_page(base, 390, 844) as (page, seen):
        wait_for(lambda: page.goto(base + "/") is not None, timeout=10)
        page.wait_for_selector("#nodes li.node", timeout=10_000)
        rows = [page.inner_text(f"#nodes li:nth-child({i})") for i in (1, 2, 3)]
        assert "M1" in rows[0] and "syncing…" in rows[0]
        assert "in sync ±" in rows[1] and " µs" in rows[1] and "ppm" in rows[1] and "rtt" in rows[1] and "lines" in rows[1]
        page.set_viewport_size({"width": 1920, "height": 1080})  # each gate's sync beside its light (a phone has it in the list)
        assert page.inner_text("#gates li:nth-child(1) .sync") == "syncing…"
        assert page.inner_text("#gates li:nth-child(2) .sync").startswith("±")
        page.set_viewport_size({"width": 390, "height": 844})
        sprint_through(nodes[1:])
        page.wait_for_selector("#result:not([hidden])", timeout=15_000)
        assert page.inner_text("#syncflag").startswith("⚠ Clock sync of the gate nodes (M2 ±")
        assert page.locator("#strip li.syncflag").count() == 1
        nodes[2].unplug()  # the stream tells the page at once
        wait_until(page, "document.querySelector('#nodes li:nth-child(3)').classList.contains('reconnecting')", 10)
        assert "LOST — reconnecting…" in page.inner_text("#nodes li:nth-child(3)")
        shoot(page, "live-nodes-phone")
        page.set_viewport_size({"width": 1920, "height": 1080})
        assert page.inner_text("#gates li:nth-child(3) .sync") == "no sync"
        shoot(page, "live-nodes-hdmi")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base + "/history/sessions/1")
        assert page.inner_text(".runs .syncflag").startswith("sync ±") and "the 10 µs allowed" in page.inner_text(".runs td.status")
        shoot(page, "history-syncflag-phone")
        assert seen["errors"] == []


@pytest.mark.browser
def test_the_demo_with_nodes_on_the_live_page(demo_nodes):
    from browser import chromium_page, shoot

    base, _, _, demo = demo_nodes
    first_run(base, demo)
    with chromium_page(base, 1920, 1080, "dark") as (page, seen):
        page.goto(base + "/")
        page.wait_for_selector("#nodes li.node.ok", timeout=10_000)
        assert page.locator("#nodes li.node.ok").count() == 3
        assert page.locator("#gates .sync").count() == 3
        shoot(page, "demo-nodes-hdmi")
        page.set_viewport_size({"width": 390, "height": 844})
        shoot(page, "demo-nodes-phone")
        page.goto(base + "/check")
        page.wait_for_selector("#nodes-table tbody tr", timeout=10_000)
        assert page.locator("#nodes-table tr.node.ok").count() == 3
        shoot(page, "demo-nodes-check-phone")
        assert seen["errors"] == []
