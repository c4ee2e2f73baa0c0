"""A simulated gate node: the firmware's own ``gatenode`` logic on stand-in hardware.

``WrappingTicks`` behaves as MicroPython's ``time.ticks_*`` on an RP2040 (a µs
counter wrapping every 2**30, ``ticks_diff`` signed within half of that,
``ticks_add`` refusing a delta of 2**29 or more), over a counter the
simulation moves. ``SimulatedNode`` is one node whose crystal runs
``drift_ppm`` fast or slow and which booted ``boot_offset_ns`` before the
host's zero; the simulation sets the host instant, then breaks a beam, hands
the node a line, or lets its main loop run once.

>>> node = SimulatedNode("E6614104035B2A2B", boot=1, drift_ppm=100)
>>> node.poll(0)
>>> node.take_output()[0]
b'BEAT 00000001 0 0 0 0 0 0 0*8B58\\n'
"""

from __future__ import annotations

from array import array

from gatectl.firmware import gatenode

TICKS_PERIOD = 1 << 30


class WrappingTicks:
    """MicroPython's ticks functions over a µs count the caller moves (``now_us``)."""

    def __init__(self) -> None:
        self.now_us = 0

    def ticks_us(self) -> int:
        return self.now_us % TICKS_PERIOD

    @staticmethod
    def ticks_diff(end: int, start: int) -> int:
        return (end - start + TICKS_PERIOD // 2) % TICKS_PERIOD - TICKS_PERIOD // 2

    @staticmethod
    def ticks_add(ticks: int, delta: int) -> int:
        if not -TICKS_PERIOD // 2 < delta < TICKS_PERIOD // 2:
            raise OverflowError("ticks interval overflow")
        return (ticks + delta) % TICKS_PERIOD


class SimulatedNode:
    """One node; its output lines collect until ``take_output``."""

    def __init__(
        self,
        node_id: str,
        *,
        boot: int,
        drift_ppm: float = 0.0,
        boot_offset_ns: int = 0,
        channels: int = 1,
        capacity: int = 512,
        now_ns: int = 0,
    ) -> None:
        self.ticks = WrappingTicks()
        self.drift_ppb = round(drift_ppm * 1000)
        self.boot_offset_ns = boot_offset_ns
        self._levels = 0
        self._output: list[bytes] = []
        self.ticks.now_us = self.node_us(now_ns)  # the node starts its main loop at host instant ``now_ns``
        self.clock = gatenode.Clock64(self.ticks.ticks_us, self.ticks.ticks_diff)
        self.ring = gatenode.EdgeRing(capacity, array)
        self.node = gatenode.Node(node_id, boot, self.clock, self.ring, self._output.append, lambda: self._levels, channels, capacity)
        self.node_zero_us = self.ticks.now_us  # what Clock64 counts from

    def node_us(self, host_ns: int) -> int:
        """The node's ticks counter (µs since its boot, unwrapped) at a host instant."""
        return (host_ns + self.boot_offset_ns) * (1_000_000_000 + self.drift_ppb) // 1_000_000_000_000

    def host_ns(self, node_us: int) -> int:
        """The first host instant at which the node's ticks counter reads ``node_us``."""
        host = -(-node_us * 1_000_000_000_000 // (1_000_000_000 + self.drift_ppb)) - self.boot_offset_ns
        return host if self.node_us(host) >= node_us else host + 1

    def next_poll_ns(self) -> int:
        """The host instant at which the node's main loop next has something to do unasked (``Node.next_due``)."""
        return self.host_ns(self.node.next_due() + self.node_zero_us)

    def clock_us(self, host_ns: int) -> int:
        """What the node's 64-bit clock reads at a host instant."""
        return self.node_us(host_ns) - self.node_zero_us

    def _at(self, host_ns: int) -> None:
        now = self.node_us(host_ns)
        if now < self.ticks.now_us:
            raise ValueError("the simulated node's time cannot go back")
        self.ticks.now_us = now

    def beam(self, channel: int, broken: bool, host_ns: int) -> None:
        """The beam on ``channel`` changes: the interrupt stamps it."""
        self._at(host_ns)
        self._levels = self._levels | (1 << channel) if broken else self._levels & ~(1 << channel)
        self.ring.push(channel, int(broken), self.ticks.ticks_us())

    def receive(self, line: bytes, host_ns: int) -> None:
        self._at(host_ns)
        self.node.receive(line.rstrip(b"\n"), self.ticks.ticks_us())

    def poll(self, host_ns: int) -> None:
        self._at(host_ns)
        self.node.poll()

    def hello(self, host_ns: int) -> None:
        self._at(host_ns)
        self.node.hello()

    def take_output(self) -> list[bytes]:
        out, self._output[:] = list(self._output), []
        return out
