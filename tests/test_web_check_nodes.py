"""The pre-session check with gate nodes: /api/check, gatectl check's lines and the Check page in chromium.

Two nodes are simulated behind pseudo-terminals (``PtyNode``) and sync with
the daemon's serial source; the third gate's node is not plugged in.
"""

from __future__ import annotations

import pytest
from helpers import app_config, set_pin, wait_for

from gatectl.cli.check import all_well, format_node
from gatectl.daemon.daemon import Daemon
from gatectl.sim.network import PtyNode
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.sources.nodes.status import NodeStatus, node_status
from gatectl.store import Store
from gatectl.timing.model import Layout
from gatectl.web import create_app

FLY30 = Layout.parse("M1=0,M2=30,M3=60")


@pytest.fixture
def noded(tmp_path):
    """A daemon over two simulated nodes (M1, M2) and one that is missing (M3); yields (app, source)."""
    nodes = [PtyNode(str(tmp_path / f"node-M{i + 1}"), f"E66141040000000{i}", boot=i + 1, drift_ppm=(-40, 25)[i]) for i in range(2)]
    ports = [NodePort((f"M{i + 1}",), port=n.path) for i, n in enumerate(nodes)] + [NodePort(("M3",), port=str(tmp_path / "node-M3"))]
    source = SerialSource(ports)
    db_path = tmp_path / "g.db"
    daemon = Daemon(source, lambda: Store(db_path), FLY30, tick_ns=5_000_000)
    daemon.start()
    try:
        set_pin(db_path)
        # Synchronised (its clock placed by enough exchanges), not only answered once: the Check page says so.
        wait_for(lambda: all(p.link.status(0)["synced"] and p.link.last_beat is not None for p in source.ports[:2]))
        yield create_app(app_config(), db_path=db_path, daemon=daemon), source
    finally:
        daemon.stop()
        for node in nodes:
            node.close()


def test_api_check_lists_each_node_with_its_link_and_sync(noded):
    app, _ = noded
    data = app.test_client().get("/api/check").get_json()
    assert data["nodes_message"] is None
    m1, m2, m3 = data["nodes"]
    assert [n["beams"] for n in data["nodes"]] == [["M1"], ["M2"], ["M3"]]
    for node, node_id in ((m1, "E661410400000000"), (m2, "E661410400000001")):
        assert node["connected"] and node["node"] == node_id and node["problem"] is None
        assert 0 < node["sync_uncertainty_us"] < 50_000  # a figure, in µs: a busy machine's pty, not a Pico's USB
        assert isinstance(node["drift_ppm"], float) and node["bad_lines"] == 0  # 0 until the rate is fitted, seconds later
        assert node["buffer"] == 0 and node["capacity"] > 0  # nothing waits for an ACK
    assert not m3["connected"] and m3["sync_uncertainty_us"] is None
    assert "the node of M3 is not connected" in m3["problem"] and "node-M3" in m3["problem"]
    assert not all_well(data)

    lines = [format_node(node) for node in data["nodes"]]
    assert lines[0].startswith("node  M1     E661410400000000 connected, sync ±") and " ppm, buffer 0/" in lines[0]
    assert lines[0].endswith("0 bad line(s)")
    assert lines[2].startswith("node  M3     NOT CONNECTED: the node of M3 is not connected")


def test_node_status_reads_a_mixed_source_and_no_other(noded, tmp_path):
    from fakes import FakeGates

    _, serial = noded
    assert node_status(FakeGates()) == ()
    inside = node_status(MixedSource([FakeGates(), serial]))
    assert [n.beams for n in inside] == [("M1",), ("M2",), ("M3",)] and all(isinstance(n, NodeStatus) for n in inside)
    unstarted = node_status(SerialSource([NodePort(("M1a", "M1b"), usb_serial="E6614104035B2A2B")]))
    assert (
        unstarted[0].port == "USB serial number E6614104035B2A2B"
        and unstarted[0].problem == "the node of M1a/M1b is not connected (USB serial number E6614104035B2A2B)"
    )


@pytest.mark.browser
def test_the_check_page_shows_each_node(noded):
    from browser import chromium_page, serve_in_thread, shoot

    app, _ = noded
    base = serve_in_thread(app)
    with chromium_page(base, 390, 844) as (page, seen):
        wait_for(lambda: page.goto(base + "/check") is not None, timeout=10)
        page.wait_for_selector("#nodes-table tbody tr", timeout=10_000)
        rows = [page.inner_text(f"#nodes-table tbody tr:nth-child({i})") for i in (1, 2, 3)]
        assert "E661410400000000" in rows[0] and "connected" in rows[0]
        assert "NOT CONNECTED" in rows[2] and page.locator("#nodes-table tr.node.bad").count() == 1
        assert page.inner_text("#nodes") == "⚠ 1 of 3 gate node(s) to fix, above."
        assert "the node of M3 is not connected" in page.inner_text("#check-summary")
        assert page.inner_text("#sync-limit") == "5 ms"  # the session's bound: the default here
        # On a phone each node is a card: every figure in view, with its name, nothing scrolled to the side.
        wrap = "document.querySelector('#nodes-table').parentElement"
        assert page.evaluate(f"{wrap}.scrollWidth <= {wrap}.clientWidth")
        label = "getComputedStyle(document.querySelector('#nodes-table tbody td:last-child'), '::before').content"
        assert page.evaluate(label) == '"Bad lines"'
        shoot(page, "check-nodes-phone")
        page.set_viewport_size({"width": 1920, "height": 1080})
        shoot(page, "check-nodes-hdmi")
        assert seen["errors"] == []
