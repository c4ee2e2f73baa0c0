"""The host's reading of node lines: every line checked, nothing but ProtocolError ever raised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatectl.sources.nodes.protocol import (
    Ack,
    Beat,
    Hello,
    NodeEdge,
    ProtocolError,
    Sync,
    TimeReply,
    Who,
    crc16,
    encode,
    parse_line,
)

U64 = st.integers(0, 2**64 - 1)
BOOT = st.integers(0, 2**32 - 1)
NODE_MESSAGES = st.one_of(
    st.builds(
        Hello, st.integers(0, 2**32 - 1), st.binary(min_size=1, max_size=16).map(lambda b: b.hex().upper()), BOOT,
        st.integers(1, 8), st.integers(0, 2**32 - 1), st.from_regex(r"[0-9A-Za-z._+-]{1,16}", fullmatch=True),
    ),
    st.builds(NodeEdge, BOOT, st.integers(0, 2**63 - 1), st.integers(0, 7), st.booleans(), U64),
    st.builds(Beat, BOOT, U64, st.integers(0, 255), U64, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), U64, U64),
    st.builds(lambda boot, request, t2, dt: TimeReply(boot, request, t2, t2 + dt), BOOT, st.integers(0, 2**31 - 1), st.integers(0, 2**63), st.integers(0, 2**63 - 1)),
)  # fmt: skip


@given(NODE_MESSAGES)
def test_every_node_message_reads_back_as_written(message):
    line = encode(message)
    if len(line) <= 96:  # the longest fields together can pass the line limit: refused, as below
        assert parse_line(line) == message


@given(NODE_MESSAGES, st.data())
def test_any_one_changed_byte_is_caught(message, data):
    line = encode(message)
    i = data.draw(st.integers(0, len(line) - 2))  # any byte but the newline
    new = data.draw(st.integers(0, 255).filter(lambda b: b != line[i]))
    with pytest.raises(ProtocolError):
        parse_line(line[:i] + bytes([new]) + line[i + 1 :])


@given(NODE_MESSAGES, st.data())
def test_a_cut_line_is_caught(message, data):
    line = encode(message)
    with pytest.raises(ProtocolError):
        parse_line(line[: data.draw(st.integers(0, len(line) - 2))] + b"\n")


@given(st.binary(max_size=200))
def test_garbage_raises_only_protocol_error(data):
    try:
        parse_line(data)
    except ProtocolError as exc:
        assert str(exc)


@pytest.mark.parametrize(
    "body, reason",
    [
        ("EDGE 0A1B2C3D 01 0 1 1000", "seq must be a whole number"),
        (f"EDGE 0A1B2C3D {2**63} 0 1 1000", "seq must be"),  # the database keeps it in a signed 64-bit integer
        ("EDGE 0A1B2C3D 1 0 2 1000", "state must be 0 or 1"),
        ("EDGE 0A1B2C3D 1 8 1 1000", "channel must be"),
        ("EDGE 0a1b2c3d 1 0 1 1000", "boot must be 8 upper-case hex digits"),
        (f"EDGE 0A1B2C3D 1 0 1 {2**64}", "t_us must be"),
        ("EDGE 0A1B2C3D 1 0 1", "EDGE takes 5 fields"),
        ("EDGE 0A1B2C3D 1 0 1 -5", "t_us must be"),
        ("TIME 0A1B2C3D 1 20 10", "t3 (answered) is before t2"),
        ("HELLO 1 E661 0A1B2C3D 0 8 0.1.0", "at least one channel"),
        ("HELLO 1 E66 0A1B2C3D 1 8 0.1.0", "node id must be"),
        ("HELLO 1 E661 0A1B2C3D 1 8 0.1/0", "firmware version"),
        ("EDGE  0A1B2C3D 1 0 1 5", "single spaces"),
        ("NOPE 1", "unknown message"),
    ],
)
def test_bad_fields_are_named(body, reason):
    data = body.encode()
    with pytest.raises(ProtocolError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_line(data + b"*" + f"{crc16(data):04X}".encode() + b"\n")


def test_overlong_lines_and_lower_case_checksums_are_refused():
    with pytest.raises(ProtocolError, match="longer than 96"):
        parse_line(b"X" * 200 + b"*0000\n")
    line = encode(NodeEdge(1, 1, 0, True, 5))
    with pytest.raises(ProtocolError, match="upper-case"):
        parse_line(line[:-5] + line[-5:].lower())


def test_host_messages():
    assert encode(Who()) == b"WHO*2A8C\n"
    assert encode(Sync(7)) == b"SYNC 7*C543\n"
    assert encode(Ack(0x0A1B2C3D, 1)) == b"ACK 0A1B2C3D 1*AD17\n"
