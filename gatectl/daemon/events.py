"""In-process publish/subscribe for live events (crossings, runs, gate status).

Every event gets an increasing ``id``; the bus keeps the most recent ones so a
subscriber that reconnects (a browser sending ``Last-Event-ID``) can catch up
on what it missed. Publishing never blocks the daemon: a subscriber that
falls too far behind is dropped and must reconnect.

>>> bus = EventBus()
>>> sub = bus.subscribe()
>>> bus.publish("run", {"fly": None}).id
1
>>> sub.get(timeout=0).kind
'run'
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: int
    kind: str  # "crossing", "run", "gate", "session", "queue"...
    data: object  # a dict, or a typed value (a run, the workout state): gatectl.jsonable gives its JSON


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._queue: queue.Queue[LiveEvent | None] = queue.Queue(maxsize)
        self.dropped = False

    def get(self, timeout: float | None = None) -> LiveEvent | None:
        """The next event, or ``None`` after ``timeout`` seconds or once dropped."""
        try:
            if self.dropped:  # nothing more will come: hand out what is queued, then None at once
                return self._queue.get_nowait()
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def _offer(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped = True
            self._bus.unsubscribe(self)

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def _end(self) -> None:
        """Nothing more will come: a ``get`` waiting now returns ``None`` at once."""
        self.dropped = True
        with contextlib.suppress(queue.Full):  # full: it has events to hand out first, then None without waiting
            self._queue.put_nowait(None)


class EventBus:
    def __init__(self, history: int = 2000, subscriber_queue: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._history: deque[LiveEvent] = deque(maxlen=history)
        self._next_id = 1
        self._subscriber_queue = subscriber_queue
        self._closed = False

    def publish(self, kind: str, data: object) -> LiveEvent:
        with self._lock:
            event = LiveEvent(self._next_id, kind, data)
            self._next_id += 1
            self._history.append(event)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            sub._offer(event)
        return event

    def subscribe(self, last_id: int | None = None) -> Subscription:
        """A new subscription; with ``last_id``, first replays the events after it."""
        sub = Subscription(self, self._subscriber_queue)
        with self._lock:
            if last_id is not None:
                for event in self._history:
                    if event.id > last_id:
                        try:
                            sub._queue.put_nowait(event)
                        except queue.Full:
                            # More missed than a queue holds: it gets what fits, then is
                            # dropped and resumes from there. (_offer would unsubscribe
                            # under this lock, which is not reentrant: a deadlock.)
                            sub.dropped = True
                            break
            if self._closed:
                sub._end()
            elif not sub.dropped:
                self._subscribers.add(sub)
        return sub

    def close(self) -> None:
        """Shutting down: every subscriber, now or later, gets what is queued and then ``None`` at once.

        A server stopping need not wait for its event streams' heartbeats to time out.
        """
        with self._lock:
            self._closed = True
            subscribers, self._subscribers = self._subscribers, set()
        for sub in subscribers:
            sub._end()

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    @property
    def last_id(self) -> int:
        """The id of the newest event published, 0 before the first: where a new reader starts."""
        with self._lock:
            return self._next_id - 1

    def latest(self, kind: str) -> LiveEvent | None:
        with self._lock:
            return next((e for e in reversed(self._history) if e.kind == kind), None)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)


def publish_corrected(bus: EventBus, session_id: int, correction_id: int, runs: Sequence[object]) -> None:
    """Tell live viewers the coach corrected the session's runs: ``corrected`` (a page refetches the
    session's runs: some are gone), then each run the correction made or changed, as a new run is told."""
    bus.publish("corrected", {"session": session_id, "correction": correction_id})
    for run in runs:
        bus.publish("run", run)
