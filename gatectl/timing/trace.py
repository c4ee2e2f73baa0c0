"""Edge traces: the CSV that ``gatectl simulate`` writes and ``gatectl replay`` reads.

Header ``gate,t_ns,state``; one edge a line; ``state`` 1 when the beam is
broken, 0 when clear; ``gate`` names the beam (``M2a``/``M2b`` for the two
beams of a dual gate). Times are integer nanoseconds.

>>> import io
>>> read_trace(io.StringIO("gate,t_ns,state\\nM1,1000,1\\n"), beams={"M1"})
[Edge(beam='M1', t_ns=1000, broken=True)]
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable
from typing import IO

from gatectl.errors import TraceError
from gatectl.limits import MAX_NUMBER_CHARS, T_NS, shown
from gatectl.timing.model import Edge

HEADER = ("gate", "t_ns", "state")
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only: str.isdigit() also takes '²', which int() refuses


def _check_utf8(row: list[str], number: int) -> None:
    try:
        "".join(row).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8
        raise TraceError(f"line {number}: the line is not UTF-8 text; save the trace as UTF-8.") from None


def read_trace(lines: IO[str], beams: Collection[str] | None = None) -> list[Edge]:
    """Every edge in the trace, in file order; the first bad line raises ``TraceError``.

    ``beams`` are the beam names the layout knows; any other name is an error.
    """
    if isinstance(lines, io.TextIOWrapper) and lines.errors == "strict":
        # A strict decoder fails on a whole chunk, lines ahead of the one being read; escaped
        # bytes reach the rows instead, so the error can name their line.
        lines.reconfigure(errors="surrogateescape")
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise TraceError("line 1: the trace is empty; it must start with the header gate,t_ns,state.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise TraceError(f"line 1: unreadable CSV ({exc}).") from None
    _check_utf8(header, 1)
    columns = [c.strip() for c in header]
    missing = [c for c in HEADER if c not in columns]
    if missing:
        raise TraceError(
            f"line 1: missing column {', '.join(missing)}; the header must be gate,t_ns,state "
            f"(found {','.join(columns) or 'nothing'})."
        )
    gate_i, t_i, state_i = (columns.index(c) for c in HEADER)
    edges: list[Edge] = []
    last: dict[str, int] = {}
    try:
        for row in reader:
            number = reader.line_num
            _check_utf8(row, number)
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                raise TraceError(f"line {number}: expected {len(columns)} fields, found {len(row)}.")
            beam, t_text, state_text = row[gate_i].strip(), row[t_i].strip(), row[state_i].strip()
            if not beam:
                raise TraceError(f"line {number}: the gate is empty.")
            if beams is not None and beam not in beams:
                raise TraceError(
                    f"line {number}: unknown gate {beam!r}; the layout has {', '.join(sorted(beams))}."
                )
            if len(t_text) > MAX_NUMBER_CHARS or not _INTEGER.fullmatch(t_text):
                raise TraceError(f"line {number}: t_ns must be an integer number of nanoseconds, not {shown(t_text)}.")
            t_ns = T_NS.check(int(t_text), f"line {number}: t_ns", TraceError)  # SQLite keeps 64 bits
            if state_text not in ("0", "1"):
                raise TraceError(f"line {number}: state must be 1 (broken) or 0 (clear), not {state_text!r}.")
            if beam in last and t_ns < last[beam]:
                raise TraceError(
                    f"line {number}: time goes backwards on {beam} ({t_ns} after {last[beam]})."
                )
            last[beam] = t_ns
            edges.append(Edge(beam, t_ns, state_text == "1"))
    except csv.Error as exc:  # the line it could not parse has been read: it is line_num
        raise TraceError(f"line {reader.line_num}: unreadable CSV ({exc}).") from None
    except UnicodeDecodeError as exc:  # a stream we could not make lenient: the line is a guess
        raise TraceError(f"line {reader.line_num + 1}: unreadable CSV ({exc}).") from None
    return edges


def write_trace(edges: Iterable[Edge], out: IO[str]) -> int:
    """Write ``edges`` as a trace; returns how many were written."""
    out.write(",".join(HEADER) + "\n")
    count = 0
    for edge in edges:
        out.write(f"{edge.beam},{edge.t_ns},{int(edge.broken)}\n")
        count += 1
    return count
