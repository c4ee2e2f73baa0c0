"""``gatectl setup``: the plan as data, and the files it writes under a stand-in root.

A fake Raspberry Pi OS is a directory with /proc/device-tree/model, /etc/passwd
and /etc/group, and empty executables for the tools it has (nmcli, labwc,
chromium...). ``--root`` writes every file there and runs no command, so the
test sees exactly what a Pi would get.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from gatectl.cli import main
from gatectl.coach_password import check_coach_password
from gatectl.config import Network, load_config
from gatectl.errors import GatectlError
from gatectl.setup import wait
from gatectl.setup.answers import Answers, SetupError, ask, combine, defaults, parse_layout, parse_pins, with_flags
from gatectl.setup.apply import CHANGED, LISTED, UNCHANGED, WOULD, Applier
from gatectl.setup.facts import HOTSPOT_FIELDS, Facts, gather
from gatectl.setup.files import CONFIG, DATABASE, KIOSK_AUTOSTART, KIOSK_UNIT, UDEV_RULE, UNIT, Kiosk, udev_rule, unit
from gatectl.setup.plan import Command, StorePassword, WriteFile, hotspot_settings, model_warning, plan
from gatectl.sources.nodes.serial import NodePort
from gatectl.store import Store

REPO = Path(__file__).resolve().parent.parent
VENV = PurePosixPath(sys.prefix)
PI4 = "Raspberry Pi 4 Model B Rev 1.4"


def fake_pi(root: Path, *tools: str, model: str | None = PI4, login: bool = True) -> Path:
    """A directory that looks like a fresh Raspberry Pi OS to ``gather``."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    if model is not None:
        (root / "proc/device-tree").mkdir(parents=True)
        (root / "proc/device-tree/model").write_bytes(model.encode() + b"\0")
    users = "root:x:0:0:root:/root:/bin/bash\n" + ("coach:x:1000:1000:,,,:/home/coach:/bin/bash\n" if login else "")
    (root / "etc/passwd").write_text(users)
    (root / "etc/group").write_text("root:x:0:\ngpio:x:997:coach\ndialout:x:20:coach\n")
    for tool in tools:
        path = root / "usr/bin" / tool
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def setup(root: Path, *flags: str, capsys) -> str:
    assert main(["setup", "--root", str(root), *flags]) == 0
    return capsys.readouterr().out


def lines(out: str, status: str) -> list[str]:
    return [line.strip()[len(status):].strip() for line in out.splitlines() if line.strip().startswith(status + " ")]


# One source for each file ------------------------------------------------------------


def test_the_unit_in_the_repository_is_the_rendering_for_the_default_paths():
    assert (REPO / "systemd/gatectl.service").read_text() == unit()
    assert "ExecStart=/opt/gatectl/bin/gatectl run --config /etc/gatectl/gatectl.toml\n" in unit()
    assert "SupplementaryGroups=gpio dialout\n" in unit()


def test_the_udev_rule_in_the_repository_is_the_rendering():
    rule = (REPO / "systemd/99-gatectl-nodes.rules").read_text()
    assert rule == udev_rule()
    (line,) = [x for x in rule.splitlines() if "2e8a" in x and not x.startswith("#")]
    assert 'ATTRS{idVendor}=="2e8a"' in line and 'SYMLINK+="gatectl-node-%s{serial}"' in line
    assert 'GROUP="dialout"' in line and 'MODE="0660"' in line


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (apt package systemd)")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    # verify checks that ExecStart's program exists: this venv's gatectl, and /bin/true standing in for cage.
    units = {
        "gatectl.service": unit(VENV),
        "gatectl-kiosk.service": Kiosk(VENV, "/usr/bin/chromium", 8000).unit("coach", cage=shutil.which("true") or "/bin/true"),
    }
    for name, text in units.items():
        (tmp_path / name).write_text(text)
        done = subprocess.run([SYSTEMD_ANALYZE, "verify", str(tmp_path / name)], capture_output=True, text=True, check=False)
        problems = [x for x in done.stderr.splitlines() if name in x and "not found" not in x.lower()]
        assert done.returncode == 0 or not problems, done.stderr
        assert not problems, done.stderr


# setup --root: a working installation -----------------------------------------------


def test_setup_under_a_root_writes_a_working_installation(tmp_path, capsys):
    root = fake_pi(tmp_path, "nmcli")
    out = setup(root, "--yes", "--gates", "M1=17,M2=27,M3=22", "--layout", "M1=0,M2=20,M3=50", "--place", "Club track",
                "--password", "2468", "--hotspot", "Track", "--hotspot-password", "sprint-fast-9", "--kiosk", capsys=capsys)  # fmt: skip
    assert "Raspberry Pi 4" in out and "warning" not in out

    config = load_config(root / "etc/gatectl/gatectl.toml")
    assert config.layout.describe() == "M1=0,M2=20,M3=50" and config.place == "Club track"
    assert [(b.beam, b.pin) for b in config.wiring] == [("M1", 17), ("M2", 27), ("M3", 22)]
    assert config.database == Path("/var/lib/gatectl/gatectl.db") and (config.host, config.port) == ("0.0.0.0", 8000)
    assert config.network == Network("Track", "sprint-fast-9", "10.42.0.1")
    assert oct((root / "etc/gatectl/gatectl.toml").stat().st_mode & 0o777) == "0o640"  # it holds the Wi-Fi key

    service = (root / "etc/systemd/system/gatectl.service").read_text()
    assert service == unit(VENV)
    assert f"ExecStart={VENV}/bin/gatectl run --config /etc/gatectl/gatectl.toml" in service
    assert (root / "etc/udev/rules.d/99-gatectl-nodes.rules").read_text() == udev_rule()
    with Store(root / "var/lib/gatectl/gatectl.db") as store:
        assert check_coach_password(store, "2468")

    kiosk = (root / "etc/systemd/system/gatectl-kiosk.service").read_text()  # no desktop here: Lite, cage on tty1
    assert "User=coach" in kiosk and "TTYPath=/dev/tty1" in kiosk
    assert "ExecStart=/usr/bin/cage -s -- " in kiosk and "--kiosk" in kiosk and "'http://127.0.0.1:8000/?kiosk=1'" in kiosk

    listed = lines(out, LISTED)
    assert any(x.startswith("run useradd --system --user-group") and "--groups gpio,dialout gatectl" in x for x in listed)
    assert any(x.startswith("run nmcli connection add type wifi ifname wlan0 con-name gatectl-hotspot") for x in listed)
    assert any(x.startswith("run systemctl enable gatectl.service") for x in listed)
    assert any(x.startswith("run apt-get install --yes --no-install-recommends chromium cage") for x in listed)
    assert "Phones join the Wi-Fi 'Track' with the key 'sprint-fast-9' and open http://10.42.0.1:8000/" in out

    again = setup(root, "--yes", capsys=capsys)  # the answers come back from the installed config
    assert lines(again, CHANGED) == []
    unchanged = lines(again, UNCHANGED)
    for path in (CONFIG, UNIT, UDEV_RULE, KIOSK_UNIT):
        assert f"write {path}" in " ".join(unchanged)
    assert load_config(root / "etc/gatectl/gatectl.toml") == config


NODE_A, NODE_B = "E6614104035B2A2B", "E6614104035B2A2C"


def test_gate_nodes_by_usb_serial_number_are_written_as_serial_gates(tmp_path, capsys):
    root = fake_pi(tmp_path)
    out = setup(root, "--yes", "--password", "2468", "--gates", "M1=17", "--nodes", f"M2={NODE_A},M3={NODE_B.lower()}", capsys=capsys)
    assert "warning" not in out
    text = (root / "etc/gatectl/gatectl.toml").read_text()
    assert f'kind = "serial"\nusb_serial = "{NODE_A}"' in text and "pin = 27" not in text

    config = load_config(root / "etc/gatectl/gatectl.toml")
    assert config.layout.describe() == "M1=0,M2=30,M3=60" and config.source == "gpio"
    assert [(b.beam, b.pin) for b in config.wiring] == [("M1", 17)]  # GPIO pins only for the gate that is not a node
    assert config.nodes == (NodePort(("M2",), usb_serial=NODE_A), NodePort(("M3",), usb_serial=NODE_B))

    again = setup(root, "--yes", capsys=capsys)  # the nodes come back from the installed config
    assert lines(again, CHANGED) == []
    assert load_config(root / "etc/gatectl/gatectl.toml") == config

    out = setup(root, "--yes", "--gates", "M1=17,M3=22", capsys=capsys)  # a gate given a pin is a node no more; the others stay
    assert lines(out, CHANGED) == ["write /etc/gatectl/gatectl.toml (0640 root:gatectl)"]
    config = load_config(root / "etc/gatectl/gatectl.toml")
    assert [(b.beam, b.pin) for b in config.wiring] == [("M1", 17), ("M3", 22)] and config.nodes == (NodePort(("M2",), usb_serial=NODE_A),)
    assert "--gates names M3 and --nodes M2 but --layout names M1, M2, M3" in _refused(root, "--gates", "M3=22", capsys=capsys)


def test_nodes_without_gates_keep_the_other_gates_pins_and_dual_nodes_take_two_beams(tmp_path):
    answers = with_flags(defaults(None), nodes=f"M2={NODE_A}")
    assert (answers.pins_text, answers.nodes_text) == ("M1=17,M3=22", f"M2={NODE_A}")
    dual = with_flags(answers, method="dual")  # the node needs no pins; the GPIO gates get two
    assert (dual.pins_text, dual.nodes_text) == ("M1=17+5,M3=22+13", f"M2={NODE_A}")
    path = tmp_path / "gatectl.toml"
    path.write_text(dual.config_toml())
    config = load_config(path)
    assert config.nodes == (NodePort(("M2a", "M2b"), usb_serial=NODE_A),)
    assert [b.beam for b in config.wiring] == ["M1a", "M1b", "M3a", "M3b"]
    assert defaults(config) == replace(dual, password=None)
    with pytest.raises(SetupError, match="--gates names M1, M3 but --layout names M1, M2, M3"):
        with_flags(dual, nodes="-")  # no nodes: but M2 has no pin yet
    assert with_flags(dual, nodes="-", gates="M1=17+5,M2=27+6,M3=22+13").nodes_text == ""


def _refused(root: Path, *flags: str, capsys) -> str:
    assert main(["setup", "--root", str(root), "--yes", *flags]) == 2, flags
    return capsys.readouterr().err


def test_a_bad_usb_serial_number_is_refused_in_a_sentence_naming_the_flag(tmp_path, capsys):
    root = fake_pi(tmp_path)
    cases = {
        "M2=Pico-1": "--nodes: the USB serial number of gate M2's node must be its id in hex digits",
        "M2=E6614104035B2A2": "a whole number of bytes (a Pico's is 16",  # odd: half a byte
        "M2=" + "AB" * 17: "not 'ABAB",  # 34 digits, more than a node id's 32
        "M2": "--nodes: 'M2' must look like GATE=USB-SERIAL",
        f"M2={NODE_A},M2={NODE_B}": "--nodes: gate M2 is named twice",
        f"M2={NODE_A},M3={NODE_A.lower()}": "each gate needs its own node",
        f"M4={NODE_A}": "--nodes M4 but --layout names M1, M2, M3",
    }
    for nodes, sentence in cases.items():
        assert sentence in _refused(root, "--nodes", nodes, capsys=capsys), nodes
    assert "--gates and --nodes both name M2" in _refused(root, "--gates", "M1=17,M2=27", "--nodes", f"M2={NODE_A},M3={NODE_B}", capsys=capsys)
    assert not (root / "etc/gatectl").exists()  # refused before anything changed


def test_a_changed_answer_changes_the_config_only_and_keeps_a_copy(tmp_path, capsys):
    root = fake_pi(tmp_path)
    setup(root, "--yes", "--password", "2468", capsys=capsys)
    out = setup(root, "--yes", "--layout", "M1=0,M2=30,M3=70", capsys=capsys)
    assert lines(out, CHANGED) == ["write /etc/gatectl/gatectl.toml (0640 root:gatectl)"]
    assert any("systemctl restart gatectl.service" in x for x in lines(out, LISTED))
    assert "M3=60" not in load_config(root / "etc/gatectl/gatectl.toml").layout.describe()
    assert 'position_m = 60' in (root / "etc/gatectl/gatectl.toml.bak").read_text()


def test_a_desktop_gets_an_autostart_entry_and_the_screen_kept_on(tmp_path, capsys):
    root = fake_pi(tmp_path, "labwc", "chromium-browser", "raspi-config")
    out = setup(root, "--yes", "--password", "2468", "--kiosk", "--port", "8080", capsys=capsys)
    entry = (root / "etc/xdg/autostart/gatectl-kiosk.desktop").read_text()
    exec_line = next(x for x in entry.splitlines() if x.startswith("Exec="))
    assert exec_line == (f"Exec={VENV}/bin/python -m gatectl.setup.wait \"http://127.0.0.1:8080/?kiosk=1\" -- /usr/bin/chromium-browser "
                         "--kiosk --noerrdialogs --disable-infobars --no-first-run --disable-session-crashed-bubble "
                         "--disable-features=Translate --password-store=basic --check-for-update-interval=31536000 "
                         "\"http://127.0.0.1:8080/?kiosk=1\"")  # fmt: skip
    assert any(x.startswith("run raspi-config nonint do_blanking 1") for x in lines(out, LISTED))
    assert not (root / "etc/systemd/system/gatectl-kiosk.service").exists()
    assert not any("apt-get" in x for x in lines(out, LISTED))  # chromium is there, a desktop needs no cage


def test_dry_run_changes_nothing_and_says_what_it_would(tmp_path, capsys):
    root = fake_pi(tmp_path)
    assert main(["setup", "--root", str(root), "--dry-run", "--yes", "--password", "2468"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "write /etc/systemd/system/gatectl.service (0644 root:root) (new)" in lines(out, WOULD)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == ["etc/group", "etc/passwd", "proc/device-tree/model"]


def test_setup_on_the_real_system_needs_root(monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main(["setup", "--yes"]) == 2
    err = capsys.readouterr().err
    assert "run it as root, with  sudo " in err and "--dry-run" in err


def test_bad_flags_are_told_in_a_sentence(tmp_path, capsys):
    root = fake_pi(tmp_path)
    cases = {
        ("--gates", "M1=17,M2=27"): "--gates names M1, M2 but --layout names M1, M2, M3",
        ("--gates", "M1=17,M2=17,M3=22"): "each beam needs its own pin",
        ("--gates", "M1=40,M2=27,M3=22"): "one GPIO number from 0 to 27",
        ("--detect", "dual", "--gates", "M1=17,M2=27,M3=22"): "detection 'dual' needs 2",
        ("--layout", "M1=0,M2=30,M3=20"): "--layout:",
        ("--port", "80"): "1024 to 65535",
        ("--hotspot", "Track", "--hotspot-password", "short"): "8 to 63",
        ("--hotspot-password", "longenough"): "give the hotspot's name too",
        ("--password", "12"): "at least 4 characters",
        ("--kiosk", "--password", "2468", "--hotspot", "Track"): "--hotspot needs NetworkManager",
    }
    for flags, sentence in cases.items():
        assert main(["setup", "--root", str(root), "--yes", *flags]) == 2, flags
        assert sentence in capsys.readouterr().err, flags
    assert not (root / "etc/gatectl").exists()  # refused before anything changed


def test_without_a_password_setup_makes_a_pin_once(tmp_path, capsys):
    root = fake_pi(tmp_path)
    out = setup(root, "--yes", capsys=capsys)
    pin = next(x for x in out.splitlines() if x.startswith("The coach's PIN is ")).split()[4].rstrip(":")
    assert len(pin) == 6 and pin.isdigit()
    with Store(root / "var/lib/gatectl/gatectl.db") as store:
        assert check_coach_password(store, pin)
    assert "PIN" not in setup(root, "--yes", capsys=capsys)


def test_lite_kiosk_without_a_login_user_is_refused(tmp_path, capsys):
    root = fake_pi(tmp_path, login=False)
    assert main(["setup", "--root", str(root), "--yes", "--password", "2468", "--kiosk"]) == 2
    assert "--kiosk-user" in capsys.readouterr().err
    assert main(["setup", "--root", str(root), "--yes", "--password", "2468", "--kiosk", "--kiosk-user", "screen"]) == 0
    assert "User=screen" in (root / "etc/systemd/system/gatectl-kiosk.service").read_text()


# The plan, as data ----------------------------------------------------------------------


ANSWERS = Answers(gates=combine(parse_pins("M1=17,M2=27,M3=22"), {}, parse_layout("M1=0,M2=30,M3=60")), password="2468",
                  hotspot=Network("Track", "sprint-fast-9"))  # fmt: skip
FACTS = Facts(model=PI4, users=frozenset({"root", "gatectl"}), groups={"gpio": frozenset({"gatectl"}), "dialout": frozenset({"gatectl"})},
              venv=VENV, has_nmcli=True, enabled=frozenset({"gatectl.service"}), active=frozenset({"gatectl.service"}), has_password=True)  # fmt: skip


def commands(steps) -> list[tuple[str, ...]]:
    return [s.argv for s in steps if isinstance(s, Command)]


def test_the_hotspot_is_made_with_networkmanager():
    argv = next(a for a in commands(plan(FACTS, ANSWERS).steps) if a[:3] == ("nmcli", "connection", "add"))
    assert argv == (
        "nmcli", "connection", "add", "type", "wifi", "ifname", "wlan0", "con-name", "gatectl-hotspot",
        "connection.autoconnect", "yes", "connection.autoconnect-priority", "50",
        "802-11-wireless.ssid", "Track", "802-11-wireless.mode", "ap", "802-11-wireless.band", "bg",
        "ipv4.method", "shared", "ipv4.addresses", "10.42.0.1/24", "ipv6.method", "disabled",
        "802-11-wireless-security.key-mgmt", "wpa-psk", "802-11-wireless-security.psk", "sprint-fast-9",
    )  # fmt: skip
    up = next(s for s in plan(FACTS, ANSWERS).steps if isinstance(s, Command) and s.argv[:3] == ("nmcli", "connection", "up"))
    assert up.after == ("hotspot",) and not up.needed


def test_an_existing_hotspot_is_modified_only_when_it_differs():
    settings = hotspot_settings(ANSWERS)
    assert tuple(settings) == HOTSPOT_FIELDS
    same = [s for s in plan(replace(FACTS, hotspot=settings), ANSWERS).steps if isinstance(s, Command) and s.key == "hotspot"]
    assert [(s.argv[:4], s.needed) for s in same] == [(("nmcli", "connection", "modify", "gatectl-hotspot"), False)]
    other = replace(FACTS, hotspot={**settings, "802-11-wireless.ssid": "Old"})
    assert next(s for s in plan(other, ANSWERS).steps if isinstance(s, Command) and s.key == "hotspot").needed


def test_what_is_already_there_is_not_done_again():
    steps = plan(FACTS, ANSWERS).steps
    needed = [s.argv for s in steps if isinstance(s, Command) and s.needed]
    assert needed == [("nmcli", "connection", "add", *needed[0][3:])]  # only the hotspot, which is not there yet
    assert StorePassword(DATABASE, "2468") in steps
    new_user = plan(replace(FACTS, users=frozenset({"root"}), groups={}, enabled=frozenset(), active=frozenset()), ANSWERS).steps
    assert [a[:2] for a in commands(new_user) if a[0] in ("groupadd", "useradd", "usermod")] == [
        ("groupadd", "--system"), ("groupadd", "--system"), ("useradd", "--system")]
    not_in_groups = plan(replace(FACTS, groups={"gpio": frozenset(), "dialout": frozenset({"gatectl"})}), ANSWERS).steps
    assert ("usermod", "--append", "--groups", "gpio,dialout", "gatectl") in [s.argv for s in not_in_groups if isinstance(s, Command) and s.needed]


def test_commands_after_a_change_run_only_when_it_changed(tmp_path):
    rule = WriteFile(PurePosixPath("/etc/x.rules"), "rule\n")
    reload = Command(("udevadm", "control", "--reload"), "reload", needed=False, after=(rule.key,))
    first = Applier(tmp_path).apply([rule, reload])
    assert [o.status for o in first] == [CHANGED, LISTED]
    second = Applier(tmp_path).apply([rule, reload])
    assert [o.status for o in second] == [UNCHANGED, UNCHANGED]
    ran = []
    (tmp_path / "etc/x.rules").write_text("old\n")
    applier = Applier(tmp_path, dry_run=True, run=ran.append)
    assert [o.status for o in applier.apply([rule, reload])] == [WOULD, WOULD] and ran == []
    assert (tmp_path / "etc/x.rules").read_text() == "old\n"


def test_a_file_with_the_right_text_but_the_wrong_mode_is_fixed(tmp_path):
    step = WriteFile(PurePosixPath("/etc/gatectl/gatectl.toml"), "x = 1\n", 0o640)
    Applier(tmp_path).apply([step])
    (tmp_path / "etc/gatectl/gatectl.toml").chmod(0o666)
    (outcome,) = Applier(tmp_path).apply([step])
    assert outcome.status == CHANGED and "mode" in outcome.what
    assert (tmp_path / "etc/gatectl/gatectl.toml").stat().st_mode & 0o777 == 0o640


def test_the_model_is_recognised():
    assert model_warning(PI4) is None
    assert model_warning("Raspberry Pi 5 Model B Rev 1.0") is None
    assert model_warning("Raspberry Pi Zero 2 W Rev 1.0") is None
    assert "may be too slow" in (model_warning("Raspberry Pi Model B Rev 2") or "")
    assert "not a Raspberry Pi" in (model_warning("Radxa ROCK 4") or "")
    assert "does not look like a Raspberry Pi" in (model_warning(None) or "")


def test_a_machine_that_is_not_a_pi_is_warned_about(tmp_path, capsys):
    out = setup(fake_pi(tmp_path, model=None), "--yes", "--password", "2468", capsys=capsys)
    assert "warning: This does not look like a Raspberry Pi" in out


def test_facts_are_read_from_the_root(tmp_path):
    root = fake_pi(tmp_path, "nmcli", "wayfire", "chromium")
    facts = gather(root, live=False)
    assert facts.model == PI4 and facts.login_user == "coach" and "gatectl" not in facts.users
    assert facts.groups["gpio"] == frozenset({"coach"})
    assert (facts.has_nmcli, facts.desktop, facts.chromium, facts.has_cage) == (True, "wayfire", "/usr/bin/chromium", False)
    assert facts.venv == VENV and facts.config is None and not facts.has_password and not facts.kiosk


def test_a_config_that_does_not_load_is_replaced_with_a_warning(tmp_path, capsys):
    root = fake_pi(tmp_path)
    (root / "etc/gatectl").mkdir(parents=True)
    (root / "etc/gatectl/gatectl.toml").write_text("gates = 3\n")
    out = setup(root, "--yes", "--password", "2468", capsys=capsys)
    assert "warning: The installed config does not load" in out
    assert (root / "etc/gatectl/gatectl.toml.bak").read_text() == "gates = 3\n"
    load_config(root / "etc/gatectl/gatectl.toml")


def test_defaults_come_back_from_a_written_config(tmp_path):
    answers = with_flags(defaults(None), method="dual", layout="M1=0,M2=10.5,M3=40", place="Hall", port=8080)
    assert answers.pins_text == "M1=17+5,M2=27+6,M3=22+13"
    path = tmp_path / "gatectl.toml"
    path.write_text(replace(answers, thresholds_ms={"rearm": 250.0}).config_toml())
    back = defaults(load_config(path))
    assert back == replace(answers, thresholds_ms={"rearm": 250.0}, password=None)


# Questions ---------------------------------------------------------------------------------


class FakePrompter:
    """Answers questions from a list, in order; records what it was asked and told."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.asked: list[str] = []
        self.told: list[str] = []

    def ask(self, question: str, default: str) -> str:
        self.asked.append(f"{question} [{default}]")
        return self.replies.pop(0)

    def secret(self, question: str) -> str:
        self.asked.append(question)
        return self.replies.pop(0)

    def say(self, text: str) -> None:
        self.told.append(text)


def test_the_questions_take_enter_for_the_default():
    prompter = FakePrompter("", "", "", "", "", "", "", "-", "")
    answers = ask(defaults(None), set(), prompter, has_password=True)
    assert answers == defaults(None) and prompter.replies == []
    assert "gate nodes" in prompter.asked[2] and prompter.asked[2].endswith("[-]")
    assert "(Enter: keep the current one)" in prompter.asked[6]


def test_the_questions_ask_again_until_an_answer_is_usable():
    prompter = FakePrompter(
        "Club track", "sideways", "dual",
        "M3=not-hex", "", "",
        "", "M1=17,M2=27,M3=22", "", "", "M1=17+5,M2=27+6,M3=22+13", "M1=0,M2=20,M3=50",
        "80", "8080",
        "12", "2468", "2469", "2468", "2468",
        "Track", "short", "Track", "",
        "maybe", "y",
    )  # fmt: skip
    answers = ask(defaults(None), set(), prompter, has_password=False)
    assert prompter.replies == []
    assert (answers.place, answers.method, answers.layout_text, answers.pins_text) == ("Club track", "dual", "M1=0,M2=20,M3=50", "M1=17+5,M2=27+6,M3=22+13")
    assert (answers.port, answers.password, answers.kiosk) == (8080, "2468", True)
    assert answers.hotspot is not None and answers.hotspot.ssid == "Track" and len(answers.hotspot.password) == 12
    told = " | ".join(prompter.told)
    for sentence in ("must be longest, dual or first", "USB serial number of gate M3's node", "needs 2", "1024 to 65535", "at least 4 characters", "did not match", "8 to 63", "y or n"):
        assert sentence in told


def test_the_questions_ask_which_gates_are_nodes_and_pins_only_for_the_others():
    prompter = FakePrompter("", "", f"M2={NODE_A.lower()}", "", "", "", "", "-", "")
    answers = ask(defaults(None), set(), prompter, has_password=True)
    assert (answers.nodes_text, answers.pins_text) == (f"M2={NODE_A}", "M1=17,M3=22")
    assert prompter.asked[3] == "The other gates and their GPIO pins (BCM numbers; two beams: M1=17+5) [M1=17,M3=22]"

    back = FakePrompter("", "", "-", "", "", "", "", "-", "")  # no nodes again: the gate gets the standard pin back
    assert ask(answers, set(), back, has_password=True).pins_text == "M1=17,M2=27,M3=22"
    assert back.asked[2].endswith(f"[M2={NODE_A}]")


def test_flags_are_not_asked_again():
    prompter = FakePrompter("", "", "-")
    start = with_flags(defaults(None), gates="M1=4,M2=5,M3=6", layout="M1=0,M2=30,M3=60", method="longest", port=8000, kiosk=False)
    ask(start, {"gates", "layout", "method", "port", "kiosk"}, prompter, has_password=True)
    assert len(prompter.asked) == 3 and "Gates" not in " ".join(prompter.asked)


def test_interactive_setup_through_the_command(tmp_path, capsys):
    from gatectl.cli import build_parser
    from gatectl.cli.setup import setup_command

    root = fake_pi(tmp_path)
    args = build_parser().parse_args(["setup", "--root", str(root)])
    assert setup_command(args, FakePrompter("Club", "", "", "", "", "", "2468", "2468", "-", "n")) == 0
    assert load_config(root / "etc/gatectl/gatectl.toml").place == "Club"


def test_without_a_terminal_the_questions_are_refused(tmp_path, capsys, monkeypatch):
    with open("/dev/null") as nothing:
        monkeypatch.setattr("sys.stdin", nothing)
        assert main(["setup", "--root", str(fake_pi(tmp_path))]) == 2
    assert "add --yes" in capsys.readouterr().err


# The kiosk's wait for the dashboard ------------------------------------------------------


def test_the_kiosk_waits_for_the_dashboard_then_starts_the_browser(monkeypatch):
    assert not wait.answers("http://127.0.0.1:9/")  # nothing listens on the discard port
    calls = []
    monkeypatch.setattr(wait, "answers", lambda url: len(calls) >= 2 or calls.append(url) is not None)
    monkeypatch.setattr(wait.time, "sleep", lambda s: None)
    monkeypatch.setattr(wait.os, "execvp", lambda file, argv: calls.append((file, argv)))
    wait.main(["http://127.0.0.1:8000/", "--", "chromium", "--kiosk"])
    assert calls[-1] == ("chromium", ["chromium", "--kiosk"])
    assert wait.main(["http://127.0.0.1:8000/"]) == 2


def test_setup_error_is_a_gatectl_error():
    assert issubclass(SetupError, GatectlError)
    assert KIOSK_AUTOSTART.name == "gatectl-kiosk.desktop"


def test_a_gatectl_installed_under_home_is_refused():
    with_home = replace(FACTS, venv=PurePosixPath("/home/pi/gatectl/.venv"))
    with pytest.raises(SetupError, match=r"cannot see .*/opt/gatectl"):
        plan(with_home, ANSWERS)


def test_a_command_that_fails_or_is_missing_is_a_sentence():
    from gatectl.setup.apply import _run

    with pytest.raises(SetupError, match=r"sh -c 'echo no such group >&2; exit 6' failed \(exit 6\): no such group\. Fix that"):
        _run(("sh", "-c", "echo no such group >&2; exit 6"))
    with pytest.raises(SetupError, match=r"gatectl-no-such-tool is not installed here"):
        _run(("gatectl-no-such-tool", "x"))
    _run(("true",))


def test_the_hotspot_is_read_back_from_nmcli(monkeypatch):
    from gatectl.setup import facts

    values = dict(hotspot_settings(ANSWERS), **{"802-11-wireless.ssid": "Club\\:gates"})
    monkeypatch.setattr(facts, "_command", lambda argv: "\n".join(values.values()))
    assert facts._hotspot() == {**hotspot_settings(ANSWERS), "802-11-wireless.ssid": "Club:gates"}
    monkeypatch.setattr(facts, "_command", lambda argv: None)
    assert facts._hotspot() is None  # no such connection
    monkeypatch.setattr(facts, "_command", lambda argv: "yes\nap")
    assert facts._hotspot() == {}  # there, but not as we know it: every field is set again


def test_the_kiosk_unit_is_written_before_systemd_reloads_and_removed_with_no_kiosk(tmp_path, capsys):
    root = fake_pi(tmp_path)
    out = setup(root, "--yes", "--password", "2468", "--kiosk", capsys=capsys)
    assert out.index("write /etc/systemd/system/gatectl-kiosk.service") < out.index("run systemctl daemon-reload")
    assert out.index("run systemctl daemon-reload") < out.index("run systemctl enable gatectl-kiosk.service")
    out = setup(root, "--yes", "--no-kiosk", capsys=capsys)
    assert "remove /etc/systemd/system/gatectl-kiosk.service" in lines(out, CHANGED)
    assert not (root / "etc/systemd/system/gatectl-kiosk.service").exists()
    again = setup(root, "--yes", capsys=capsys)  # stays off: nothing of the screen is left to say it was on
    assert lines(again, CHANGED) == [] and not gather(root, live=False).kiosk


def test_no_kiosk_turns_a_running_screen_off_first():
    steps = plan(replace(FACTS, enabled=frozenset({"gatectl.service", "gatectl-kiosk.service"})), ANSWERS).steps
    keys = [s.key for s in steps]
    assert keys.index("systemctl disable --now gatectl-kiosk.service") < keys.index(str(KIOSK_UNIT)) < keys.index("systemctl daemon-reload")
