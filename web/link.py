"""The app's link to the timing daemon: the daemon (or none), its bus, open streams."""

from __future__ import annotations

import secrets
import threading
from collections import Counter

from flask import abort, current_app

from gatectl.daemon.control import DaemonControl
from gatectl.daemon.events import EventBus
from gatectl.timing.results import RunView

NO_GATES = "History only — no gates connected."


class LiveLink:
    """What every request of one app knows of the daemon."""

    def __init__(self, daemon: DaemonControl | None, max_streams: int, max_per_address: int | None = None) -> None:
        self.daemon = daemon
        self.boot = secrets.token_hex(6)  # tells a browser the server restarted
        self._streams: Counter[str] = Counter()  # open streams by client address
        self._max_streams = max_streams
        self._max_per_address = max_per_address or max_streams
        self._lock = threading.Lock()

    @property
    def bus(self) -> EventBus | None:
        return self.daemon.bus if self.daemon is not None else None

    def open_stream(self, address: str = "?") -> bool:
        """Count a new event stream from ``address`` in, unless there are already too many
        in all or from that address."""
        with self._lock:
            if self._streams.total() >= self._max_streams or self._streams[address] >= self._max_per_address:
                return False
            self._streams[address] += 1
            return True

    def close_stream(self, address: str = "?") -> None:
        with self._lock:
            self._streams[address] -= 1
            if self._streams[address] <= 0:
                del self._streams[address]

    @property
    def streams(self) -> int:
        with self._lock:
            return self._streams.total()


def current_link() -> LiveLink:
    return current_app.extensions["gatectl"]


def require_daemon() -> DaemonControl:
    """The daemon, or a 409 saying there are no gates to control."""
    daemon = current_link().daemon
    if daemon is None:
        abort(409, NO_GATES.rstrip(".") + ": start gatectl run (or gatectl demo) to control gates and sessions.")
    return daemon


def publish_run(run: RunView) -> None:
    """Tell live viewers a run changed (void, new athlete): same event as a new run."""
    bus = current_link().bus
    if bus is not None:
        bus.publish("run", run)
