"""A node repeats an edge until its ACK: the database knows a repeat by (node id, boot, seq).

The ACK goes out only once the edge is committed; a crash between the two
makes the node send the edge again to the next run of the host, whose link
cannot know it was stored. The database can: the edge's origin is in its row,
under a unique index, so the repeat is acknowledged and not stored again.
"""

from __future__ import annotations

import sqlite3

import pytest
from node_helpers import BOOT, NODE, edge, sent, synced

from gatectl.sources.nodes.link import SeqSet
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.store import Store
from gatectl.timing.model import Edge, Layout

FLY30 = Layout.parse("M1=0,M2=30,M3=60")


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "g.db") as store:
        yield store


def delivered(source: SerialSource, line: bytes, now: int) -> Edge:
    """One edge line through the source's only link, awaiting its ACK as ``service`` leaves it."""
    port = source.ports[0]
    (delivery,) = port.link.receive(line, now)
    source._awaiting.setdefault(delivery.edge, []).append((port, delivery.key))
    return delivery.edge


def test_a_node_edge_keeps_its_origin_and_a_repeat_is_not_stored_again(store):
    session = store.start_session(FLY30)
    gpio, first, second = Edge("M1", 10, True), Edge("M2", 20, True), Edge("M2", 30, False)
    assert store.add_edges(session, [gpio, first], [None, (NODE, BOOT, 1)]) == [gpio, first]
    again = Edge("M2", 21, True)  # the repeat, placed on a new clock after a restart
    assert store.add_edges(session, [again, second, second], [(NODE, BOOT, 1), (NODE, BOOT, 2), (NODE, BOOT, 2)]) == [second]
    assert store.add_edges(session, [gpio], [None]) == [gpio]  # any number of edges without an origin
    rows = store.db.execute("select beam, t_ns, node_id, node_boot, node_seq from edges order by id").fetchall()
    assert rows == [("M1", 10, None, None, None), ("M2", 20, NODE, BOOT, 1), ("M2", 30, NODE, BOOT, 2), ("M1", 10, None, None, None)]
    assert store.add_edges(session, [Edge("M2", 40, True)], [(NODE, BOOT + 1, 1)]) != []  # another boot numbers from 1 again
    with pytest.raises(sqlite3.IntegrityError):  # the index itself, not only add_edges, refuses a second copy
        store.db.execute("insert into edges (session_id, beam, t_ns, broken, node_id, node_boot, node_seq) values (?, 'M2', 1, 1, ?, ?, 1)", [session, NODE, BOOT])


def test_a_repeat_to_a_restarted_host_is_stored_once_and_acknowledged(store):
    session = store.start_session(FLY30)
    first = SerialSource([NodePort(("M1",), port="unused")])
    now = synced(first.ports[0].link)
    stored = delivered(first, edge(1, 2_000_000), now)
    assert store.add_edges(session, [stored], first.origins([stored])) == [stored]
    # killed here: committed, never acknowledged. The node repeats edge 1 to the next run of the host.
    second = SerialSource([NodePort(("M1",), port="unused")])
    link = second.ports[0].link
    now = synced(link, now)
    repeat, new = delivered(second, edge(1, 2_000_000), now), delivered(second, edge(2, 2_100_000), now)
    assert second.origins([repeat, new, Edge("M9", 0, True)]) == [(NODE, BOOT, 1), (NODE, BOOT, 2), None]
    assert store.add_edges(session, [repeat, new], second.origins([repeat, new])) == [new]
    second.edges_stored([repeat, new])
    assert [line for line in sent(link, now) if line.startswith("ACK")] == ["ACK 0A1B2C3D 1", "ACK 0A1B2C3D 2"]
    assert store.edge_count(session) == 2


def test_seq_sets_count_through_and_above():
    seqs = SeqSet()
    assert [seqs.add(seq) for seq in (1, 2, 5, 2)] == [True, True, True, False]
    assert (seqs.through, seqs.above) == (2, {5})
    assert seqs.add(3) and seqs.add(4)
    assert (seqs.through, seqs.above, seqs.has(5), seqs.has(6)) == (5, set(), True, False)
