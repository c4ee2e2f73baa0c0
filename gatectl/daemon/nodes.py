"""The gate nodes on the live event stream: their link, sync and buffer, as ``nodes`` events.

The daemon thread calls ``NodeWatch.tick`` every turn; it publishes each
node's ``NodeStatus`` every ``every_s`` seconds, and at once when a node's
state changes (it syncs, is lost, comes back), so a dashboard follows the
nodes without asking. A source without nodes publishes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gatectl.daemon.events import EventBus
from gatectl.sources import EdgeSource
from gatectl.sources.nodes.status import NodeState, node_status

NODES_EVERY_S = 2.0  # the figures (sync, lines, buffer) move all the time: a look every 2 s is plenty


class NodeWatch:
    def __init__(self, source: EdgeSource, bus: EventBus, *, every_s: float = NODES_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._bus = bus
        self._every_s = every_s
        self._clock = clock
        self._next_s = 0.0
        self._states: tuple[NodeState, ...] | None = None
        self._none = False  # the source has no nodes (they are fixed when it is made): nothing to watch

    def tick(self) -> None:
        if self._none:
            return
        nodes = node_status(self._source)
        if not nodes:
            self._none = True
            return
        now, states = self._clock(), tuple(node.state for node in nodes)
        if states == self._states and now < self._next_s:
            return
        self._states, self._next_s = states, now + self._every_s
        self._bus.publish("nodes", {"nodes": [node.as_json() for node in nodes]})
