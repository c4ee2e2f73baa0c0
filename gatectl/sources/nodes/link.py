"""One node's conversation, without I/O: lines in, edges and lines out.

``NodeLink`` reads every line the node sends (``receive``), says which lines to
send it (``due``: WHO until the node has said HELLO, SYNC exchanges, as often
as the clock's offset window needs them) and turns
the node's edges into ``Edge`` values on the host's clock, each once:

* a line that fails its checksum or its grammar is counted and logged, never raised;
* an edge is known by (node, boot, seq): a repeat of one already delivered is
  dropped; ``stored`` queues its ACK, and a repeat of a stored edge (its ACK was
  lost) is acknowledged again. A repeat to a restarted host is delivered again
  with its origin: the database knows it (``Store.add_edges``), and the daemon
  acknowledges it without timing it twice;
* an edge waits until the clock sync has enough exchanges to place it;
* ``delivered_through_ns``: the host instant before which this node has no edge
  left to deliver, from its last heartbeat (see PROTOCOL.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from gatectl.sources import EdgeOrigin
from gatectl.sources.nodes.clock import ClockSync, SyncSample, SyncSettings
from gatectl.sources.nodes.protocol import (
    PROTOCOL_VERSION,
    Ack,
    Beat,
    Hello,
    NodeEdge,
    ProtocolError,
    Sync,
    TimeReply,
    Who,
    encode,
    parse_line,
)
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    sync_every_ns: int = 100 * NS_PER_MS  # a USB link carries this easily; a 9600-baud radio wants 250 ms or more
    window_exchanges: int = 200  # SYNC then comes less often, so that the clock's offset window holds about this many
    min_samples: int = 8  # edges wait for this many exchanges before they are placed
    who_every_ns: int = 1 * NS_PER_S
    sync: SyncSettings = field(default_factory=SyncSettings)


@dataclass(frozen=True, slots=True)
class Delivery:
    edge: Edge
    key: EdgeOrigin


class SeqSet:
    """Sequence numbers of one boot: all up to ``through``, and those above it."""

    def __init__(self) -> None:
        self.through = 0
        self.above: set[int] = set()

    def has(self, seq: int) -> bool:
        return seq <= self.through or seq in self.above

    def add(self, seq: int) -> bool:
        """Whether ``seq`` is new."""
        if self.has(seq):
            return False
        self.above.add(seq)
        while self.through + 1 in self.above:
            self.through += 1
            self.above.discard(self.through)
        return True


class NodeLink:
    """The host's half of one node's link; ``beams`` names its channels, in order."""

    def __init__(
        self,
        beams: Sequence[str],
        *,
        node_id: str | None = None,
        settings: LinkSettings | None = None,
    ) -> None:
        self.beams = tuple(beams)
        self.expected_node = node_id
        self.settings = settings or LinkSettings()
        self.hello: Hello | None = None  # None until the node (again) says who it is
        self._boot: int | None = None
        self.sync = ClockSync(self.settings.sync)
        self.last_beat: Beat | None = None
        self.heard_ns: int | None = None
        self.lines = 0  # lines that passed their checksum and grammar
        self.bad_lines = 0
        self.repeats = 0
        self.refused: str | None = None  # why this node's edges are not taken (wrong node, protocol)
        self._seen: dict[int, SeqSet] = {}  # delivered, by boot
        self._stored: dict[int, SeqSet] = {}  # acknowledged, by boot
        self._outbox: list[bytes] = []
        self._held: list[NodeEdge] = []  # waiting for the clock sync
        self._sent: dict[int, int] = {}  # request -> t1
        self._request = 0
        self._next_sync_ns: int | None = None
        self._who_wanted = False  # a line named a boot we have not met
        self._who_sent_ns: int | None = None
        self._through_ns: int | None = None

    # Lines from the node ------------------------------------------------------

    def receive(self, line: bytes, now_ns: int) -> list[Delivery]:
        """Take one line read at ``now_ns``; the edges it makes deliverable, in order."""
        try:
            message = parse_line(line)
        except ProtocolError as exc:
            self.bad_lines += 1
            if self.bad_lines <= 3 or self.bad_lines % 1000 == 0:  # a noisy radio must not flood the log
                log.warning("node %s: bad line %r: %s (%d so far)", self.name, line[:100], exc, self.bad_lines)
            return []
        self.heard_ns = now_ns
        self.lines += 1
        if isinstance(message, Hello):
            return self._hello(message)
        if self.hello is None or message.boot != self.hello.boot:
            self._who_wanted = True  # a node we have not met, or one that restarted: ask who it is
            return []
        if isinstance(message, TimeReply):
            t1 = self._sent.pop(message.request, None)
            if t1 is not None:
                self.sync.add(SyncSample(t1, message.t2_us, message.t3_us, now_ns))
                return self._release()
            return []
        if isinstance(message, Beat):
            self.last_beat = message
            self._beat(message)
            return []
        return self._edge(message)

    def _hello(self, hello: Hello) -> list[Delivery]:
        if hello.protocol != PROTOCOL_VERSION:
            self.refused = f"speaks protocol {hello.protocol}; this gatectl speaks {PROTOCOL_VERSION}: update the firmware"
        elif self.expected_node is not None and hello.node_id != self.expected_node.upper():
            self.refused = f"is node {hello.node_id}, not {self.expected_node.upper()} as the config says"
        elif hello.channels < len(self.beams):
            self.refused = f"has {hello.channels} beam input(s); the config gives it {len(self.beams)}"
        else:
            self.refused = None
        if self.refused:
            log.error("node on %s %s", self.name, self.refused)
            return []
        if self._boot != hello.boot:
            # A new boot numbers its edges from 1 and counts on a new clock.
            if self._held:
                log.warning("node %s restarted before %d edge(s) of its last boot could be placed in time", hello.node_id, len(self._held))
            self.sync = ClockSync(self.settings.sync)
            self._held, self._sent, self._through_ns, self._next_sync_ns = [], {}, None, None
            self._boot = hello.boot
        self.hello = hello
        return []

    def _edge(self, edge: NodeEdge) -> list[Delivery]:
        if edge.channel >= len(self.beams):
            self.bad_lines += 1
            log.warning("node %s: edge on channel %d, which has no beam in the config", self.name, edge.channel)
            return []
        if not self._seen.setdefault(edge.boot, SeqSet()).add(edge.seq):
            self.repeats += 1
            stored = self._stored.get(edge.boot)
            if stored is not None and stored.has(edge.seq):
                self._outbox.append(encode(Ack(edge.boot, edge.seq)))
            return []
        self._held.append(edge)
        return self._release()

    def _release(self) -> list[Delivery]:
        if self.sync.map is None or self.sync.exchanges < self.settings.min_samples or self.hello is None:
            return []
        held, self._held = self._held, []
        node_id = self.hello.node_id
        return [
            Delivery(Edge(self.beams[e.channel], self.sync.map.to_host_ns(e.t_us), e.broken), (node_id, e.boot, e.seq))
            for e in sorted(held, key=lambda e: e.seq)
        ]

    def _beat(self, beat: Beat) -> None:
        seen = self._seen.get(beat.boot)
        complete = beat.last_seq == 0 or (seen is not None and seen.through >= beat.last_seq)
        if complete and beat.ring_fill == 0 and not self._held and self.sync.map is not None:
            self._through_ns = self.sync.map.to_host_ns(beat.t_us)

    # Lines to the node --------------------------------------------------------

    def due(self, now_ns: int) -> list[bytes]:
        """The lines to send now: ACKs, WHO until the node introduces itself, SYNC exchanges."""
        out, self._outbox = self._outbox, []
        if self.refused:
            return out
        if self.hello is None or self._who_wanted:
            if self._who_sent_ns is None or now_ns - self._who_sent_ns >= self.settings.who_every_ns:
                self._who_sent_ns, self._who_wanted = now_ns, False
                out.append(encode(Who()))
            if self.hello is None:
                return out
        elif self._next_sync_ns is None or now_ns >= self._next_sync_ns:
            self._next_sync_ns = now_ns + self.sync_every_ns
            self._request = (self._request + 1) % (1 << 31)
            self._sent[self._request] = now_ns
            if len(self._sent) > 64:  # answers that never came
                del self._sent[min(self._sent)]
            out.append(encode(Sync(self._request)))
        return out

    @property
    def sync_every_ns(self) -> int:
        """How often to ask for an exchange: as the settings say, less often once the offset window is longer."""
        return max(self.settings.sync_every_ns, self.sync.window_ns // self.settings.window_exchanges)

    def next_due_ns(self, now_ns: int) -> int | None:
        """When ``due`` next has a line to send unasked (now, if it has one); None: only once the node speaks."""
        if self._outbox:
            return now_ns
        if self.refused:
            return None
        if self.hello is None or self._who_wanted:
            return now_ns if self._who_sent_ns is None else max(now_ns, self._who_sent_ns + self.settings.who_every_ns)
        return now_ns if self._next_sync_ns is None else max(now_ns, self._next_sync_ns)

    def stored(self, key: EdgeOrigin) -> None:
        """The edge is durably stored: tell the node (with the next ``due``)."""
        _, boot, seq = key
        self._stored.setdefault(boot, SeqSet()).add(seq)
        self._outbox.append(encode(Ack(boot, seq)))

    def disconnected(self) -> None:
        """The port went away: on its return, the node is asked who it is before anything else."""
        self.hello, self.refused = None, None  # the node on its return may be another one
        self._who_sent_ns = None
        self._sent.clear()
        self._next_sync_ns = None

    # What the node is doing -----------------------------------------------------

    @property
    def name(self) -> str:
        return self.hello.node_id if self.hello else "/".join(self.beams)

    @property
    def delivered_through_ns(self) -> int | None:
        """Every edge this node stamped before this host instant has been delivered."""
        return self._through_ns

    def status(self, now_ns: int) -> dict:
        beat, placing = self.last_beat, self.sync.samples
        return {
            "node": self.hello.node_id if self.hello else None,
            "beams": list(self.beams),
            "firmware": self.hello.firmware if self.hello else None,
            "heard_s_ago": None if self.heard_ns is None else (now_ns - self.heard_ns) / NS_PER_S,
            "synced": self.hello is not None and self.sync.map is not None and self.sync.exchanges >= self.settings.min_samples,
            "sync_uncertainty_us": None if self.sync.uncertainty_ns is None else self.sync.uncertainty_ns / 1000,
            # The shortest of the last exchanges (the ones that place the clock): what the link can do at its best.
            "round_trip_ms": min(s.round_trip_ns for s in placing) / NS_PER_MS if placing else None,
            "drift_ppm": None if self.sync.map is None else self.sync.map.drift_ppb / 1000,
            "unacked": beat.unacked if beat else None,
            "buffer": beat.ring_fill if beat else None,
            "capacity": self.hello.capacity if self.hello else None,
            "lost_at_node": beat.overflow if beat else 0,
            "lines": self.lines,
            "bad_lines": self.bad_lines,
            "repeats": self.repeats,
            "refused": self.refused,
        }
