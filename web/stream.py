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
from collections.abc import Callable, Generator, Iterator

from gatectl.daemon.events import EventBus
from gatectl.errors import GatectlError
from gatectl.jsonable import jsonable
from gatectl.limits import Range, read_integer

RETRY_MS = 2000
DISCONNECT_POLL_S = 0.5
EVENT_ID = Range(0, 2**63 - 1)


def format_event(event_id: int | None, kind: str, data: str) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {data}\n\n"


def parse_last_id(header: str | None, query: str | None) -> int | None:
    """The id to resume after: the browser's ``Last-Event-ID``, else ``?since=``."""
    for value in (header, query):
        if value is not None:
            try:
                return read_integer(value, "Last-Event-ID", EVENT_ID)
            except GatectlError:  # '²' or 5000 digits: start afresh, as with no id at all
                continue
    return None


def event_stream(
    bus: EventBus,
    *,
    last_id: int | None,
    boot: str,
    heartbeat_s: float = 15.0,
    on_close: Callable[[], None] | None = None,
    disconnected: Callable[[], bool] | None = None,
) -> Generator[str, None, None]:
    """Yield the stream's text, event by event, until the client goes away.

    A write to a closed connection fails only at the next heartbeat; with
    ``disconnected`` (waitress's ``waitress.client_disconnected``) the stream
    looks every ``DISCONNECT_POLL_S`` and ends at once, freeing its slot.
    """
    position = bus.last_id  # before subscribing: anything later is delivered
    resume = position if last_id is None else last_id
    sub = bus.subscribe(last_id)
    expect = resume  # the id of the last event this client has
    try:
        hello = {"boot": boot, "resume": resume, "latest": position, "heartbeat_s": heartbeat_s}
        yield f"retry: {RETRY_MS}\n" + format_event(resume, "hello", json.dumps(hello))
        poll_s = heartbeat_s if disconnected is None else min(heartbeat_s, DISCONNECT_POLL_S)
        quiet_since = time.monotonic()
        while True:
            event = sub.get(timeout=poll_s)
            if disconnected is not None and disconnected():
                return
            if event is None:
                if sub.dropped:  # too slow to keep up: end, the browser reconnects and catches up
                    return
                if time.monotonic() - quiet_since >= heartbeat_s:
                    quiet_since = time.monotonic()
                    yield ": heartbeat\n" + format_event(expect, "ping", json.dumps({"t": round(time.time(), 3)}))
                continue
            quiet_since = time.monotonic()
            if event.id != expect + 1:
                # Missed events (older than the bus keeps) or a restarted server: start afresh.
                yield format_event(event.id - 1, "reset", json.dumps({"expected": expect + 1, "got": event.id}))
            expect = event.id
            yield format_event(event.id, event.kind, json.dumps(jsonable(event.data), separators=(",", ":")))
    finally:
        sub.close()
        if on_close is not None:
            on_close()


class ClosingStream:
    """An event stream that runs ``on_close`` exactly once when the server closes it,
    even if the client left before the first event (a generator that never started
    would skip its ``finally``)."""

    def __init__(self, events: Generator[str, None, None], on_close: Callable[[], None]) -> None:
        self._events = events
        self._on_close: Callable[[], None] | None = on_close

    def __iter__(self) -> Iterator[str]:
        return self._events

    def close(self) -> None:
        try:
            self._events.close()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()
