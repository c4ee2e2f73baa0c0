"""Faults: what is wrong with the daemon now, for the coach to see, never only in a log.

A fault has a kind (``store``: the database refuses writes and edges wait in
memory; ``timing``: an error in the timing loop, which went on) and a
sentence. Raising or clearing one publishes a ``fault`` event with every
fault still standing, and the snapshot has them, so the live and control
pages show them. A fault that happened once (an error in one batch) stays
up for ``hold_s`` after it last happened, so a coach who looks away does not
miss it; a standing one (the store still refusing) goes as soon as it is over.

>>> bus = EventBus()
>>> board = FaultBoard(bus, clock=lambda: 0.0)
>>> board.raise_fault("store", "The database is locked.")
>>> [f.kind for f in board.current()]
['store']
>>> board.clear("store")
>>> board.current()
()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatectl.daemon.events import EventBus


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "store" or "timing"
    message: str  # a sentence for the coach
    since: str  # wall-clock label of its first occurrence (the Pi's clock may be wrong: a label only)
    count: int  # how many times it happened since

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "since": self.since, "count": self.count}


class FaultBoard:
    """The faults standing now; raised and cleared from the daemon thread, read from any."""

    def __init__(self, bus: EventBus, clock: Callable[[], float] = time.monotonic) -> None:
        self._bus = bus
        self._clock = clock
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._last: dict[str, float] = {}  # when each fault last happened, on ``clock``

    def raise_fault(self, kind: str, message: str) -> None:
        with self._lock:
            old = self._faults.get(kind)
            since = old.since if old else datetime.now().astimezone().isoformat(timespec="seconds")
            self._faults[kind] = Fault(kind, message, since, (old.count if old else 0) + 1)
            self._last[kind] = self._clock()
            changed = old is None or old.message != message
        if changed:
            self._publish()

    def clear(self, kind: str, hold_s: float = 0.0) -> None:
        """The fault is over; one that happened less than ``hold_s`` ago stays up until then."""
        with self._lock:
            if kind not in self._faults or self._clock() - self._last[kind] < hold_s:
                return
            del self._faults[kind]
        self._publish()

    def current(self) -> tuple[Fault, ...]:
        with self._lock:
            return tuple(self._faults.values())

    def as_json(self) -> list[dict[str, Any]]:
        return [f.as_json() for f in self.current()]

    def _publish(self) -> None:
        self._bus.publish("fault", {"faults": self.as_json()})
