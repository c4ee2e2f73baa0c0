"""One node's link, without I/O: dedupe, holding edges for sync, acks, refusals, restarts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from node_helpers import BOOT, MS, NODE, edge, hello, sent, synced

from gatectl.sources.nodes.link import LinkSettings, NodeLink
from gatectl.sources.nodes.protocol import Beat, TimeReply, encode, parse_line
from gatectl.timing.model import Edge


def test_edges_wait_for_the_clock_sync_then_come_on_the_hosts_clock():
    link = NodeLink(("M2a", "M2b"))
    link.receive(hello(), 0)
    assert link.receive(edge(1, 1_000_500), 0) == []  # not placed yet
    now = synced(link)
    (late,) = link.receive(edge(2, 1_001_500, channel=1, broken=False), now)
    assert late.edge == Edge("M2b", 1_500_000, False)  # the node reads 1 s + host µs: 1 001 500 µs is host 1.5 ms
    assert late.key == (NODE, BOOT, 2)
    assert link.status(now)["sync_uncertainty_us"] is not None
    earlier = [d.edge for d in link.receive(edge(3, 1_002_000), now)]
    assert earlier == [Edge("M2a", 2_000_000, True)]


def test_held_edges_come_out_in_sequence_order():
    link = NodeLink(("M1",), settings=LinkSettings(min_samples=8))
    link.receive(hello(channels=1), 0)
    for seq in (3, 1, 2):
        link.receive(edge(seq, 1_000_000 + seq), 0)
    deliveries = []
    now = 0
    while not deliveries:
        for line in link.due(now):
            if line.startswith(b"SYNC"):
                request = int(line.split(b"*")[0].split()[1])
                deliveries += link.receive(encode(TimeReply(BOOT, request, 1_000_000 + now // 1000, 1_000_000 + now // 1000)), now)
        now += 100 * MS
    assert [d.key[2] for d in deliveries] == [1, 2, 3]


@settings(deadline=None)  # a busy machine: each example syncs a link first
@given(st.lists(st.integers(1, 30), max_size=120), st.sets(st.integers(1, 30)))
def test_nothing_delivered_twice_whatever_the_repeats(arrivals, stored):
    link = NodeLink(("M1",))
    now = synced(link)
    delivered = [d.key[2] for seq in arrivals for d in link.receive(edge(seq, 2_000_000 + seq, channel=0), now)]
    assert sorted(delivered) == sorted(set(arrivals))
    assert link.repeats == len(arrivals) - len(set(arrivals))
    for seq in stored & set(arrivals):
        link.stored((NODE, BOOT, seq))
    acks = [line for line in sent(link, now) if line.startswith("ACK")]
    assert sorted(acks) == sorted(f"ACK 0A1B2C3D {seq}" for seq in stored & set(arrivals))
    # A stored edge that comes again (its ACK was lost) is acknowledged again; one not yet stored waits.
    for seq in set(arrivals):
        link.receive(edge(seq, 2_000_000 + seq), now)
    again = sorted(line for line in sent(link, now) if line.startswith("ACK"))
    assert again == sorted(f"ACK 0A1B2C3D {seq}" for seq in stored & set(arrivals))


@settings(deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=20))
def test_garbage_is_counted_never_raised(lines):
    link = NodeLink(("M1",))
    now = synced(link)
    bad_before = link.bad_lines
    for line in lines:
        link.receive(line, now)
    assert link.bad_lines - bad_before == sum(1 for line in lines if not _valid(line))


def _valid(line: bytes) -> bool:
    try:
        parse_line(line)
    except ValueError:
        return False
    return True


def test_lines_before_hello_and_from_a_new_boot_make_the_host_ask_who():
    link = NodeLink(("M1",))
    assert sent(link, 0) == ["WHO"]
    assert sent(link, 500 * MS) == []  # not more than once a second
    assert link.receive(edge(1, 5), 600 * MS) == []
    assert sent(link, 1_000 * MS) == ["WHO"]
    now = synced(link, 1_100 * MS)
    assert link.receive(edge(1, 7, boot=0x1234), now) == []  # a boot it has not met: the node restarted
    assert "WHO" in sent(link, now + 2_000 * MS)
    link.receive(hello(boot=0x1234), now)
    assert link.sync.exchanges == 0  # a new boot, a new clock


def test_a_node_that_is_not_the_configured_one_or_speaks_another_protocol_is_refused():
    wrong = NodeLink(("M1",), node_id="AAAA")
    wrong.receive(hello(), 0)
    assert "is node E6614104035B2A2B, not AAAA" in wrong.refused
    assert sent(wrong, 0) == []
    newer = NodeLink(("M1",))
    newer.receive(hello(protocol=2), 0)
    assert "protocol 2" in newer.refused
    small = NodeLink(("M1a", "M1b"))
    small.receive(hello(channels=1), 0)
    assert "1 beam input" in small.refused
    small.disconnected()
    assert small.refused is None


def test_delivered_through_needs_every_numbered_edge_and_an_empty_ring():
    link = NodeLink(("M1",))
    now = synced(link)
    beat = Beat(BOOT, 3_000_000, 0, 2, 2, 0, 0, 0)
    link.receive(encode(beat), now)
    assert link.delivered_through_ns is None  # edges 1 and 2 never came
    link.receive(edge(1, 2_000_000), now)
    link.receive(edge(2, 2_500_000), now)
    link.receive(encode(Beat(BOOT, 3_000_000, 0, 2, 2, 1, 0, 0)), now)
    assert link.delivered_through_ns is None  # one still in the node's ring
    link.receive(encode(beat), now)
    assert link.delivered_through_ns == 2_000_000_000  # node 3 s is host 2 s
    assert link.status(now)["unacked"] == 2


def test_an_edge_on_a_channel_without_a_beam_is_a_bad_line():
    link = NodeLink(("M1",))
    now = synced(link)
    assert link.receive(edge(1, 5, channel=1), now) == []
    assert link.bad_lines == 1


def test_next_due_says_when_the_link_next_has_a_line_to_send():
    link = NodeLink(("M1",))
    assert link.next_due_ns(5) == 5  # WHO, at once
    assert sent(link, 5) == ["WHO"]
    assert link.next_due_ns(6) == 5 + link.settings.who_every_ns
    now = synced(link)
    for _ in range(3):
        due = link.next_due_ns(now)
        assert "SYNC" not in " ".join(sent(link, due - 1)) and sent(link, due)[0].startswith("SYNC")
        now = due
    assert link.next_due_ns(now) == now + link.settings.sync_every_ns == now + link.sync_every_ns
    link.stored((NODE, BOOT, 1))
    assert link.next_due_ns(now) == now  # an ACK to send
