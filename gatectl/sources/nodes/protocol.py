"""The gate-node line protocol, host side: every line checked, parsed into a typed message.

Written from ``firmware/PROTOCOL.md`` alone, not from the firmware's code, so
the tests that run both against each other check the document too.

>>> parse_line(b"EDGE 0A1B2C3D 7 0 1 123456789*C9D5\\n")
NodeEdge(boot=169552957, seq=7, channel=0, broken=True, t_us=123456789)
>>> encode(Ack(boot=169552957, seq=7))
b'ACK 0A1B2C3D 7*CDD1\\n'
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

from gatectl.errors import GatectlError

PROTOCOL_VERSION = 1
MAX_LINE = 96  # bytes, checksum and newline included
MAX_CHANNELS = 8
_U64 = 1 << 64
_U63 = 1 << 63  # a seq is stored in SQLite's signed 64-bit integer
_U32 = 1 << 32
_U31 = 1 << 31
_NODE_ID = re.compile(r"[0-9A-F]{2,32}")
_HEX32 = re.compile(r"[0-9A-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_FIRMWARE = re.compile(r"[0-9A-Za-z._+-]{1,16}")


def is_node_id(text: str) -> bool:
    """A node id: 2 to 32 upper-case hex digits, a whole number of bytes (a Pico's is 16)."""
    return bool(_NODE_ID.fullmatch(text)) and len(text) % 2 == 0


class ProtocolError(GatectlError, ValueError):
    """A line that is not a valid protocol message; the message says why."""


@dataclass(frozen=True, slots=True)
class Hello:
    protocol: int
    node_id: str
    boot: int
    channels: int
    capacity: int
    firmware: str


@dataclass(frozen=True, slots=True)
class NodeEdge:
    boot: int
    seq: int
    channel: int
    broken: bool
    t_us: int


@dataclass(frozen=True, slots=True)
class Beat:
    boot: int
    t_us: int
    levels: int  # bit c set while channel c is broken
    last_seq: int
    unacked: int
    ring_fill: int
    overflow: int
    bad_lines: int


@dataclass(frozen=True, slots=True)
class TimeReply:
    boot: int
    request: int
    t2_us: int  # the node's clock when the SYNC arrived
    t3_us: int  # the node's clock when it answered


@dataclass(frozen=True, slots=True)
class Sync:
    request: int


@dataclass(frozen=True, slots=True)
class Ack:
    boot: int
    seq: int


@dataclass(frozen=True, slots=True)
class Who:
    pass


NodeMessage = Hello | NodeEdge | Beat | TimeReply
HostMessage = Sync | Ack | Who


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor.

    >>> hex(crc16(b"123456789"))
    '0x29b1'
    """
    return binascii.crc_hqx(data, 0xFFFF)  # the same CRC in C: every line is checked, thousands a second in a replay


def encode(message: HostMessage | NodeMessage) -> bytes:
    """The line for ``message``, newline included."""
    match message:
        case Sync(request):
            body = f"SYNC {request}"
        case Ack(boot, seq):
            body = f"ACK {boot:08X} {seq}"
        case Who():
            body = "WHO"
        case Hello(protocol, node_id, boot, channels, capacity, firmware):
            body = f"HELLO {protocol} {node_id} {boot:08X} {channels} {capacity} {firmware}"
        case NodeEdge(boot, seq, channel, broken, t_us):
            body = f"EDGE {boot:08X} {seq} {channel} {int(broken)} {t_us}"
        case Beat(boot, t_us, levels, last_seq, unacked, fill, overflow, bad):
            body = f"BEAT {boot:08X} {t_us} {levels} {last_seq} {unacked} {fill} {overflow} {bad}"
        case TimeReply(boot, request, t2, t3):
            body = f"TIME {boot:08X} {request} {t2} {t3}"
    data = body.encode("ascii")
    return data + b"*" + f"{crc16(data):04X}".encode("ascii") + b"\n"


def _body(line: bytes) -> list[str]:
    line = line.rstrip(b"\n").rstrip(b"\r")
    if len(line) + 1 > MAX_LINE:
        raise ProtocolError(f"line longer than {MAX_LINE} bytes")
    if len(line) < 6 or line[-5:-4] != b"*":
        raise ProtocolError("no *XXXX checksum at the end")
    body, check = line[:-5], line[-4:]
    if not re.fullmatch(rb"[0-9A-F]{4}", check):
        raise ProtocolError(f"checksum {check!r} is not four upper-case hex digits")
    if int(check, 16) != crc16(body):
        raise ProtocolError(f"checksum {check.decode()} does not match (expected {crc16(body):04X})")
    if not re.fullmatch(rb"[\x21-\x7e]+( [\x21-\x7e]+)*", body):
        raise ProtocolError("the body must be printable ASCII words separated by single spaces")
    return body.decode("ascii").split(" ")


def _number(text: str, what: str, limit: int) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) >= limit:
        raise ProtocolError(f"{what} must be a whole number from 0 to {limit - 1}, not {text!r}")
    return int(text)


def _boot(text: str) -> int:
    if not _HEX32.fullmatch(text):
        raise ProtocolError(f"boot must be 8 upper-case hex digits, not {text!r}")
    return int(text, 16)


def _fields(fields: list[str], count: int) -> list[str]:
    if len(fields) != count + 1:
        raise ProtocolError(f"{fields[0]} takes {count} fields, not {len(fields) - 1}")
    return fields[1:]


def parse_line(line: bytes) -> NodeMessage:
    """A node's line as a message, or ``ProtocolError`` saying what is wrong with it."""
    fields = _body(line)
    kind = fields[0]
    if kind == "EDGE":
        boot, seq, channel, state, t_us = _fields(fields, 5)
        if state not in ("0", "1"):
            raise ProtocolError(f"state must be 0 or 1, not {state!r}")
        return NodeEdge(_boot(boot), _number(seq, "seq", _U63), _number(channel, "channel", MAX_CHANNELS), state == "1", _number(t_us, "t_us", _U64))
    if kind == "BEAT":
        boot, t_us, levels, last_seq, unacked, fill, overflow, bad = _fields(fields, 8)
        return Beat(
            _boot(boot), _number(t_us, "t_us", _U64), _number(levels, "levels", 1 << MAX_CHANNELS), _number(last_seq, "last_seq", _U64),
            _number(unacked, "unacked", _U32), _number(fill, "ring_fill", _U32), _number(overflow, "overflow", _U64), _number(bad, "bad_lines", _U64),
        )  # fmt: skip
    if kind == "TIME":
        boot, request, t2, t3 = _fields(fields, 4)
        reply = TimeReply(_boot(boot), _number(request, "request", _U31), _number(t2, "t2", _U64), _number(t3, "t3", _U64))
        if reply.t3_us < reply.t2_us:
            raise ProtocolError("t3 (answered) is before t2 (received)")
        return reply
    if kind == "HELLO":
        protocol, node_id, boot, channels, capacity, firmware = _fields(fields, 6)
        if not is_node_id(node_id):
            raise ProtocolError(f"node id must be 2 to 32 upper-case hex digits, in bytes, not {node_id!r}")
        if not _FIRMWARE.fullmatch(firmware):
            raise ProtocolError(f"firmware version {firmware!r} is not a version")
        count = _number(channels, "channels", MAX_CHANNELS + 1)
        if count == 0:
            raise ProtocolError("a node has at least one channel")
        return Hello(_number(protocol, "protocol", _U32), node_id, _boot(boot), count, _number(capacity, "capacity", _U32), firmware)
    raise ProtocolError(f"unknown message {kind[:16]!r}")
