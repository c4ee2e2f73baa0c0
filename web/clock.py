"""The Pi's date, from a phone: a label correction, never a timing input.

A Pi has no real-time clock; at a track with no internet it boots with the
last date it saved, so sessions would be labelled with the wrong day. The
coach's phone knows the date: the control page sends the phone's clock
(epoch milliseconds and its UTC offset) and we keep the difference in the
settings table, tied to this boot of the Pi (a reboot makes it stale, since
the Pi's clock restarts from its saved date). Session dates and times shown
on the dashboard use the corrected clock.

Setting the system clock itself (``date -s``) needs root; the daemon runs as
a service user. It is only tried when the app's ``SET_SYSTEM_CLOCK`` config
allows it (e.g. the service was given CAP_SYS_TIME), and a refusal is
reported, never raised. Timing never reads the wall clock: intervals come
from the monotonic edge stamps.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gatectl.store import Store

SETTING = "clock_offset"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return None


def correction(store: Store) -> dict | None:
    """The stored correction if it belongs to this boot: ``offset_ms``, ``tz_minutes``, ``set_at``."""
    raw = store.setting(SETTING)
    if not raw:
        return None
    try:
        value = json.loads(raw)
        value["offset_ms"] = float(value["offset_ms"])
        value["tz_minutes"] = int(value["tz_minutes"])
    except (ValueError, KeyError, TypeError):
        return None
    return value if value.get("boot_id") == boot_id() else None


def now(store: Store) -> datetime:
    """The wall-clock time as the coach's phone would say it (the Pi's own clock if never set)."""
    fix = correction(store)
    if fix is None:
        return datetime.now().astimezone()
    zone = timezone(timedelta(minutes=fix["tz_minutes"]))
    return datetime.fromtimestamp(time.time() + fix["offset_ms"] / 1000, tz=zone)


def set_from_device(store: Store, epoch_ms: int, tz_minutes: int, *, allow_system: bool) -> dict:
    """Take a phone's clock as the truth; return what was done, in words."""
    offset_ms = epoch_ms - time.time() * 1000
    system = "not tried: only the session labels are corrected (SET_SYSTEM_CLOCK is off)"
    if allow_system:
        system = _set_system_clock(epoch_ms)
        if system == "set":
            offset_ms = epoch_ms - time.time() * 1000  # the system clock is now right
    store.set_setting(SETTING, json.dumps({
        "offset_ms": round(offset_ms), "tz_minutes": tz_minutes, "boot_id": boot_id(),
        "set_at": round(time.time() * 1000),
    }))
    corrected = now(store)
    return {
        "now": corrected.isoformat(timespec="seconds"),
        "date": corrected.date().isoformat(),
        "offset_s": round(offset_ms / 1000, 1),
        "system_clock": system,
    }


def _set_system_clock(epoch_ms: int) -> str:
    try:
        done = subprocess.run(
            ["date", "-u", "-s", f"@{epoch_ms / 1000:.3f}"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"not set: {exc}"
    if done.returncode != 0:
        return f"not set: {(done.stderr or done.stdout).strip() or 'date -s failed'}"
    return "set"
