"""Each gate node's link, sync and buffer as a value: what the pre-session check shows.

``node_status`` reads it from a daemon's source: a ``SerialSource``, or a
``MixedSource`` with one inside; any other source has no nodes. ``problem``
says in a sentence what stops the node from timing (None: nothing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gatectl.sources import EdgeSource
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.serial import SerialSource


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """One node at one moment (the fields of ``SerialSource.status``)."""

    port: str  # where it is: a device path, or "USB serial number ..."
    beams: tuple[str, ...]
    connected: bool
    error: str | None  # why its port is closed
    node: str | None  # the id its HELLO gave
    firmware: str | None
    heard_s_ago: float | None
    sync_uncertainty_us: float | None  # the bound on its clock's mapping to the Pi's
    drift_ppm: float | None  # its crystal against the Pi's clock
    unacked: int | None  # edges it still repeats
    buffer: int | None  # edges in its ring buffer
    capacity: int | None  # the ring buffer's size
    lost_at_node: int  # edges its full buffer could not keep
    bad_lines: int  # lines that failed their checksum or did not parse
    repeats: int
    refused: int

    @property
    def problem(self) -> str | None:
        gate = "/".join(self.beams)
        if not self.connected:
            return f"the node of {gate} is not connected ({self.port})"
        if self.sync_uncertainty_us is None:
            return f"the node of {gate} is not synchronised yet"
        if self.lost_at_node:
            return f"the node of {gate} lost {self.lost_at_node} edge(s): its buffer was full"
        return None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "beams": list(self.beams), "problem": self.problem}


def node_status(source: EdgeSource) -> tuple[NodeStatus, ...]:
    """The gate nodes of a daemon's source, in its order; none if it has none."""
    if isinstance(source, SerialSource):
        return tuple(NodeStatus(**{**status, "beams": tuple(status["beams"])}) for status in source.status())
    if isinstance(source, MixedSource):
        return tuple(node for part in source.sources for node in node_status(part))
    return ()


def beam_clocks(source: EdgeSource) -> dict[str, tuple[str, int]]:
    """Each node beam of a daemon's source whose node is synchronised: (node id, sync uncertainty ns); GPIO beams are absent."""
    if isinstance(source, SerialSource):
        return source.clocks()
    if isinstance(source, MixedSource):
        return {beam: clock for part in source.sources for beam, clock in beam_clocks(part).items()}
    return {}
