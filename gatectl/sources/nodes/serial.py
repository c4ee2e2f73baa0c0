"""The ``serial`` edge source: gate nodes on serial ports (USB, RS-485, a serial radio).

One ``NodePort`` a node: its beams in channel order and where to find it, by
path (``/dev/ttyACM0``, any pyserial URL) or by the node's USB serial number,
looked up again at every reconnect so a node plugged back into another socket
is found. A thread a port reads lines, stamps them on the host's monotonic
clock and hands them to the node's ``NodeLink``; it writes what the link says
is due. A port that fails is closed and opened again once a second.

Acknowledgements wait for the daemon: it calls ``edges_stored`` once edges are
durably in the database, and only then does the node hear ACK. An edge the
node repeats meanwhile is not delivered twice. The daemon stores each edge
with its ``origins`` (node id, boot, seq), so one the node repeats to the next
run of the host (a crash came between the commit and the ACK) is known by
the database, acknowledged, and not stored or timed twice.

``now_ns`` is the host's monotonic clock held back to what every node has
delivered (``NodeLink.delivered_through_ns``), so the daemon never decides an
instant a node still has edges for; a node silent for ``max_hold_ns`` no longer
holds it (its late edges still reach the raw log, and a recompute places them).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gatectl.errors import SourceError
from gatectl.sources import EdgeOrigin, Emit
from gatectl.sources.nodes.link import LinkSettings, NodeLink
from gatectl.sources.nodes.protocol import MAX_LINE
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

log = logging.getLogger(__name__)

DEFAULT_LATENCY_NS = 50 * NS_PER_MS
DEFAULT_MAX_HOLD_NS = 5 * NS_PER_S
RECONNECT_S = 1.0


@dataclass(frozen=True, slots=True)
class NodePort:
    """Where one node is and which beams it has (channel 0 first)."""

    beams: tuple[str, ...]
    port: str | None = None
    usb_serial: str | None = None
    node_id: str | None = None  # the id its HELLO must give, if known
    baud: int = 115200

    def __post_init__(self) -> None:
        if (self.port is None) == (self.usb_serial is None):
            raise SourceError(f"Node for {'/'.join(self.beams)}: give either its port or its USB serial number.")
        if not self.beams:
            raise SourceError("A node needs at least one beam.")

    @property
    def where(self) -> str:
        return self.port if self.port is not None else f"USB serial number {self.usb_serial}"


def find_usb_serial(serial_number: str) -> str | None:
    """The device path of the USB serial port with this serial number, if plugged in."""
    from serial.tools import list_ports

    wanted = serial_number.upper()
    for info in list_ports.comports():
        if info.serial_number and info.serial_number.upper() == wanted:
            return str(info.device)
    return None


def open_port(path: str, baud: int) -> Any:
    import serial

    return serial.serial_for_url(path, baudrate=baud, timeout=0.02, write_timeout=0.5, exclusive=True)


class _Port:
    """One node's port and link: reading, writing, reconnecting."""

    def __init__(self, spec: NodePort, link: NodeLink, opener: Callable[[str, int], Any]) -> None:
        self.spec = spec
        self.link = link
        self._opener = opener
        self.device: Any = None
        self._buffer = b""
        self.bytes_read = 0
        self.bytes_written = 0
        self.connected = False
        self.error: str | None = None
        self._write_lock = threading.Lock()

    def open(self) -> bool:
        path = self.spec.port if self.spec.port is not None else find_usb_serial(self.spec.usb_serial or "")
        if path is None:
            self.error = f"{self.spec.where} is not plugged in"
            return False
        try:
            self.device = self._opener(path, self.spec.baud)
        except (OSError, ValueError) as exc:  # SerialException is an OSError
            self.error = f"cannot open {path}: {exc}"
            return False
        self.connected, self.error, self._buffer = True, None, b""
        log.info("node port %s open", path)
        return True

    def close(self, reason: str | None = None) -> None:
        if self.device is not None:
            with contextlib.suppress(OSError):
                self.device.close()
        self.device, self.connected = None, False
        if reason:
            self.error = reason
            log.warning("node port %s closed: %s", self.spec.where, reason)
        self.link.disconnected()

    def read(self, now: Callable[[], int], block: bool) -> tuple[list[bytes], int]:
        """Every complete line available (waiting up to the port's timeout if ``block``), and when it came."""
        waiting = self.device.in_waiting
        if not waiting and not block:
            return [], 0
        data = self.device.read(waiting or 1)
        stamp = now()  # t4 for a TIME line: as soon as its bytes are here
        if not data:
            return [], stamp
        self.bytes_read += len(data)
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        if len(self._buffer) > 2 * MAX_LINE:  # no newline for far too long: noise, handed on to be counted
            lines.append(self._buffer)
            self._buffer = b""
        return lines, stamp

    def write(self, lines: Iterable[bytes]) -> None:
        with self._write_lock:
            for line in lines:
                self.device.write(line)
                self.bytes_written += len(line)


class SerialSource:
    """Beam edges from gate nodes on serial ports. ``clock`` is the host's monotonic ns clock."""

    name = "serial"

    def __init__(
        self,
        nodes: Sequence[NodePort],
        *,
        clock: Callable[[], int] = time.monotonic_ns,
        settings: LinkSettings | None = None,
        latency_ns: int = DEFAULT_LATENCY_NS,
        max_hold_ns: int = DEFAULT_MAX_HOLD_NS,
        opener: Callable[[str, int], Any] = open_port,
    ) -> None:
        beams = [beam for node in nodes for beam in node.beams]
        if len(set(beams)) != len(beams):
            raise SourceError(f"A beam is given to two nodes: {', '.join(beams)}.")
        self.latency_ns = latency_ns
        self.max_hold_ns = max_hold_ns
        self._clock = clock
        self.ports = [_Port(node, NodeLink(node.beams, node_id=node.node_id, settings=settings), opener) for node in nodes]
        self._emit: Emit | None = None
        self._awaiting: dict[Edge, list[tuple[_Port, EdgeOrigin]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_now: int | None = None

    # EdgeSource -------------------------------------------------------------------

    def start(self, emit: Emit) -> None:
        """Open the ports (a missing one is retried in the background) and read them, a thread each."""
        self._emit = emit
        for port in self.ports:
            thread = threading.Thread(target=self._run, args=(port,), name=f"gatectl-node-{port.spec.where}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def connect(self, emit: Emit) -> None:
        """Open every port now, without threads: the caller runs ``service`` (a simulation in step)."""
        self._emit = emit
        for port in self.ports:
            if not port.open():
                raise SourceError(f"Node for {'/'.join(port.spec.beams)}: {port.error}.")

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)
        self._threads = []
        for port in self.ports:
            port.close()

    def now_ns(self) -> int:
        now = self._clock()
        held = now
        with self._lock:
            for port in self.ports:
                link = port.link
                through = link.delivered_through_ns
                if through is not None and link.heard_ns is not None and now - link.heard_ns < self.max_hold_ns:
                    held = min(held, through + self.latency_ns)
        held = max(held, now - self.max_hold_ns)
        if self._last_now is not None:
            held = max(held, self._last_now)
        self._last_now = held
        return held

    def origins(self, edges: Sequence[Edge]) -> list[EdgeOrigin | None]:
        """Each delivered edge's (node id, boot, seq), stored with it; None for an edge not from here."""
        taken: dict[Edge, int] = {}  # the same value twice in a batch: its deliveries in turn
        out: list[EdgeOrigin | None] = []
        with self._lock:
            for edge in edges:
                entries, i = self._awaiting.get(edge, []), taken.get(edge, 0)
                taken[edge] = i + 1
                out.append(entries[i][1] if i < len(entries) else None)
        return out

    def edges_stored(self, edges: Iterable[Edge]) -> None:
        """The daemon has these edges durably (or had them already): the nodes hear ACK."""
        with self._lock:
            for port, key in [entry for edge in edges for entry in self._awaiting.pop(edge, [])]:
                port.link.stored(key)

    # The loop, a thread a port ------------------------------------------------------------

    def _run(self, port: _Port) -> None:
        while not self._stopping.is_set():
            if not port.connected and not port.open():
                self._stopping.wait(RECONNECT_S)
                continue
            try:
                self.service(port, block=True)
            except (OSError, ValueError) as exc:  # the device went away (unplugged, reset)
                with self._lock:
                    port.close(str(exc) or type(exc).__name__)

    def service(self, port: _Port, *, block: bool = False) -> None:
        """Read what the port has, deliver the edges, write what is due; one pass."""
        lines, stamp = port.read(self._clock, block)
        with self._lock:
            deliveries = [delivery for line in lines for delivery in port.link.receive(line, stamp)]
            for delivery in deliveries:
                self._awaiting.setdefault(delivery.edge, []).append((port, delivery.key))
            due = port.link.due(self._clock())
        if deliveries and self._emit is not None:
            for delivery in deliveries:
                self._emit(delivery.edge)
        if due:
            port.write(due)

    def clocks(self) -> dict[str, tuple[str, int]]:
        """Each beam whose node is synchronised: (the node's id, the uncertainty of its clock's mapping in ns)."""
        with self._lock:
            return {
                beam: (port.link.name, uncertainty)
                for port in self.ports
                if (uncertainty := port.link.sync.uncertainty_ns) is not None
                for beam in port.spec.beams
            }

    def status(self) -> list[dict]:
        """Each node's link, sync and buffer, for the gate status."""
        now = self._clock()
        with self._lock:
            return [
                {**port.link.status(now), "port": port.spec.where, "connected": port.connected, "error": port.error}
                for port in self.ports
            ]
