"""The serial source against simulated nodes on real pseudo-terminals, in real time."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from gatectl.errors import SourceError
from gatectl.sim.network import PtyNode
from gatectl.sources.nodes import serial as serial_source
from gatectl.sources.nodes.link import LinkSettings
from gatectl.sources.nodes.protocol import Beat, Hello, TimeReply, encode
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.timing.model import Edge

MS = 1_000_000
S = 1_000_000_000


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


class Daemon:
    """Stores what the source emits (at once) and tells it so, as the daemon does."""

    def __init__(self, source: SerialSource) -> None:
        self.source = source
        self.edges: list[Edge] = []
        self.lock = threading.Lock()

    def emit(self, edge: Edge) -> None:
        with self.lock:
            self.edges.append(edge)
        self.source.edges_stored([edge])


@pytest.fixture
def node(tmp_path):
    made = PtyNode(str(tmp_path / "gate-M3"), "E6614104035B2A2B", boot=0x51, drift_ppm=80)
    yield made
    made.close()


def test_edges_arrive_once_on_the_host_clock_and_survive_an_unplugged_node(node):
    source = SerialSource([NodePort(("M3",), port=node.path, node_id="E6614104035B2A2B")])
    daemon = Daemon(source)
    source.start(daemon.emit)
    try:
        wait_for(lambda: source.status()[0]["sync_uncertainty_us"] is not None and source.ports[0].link.sync.exchanges >= 8)
        t = time.monotonic_ns()
        node.beam(0, True)
        wait_for(lambda: len(daemon.edges) == 1)
        assert daemon.edges[0].beam == "M3" and daemon.edges[0].broken
        assert abs(daemon.edges[0].t_ns - t) < 20 * MS  # the node's stamp, mapped: not when the line came
        node.unplug()
        for broken in (False, True, False):
            node.beam(0, broken)
        time.sleep(1.5)
        assert len(daemon.edges) == 1
        wait_for(lambda: not source.ports[0].connected)
        node.plug()
        wait_for(lambda: len(daemon.edges) == 4, timeout=15)
        wait_for(lambda: not node.node.node.unacked)  # every edge acknowledged once stored
        time.sleep(0.5)
        assert [e.broken for e in daemon.edges] == [True, False, True, False]  # each once, none doubled
        assert source.status()[0]["connected"]
    finally:
        source.stop()


def test_a_port_that_is_not_there_is_retried_not_raised(tmp_path):
    source = SerialSource([NodePort(("M1",), port=str(tmp_path / "nothing"))])
    source.start(lambda edge: None)
    try:
        wait_for(lambda: source.status()[0]["error"] is not None)
        assert "cannot open" in source.status()[0]["error"]
    finally:
        source.stop()


def test_nodes_are_found_by_usb_serial_number(monkeypatch):
    ports = [SimpleNamespace(serial_number=None, device="/dev/ttyS0"), SimpleNamespace(serial_number="e6614104035b2a2b", device="/dev/ttyACM3")]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    assert serial_source.find_usb_serial("E6614104035B2A2B") == "/dev/ttyACM3"
    assert serial_source.find_usb_serial("AAAA") is None


def test_a_node_port_needs_exactly_one_way_to_find_it():
    with pytest.raises(SourceError, match="either its port or its USB serial number"):
        NodePort(("M1",))
    with pytest.raises(SourceError, match="either its port or its USB serial number"):
        NodePort(("M1",), port="/dev/ttyACM0", usb_serial="AB")
    with pytest.raises(SourceError, match="given to two nodes"):
        SerialSource([NodePort(("M1",), port="a"), NodePort(("M1",), port="b")])


def test_the_clock_waits_for_what_a_node_has_not_delivered():
    now = [100 * S]
    source = SerialSource([NodePort(("M1",), port="unused")], clock=lambda: now[0], settings=LinkSettings(min_samples=1))
    link = source.ports[0].link
    link.receive(encode(Hello(1, "AB", 1, 1, 8, "0.1.0")), now[0])
    link.due(now[0])
    link.receive(encode(TimeReply(1, 1, 50_000_000, 50_000_000)), now[0])  # node 50 s is host 100 s
    link.receive(encode(Beat(1, 49_000_000, 0, 0, 0, 0, 0, 0)), now[0])  # all delivered up to host 99 s
    assert source.now_ns() == 99 * S + source.latency_ns
    now[0] += 4 * S + S // 2  # silent for 4.5 s: still held, but never more than max_hold_ns behind
    assert source.now_ns() == now[0] - source.max_hold_ns
    now[0] += 5 * S + S // 2  # silent for 10 s: gone quiet, it holds the clock no more
    assert source.now_ns() == 110 * S
    now[0] -= 5 * S  # the host's clock never goes back, but if it seemed to, this one would not
    assert source.now_ns() == 110 * S


def test_with_no_node_heard_the_clock_is_the_hosts():
    source = SerialSource([NodePort(("M1",), port="unused")], clock=lambda: 7 * S)
    assert source.now_ns() == 7 * S
