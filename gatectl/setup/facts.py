"""What setup needs to know about the machine, read once before planning.

``gather(root)`` reads a real system (``root`` = ``/``) or a directory standing
in for one (``--root DIR``, the tests): files under the root, and, on the real
system only, a few read-only commands (``nmcli``, ``systemctl is-enabled``,
``raspi-config nonint get_blanking``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gatectl.config import Config, load_config
from gatectl.errors import ConfigError
from gatectl.setup.files import CONFIG, DATABASE, DEFAULT_VENV, KIOSK_AUTOSTART, KIOSK_UNIT, UNIT

HOTSPOT_CONNECTION = "gatectl-hotspot"
# The hotspot's NetworkManager settings, by the names nmcli takes and prints.
HOTSPOT_FIELDS = (
    "connection.autoconnect",
    "connection.autoconnect-priority",
    "802-11-wireless.ssid",
    "802-11-wireless.mode",
    "802-11-wireless.band",
    "ipv4.method",
    "ipv4.addresses",
    "ipv6.method",
    "802-11-wireless-security.key-mgmt",
    "802-11-wireless-security.psk",
)
DESKTOPS = {"labwc": "usr/bin/labwc", "wayfire": "usr/bin/wayfire", "lxde": "usr/bin/lxsession"}
CHROMIUMS = ("usr/bin/chromium", "usr/bin/chromium-browser")


@dataclass(frozen=True, slots=True)
class Facts:
    model: str | None = None  # /proc/device-tree/model, e.g. "Raspberry Pi 4 Model B Rev 1.4"
    users: frozenset[str] = frozenset()
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # group -> its listed members
    login_user: str | None = None  # the first person's account (uid 1000 and up): the kiosk runs as it on Lite
    venv: PurePosixPath = DEFAULT_VENV  # the gatectl setup runs from: the unit starts this one
    has_nmcli: bool = False
    desktop: str | None = None  # labwc, wayfire or lxde; None on Lite
    chromium: str | None = None
    has_cage: bool = False
    has_raspi_config: bool = False
    blanking_off: bool = False
    hotspot: dict[str, str] | None = None  # the gatectl-hotspot connection's settings, if it exists
    enabled: frozenset[str] = frozenset()  # units enabled already
    active: frozenset[str] = frozenset()  # units running
    config: Config | None = None  # the installed config, if it loads
    config_problem: str | None = None  # why the installed config does not load
    has_password: bool = False
    kiosk: bool = False  # the trackside screen is set up already


def gather(root: Path, *, live: bool) -> Facts:
    """Facts about the system at ``root``; ``live``: it is the running system, ask its tools too."""
    users, login_user = _passwd(root / "etc/passwd")
    config, problem = None, None
    if (root / CONFIG.relative_to("/")).exists():
        try:
            config = load_config(root / CONFIG.relative_to("/"))
        except ConfigError as exc:
            problem = str(exc)
    from gatectl.setup.password import has_coach_password

    has_nmcli = _exists(root, "usr/bin/nmcli")
    has_raspi_config = _exists(root, "usr/bin/raspi-config")
    return Facts(
        model=_read(root / "proc/device-tree/model"),
        users=users,
        groups=_groups(root / "etc/group"),
        login_user=login_user,
        venv=PurePosixPath(sys.prefix),
        has_nmcli=has_nmcli,
        desktop=next((name for name, path in DESKTOPS.items() if _exists(root, path)), None),
        chromium=next(("/" + path for path in CHROMIUMS if _exists(root, path)), None),
        has_cage=_exists(root, "usr/bin/cage"),
        has_raspi_config=has_raspi_config,
        blanking_off=live and has_raspi_config and _command(["raspi-config", "nonint", "get_blanking"]) == "1",
        hotspot=_hotspot() if live and has_nmcli else None,
        enabled=frozenset(u for u in (UNIT.name, KIOSK_UNIT.name) if live and _command(["systemctl", "is-enabled", u]) == "enabled"),
        active=frozenset(u for u in (UNIT.name, KIOSK_UNIT.name) if live and _command(["systemctl", "is-active", u]) == "active"),
        config=config,
        config_problem=problem,
        has_password=has_coach_password(root / DATABASE.relative_to("/")),
        kiosk=any((root / path.relative_to("/")).exists() for path in (KIOSK_UNIT, KIOSK_AUTOSTART)),
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().rstrip(b"\0\n").decode(errors="replace") or None
    except OSError:
        return None


def _exists(root: Path, path: str) -> bool:
    return os.access(root / path, os.X_OK)


def _passwd(path: Path) -> tuple[frozenset[str], str | None]:
    users, login = set(), None
    for line in (_read(path) or "").splitlines():
        parts = line.split(":")
        if len(parts) < 7:
            continue
        users.add(parts[0])
        uid = int(parts[2]) if parts[2].isdigit() else -1
        if login is None and 1000 <= uid < 60000 and not parts[6].endswith(("nologin", "false")):
            login = parts[0]
    return frozenset(users), login


def _groups(path: Path) -> dict[str, frozenset[str]]:
    groups = {}
    for line in (_read(path) or "").splitlines():
        parts = line.split(":")
        if len(parts) >= 4:
            groups[parts[0]] = frozenset(m for m in parts[3].split(",") if m)
    return groups


def _command(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _hotspot() -> dict[str, str] | None:
    """The hotspot connection's settings as nmcli prints them (-s: with its key), or None if there is none."""
    out = _command(["nmcli", "--show-secrets", "--get-values", ",".join(HOTSPOT_FIELDS), "connection", "show", HOTSPOT_CONNECTION])
    if out is None:
        return None
    values = out.split("\n")
    if len(values) != len(HOTSPOT_FIELDS):
        return {}  # it exists, in a shape we do not know: setup sets every field again
    return {name: value.replace("\\:", ":").replace("\\\\", "\\") for name, value in zip(HOTSPOT_FIELDS, values)}
