"""The daemon with gate nodes: a run timed through three nodes on pseudo-terminals, acked once stored."""

from __future__ import annotations

import time

from gatectl.daemon.daemon import Daemon
from gatectl.sim.network import PtyNode
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.store import Store
from gatectl.timing.model import Layout

FLY30 = Layout.parse("M1=0,M2=30,M3=60")


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_run_through_three_nodes_is_stored_and_every_edge_acknowledged(tmp_path):
    nodes = [PtyNode(str(tmp_path / f"node-{g.name}"), f"E66141040000000{i}", boot=i + 1, drift_ppm=(-60, 20, 90)[i]) for i, g in enumerate(FLY30.gates)]
    source = SerialSource([NodePort((g.name,), port=n.path) for g, n in zip(FLY30.gates, nodes)])
    daemon = Daemon(source, lambda: Store(tmp_path / "g.db"), FLY30, tick_ns=5_000_000)
    daemon.start()
    try:
        wait_for(lambda: all(p.link.sync.exchanges >= 8 for p in source.ports))
        for node in nodes:  # an athlete at 10 m/s: a 60 ms torso break at each gate, 3 s apart
            node.beam(0, True)
            time.sleep(0.06)
            node.beam(0, False)
            time.sleep(2.94)
        wait_for(lambda: all(not n.node.node.unacked for n in nodes))  # each edge stored, then acked
        session_id = daemon.snapshot().session_id
        wait_for(lambda: Store(tmp_path / "g.db").runs(session_id=session_id) != [])
        (run,) = Store(tmp_path / "g.db").runs(session_id=session_id)
        origins = Store(tmp_path / "g.db").db.execute("select node_id, node_boot, node_seq from edges order by id").fetchall()
    finally:
        daemon.stop()
        for node in nodes:
            node.close()
    assert run.status == "complete"
    assert abs(run.fly.time_ns - 3_000_000_000) < 50_000_000  # real time on a busy machine: the sleeps, not the sync
    # two edges a gate, each stored with where it came from before its ACK
    assert sorted(origins) == sorted((n.node.node.node_id, i + 1, seq) for i, n in enumerate(nodes) for seq in (1, 2))
