"""systemd's notify protocol in a few lines: ready, stopping, and the watchdog fed by the timing loop.

Under ``Type=notify`` systemd passes ``$NOTIFY_SOCKET`` (a datagram socket;
a leading ``@`` names an abstract one) and, with ``WatchdogSec=``,
``$WATCHDOG_USEC``. The timing loop calls ``feed`` on every turn; when the loop
stalls, nothing is sent, and systemd kills and restarts the process. Outside
systemd (no socket in the environment) every call does nothing.

>>> Notifier({}).feed()  # not under systemd: nothing to do
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Talks to systemd's notify socket, if there is one."""

    def __init__(self, environ: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        # Fed twice per period (systemd's advice), so one late turn of the loop is no restart.
        self._feed_every_s = int(usec) / 2_000_000 if watched else None
        self._clock = clock
        self._fed_at: float | None = None

    @property
    def watched(self) -> bool:
        return self._feed_every_s is not None and bool(self._address)

    def notify(self, state: str) -> None:
        """Send ``state`` (``READY=1``, ``STOPPING=1``, ``WATCHDOG=1``...); a failure is logged, never raised."""
        if not self._address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as exc:
            log.warning("could not tell systemd %r: %s", state, exc)

    def feed(self) -> None:
        """The timing loop is alive: pet the watchdog, at most twice a period."""
        if self._feed_every_s is None or not self._address:
            return
        now = self._clock()
        if self._fed_at is None or now - self._fed_at >= self._feed_every_s:
            self._fed_at = now
            self.notify("WATCHDOG=1")
