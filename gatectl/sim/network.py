"""Gate nodes behind simulated serial links, in simulated time, into the real serial source.

``replay_via_nodes`` gives each gate of a layout a ``SimulatedNode`` (the
firmware's logic) whose crystal is off by up to ``drift_ppm`` and which booted
at a random moment; breaks the beams at the trace's instants; carries every
line over a ``LinkModel`` (delay, jitter, bursts, loss, garbling) and through a
pseudo-terminal into the ``SerialSource``, which reads it as it would a USB
port. Simulated time jumps from one thing due to the next (a beam, a line
arriving, a node's heartbeat or repeat, the host's next SYNC) and moves only
when both ends have dealt with everything due, so a run is exact and
repeatable for a seed. Edges the source delivers are "stored" at once, and
the nodes get their ACKs ``STORE_NS`` later, as from the daemon; as the
daemon does, each batch logs its node beams' sync uncertainty when it changed
(``gatectl.timing.sync.sync_changes``), so each run's bound can be worked out.

>>> from gatectl.timing.model import Edge, Layout
>>> edges = [Edge("M1", 0, True), Edge("M1", 60_000_000, False)]
>>> result = replay_via_nodes(edges, Layout.parse("M1=0,M2=30"), seed=1)
>>> [(e.beam, e.broken) for e in result.edges], abs(result.edges[0].t_ns) < 50_000
([('M1', True), ('M1', False)], True)
"""

from __future__ import annotations

import heapq
import os
import random
import select
import threading
import time
import tty
from collections.abc import Sequence
from dataclasses import dataclass, field

from gatectl.errors import SourceError
from gatectl.sim.node import SimulatedNode
from gatectl.sources.nodes.link import LinkSettings
from gatectl.sources.nodes.serial import NodePort, SerialSource
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout
from gatectl.timing.sync import BeamSync, sync_changes

STORE_NS = 20 * NS_PER_MS  # from an edge's arrival to its ACK: the daemon's turn and commit
WARMUP_NS = 60 * NS_PER_S  # the nodes are up and syncing this long before the trace's first edge
SETTLE_NS = 60 * NS_PER_S  # after the last edge: time for repeats to get through
WAIT_S = 5.0  # real seconds to wait for a pseudo-terminal to pass bytes on


@dataclass(frozen=True, slots=True)
class LinkModel:
    """One direction of a serial link: ``base_ns`` plus up to ``jitter_ns`` of delay,
    lines bunched into bursts every ``burst_ns`` (a radio module's air packets),
    and a share ``loss`` of lines lost (half) or garbled (half). Lines never overtake."""

    base_ns: int = 1 * NS_PER_MS
    jitter_ns: int = 0
    burst_ns: int = 0
    loss: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.loss < 1:
            raise SourceError(f"The share of lines lost must be from 0 to less than 1, not {self.loss}.")
        if min(self.base_ns, self.jitter_ns, self.burst_ns) < 0:
            raise SourceError("Link delays cannot be negative.")

    @classmethod
    def usb(cls, jitter_ms: float = 2.0, loss: float = 0.0) -> LinkModel:
        """USB CDC: half a millisecond and up to ``jitter_ms`` more."""
        return cls(base_ns=NS_PER_MS // 2, jitter_ns=round(jitter_ms * NS_PER_MS), loss=loss)

    @classmethod
    def radio(cls, loss: float = 0.0) -> LinkModel:
        """An HC-12 class serial radio: 20–80 ms one way, in bursts."""
        return cls(base_ns=20 * NS_PER_MS, jitter_ns=60 * NS_PER_MS, burst_ns=10 * NS_PER_MS, loss=loss)


@dataclass(slots=True)
class _Way:
    model: LinkModel
    rng: random.Random
    last_ns: int = -(1 << 62)
    lost: int = 0
    garbled: int = 0

    def carry(self, line: bytes, sent_ns: int) -> tuple[int, bytes] | None:
        """When and how ``line`` arrives, or None if lost."""
        roll = self.rng.random()
        if roll < self.model.loss / 2:
            self.lost += 1
            return None
        if roll < self.model.loss:
            self.garbled += 1
            line = _garble(line, self.rng)
        at = sent_ns + self.model.base_ns + (self.rng.randint(0, self.model.jitter_ns) if self.model.jitter_ns else 0)
        if self.model.burst_ns:
            at = -(-at // self.model.burst_ns) * self.model.burst_ns
        self.last_ns = max(self.last_ns, at)
        return self.last_ns, line


def _garble(line: bytes, rng: random.Random) -> bytes:
    """A changed byte or a cut line; the newline stays, so the receiver sees one bad line."""
    body = bytearray(line.rstrip(b"\n"))
    if rng.random() < 0.5 and len(body) > 1:
        return bytes(body[: rng.randrange(1, len(body))]) + b"\n"
    i = rng.randrange(len(body))
    body[i] = rng.choice([b for b in range(0x20, 0x7F) if b != body[i]])
    return bytes(body) + b"\n"


@dataclass(slots=True)
class NodeReplay:
    """What came out of the nodes: edges on the host's clock, the sync log as the daemon keeps it, and how the links went."""

    edges: list[Edge]
    nodes: list[dict] = field(default_factory=list)
    sync: list[BeamSync] = field(default_factory=list)
    lines_lost: int = 0
    lines_garbled: int = 0
    sent_edges: int = 0


def _patient_port(path: str, baud: int) -> object:
    """A port that waits for a busy machine: in step, the other end is drained only after each pass."""
    import serial

    return serial.serial_for_url(path, baudrate=baud, timeout=0.02, write_timeout=WAIT_S)


class _Pty:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.written = 0  # bytes sent to the host's side
        self.taken = 0  # bytes taken from the host's side

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def replay_via_nodes(
    edges: Sequence[Edge],
    layout: Layout,
    *,
    drift_ppm: float = 100.0,
    up: LinkModel | None = None,
    down: LinkModel | None = None,
    seed: int = 0,
    settings: LinkSettings | None = None,
) -> NodeReplay:
    """Every edge through a node per gate; ``up`` carries node → host lines, ``down`` host → node."""
    if not 0 <= drift_ppm <= 1000:
        raise SourceError(f"--drift-ppm must be from 0 to 1000, not {drift_ppm}.")
    rng = random.Random(seed)
    up = up or LinkModel.usb()
    down = down or up
    ordered = sorted(edges, key=lambda e: e.t_ns)
    start = (ordered[0].t_ns if ordered else 0) - WARMUP_NS
    end = (ordered[-1].t_ns if ordered else 0) + SETTLE_NS
    gates = layout.gates
    sim_now = [start]
    ptys = [_Pty() for _ in gates]
    nodes = [
        SimulatedNode(
            f"{0xE661_4104_0000_0000 + i:016X}", boot=rng.getrandbits(32), drift_ppm=rng.uniform(-drift_ppm, drift_ppm),
            boot_offset_ns=rng.randrange(NS_PER_S, 3600 * NS_PER_S) - start, channels=len(gate.beams), now_ns=start,
        )
        for i, gate in enumerate(gates)
    ]  # fmt: skip
    ups = [_Way(up, random.Random(rng.getrandbits(64))) for _ in gates]
    downs = [_Way(down, random.Random(rng.getrandbits(64))) for _ in gates]
    source = SerialSource(
        [NodePort(gate.beams, port=pty.path, node_id=node.node.node_id) for gate, pty, node in zip(gates, ptys, nodes)],
        clock=lambda: sim_now[0], settings=settings, opener=_patient_port,
    )  # fmt: skip
    received: list[Edge] = []
    sync_log: list[BeamSync] = []
    logged: dict[str, tuple[str, int]] = {}
    events: list[tuple[int, int, str, int, object]] = []
    counter = 0
    # The one pending wake-up of each node's main loop and of each port's pass: an event whose
    # token is no longer the current one was superseded by an earlier wake-up and is dropped.
    node_token, port_token = [0] * len(gates), [0] * len(gates)
    node_wake: list[int | None] = [None] * len(gates)
    port_wake: list[int | None] = [None] * len(gates)

    def schedule(at: int, kind: str, index: int, payload: object = None) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(events, (at, counter, kind, index, payload))

    def wake_node(i: int) -> None:
        """The node's main loop runs again when it next has something to do (a heartbeat, a repeat)."""
        at = max(nodes[i].next_poll_ns(), sim_now[0])
        if node_wake[i] != at and at <= end:
            node_token[i] += 1
            node_wake[i] = at
            schedule(at, "poll", i, node_token[i])

    def wake_port(i: int, at: int | None) -> None:
        """The host's pass over the port runs at ``at`` (the link's next SYNC or WHO, or an ACK) unless one comes sooner."""
        if at is None or at > end:
            return
        pending = port_wake[i]
        if pending is not None and pending <= at:
            return
        port_token[i] += 1
        port_wake[i] = at
        schedule(at, "host", i, port_token[i])

    channel_of = {beam: (i, c) for i, gate in enumerate(gates) for c, beam in enumerate(gate.beams)}
    for edge in ordered:
        if edge.beam not in channel_of:
            raise SourceError(f"Beam {edge.beam!r} is not in the layout {layout.describe()}.")
        schedule(edge.t_ns, "beam", channel_of[edge.beam][0], edge)

    def node_ran(i: int) -> None:
        for line in nodes[i].take_output():
            carried = ups[i].carry(line, sim_now[0])
            if carried is not None:
                schedule(carried[0], "to_host", i, carried[1])
        wake_node(i)

    def host_pass(i: int) -> None:
        port, link = source.ports[i], source.ports[i].link
        stored_before = len(received)
        while True:
            source.service(port)
            if port.bytes_read == ptys[i].written:
                break
            if not select.select([port.device.fileno()], [], [], WAIT_S)[0]:  # asleep, so the kernel can pass them on
                raise SourceError("The pseudo-terminal did not pass the node's lines on.")
        batch = received[stored_before:]
        changes = sync_changes(batch, source.clocks(), logged)
        sync_log.extend(changes)
        logged.update({c.beam: (c.clock, c.uncertainty_ns) for c in changes})
        source.edges_stored(batch)  # ACKs queued: sent by the pass STORE_NS later, as the daemon's
        while ptys[i].taken < port.bytes_written:
            data = os.read(ptys[i].master, port.bytes_written - ptys[i].taken)
            ptys[i].taken += len(data)
            for line in data.splitlines(keepends=True):
                carried = downs[i].carry(line, sim_now[0])
                if carried is not None:
                    schedule(carried[0], "to_node", i, carried[1])
        now = sim_now[0]
        wake_port(i, now + STORE_NS if len(received) > stored_before else link.next_due_ns(now))

    source.connect(received.append)
    try:
        for i, node in enumerate(nodes):
            node.hello(start)
            node_ran(i)
            wake_port(i, start)
        while events:
            at, _, kind, i, payload = heapq.heappop(events)
            sim_now[0] = at
            if kind == "beam":
                assert isinstance(payload, Edge)
                nodes[i].beam(channel_of[payload.beam][1], payload.broken, at)
                nodes[i].poll(at)
                node_ran(i)
            elif kind == "poll":
                if payload == node_token[i]:
                    node_wake[i] = None
                    nodes[i].poll(at)
                    node_ran(i)
            elif kind == "to_node":
                assert isinstance(payload, bytes)
                nodes[i].receive(payload, at)
                nodes[i].poll(at)
                node_ran(i)
            elif kind == "to_host":
                assert isinstance(payload, bytes)
                os.write(ptys[i].master, payload)
                ptys[i].written += len(payload)
                host_pass(i)
            elif payload == port_token[i]:  # the host's pass over a port, when something is due
                port_wake[i] = None
                host_pass(i)
        status = source.status()
    finally:
        source.stop()
        for pty in ptys:
            pty.close()
    return NodeReplay(
        edges=sorted(received, key=lambda e: e.t_ns),
        nodes=status,
        sync=sync_log,
        lines_lost=sum(w.lost for w in ups + downs),
        lines_garbled=sum(w.garbled for w in ups + downs),
        sent_edges=len(ordered),
    )


class PtyNode:
    """A simulated node behind a pseudo-terminal, in real time: a stand-in for a plugged-in Pico.

    ``path`` is a symlink to the pseudo-terminal, as udev gives a real node a
    stable name; ``unplug`` closes the terminal and removes the link (the node
    keeps running and keeps its unacknowledged edges), ``plug`` makes a new one
    behind the same name. ``beam`` breaks or clears a beam now.
    """

    def __init__(self, path: str, node_id: str, *, boot: int, drift_ppm: float = 0.0, channels: int = 1, clock=time.monotonic_ns) -> None:
        self.path = path
        self._clock = clock
        self.node = SimulatedNode(node_id, boot=boot, drift_ppm=drift_ppm, boot_offset_ns=7 * NS_PER_S, channels=channels, now_ns=clock())
        self._lock = threading.Lock()
        self._pty: _Pty | None = None
        self._buffer = b""
        self._stopping = threading.Event()
        self.plug()
        with self._lock:
            self.node.hello(clock())
        self._thread = threading.Thread(target=self._run, name=f"gatectl-pty-node-{node_id}", daemon=True)
        self._thread.start()

    def plug(self) -> None:
        with self._lock:
            if self._pty is None:
                self._pty = _Pty()
                tty.setraw(self._pty.slave)
                os.set_blocking(self._pty.master, False)  # nobody reading: lines are lost, the node runs on
                os.symlink(self._pty.path, self.path)

    def unplug(self) -> None:
        with self._lock:
            if self._pty is not None:
                os.unlink(self.path)
                self._pty.close()
                self._pty, self._buffer = None, b""

    def beam(self, channel: int, broken: bool) -> None:
        with self._lock:
            self.node.beam(channel, broken, self._clock())

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self.unplug()

    def _run(self) -> None:
        while not self._stopping.is_set():
            pty = self._pty
            readable: list[int] = []
            if pty is not None:
                try:
                    readable, _, _ = select.select([pty.master], [], [], 0.002)
                except (OSError, ValueError):  # unplugged meanwhile
                    continue
            else:
                self._stopping.wait(0.002)
            with self._lock:
                if self._pty is not pty:
                    continue
                now = self._clock()
                if readable and pty is not None:
                    try:
                        data = os.read(pty.master, 4096)
                    except OSError:
                        data = b""
                    lines = (self._buffer + data).split(b"\n")
                    self._buffer = lines.pop()
                    for line in lines:
                        self.node.receive(line, now)
                self.node.poll(now)
                output = self.node.take_output()
                if pty is not None:  # unplugged, the node's lines go nowhere, as on a real cable
                    for line in output:
                        try:
                            os.write(pty.master, line)
                        except OSError:
                            break
