"""Server-Sent Events: the live bus as ``text/event-stream``.

Every event carries ``id:`` (the bus's event id) so a browser that
reconnects sends ``Last-Event-ID`` and the bus replays what it missed. The
stream opens with ``hello`` (the server's boot token: a browser that sees a
new one reloads) and, when the bus could not replay everything (a gap in
the ids, or ids that went backwards after a restart), a ``reset`` telling the
page to fetch its state again. While nothing happens a heartbeat comment
goes out every ``heartbeat_s`` with a ``ping`` event, so the server notices
a dead client (the write fails) and the page notices a dead server.

>>> format_event(7, "run", '{"id": 3}')
'id: 7\\nevent: run\\ndata: {"id": 3}\\n\\n'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

from gatectl.daemon.events import EventBus

RETRY_MS = 2000
KINDS = ("crossing", "run", "gate", "session", "queue", "armed", "anomaly", "workout", "fault")


def format_event(event_id: int | None, kind: str, data: str) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n"


def bus_position(bus: EventBus) -> int:
    """The id of the newest event on the bus (0 if none)."""
    last = getattr(bus, "last_id", None)  # use the bus's own count when it has one
    if isinstance(last, int):
        return last
    latest = (bus.latest(kind) for kind in KINDS)
    return max((event.id for event in latest if event is not None), default=0)


def parse_last_id(header: str | None, query: str | None) -> int | None:
    """The id to resume after: the browser's ``Last-Event-ID``, else ``?since=``."""
    for value in (header, query):
        if value is not None and value.strip().isdigit():
            return int(value.strip())
    return None


def event_stream(
    bus: EventBus,
    *,
    last_id: int | None,
    boot: str,
    heartbeat_s: float = 15.0,
    on_close: Callable[[], None] | None = None,
) -> Iterator[str]:
    """Yield the stream's text, event by event, until the client goes away."""
    position = bus_position(bus)  # before subscribing: anything later is delivered
    resume = position if last_id is None else last_id
    sub = bus.subscribe(last_id)
    expect = resume  # the id of the last event this client has
    try:
        hello = {"boot": boot, "resume": resume, "latest": position, "heartbeat_s": heartbeat_s}
        yield f"retry: {RETRY_MS}\n" + format_event(resume, "hello", json.dumps(hello))
        while True:
            event = sub.get(timeout=heartbeat_s)
            if event is None:
                if sub.dropped:  # too slow to keep up: end, the browser reconnects and catches up
                    return
                yield ": heartbeat\n" + format_event(expect, "ping", json.dumps({"t": round(time.time(), 3)}))
                continue
            if event.id != expect + 1:
                # Missed events (older than the bus keeps) or a restarted server: start afresh.
                yield format_event(event.id - 1, "reset", json.dumps({"expected": expect + 1, "got": event.id}))
            expect = event.id
            yield format_event(event.id, event.kind, json.dumps(event.data, separators=(",", ":")))
    finally:
        sub.close()
        if on_close is not None:
            on_close()


class ClosingStream:
    """An event stream that runs ``on_close`` exactly once when the server closes it,
    even if the client left before the first event (a generator that never started
    would skip its ``finally``)."""

    def __init__(self, events: Iterator[str], on_close: Callable[[], None]) -> None:
        self._events = events
        self._on_close = on_close

    def __iter__(self) -> Iterator[str]:
        return self._events

    def close(self) -> None:
        try:
            self._events.close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()
