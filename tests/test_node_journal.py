"""The stored-edge journal: a restarted host recognises what a node repeats, and acks it."""

from __future__ import annotations

from node_helpers import BOOT, NODE, edge, sent, synced

from gatectl.sources.nodes.journal import StoredJournal
from gatectl.sources.nodes.link import NodeLink, SeqSet
from gatectl.sources.nodes.serial import NodePort, SerialSource


def test_the_journal_reads_back_compacts_and_skips_a_cut_line(tmp_path):
    path = tmp_path / "g.db-nodes.journal"
    journal = StoredJournal(path)
    journal.add([(NODE, BOOT, seq) for seq in (1, 2, 3, 5)] + [("AB", 7, 1)])
    with open(path, "a", encoding="ascii") as out:
        out.write("E6614104035B2A2B 0A1B2C3D 6")  # killed while writing: "6" may have been "60"
    again = StoredJournal(path)
    seqs = again.stored_before(NODE)[BOOT]
    assert (seqs.through, seqs.above) == (3, {5})  # the cut line is not taken
    assert path.read_text().splitlines() == ["E6614104035B2A2B 0A1B2C3D 1-3", "E6614104035B2A2B 0A1B2C3D 5", "AB 00000007 1-1"]
    with open(path, "a", encoding="ascii") as out:
        out.write("E6614104035B2A2B 0A1B\n")
    assert StoredJournal(path).stored_before("nobody") == {}


def test_after_a_restart_a_repeated_stored_edge_is_acked_not_delivered(tmp_path):
    path = tmp_path / "journal"
    first = NodeLink(("M1",), stored_before=StoredJournal(path).stored_before)
    now = synced(first)
    (delivery,) = first.receive(edge(1, 2_000_000), now)
    StoredJournal(path).add([delivery.key])  # stored, journalled... and the host dies before the ACK
    second = NodeLink(("M1",), stored_before=StoredJournal(path).stored_before)
    now = synced(second, now)
    assert second.receive(edge(1, 2_000_000), now) == []  # the node's repeat: not a second edge
    assert second.receive(edge(2, 2_100_000), now) != []  # a new one is
    assert "ACK 0A1B2C3D 1" in sent(second, now)


def test_the_source_journals_before_it_acks(tmp_path):
    journal = StoredJournal(tmp_path / "journal")
    source = SerialSource([NodePort(("M1",), port="unused")], journal=journal)
    link = source.ports[0].link
    now = synced(link)
    (delivery,) = link.receive(edge(1, 2_000_000), now)
    source._awaiting[delivery.edge] = [(source.ports[0], delivery.key)]  # as service() does on delivery
    source.edges_stored([delivery.edge])
    assert (tmp_path / "journal").read_text() == "E6614104035B2A2B 0A1B2C3D 1\n"
    assert "ACK 0A1B2C3D 1" in sent(link, now)


def test_seq_sets_merge():
    a, b = SeqSet(), SeqSet()
    for seq in (1, 2, 5):
        a.add(seq)
    for seq in (3, 4, 9):
        b.add(seq)
    a.merge(b)
    assert (a.through, a.above) == (5, {9})
