"""Facts and answers in, the steps that make the installation out: pure, tested as data.

A step is a file to write (path, text, mode, owner), a directory to make, a
command to run (its argument list), or the coach's password to store. A
command runs when the facts say it is ``needed``, or when a step it comes
``after`` changed something (a unit rewritten: systemd reloads it). Nothing
here touches the machine; ``apply`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from gatectl.setup.answers import Answers, SetupError
from gatectl.setup.facts import HOTSPOT_CONNECTION, HOTSPOT_FIELDS, Facts
from gatectl.setup.files import (
    CONFIG,
    DATABASE,
    KIOSK_AUTOSTART,
    KIOSK_UNIT,
    SERVICE_GROUPS,
    SERVICE_USER,
    STATE_DIR,
    UDEV_RULE,
    UNIT,
    Kiosk,
    udev_rule,
    unit,
)

SUPPORTED_MODELS = ("Raspberry Pi 5", "Raspberry Pi 4", "Raspberry Pi 400", "Raspberry Pi 500", "Raspberry Pi Zero 2", "Raspberry Pi 3")
WIFI_DEVICE = "wlan0"


@dataclass(frozen=True, slots=True)
class WriteFile:
    path: PurePosixPath
    content: str
    mode: int = 0o644
    owner: str = "root"
    group: str = "root"
    backup: bool = False  # keep the old text beside it as <name>.bak when it changes

    @property
    def key(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class MakeDir:
    path: PurePosixPath
    mode: int = 0o755
    owner: str = "root"
    group: str = "root"

    @property
    def key(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class RemoveFile:
    path: PurePosixPath

    @property
    def key(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class Command:
    argv: tuple[str, ...]
    why: str
    needed: bool = True  # False: the facts say it is done; it still runs after a change it follows
    after: tuple[str, ...] = ()  # keys of steps whose change makes it needed
    name: str = ""  # a key for commands that others follow

    @property
    def key(self) -> str:
        return self.name or " ".join(self.argv)


@dataclass(frozen=True, slots=True)
class StorePassword:
    database: PurePosixPath
    password: str | None  # None: keep the stored one (setup made sure there is one)
    owner: str = SERVICE_USER

    @property
    def key(self) -> str:
        return "coach password"


Step = WriteFile | MakeDir | RemoveFile | Command | StorePassword


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the coach should know afterwards (the hotspot's key, the URL)


def model_warning(model: str | None) -> str | None:
    """None on a Raspberry Pi that runs gatectl well; otherwise what to expect."""
    if model is None:
        return "This does not look like a Raspberry Pi (no /proc/device-tree/model): beam gates on GPIO will not work here."
    if not model.startswith("Raspberry Pi"):
        return f"This is a {model}, not a Raspberry Pi: beam gates on GPIO may not work here."
    if not model.startswith(SUPPORTED_MODELS):
        return f"{model}: gatectl is tested on the Pi 3, 4, 5 and Zero 2 W; this one may be too slow or lack Wi-Fi."
    return None


def plan(facts: Facts, answers: Answers) -> Plan:
    """Every step from this machine to gatectl timing at boot with these answers."""
    warnings = [w for w in (model_warning(facts.model),) if w]
    if facts.config_problem:
        warnings.append(f"The installed config does not load ({facts.config_problem}); it is replaced, the old one kept as {CONFIG}.bak.")
    if facts.venv.is_relative_to("/home") or facts.venv.is_relative_to("/root"):
        raise SetupError(
            f"gatectl runs from {facts.venv}, which the service cannot see (its unit hides /home and /root): install it in "
            "/opt/gatectl as systemd/README.md shows, and run setup from there: sudo /opt/gatectl/bin/gatectl setup"
        )
    if answers.password is None and not facts.has_password:
        raise SetupError("No coach password is stored yet: give one (--password, or answer the question).")
    steps: list[Step] = [*_service_user(facts)]
    steps += [
        MakeDir(STATE_DIR, 0o750, SERVICE_USER, SERVICE_USER),
        MakeDir(CONFIG.parent),
        WriteFile(CONFIG, answers.config_toml(), 0o640, "root", SERVICE_USER, backup=True),
        StorePassword(DATABASE, answers.password),
        WriteFile(UDEV_RULE, udev_rule()),
        Command(("udevadm", "control", "--reload"), "udev reads the gate nodes' rule", needed=False, after=(str(UDEV_RULE),)),
        Command(("udevadm", "trigger", "--action=add", "--subsystem-match=tty"), "nodes plugged in now get their names", needed=False, after=(str(UDEV_RULE),)),
        WriteFile(UNIT, unit(facts.venv)),
    ]
    notes = [f"The dashboard: http://<this Pi's address>:{answers.port}/ (the Check page: /check)."]
    kiosk_files, kiosk_steps = _kiosk(facts, answers) if answers.kiosk else (_no_kiosk(facts), [])
    steps += kiosk_files
    units = (str(UNIT), str(KIOSK_UNIT))
    steps.append(Command(("systemctl", "daemon-reload"), "systemd reads the new units", needed=False, after=units))
    steps.append(Command(("systemctl", "enable", UNIT.name), "gatectl starts at every boot", needed=UNIT.name not in facts.enabled))
    restart_after = (str(UNIT), str(CONFIG), "service user")
    steps.append(Command(("systemctl", "restart", UNIT.name), "gatectl runs now, with this config", needed=UNIT.name not in facts.active, after=restart_after))
    if answers.hotspot is not None:
        hotspot_steps, hotspot_notes = _hotspot(facts, answers)
        steps += hotspot_steps
        notes += hotspot_notes
    steps += kiosk_steps
    return Plan(tuple(steps), tuple(warnings), tuple(notes))


def _service_user(facts: Facts) -> list[Step]:
    steps: list[Step] = [
        Command(("groupadd", "--system", group), f"the {group} group (Raspberry Pi OS has it)", needed=group not in facts.groups)
        for group in SERVICE_GROUPS
    ]
    groups = ",".join(SERVICE_GROUPS)
    argv: tuple[str, ...]
    if SERVICE_USER not in facts.users:
        argv = ("useradd", "--system", "--user-group", "--home-dir", str(STATE_DIR), "--no-create-home",
                "--shell", "/usr/sbin/nologin", "--groups", groups, SERVICE_USER)  # fmt: skip
        steps.append(Command(argv, "the service's own user, which may use the GPIO and serial ports", name="service user"))
    else:
        missing = [g for g in SERVICE_GROUPS if SERVICE_USER not in facts.groups.get(g, frozenset())]
        argv = ("usermod", "--append", "--groups", groups, SERVICE_USER)
        steps.append(Command(argv, "the service user may use the GPIO and serial ports", needed=bool(missing), name="service user"))
    return steps


def hotspot_settings(answers: Answers) -> dict[str, str]:
    """The NetworkManager settings of the Pi's own Wi-Fi, by the names in ``HOTSPOT_FIELDS``."""
    assert answers.hotspot is not None
    network = answers.hotspot
    values = {
        "connection.autoconnect": "yes",
        # Above an ordinary Wi-Fi client profile (priority 0): at boot the Pi makes its own network.
        "connection.autoconnect-priority": "50",
        "802-11-wireless.ssid": network.ssid,
        "802-11-wireless.mode": "ap",
        "802-11-wireless.band": "bg",  # 2.4 GHz: every phone, and further through a stadium
        "ipv4.method": "shared",  # NetworkManager hands out addresses (dnsmasq) on the Pi's subnet
        "ipv4.addresses": f"{network.address}/24",
        "ipv6.method": "disabled",
        "802-11-wireless-security.key-mgmt": "wpa-psk",
        "802-11-wireless-security.psk": network.password,
    }
    assert tuple(values) == HOTSPOT_FIELDS
    return values


def _hotspot(facts: Facts, answers: Answers) -> tuple[list[Step], list[str]]:
    assert answers.hotspot is not None
    if not facts.has_nmcli:
        raise SetupError("--hotspot needs NetworkManager (nmcli), which Raspberry Pi OS Bookworm has: install it with  sudo apt install network-manager.")
    settings = hotspot_settings(answers)
    pairs = tuple(part for item in settings.items() for part in item)
    argv: tuple[str, ...]
    if facts.hotspot is None:
        argv = ("nmcli", "connection", "add", "type", "wifi", "ifname", WIFI_DEVICE, "con-name", HOTSPOT_CONNECTION, *pairs)
        change = Command(argv, f"the Pi's own Wi-Fi {answers.hotspot.ssid!r}, the dashboard at {answers.hotspot.address}", name="hotspot")
    else:
        argv = ("nmcli", "connection", "modify", HOTSPOT_CONNECTION, *pairs)
        change = Command(argv, f"the Pi's own Wi-Fi {answers.hotspot.ssid!r}", needed=facts.hotspot != settings, name="hotspot")
    up = Command(("nmcli", "connection", "up", HOTSPOT_CONNECTION), "the hotspot on, now", needed=False, after=("hotspot",))
    url = f"http://{answers.hotspot.address}:{answers.port}/"
    notes = [
        f"Phones join the Wi-Fi {answers.hotspot.ssid!r} with the key {answers.hotspot.password!r} and open {url}",
        "(the live page shows both as QR codes). While it is on, this Pi's Wi-Fi joins no other network: use Ethernet for the internet.",
    ]
    return [change, up], notes


def _kiosk(facts: Facts, answers: Answers) -> tuple[list[Step], list[Step]]:
    """The trackside screen: its files (written before systemd reloads), then its commands."""
    chromium = facts.chromium or "/usr/bin/chromium"
    kiosk = Kiosk(facts.venv, chromium, answers.port)
    packages = [p for p, have in (("chromium", facts.chromium is not None), ("cage", facts.has_cage or facts.desktop is not None)) if not have]
    commands: list[Step] = []
    if packages:
        commands.append(Command(("apt-get", "install", "--yes", "--no-install-recommends", *packages), "what the trackside screen runs on"))
    if facts.desktop is not None:
        if facts.has_raspi_config:
            argv = ("raspi-config", "nonint", "do_blanking", "1")
            commands.append(Command(argv, "the screen never blanks (the desktop's idle blanking off)", needed=not facts.blanking_off))
        return [RemoveFile(KIOSK_UNIT), WriteFile(KIOSK_AUTOSTART, kiosk.autostart())], commands
    user = answers.kiosk_user or facts.login_user
    if user is None:
        raise SetupError("--kiosk on Raspberry Pi OS Lite runs the screen as a login user, and this Pi has none: create one (sudo adduser coach) or give --kiosk-user.")
    commands += [
        Command(("systemctl", "enable", KIOSK_UNIT.name), "the trackside screen starts at every boot", needed=KIOSK_UNIT.name not in facts.enabled),
        Command(("systemctl", "restart", KIOSK_UNIT.name), "the trackside screen on, now", needed=KIOSK_UNIT.name not in facts.active, after=(str(KIOSK_UNIT),)),
    ]
    return [RemoveFile(KIOSK_AUTOSTART), WriteFile(KIOSK_UNIT, kiosk.unit(user))], commands


def _no_kiosk(facts: Facts) -> list[Step]:
    """No trackside screen: off, and gone from the boot, if it was set up."""
    steps: list[Step] = []
    if KIOSK_UNIT.name in facts.enabled or KIOSK_UNIT.name in facts.active:
        steps.append(Command(("systemctl", "disable", "--now", KIOSK_UNIT.name), "the trackside screen off"))
    return [*steps, RemoveFile(KIOSK_UNIT), RemoveFile(KIOSK_AUTOSTART)]
