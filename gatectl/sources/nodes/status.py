"""Each gate node's link, sync and buffer as a value: what the pre-session check shows.

``node_status`` reads it from a daemon's source: a ``SerialSource``, or a
``MixedSource`` with one inside; any other source has no nodes. ``state``
says in a word where the node is (``NodeState``); ``problem`` says in a
sentence what stops the node from timing (None: nothing).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from gatectl.sources import EdgeSource
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.serial import SerialSource

SILENT_S = 3.0  # a node beats every second: three missed and it is lost, though its port is open


class NodeState(StrEnum):
    """Where a node is, in the order a dashboard worries about it."""

    ABSENT = "absent"  # its port is closed and it was never heard (not plugged in, wrong path)
    RECONNECTING = "reconnecting"  # it was heard, then its port went away: tried again once a second
    SILENT = "silent"  # its port is open but it has said nothing for SILENT_S (a radio out of range, a hung node)
    REFUSED = "refused"  # it speaks another protocol, or is another node than the config says
    SYNCING = "syncing"  # it talks, but its clock is not placed yet: its edges wait
    OK = "ok"  # in sync: its edges are timed


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
    synced: bool  # its clock is placed: its edges are delivered
    sync_uncertainty_us: float | None  # the bound on its clock's mapping to the Pi's
    round_trip_ms: float | None  # the shortest sync exchange of the last 20 s
    drift_ppm: float | None  # its crystal against the Pi's clock
    unacked: int | None  # edges it still repeats
    buffer: int | None  # edges in its ring buffer
    capacity: int | None  # the ring buffer's size
    lost_at_node: int  # edges its full buffer could not keep
    lines: int  # good lines received
    bad_lines: int  # lines that failed their checksum or did not parse
    repeats: int
    refused: str | None  # why its edges are not taken

    @property
    def state(self) -> NodeState:
        if not self.connected:
            return NodeState.RECONNECTING if self.heard_s_ago is not None else NodeState.ABSENT
        if self.refused:
            return NodeState.REFUSED
        if self.heard_s_ago is not None and self.heard_s_ago > SILENT_S:
            return NodeState.SILENT
        return NodeState.OK if self.synced else NodeState.SYNCING

    @property
    def problem(self) -> str | None:
        gate = "/".join(self.beams)
        state = self.state
        if state is NodeState.ABSENT:
            return f"the node of {gate} is not connected ({self.port})"
        if state is NodeState.RECONNECTING:
            return f"the node of {gate} is lost: its port went away, reconnecting ({self.port})"
        if state is NodeState.REFUSED:
            return f"the node of {gate} {self.refused}"
        if state is NodeState.SILENT:
            return f"the node of {gate} is lost: not heard for {self.heard_s_ago:.0f} s"
        if state is NodeState.SYNCING:
            return f"the node of {gate} is not synchronised yet"
        if self.lost_at_node:
            return f"the node of {gate} lost {self.lost_at_node} edge(s): its buffer was full"
        return None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "beams": list(self.beams), "state": self.state.value, "problem": self.problem}


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
