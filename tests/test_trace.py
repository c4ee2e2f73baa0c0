import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.errors import GatectlError, TraceError
from gatectl.timing.model import Edge
from gatectl.timing.trace import read_trace, write_trace

BEAMS = {"M1", "M2", "M3"}
HEAD = "gate,t_ns,state\n"


def read(text, beams=BEAMS):
    return read_trace(io.StringIO(text), beams=beams)


def read_bytes(data, beams=BEAMS):
    return read_trace(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""), beams=beams)


def test_reads_edges_in_file_order():
    assert read(HEAD + "M1,1000,1\nM2,900,1\nM1,2000,0\n") == [
        Edge("M1", 1000, True),
        Edge("M2", 900, True),
        Edge("M1", 2000, False),
    ]


def test_blank_lines_are_skipped_and_still_counted():
    with pytest.raises(TraceError, match="^line 6: "):
        read(HEAD + "\nM1,5,1\n  \n,,\nM1,x,0\n")
    assert read(HEAD + "\n\nM1,5,1\n\n") == [Edge("M1", 5, True)]


def test_columns_in_any_order_with_spaces_and_crlf():
    assert read(" state , gate ,t_ns\r\n1,M1,5\r\n 0 , M1 , 7 \r\n") == [Edge("M1", 5, True), Edge("M1", 7, False)]


def test_negative_and_equal_times_are_fine():
    assert read(HEAD + "M1,-5,1\nM1,-5,0\n") == [Edge("M1", -5, True), Edge("M1", -5, False)]


def test_any_beam_when_no_layout_is_given():
    assert read(HEAD + "whatever,1,1\n", beams=None) == [Edge("whatever", 1, True)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the trace is empty"),
        ("gate,time,state\nM1,1,1\n", "line 1: missing column t_ns; the header must be gate,t_ns,state (found gate,time,state)"),
        ("M1,1000,1\n", "line 1: missing column gate, t_ns, state"),
        (HEAD + "M1,abc,1\n", "line 2: t_ns must be an integer number of nanoseconds, not 'abc'"),
        (HEAD + "M1,1.5,1\n", "line 2: t_ns must be an integer number of nanoseconds, not '1.5'"),
        (HEAD + "M1,1e9,1\n", "line 2: t_ns must be an integer"),
        (HEAD + "M1,,1\n", "line 2: t_ns must be an integer"),
        (HEAD + "M1,-,1\n", "line 2: t_ns must be an integer"),
        (HEAD + "M1,²,1\n", "line 2: t_ns must be an integer"),
        (HEAD + "M1,١٢٣,1\n", "line 2: t_ns must be an integer"),
        (HEAD + "M1,5,2\n", "line 2: state must be 1 (broken) or 0 (clear), not '2'"),
        (HEAD + "M1,5,yes\n", "line 2: state must be 1 (broken) or 0 (clear), not 'yes'"),
        (HEAD + "M1,5,\n", "line 2: state must be 1"),
        (HEAD + "M1,5,1\nM9,6,1\n", "line 3: unknown gate 'M9'; the layout has M1, M2, M3"),
        (HEAD + ",5,1\n", "line 2: the gate is empty"),
        (HEAD + "M1,10,1\nM2,3,1\nM1,5,0\n", "line 4: time goes backwards on M1 (5 after 10)"),
        (HEAD + "M1,5\n", "line 2: expected 3 fields, found 2"),
        (HEAD + "M1,5,1,9\n", "line 2: expected 3 fields, found 4"),
        (HEAD + 'M1,5,1\nM1,"' + "9" * 200_000 + '",0\n', "line 3: unreadable CSV"),
    ],
)
def test_bad_input_names_the_line(text, message):
    with pytest.raises(TraceError) as caught:
        read(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("bad_line", [1, 2, 5])
def test_bytes_that_are_not_utf8_name_their_line(bad_line):
    lines = [b"gate,t_ns,state", b"M1,1,1", b"M1,2,0", b"M1,3,1", b"M1,4,0"]
    lines[bad_line - 1] += b"\xff"
    with pytest.raises(TraceError, match=f"^line {bad_line}: .*UTF-8"):
        read_bytes(b"\n".join(lines) + b"\n")


def test_bytes_that_are_not_utf8_far_into_a_long_trace():
    body = b"".join(b"M1,%d,%d\n" % (t, t % 2 == 0) for t in range(2, 3002))
    with pytest.raises(TraceError, match="^line 3002: "):
        read_bytes(b"gate,t_ns,state\n" + body + b"M\xe91,9999,1\n")


def test_trace_error_is_a_value_error():
    assert issubclass(TraceError, ValueError) and issubclass(TraceError, GatectlError)


def test_write_trace():
    out = io.StringIO()
    assert write_trace([Edge("M2a", 5, True), Edge("M2b", 7, False)], out) == 2
    assert out.getvalue() == "gate,t_ns,state\nM2a,5,1\nM2b,7,0\n"


@st.composite
def traces(draw):
    """Edges of a few beams, each beam's times never going back, interleaved any way."""
    per_beam = {
        beam: sorted(draw(st.lists(st.integers(-(2**63) + 1, 2**63 - 1), max_size=8)))
        for beam in draw(st.sets(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4))
    }
    edges = []
    while any(per_beam.values()):
        beam = draw(st.sampled_from(sorted(b for b, times in per_beam.items() if times)))
        edges.append(Edge(beam, per_beam[beam].pop(0), draw(st.booleans())))
    return edges


@settings(max_examples=100, deadline=None)
@given(traces())
def test_write_then_read_gives_the_same_edges(edges):
    out = io.StringIO()
    write_trace(edges, out)
    assert read_trace(io.StringIO(out.getvalue()), beams={e.beam for e in edges}) == edges
