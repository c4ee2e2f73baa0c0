"""Edge sources: where beam edges come from.

A source delivers ``Edge`` values stamped on its own clock (the kernel's edge
stamp for GPIO, the simulator's truth, a trace's times) to one ``emit``
callback, from any thread. ``emit`` only enqueues; the daemon does the rest.

``now_ns()`` reads the same clock, so the daemon can tell how much time has
passed without an edge (to close a detection window or time out a run).
``latency_ns`` is how long after its stamp an edge may still arrive; the
daemon waits that long before deciding anything about an instant.

A source may also have ``edges_stored(edges)``: the daemon calls it once
edges are durably in the database (gate nodes acknowledge them only then);
and ``origins(edges)``: where each edge came from (``EdgeOrigin`` for a gate
node's, else None), stored with it in the same transaction, so the database
knows an edge the node sends again after a crash took its acknowledgement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gatectl.timing.model import Edge

Emit = Callable[[Edge], None]
EdgeOrigin = tuple[str, int, int]  # a gate node's edge: its node id, boot and seq (firmware/PROTOCOL.md)


class EdgeSource(Protocol):
    name: str
    latency_ns: int

    def start(self, emit: Emit) -> None:
        """Begin delivering edges to ``emit``; returns at once."""

    def stop(self) -> None:
        """Stop delivering edges and release the hardware; idempotent."""

    def now_ns(self) -> int:
        """The current instant on the clock the edges are stamped with."""
