"""The text of every file ``gatectl setup`` writes, rendered from a few values.

Each file has one source: the units in ``systemd/`` are these renderings for
the default paths, and a test checks they are equal.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

CONFIG = PurePosixPath("/etc/gatectl/gatectl.toml")
STATE_DIR = PurePosixPath("/var/lib/gatectl")
DATABASE = STATE_DIR / "gatectl.db"
UNIT = PurePosixPath("/etc/systemd/system/gatectl.service")
KIOSK_UNIT = PurePosixPath("/etc/systemd/system/gatectl-kiosk.service")
KIOSK_AUTOSTART = PurePosixPath("/etc/xdg/autostart/gatectl-kiosk.desktop")
UDEV_RULE = PurePosixPath("/etc/udev/rules.d/99-gatectl-nodes.rules")
DEFAULT_VENV = PurePosixPath("/opt/gatectl")
SERVICE_USER = "gatectl"
SERVICE_GROUPS = ("gpio", "dialout")
PICO_VENDOR = "2e8a"  # Raspberry Pi (RP2040/RP2350) boards: the Pico's USB vendor id
NODE_LINK = "gatectl-node-"  # /dev/gatectl-node-<USB serial number>


def unit(venv: PurePosixPath = DEFAULT_VENV, config: PurePosixPath = CONFIG) -> str:
    """``gatectl.service``: ``gatectl run`` at boot as the service user, sandboxed."""
    return _UNIT.format(gatectl=venv / "bin" / "gatectl", config=config, state=STATE_DIR, user=SERVICE_USER, groups=" ".join(SERVICE_GROUPS))


def udev_rule() -> str:
    """Gate nodes (a Pico over USB serial) get a stable name from their serial number."""
    return _UDEV.format(vendor=PICO_VENDOR, link=NODE_LINK)


@dataclass(frozen=True, slots=True)
class Kiosk:
    """Chromium full-screen on the HDMI output, showing the live page."""

    venv: PurePosixPath
    chromium: str  # the browser's path on the Pi
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?kiosk=1"  # the live page without its links and buttons

    def argv(self) -> list[str]:
        """Wait for the dashboard to answer, then the browser: no error page when it starts first."""
        return [
            str(self.venv / "bin" / "python"), "-m", "gatectl.setup.wait", self.url, "--",
            self.chromium, *CHROMIUM_FLAGS, self.url,
        ]  # fmt: skip

    def autostart(self) -> str:
        """An XDG autostart entry: the desktop session (labwc, wayfire, LXDE) starts it at login."""
        return _AUTOSTART.format(exec=" ".join(_desktop_quote(a) for a in self.argv()))

    def unit(self, user: str, cage: str = "/usr/bin/cage") -> str:
        """For Raspberry Pi OS Lite: the browser under cage, a one-window compositor, on tty1."""
        return _KIOSK_UNIT.format(user=user, exec=shlex.join([cage, "-s", "--", *self.argv()]))


# Kiosk mode, no "restore pages?" bar, no first-run or translate prompts, no keyring
# prompt; the page keeps the screen awake itself while it shows (wake lock).
CHROMIUM_FLAGS = (
    "--kiosk",
    "--noerrdialogs",
    "--disable-infobars",
    "--no-first-run",
    "--disable-session-crashed-bubble",
    "--disable-features=Translate",
    "--password-store=basic",
    "--check-for-update-interval=31536000",
)


def _desktop_quote(arg: str) -> str:
    # Desktop Entry Exec quoting: double quotes around anything with a reserved character.
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but for non-ASCII, kept as is)."""
    return json.dumps(value, ensure_ascii=False)


_UNIT = """\
# gatectl: the beam-gate timing daemon and its dashboard, one process.
# Written by `gatectl setup` (gatectl/setup/files.py); how to install it and read
# its logs: systemd/README.md.

[Unit]
Description=gatectl flying-sprint timing (beam gates and dashboard)
# Not network-online.target: at a track without Wi-Fi that would hold boot up,
# and a dashboard on 0.0.0.0 binds before any network is there. No time sync
# either: times come from the monotonic clock, the wall clock is only a label.
After=network.target
# Retry a crash, but give up on a mistake (a config error exits at once) after
# five tries in a minute instead of filling the journal.
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
# gatectl tells systemd when timing runs (READY=1), then feeds the watchdog from
# its timing loop: a loop stalled for WatchdogSec (a hung write, a deadlock) gets
# the process killed and, by Restart=on-failure, restarted; the restarted daemon
# resumes the interrupted session. Errors that do not stall the loop are shown
# on the dashboard as faults and the timing goes on.
Type=notify
NotifyAccess=main
WatchdogSec=15
User={user}
Group={user}
# /dev/gpiochip* belong to root:gpio on Raspberry Pi OS; gate nodes' serial
# ports (/dev/ttyACM*, named /dev/gatectl-node-* by the udev rule) to dialout.
SupplementaryGroups={groups}
ExecStart={gatectl} run --config {config}
# The database lives here (the config's [database] path), and lgpio makes its
# notification FIFO (.lgd-nfy*) in the working directory: the default, /, is
# not writable, and lgpio then fails to import.
StateDirectory=gatectl
WorkingDirectory={state}
# Each line printed reaches the journal at once.
Environment=PYTHONUNBUFFERED=1

Restart=on-failure
RestartSec=3
# On SIGTERM gatectl releases the pins, finishes writing and exits; a busy
# SD card can take a few seconds.
KillSignal=SIGTERM
TimeoutStopSec=20

# Hardening that keeps GPIO working. Left out on purpose: PrivateDevices=
# (hides /dev/gpiochip*), PrivateUsers= (drops the gpio group), ProcSubset=pid
# (hides /proc/cpuinfo and /proc/device-tree, where gpiozero finds the model).
DevicePolicy=closed
DeviceAllow=char-gpiochip rw
# Gate nodes: a Pico's USB port, USB-serial adapters (RS-485, radio), the Pi's UART.
DeviceAllow=char-ttyACM rw
DeviceAllow=char-ttyUSB rw
DeviceAllow=char-ttyAMA rw
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectProc=invisible
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
# A call left out fails with EPERM and a clear error, rather than a SIGSYS kill.
SystemCallErrorNumber=EPERM
UMask=0027

[Install]
WantedBy=multi-user.target
"""

_UDEV = """\
# gatectl gate nodes: a Raspberry Pi Pico (USB vendor {vendor}) running the node
# firmware is a USB serial port (/dev/ttyACM*). Give it a name that does not
# change with the order the nodes are plugged in, from its USB serial number:
# /dev/{link}<serial>, readable by the dialout group (the service user's).
# Written by `gatectl setup` (gatectl/setup/files.py).
SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ATTRS{{idVendor}}=="{vendor}", ATTRS{{serial}}=="?*", SYMLINK+="{link}%s{{serial}}", GROUP="dialout", MODE="0660"

# USB-serial adapters for RS-485 or a serial radio (FTDI, Silicon Labs), named
# by their own serial number: /dev/gatectl-serial-<serial>.
SUBSYSTEM=="tty", ATTRS{{idVendor}}=="0403", ATTRS{{serial}}=="?*", SYMLINK+="gatectl-serial-%s{{serial}}", GROUP="dialout", MODE="0660"
SUBSYSTEM=="tty", ATTRS{{idVendor}}=="10c4", ATTRS{{serial}}=="?*", SYMLINK+="gatectl-serial-%s{{serial}}", GROUP="dialout", MODE="0660"

# FTDI adapters hold received bytes up to 16 ms before passing them on; 1 ms keeps
# sync exchanges short (the node's own stamps time the edges either way).
ACTION=="add", SUBSYSTEM=="usb-serial", DRIVERS=="ftdi_sio", ATTR{{latency_timer}}="1"
"""

_AUTOSTART = """\
[Desktop Entry]
Type=Application
Name=gatectl trackside screen
Comment=The live timing page full-screen on this screen (written by gatectl setup --kiosk)
Exec={exec}
X-GNOME-Autostart-enabled=true
"""

_KIOSK_UNIT = """\
# The live timing page full-screen on the HDMI output of a Raspberry Pi OS Lite
# (no desktop): chromium in cage, a compositor that shows one window, on tty1.
# Written by `gatectl setup --kiosk`.

[Unit]
Description=gatectl trackside screen (chromium kiosk on tty1)
Wants=gatectl.service
After=gatectl.service systemd-user-sessions.service plymouth-quit-wait.service
Conflicts=getty@tty1.service
After=getty@tty1.service

[Service]
Type=simple
User={user}
# A login session on tty1, so cage may use the screen, keyboard and GPU.
PAMName=login
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
UtmpIdentifier=tty1
UtmpMode=user
ExecStart={exec}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
"""
