# The gate node's logic, free of hardware: runs on the Pico and, with stand-ins, on CPython.
#
# MicroPython and CPython both run this file, so it uses only what both have: no
# typing, no dataclasses, no f-strings with format specs the Pico lacks. The
# hardware (pins, interrupts, the serial line) lives in main.py and is passed in.
# PROTOCOL.md is the contract this file implements.

PROTOCOL = 1
FIRMWARE = "0.1.0"

TICKS_PERIOD = 1 << 30  # ticks_us() wraps here; ticks_diff is valid within half of it
MAX_LINE = 96  # bytes in a line, checksum and newline included
BEAT_US = 1000000  # a heartbeat every second
RESEND_US = 400000  # an unacknowledged edge is sent again after this, then less often
RESEND_MAX_US = 3200000
SENDS_PER_POLL = 8  # at most this many repeats a poll: a slow radio link is not flooded


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of bytes; crc16(b"123456789") == 0x29B1."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def frame(body):
    """A line on the wire: the body, '*', its CRC in four upper-case hex digits, a newline."""
    data = body.encode()
    return data + b"*" + ("%04X" % crc16(data)).encode() + b"\n"


def unframe(line):
    """The fields of a line whose checksum is right; None for anything else."""
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE or len(line) < 6 or line[-5:-4] != b"*":
        return None
    body = line[:-5]
    try:
        if int(line[-4:], 16) != crc16(body) or line[-4:] != line[-4:].upper():
            return None
        return body.decode().split(" ")
    except (ValueError, UnicodeError):
        return None


class Clock64:
    """Microseconds since boot that never wrap, from ticks that wrap every 2**30 µs.

    ``now()`` must run at least every 2**29 µs (9 minutes); the main loop runs it
    every few milliseconds. ``at(raw)`` extends a raw stamp taken within 2**29 µs
    of the last ``now()``, before or after it: an interrupt's stamp.
    """

    def __init__(self, ticks_us, ticks_diff):
        self._ticks_us = ticks_us
        self._ticks_diff = ticks_diff
        self._raw = ticks_us()
        self._us = 0

    def now(self):
        raw = self._ticks_us()
        self._us += self._ticks_diff(raw, self._raw)
        self._raw = raw
        return self._us

    def at(self, raw):
        return self._us + self._ticks_diff(raw, self._raw)


class EdgeRing:
    """Edges as the interrupt saw them: preallocated, so ``push`` never allocates.

    One producer (the interrupt) and one consumer (the main loop): the producer
    writes a slot, then moves ``head``; the consumer reads, then moves ``tail``.
    A full ring counts the edge in ``overflow`` instead of overwriting one.
    """

    def __init__(self, capacity, array_type):
        self.size = capacity + 1
        self.stamps = array_type("i", [0] * self.size)
        self.codes = bytearray(self.size)  # channel * 2 + broken
        self.head = 0
        self.tail = 0
        self.overflow = 0

    def push(self, channel, broken, raw):
        head = self.head
        nxt = head + 1
        if nxt == self.size:
            nxt = 0
        if nxt == self.tail:
            self.overflow += 1
            return
        self.stamps[head] = raw
        self.codes[head] = channel * 2 + broken
        self.head = nxt

    def fill(self):
        return (self.head - self.tail) % self.size

    def pop(self):
        """(channel, broken, raw) of the oldest edge; call only when ``fill()``."""
        tail = self.tail
        code = self.codes[tail]
        raw = self.stamps[tail]
        self.tail = tail + 1 if tail + 1 < self.size else 0
        return code >> 1, code & 1, raw


class Node:
    """One gate node: numbers and stamps edges, repeats them until acknowledged, answers sync.

    ``write(bytes)`` sends a line; ``levels()`` reads every beam, bit c set when
    channel c is broken. ``receive(line, raw)`` takes a line from the host with
    the raw tick it arrived at; ``poll()`` runs every pass of the main loop.
    """

    def __init__(self, node_id, boot, clock, ring, write, levels, channels=1, capacity=512):
        self.node_id = node_id
        self.boot = boot
        self.clock = clock
        self.ring = ring
        self.write = write
        self.levels = levels
        self.channels = channels
        self.capacity = capacity
        self.seq = 0
        self.unacked = {}  # seq -> [channel, broken, t_us, due_us, backoff_us]
        self.bad_lines = 0
        self._next_beat = 0
        self._next_due = 0  # no edge waits for a repeat before this

    def hello(self):
        self._send("HELLO %d %s %08X %d %d %s" % (PROTOCOL, self.node_id, self.boot, self.channels, self.capacity, FIRMWARE))

    def poll(self):
        now = self.clock.now()
        ring = self.ring
        while ring.fill() and len(self.unacked) < self.capacity:
            channel, broken, raw = ring.pop()
            self.seq += 1
            # [channel, broken, t_us, due_us, backoff_us]: sent now, again after RESEND_US
            edge = [channel, broken, self.clock.at(raw), now + RESEND_US, RESEND_US]
            self.unacked[self.seq] = edge
            self._send_edge(self.seq, edge)
            if len(self.unacked) == 1 or edge[3] - self._next_due < 0:
                self._next_due = edge[3]
        if self.unacked and now - self._next_due >= 0:
            self._resend(now)
        if now - self._next_beat >= 0:
            self._next_beat = now + BEAT_US
            self.beat(now)

    def next_due(self):
        """The clock instant at which ``poll`` next has something to do unasked (a heartbeat, a repeat);
        a new edge, or a line from the host, may bring it forward."""
        if self.unacked and self._next_due - self._next_beat < 0:
            return self._next_due
        return self._next_beat

    def _resend(self, now):
        sent = 0
        next_due = now + RESEND_MAX_US
        for seq in sorted(self.unacked):  # oldest first
            edge = self.unacked[seq]
            if sent < SENDS_PER_POLL and now - edge[3] >= 0:
                edge[4] = min(edge[4] * 2, RESEND_MAX_US)
                edge[3] = now + edge[4]
                self._send_edge(seq, edge)
                sent += 1
            if edge[3] - next_due < 0:
                next_due = edge[3]
        self._next_due = next_due

    def beat(self, now):
        # Stamped before the ring is drained again: every edge stamped before ``now``
        # has a number at or below ``seq`` (see PROTOCOL.md, "delivered up to").
        self._send("BEAT %08X %d %d %d %d %d %d %d" % (
            self.boot, now, self.levels(), self.seq, len(self.unacked), self.ring.fill(), self.ring.overflow, self.bad_lines))

    def receive(self, line, raw):
        fields = unframe(line)
        if not fields:
            self.bad_lines += 1
            return
        kind = fields[0]
        try:
            if kind == "SYNC" and len(fields) == 2:
                request = int(fields[1])
                received = self.clock.at(raw)
                self._send("TIME %08X %d %d %d" % (self.boot, request, received, self.clock.now()))
            elif kind == "ACK" and len(fields) == 3:
                if int(fields[1], 16) == self.boot:
                    self.unacked.pop(int(fields[2]), None)
            elif kind == "WHO" and len(fields) == 1:
                self.hello()
                now = self.clock.now()
                for edge in self.unacked.values():  # a host that just (re)connected: repeat at once
                    edge[3], edge[4] = now, RESEND_US
                self._next_due = now
            else:
                self.bad_lines += 1
        except ValueError:
            self.bad_lines += 1

    def _send_edge(self, seq, edge):
        self._send("EDGE %08X %d %d %d %d" % (self.boot, seq, edge[0], edge[1], edge[2]))

    def _send(self, body):
        self.write(frame(body))
