"""The node firmware under CPython with stand-in hardware, its protocol page, and mpy-cross."""

from __future__ import annotations

import re
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
from firmware_helpers import FIRMWARE, run_scenario, scenario
from hypothesis import given
from hypothesis import strategies as st

from gatectl.firmware import gatenode
from gatectl.sim.node import TICKS_PERIOD, WrappingTicks
from gatectl.sources.nodes import protocol

# Stand-in ticks -------------------------------------------------------------------


def test_ticks_stand_in_refuses_what_micropython_refuses():
    ticks = WrappingTicks()
    assert ticks.ticks_add(0, TICKS_PERIOD // 2 - 1) == TICKS_PERIOD // 2 - 1
    for delta in (TICKS_PERIOD // 2, -TICKS_PERIOD // 2):
        with pytest.raises(OverflowError):
            ticks.ticks_add(0, delta)
    assert ticks.ticks_diff(5, TICKS_PERIOD - 5) == 10
    assert ticks.ticks_diff(TICKS_PERIOD // 2, 0) == -TICKS_PERIOD // 2


# Clock64 ------------------------------------------------------------------------


@given(start=st.integers(0, TICKS_PERIOD - 1), steps=st.lists(st.integers(0, TICKS_PERIOD // 2 - 1), max_size=40))
def test_clock64_counts_every_microsecond_across_wraps(start, steps):
    ticks = WrappingTicks()
    ticks.now_us = start
    clock = gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff)
    for step in steps:
        ticks.now_us += step
        assert clock.now() == ticks.now_us - start


@given(start=st.integers(0, TICKS_PERIOD - 1), ahead=st.integers(-(TICKS_PERIOD // 2), TICKS_PERIOD // 2 - 1))
def test_clock64_places_an_interrupt_stamp_before_or_after_the_last_reading(start, ahead):
    ticks = WrappingTicks()
    ticks.now_us = start + TICKS_PERIOD  # a reading from a later wrap
    clock = gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff)
    assert clock.at((ticks.now_us + ahead) % TICKS_PERIOD) == ahead


def test_two_hours_of_ticks_read_every_few_minutes_never_wrap():
    ticks = WrappingTicks()
    clock = gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff)
    for _ in range(2 * 60 * 60 // 250):
        ticks.now_us += 250_000_000
        assert clock.now() == ticks.now_us
    assert clock.now() > 2**32  # well past where 32 bits would wrap


# The ring the interrupt fills --------------------------------------------------------


@given(st.lists(st.one_of(st.tuples(st.integers(0, 7), st.integers(0, 1), st.integers(0, TICKS_PERIOD - 1)), st.none()), max_size=60))
def test_ring_keeps_edges_in_order_and_counts_what_it_cannot_hold(ops):
    ring = gatenode.EdgeRing(5, array)
    model: list[tuple[int, int, int]] = []
    lost = 0
    for op in ops:
        if op is None:  # the main loop takes one
            if model:
                assert ring.pop() == model.pop(0)
        elif len(model) == 5:
            ring.push(*op)
            lost += 1
        else:
            ring.push(*op)
            model.append(op)
        assert (ring.fill(), ring.overflow) == (len(model), lost)


# Lines -------------------------------------------------------------------------


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40))
def test_firmware_and_host_frame_lines_alike(body):
    line = gatenode.frame(body)
    assert line == body.encode() + b"*" + f"{protocol.crc16(body.encode()):04X}".encode() + b"\n"
    assert gatenode.unframe(line) == body.split(" ")


@given(st.binary(max_size=100))
def test_firmware_unframe_refuses_garbage(data):
    fields = gatenode.unframe(data)
    if fields is not None:  # then it was a well-made line
        assert gatenode.frame(" ".join(fields)) == data.rstrip(b"\r\n") + b"\n"


def test_crc_check_value():
    assert gatenode.crc16(b"123456789") == protocol.crc16(b"123456789") == 0x29B1


# The node ---------------------------------------------------------------------------


def test_scenario_lines_all_parse_and_say_what_happened():
    messages = [protocol.parse_line(line) for line in run_scenario()]
    hello = messages[0]
    assert hello == protocol.Hello(1, scenario.NODE_ID, scenario.BOOT, 2, 8, gatenode.FIRMWARE)
    edges = [m for m in messages if isinstance(m, protocol.NodeEdge)]
    first = {}
    for edge in edges:  # a repeat is the same edge, word for word
        assert first.setdefault(edge.seq, edge) == edge
    assert [(e.channel, e.broken, e.t_us) for e in (first[1], first[2])] == [(0, True, 1000), (1, True, 1030)]
    assert first[3].t_us == 1230 + 150 + 20 + 500_000 + 30 * 100_000_000  # 50 minutes on, across three wraps
    assert sorted(first) == list(range(1, 10))  # 12 pushed into a full ring and queue: 6 numbered, 2 wait, 4 lost
    (reply,) = [m for m in messages if isinstance(m, protocol.TimeReply)]
    assert (reply.request, reply.t2_us, reply.t3_us) == (7, 1380, 1380)
    repeats = [e.seq for e in edges].count(2)
    assert repeats > 30  # its ACK was garbled: repeated until the session's end
    assert [e.seq for e in edges].count(1) == 1  # acknowledged at once
    beat = [m for m in messages if isinstance(m, protocol.Beat)][-1]
    assert (beat.last_seq, beat.unacked, beat.ring_fill, beat.overflow, beat.bad_lines) == (9, 8, 2, 4, 2)


def test_node_backs_off_its_repeats_and_repeats_at_once_for_a_host_that_asks():
    ticks = WrappingTicks()
    out: list[bytes] = []
    ring = gatenode.EdgeRing(8, array)
    node = gatenode.Node("AB", 1, gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff), ring, out.append, lambda: 0)
    ring.push(0, 1, ticks.ticks_us())
    sent_at = []
    for ms in range(0, 10_000, 10):
        ticks.now_us = ms * 1000
        out.clear()
        node.poll()
        if any(line.startswith(b"EDGE") for line in out):
            sent_at.append(ms)
    assert sent_at == [0, 400, 1200, 2800, 6000, 9200]
    out.clear()
    node.receive(gatenode.frame("WHO"), ticks.ticks_us())
    node.poll()
    assert [line.split()[0] for line in out] == [b"HELLO", b"EDGE"]


@pytest.mark.parametrize("drift_ppm", [-100, 0, 73.5])
def test_a_simulated_node_wakes_exactly_when_its_main_loop_has_something_to_do(drift_ppm):
    """``next_due``: the next heartbeat, or an edge's repeat; polled a ns earlier, the node says nothing."""
    from gatectl.sim.node import SimulatedNode

    node = SimulatedNode("AB", boot=1, drift_ppm=drift_ppm, boot_offset_ns=123_456_789_000)
    node.poll(0)
    assert [line.split()[0] for line in node.take_output()] == [b"BEAT"]
    node.beam(0, True, 300_000_000)
    node.poll(300_000_000)
    node.take_output()
    wakes = []
    for _ in range(4):
        at = node.next_poll_ns()
        node.poll(at - 1)
        assert node.take_output() == []
        node.poll(at)
        wakes.append((round(at / 1e6), sorted({line.split()[0] for line in node.take_output()})))
    # The edge's repeat 0.4 s after it, the heartbeat a second after the last, the next repeat 0.8 s later...
    assert [kinds for _, kinds in wakes] == [[b"EDGE"], [b"BEAT"], [b"EDGE"], [b"BEAT"]]
    assert [ms for ms, _ in wakes] == pytest.approx([700, 1000, 1500, 2000], abs=1)


def test_node_ignores_an_ack_from_another_boot_and_bad_host_lines():
    ticks = WrappingTicks()
    ring = gatenode.EdgeRing(8, array)
    node = gatenode.Node("AB", 1, gatenode.Clock64(ticks.ticks_us, ticks.ticks_diff), ring, lambda line: None, lambda: 0)
    ring.push(0, 1, 0)
    node.poll()
    for line in (gatenode.frame("ACK 00000002 1"), gatenode.frame("ACK 1"), gatenode.frame("SYNC x"), gatenode.frame("NOPE"), b"ACK 00000001 1"):
        node.receive(line, 0)
    assert list(node.unacked) == [1]
    assert node.bad_lines == 4
    node.receive(gatenode.frame("ACK 00000001 1"), 0)
    assert node.unacked == {}


# PROTOCOL.md ------------------------------------------------------------------------------


def _blocks() -> list[list[str]]:
    text = (FIRMWARE / "PROTOCOL.md").read_text(encoding="utf-8")
    return [block.strip().splitlines() for block in re.findall(r"```\n(.*?)```", text, re.S)]


def test_every_example_line_in_the_protocol_page_is_valid():
    checked = 0
    for block in _blocks():
        for line in block:
            text = line.removeprefix("< ").removeprefix("> ").encode() + b"\n"
            if text.endswith(b"*0000\n"):  # the session's garbled line
                assert gatenode.unframe(text) is None
                continue
            assert gatenode.unframe(text) is not None, line
            if not line.startswith("> ") and text.split()[0] not in (b"WHO*2A8C", b"SYNC", b"ACK"):
                assert protocol.encode(protocol.parse_line(text)) == text
            checked += 1
    assert checked >= 15


def test_the_protocol_pages_session_is_what_the_firmware_sends():
    (session,) = [b for b in _blocks() if b[0].startswith("< ")]
    node_lines = [line[2:].encode() + b"\n" for line in session if line.startswith("< ")]
    assert run_scenario()[: len(node_lines)] == node_lines


# mpy-cross -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in FIRMWARE.glob("*.py")))
def test_every_firmware_file_compiles_with_mpy_cross(name, tmp_path):
    out = tmp_path / (Path(name).stem + ".mpy")
    done = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-march=armv6m", "-o", str(out), str(FIRMWARE / name)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:1] == b"M"
