"""The coach's answers: gates (GPIO pins or gate nodes), layout, place, password, hotspot, kiosk; and the config they make.

Answers come from flags, else from the config already installed (so running
setup again keeps what the coach chose), else from the defaults below; the
questions (``ask``) start from them. ``config_toml`` writes them as the
daemon's config, which ``gatectl.config.load_config`` reads back.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from gatectl.coach_password import validate_coach_password
from gatectl.config import HOTSPOT_ADDRESS, Config, Network, parse_network
from gatectl.errors import ConfigError, GatectlError
from gatectl.setup.files import DATABASE, toml_string
from gatectl.sources.nodes.protocol import is_node_id
from gatectl.timing.model import NS_PER_MS, DetectionSettings, Layout, Method

DEFAULT_PINS: dict[str, tuple[int, ...]] = {"M1": (17,), "M2": (27,), "M3": (22,)}  # hardware/README.md's wiring
DEFAULT_DUAL_PINS: dict[str, tuple[int, ...]] = {"M1": (17, 5), "M2": (27, 6), "M3": (22, 13)}
DEFAULT_LAYOUT = "M1=0,M2=30,M3=60"
DEFAULT_PORT = 8000
DEFAULT_SSID = "gatectl"

_T = TypeVar("_T")


class SetupError(GatectlError, RuntimeError):
    """Setup cannot go on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class GateAnswer:
    name: str
    position_m: float
    pins: tuple[int, ...]  # two for dual beams, lower first; none for a gate node
    active_low: bool = True
    pull_up: bool = True
    usb_serial: str | None = None  # a gate node: its USB serial number (the node's id)


@dataclass(frozen=True, slots=True)
class Answers:
    gates: tuple[GateAnswer, ...]
    method: str = Method.LONGEST.value
    place: str = ""
    port: int = DEFAULT_PORT
    password: str | None = None  # None: keep the coach's password already stored
    hotspot: Network | None = None
    kiosk: bool = False
    kiosk_user: str | None = None  # Lite: who the kiosk runs as (default: the first login user)
    thresholds_ms: dict[str, float] = field(default_factory=dict)  # detection settings kept from the config

    def config_toml(self) -> str:
        """The daemon's config for these answers."""
        lines = [
            "# gatectl's config, written by `sudo gatectl setup` from the coach's answers.",
            "# Every field is described in gatectl/config.py. Change it by running setup again,",
            "# or edit it and then: sudo systemctl restart gatectl",
            f"place = {toml_string(self.place)}",
            "",
            "[source]",
            'kind = "gpio"',
            "",
            "[detection]",
            f"method = {toml_string(self.method)}",
            *(f"{name}_ms = {_number(ms)}" for name, ms in sorted(self.thresholds_ms.items())),
        ]
        for gate in self.gates:
            lines += ["", "[[gates]]", f"name = {toml_string(gate.name)}", f"position_m = {_number(gate.position_m)}"]
            if gate.usb_serial is not None:
                lines += ['kind = "serial"', f"usb_serial = {toml_string(gate.usb_serial)}"]
                continue
            lines.append(f"pins = [{', '.join(map(str, gate.pins))}]" if len(gate.pins) > 1 else f"pin = {gate.pins[0]}")
            lines += [f"active_low = {'false'}"] if not gate.active_low else []
            lines += [f"pull_up = {'false'}"] if not gate.pull_up else []
        lines += ["", "[database]", f"path = {toml_string(str(DATABASE))}", "", "[web]", 'host = "0.0.0.0"', f"port = {self.port}"]
        if self.hotspot is not None:
            lines += [
                "",
                "# The Pi's own Wi-Fi (NetworkManager connection gatectl-hotspot); the dashboard",
                "# shows a QR code to join it and one to open the dashboard at this address.",
                "[network]",
                f"ssid = {toml_string(self.hotspot.ssid)}",
                f"password = {toml_string(self.hotspot.password)}",
                f"address = {toml_string(self.hotspot.address)}",
            ]
        return "\n".join(lines) + "\n"

    @property
    def layout_text(self) -> str:
        return ",".join(f"{g.name}={_number(g.position_m)}" for g in self.gates)

    @property
    def pins_text(self) -> str:
        return ",".join(f"{g.name}={'+'.join(map(str, g.pins))}" for g in self.gates if g.usb_serial is None)

    @property
    def nodes_text(self) -> str:
        return ",".join(f"{g.name}={g.usb_serial}" for g in self.gates if g.usb_serial is not None)

    @property
    def pins(self) -> dict[str, tuple[int, ...]]:
        return {g.name: g.pins for g in self.gates if g.usb_serial is None}

    @property
    def nodes(self) -> dict[str, str]:
        return {g.name: g.usb_serial for g in self.gates if g.usb_serial is not None}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def defaults(existing: Config | None, *, kiosk: bool = False) -> Answers:
    """What setup assumes before flags and questions: the installed config's choices (and screen), else the defaults."""
    if existing is None or existing.source != "gpio" or any(node.usb_serial is None for node in existing.nodes):
        return Answers(gates=combine(DEFAULT_PINS, {}, Layout.parse(DEFAULT_LAYOUT)), kiosk=kiosk)
    layout = existing.layout
    wiring = {beam.beam: beam for beam in existing.wiring}
    nodes = {node.beams: node.usb_serial for node in existing.nodes}
    gates = []
    for gate in layout.gates:
        if gate.beams in nodes:
            gates.append(GateAnswer(gate.name, gate.position_m, (), usb_serial=nodes[gate.beams]))
            continue
        beams = [wiring[b] for b in gate.beams]
        gates.append(GateAnswer(gate.name, gate.position_m, tuple(int(b.pin) for b in beams), beams[0].active_low, beams[0].pull_up))
    standard = DetectionSettings()
    thresholds = {
        name: getattr(layout.settings, f"{name}_ns") / NS_PER_MS
        for name in ("rearm", "window", "glitch", "bridge")
        if getattr(layout.settings, f"{name}_ns") != getattr(standard, f"{name}_ns")
    }
    return Answers(
        gates=tuple(gates), method=layout.method.value, place=existing.place, port=existing.port,
        hotspot=existing.network, kiosk=kiosk, thresholds_ms=thresholds,
    )  # fmt: skip


def parse_pins(text: str) -> dict[str, tuple[int, ...]]:
    """``M1=17,M2=27,M3=22``; a dual gate's two pins joined by +, lower beam first: ``M1=17+5``."""
    pins: dict[str, tuple[int, ...]] = {}
    for part in text.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise SetupError(f"--gates: {part.strip()!r} must look like GATE=PIN, e.g. M1=17 (or M1=17+5 for two beams).")
        try:
            numbers = tuple(int(p) for p in value.split("+"))
        except ValueError:
            raise SetupError(f"--gates: the pin of gate {name} must be a GPIO number, not {value!r}.") from None
        if len(numbers) > 2 or any(not 0 <= n <= 27 for n in numbers):
            raise SetupError(f"--gates: gate {name} needs one GPIO number from 0 to 27 (two joined by + for dual beams), not {value!r}.")
        if name in pins:
            raise SetupError(f"--gates: gate {name} is named twice.")
        pins[name] = numbers
    used = [p for numbers in pins.values() for p in numbers]
    if len(set(used)) != len(used):
        raise SetupError(f"--gates: each beam needs its own pin; {text} uses one twice.")
    return pins


def parse_nodes(text: str) -> dict[str, str]:
    """``M2=E6614104035B2A2B,M3=E6614104035B2A2C``: gates timed by a gate node, by its USB serial number; ``-``: none."""
    nodes: dict[str, str] = {}
    if text.strip() in ("", "-"):
        return nodes
    for part in text.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name or not value:
            raise SetupError(f"--nodes: {part.strip()!r} must look like GATE=USB-SERIAL, e.g. M2=E6614104035B2A2B.")
        serial = value.upper()
        if not is_node_id(serial):
            raise SetupError(
                f"--nodes: the USB serial number of gate {name}'s node must be its id in hex digits, a whole number of bytes "
                f"(a Pico's is 16, e.g. E6614104035B2A2B; `mpremote connect list` shows it), not {value!r}."
            )
        if name in nodes:
            raise SetupError(f"--nodes: gate {name} is named twice.")
        nodes[name] = serial
    if len(set(nodes.values())) != len(nodes):
        raise SetupError(f"--nodes: each gate needs its own node; {text} names one twice.")
    return nodes


def parse_layout(text: str, method: str = Method.LONGEST.value) -> Layout:
    try:
        return Layout.parse(text, method)
    except GatectlError as exc:
        raise SetupError(f"--layout: {exc}") from None


def combine(
    pins: Mapping[str, tuple[int, ...]], nodes: Mapping[str, str], layout: Layout, like: tuple[GateAnswer, ...] = ()
) -> tuple[GateAnswer, ...]:
    """Gates from their pins or nodes and their positions (names must agree); polarity kept from ``like``."""
    both = sorted(set(pins) & set(nodes))
    if both:
        raise SetupError(f"--gates and --nodes both name {', '.join(both)}: a gate has GPIO pins or a node, not both.")
    if {*pins, *nodes} != {g.name for g in layout.gates}:
        named = f"--gates names {', '.join(pins) or 'no gate'}" + (f" and --nodes {', '.join(nodes)}" if nodes else "")
        raise SetupError(
            f"{named} but --layout names {', '.join(g.name for g in layout.gates)}: "
            "give every gate a position and either a pin (--gates) or a node (--nodes)."
        )
    beams = 2 if layout.method is Method.DUAL else 1
    for name, numbers in pins.items():
        if len(numbers) != beams:
            raise SetupError(
                f"--gates: gate {name} has {len(numbers)} pin(s); detection {layout.method.value!r} needs {beams}"
                + (" (e.g. M1=17+5, lower beam first)." if beams == 2 else ".")
            )
    before = {g.name: g for g in like}
    return tuple(
        GateAnswer(g.name, g.position_m, (), usb_serial=nodes[g.name]) if g.name in nodes else
        GateAnswer(g.name, g.position_m, pins[g.name], *( (before[g.name].active_low, before[g.name].pull_up) if g.name in before else (True, True)))
        for g in layout.gates
    )  # fmt: skip


def hotspot(ssid: str, password: str | None, *, current: Network | None = None, make_key: Callable[[], str] | None = None) -> Network:
    """The hotspot's settings: the key given, else the one it has, else a new one."""
    key = password or (current.password if current is not None else None) or (make_key or new_wifi_key)()
    address = current.address if current is not None else HOTSPOT_ADDRESS
    try:
        return parse_network({"ssid": ssid, "password": key, "address": address})
    except ConfigError as exc:
        raise SetupError(f"--hotspot: {exc}") from None


def new_wifi_key() -> str:
    """Twelve letters and digits, easy to type on a phone if the QR code cannot be scanned."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    return "".join(secrets.choice(alphabet) for _ in range(12))


def new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def with_method(answers: Answers, method: str) -> Answers:
    """Another detection method; gates that no longer have the right number of pins get the standard wiring."""
    method = parse_method(method)
    beams = 2 if method == Method.DUAL.value else 1
    if all(len(p) == beams for p in answers.pins.values()):
        return replace(answers, method=method)
    standard = DEFAULT_DUAL_PINS if beams == 2 else DEFAULT_PINS
    pins: dict[str, tuple[int, ...]] = {name: standard.get(name, ()) for name in answers.pins}
    if any(not p for p in pins.values()):
        raise SetupError(f"Detection {method!r} needs {beams} pin(s) per gate: give them with --gates (e.g. M1=17+5 for two beams).")
    return replace(answers, method=method, gates=combine(pins, answers.nodes, Layout.parse(answers.layout_text, method), answers.gates))


def with_flags(
    answers: Answers,
    *,
    method: str | None = None,
    gates: str | None = None,
    nodes: str | None = None,
    layout: str | None = None,
    place: str | None = None,
    port: int | None = None,
    password: str | None = None,
    hotspot_name: str | None = None,
    hotspot_key: str | None = None,
    kiosk: bool | None = None,
    make_key: Callable[[], str] | None = None,
) -> Answers:
    """The answers with every flag given applied (None: not given), each checked with a sentence."""
    if method is not None:
        answers = replace(answers, method=parse_method(method)) if gates is not None else with_method(answers, method)
    if gates is not None or nodes is not None or layout is not None:
        answers = replace(answers, gates=_wiring(answers, gates, nodes, layout or answers.layout_text))
    if place is not None:
        answers = replace(answers, place=place.strip())
    if port is not None:
        answers = replace(answers, port=parse_port(str(port)))
    if password is not None:
        validate_coach_password(password)
        answers = replace(answers, password=password)
    if hotspot_name is not None:
        answers = replace(answers, hotspot=hotspot(hotspot_name, hotspot_key, current=answers.hotspot, make_key=make_key))
    elif hotspot_key is not None:
        raise SetupError("--hotspot-password: give the hotspot's name too, with --hotspot NAME.")
    if kiosk is not None:
        answers = replace(answers, kiosk=kiosk)
    return answers


def _wiring(answers: Answers, gates: str | None, nodes: str | None, layout: str) -> tuple[GateAnswer, ...]:
    """The gates from the text given (None: keep the answers'); a gate newly named in one keeps nothing of the other."""
    pins = parse_pins(gates) if gates is not None else answers.pins
    by_node = parse_nodes(nodes) if nodes is not None else answers.nodes
    if gates is None:
        pins = {name: p for name, p in pins.items() if name not in by_node}
    elif nodes is None:
        by_node = {name: s for name, s in by_node.items() if name not in pins}
    return combine(pins, by_node, parse_layout(layout, answers.method), answers.gates)


# Questions ----------------------------------------------------------------------


class Prompter(Protocol):
    def ask(self, question: str, default: str) -> str: ...
    def secret(self, question: str) -> str: ...
    def say(self, text: str) -> None: ...


def ask(start: Answers, given: set[str], prompt: Prompter, *, has_password: bool) -> Answers:
    """Ask every question a flag has not answered, starting from ``start``; re-ask until an answer is usable."""
    answers = start
    if "place" not in given:
        answers = replace(answers, place=prompt.ask("Where is the track (a label for sessions)?", answers.place).strip())
    if not {"method", "gates"} & given:  # pins given on the command line say how many beams a gate has
        question = "Detection: longest (one beam per gate, times the torso), dual (two beams per gate) or first"
        answers = with_method(answers, _until(prompt, question, answers.method, parse_method))
    if "layout" not in given or not {"gates", "nodes"} & given:
        answers = replace(answers, gates=_until_gates(prompt, answers, given))
    if "port" not in given:
        answers = replace(answers, port=_until(prompt, "Dashboard port (1024 or above)", str(answers.port), parse_port))
    if "password" not in given:
        answers = replace(answers, password=_ask_password(prompt, has_password))
    if "hotspot" not in given:
        current = answers.hotspot
        question = "Make the Pi a Wi-Fi hotspot for the phones? Its name, or - for none"
        while True:
            name = prompt.ask(question, current.ssid if current else DEFAULT_SSID).strip()
            if not name or name == "-":
                answers = replace(answers, hotspot=None)
                break
            keep = "keep the current one" if current is not None else "make one"
            key = prompt.secret(f"Its WPA2 key, 8 to 63 characters (Enter: {keep})")
            try:
                answers = replace(answers, hotspot=hotspot(name, key or None, current=current))
                break
            except SetupError as exc:
                prompt.say(str(exc))
    if "kiosk" not in given:
        question = "Show the live page full-screen on the HDMI screen at boot? (y/n)"
        answers = replace(answers, kiosk=_until(prompt, question, "y" if answers.kiosk else "n", yes_no))
    return answers


def parse_method(text: str) -> str:
    try:
        return Method(text.strip().lower()).value
    except ValueError:
        raise SetupError(f"Detection must be longest, dual or first, not {text.strip()!r}.") from None


def parse_port(text: str) -> int:
    try:
        port = int(str(text).strip())
    except ValueError:
        raise SetupError(f"--port: must be a whole number, not {text!r}.") from None
    if not 1024 <= port <= 65535:
        raise SetupError(f"--port: must be from 1024 to 65535 (the service may not bind lower ports), not {port}.")
    return port


def yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word in ("y", "yes"):
        return True
    if word in ("n", "no"):
        return False
    raise SetupError(f"Answer y or n, not {text.strip()!r}.")


def _until(prompt: Prompter, question: str, default: str, read: Callable[[str], _T]) -> _T:
    while True:
        text = prompt.ask(question, default)
        try:
            return read(text or default)
        except GatectlError as exc:
            prompt.say(str(exc))


def _until_gates(prompt: Prompter, answers: Answers, given: set[str]) -> tuple[GateAnswer, ...]:
    nodes_default = answers.nodes_text or "-"
    while True:
        nodes_text = None
        if "nodes" not in given:
            question = "Which gates are gate nodes (a Pico in the gate)? Each with its USB serial number, e.g. M3=E6614104035B2A2B, or - for none"
            nodes_text = prompt.ask(question, nodes_default) or nodes_default
        pins_text = None
        if "gates" not in given:
            pins_default = _pins_default(answers, nodes_text)
            pins_text = prompt.ask("The other gates and their GPIO pins (BCM numbers; two beams: M1=17+5)", pins_default) or pins_default
        layout_text = answers.layout_text if "layout" in given else prompt.ask("Where each gate stands, in metres along the lane", answers.layout_text)
        try:
            return _wiring(answers, pins_text, nodes_text, layout_text or answers.layout_text)
        except GatectlError as exc:
            prompt.say(str(exc))


def _pins_default(answers: Answers, nodes_text: str | None) -> str:
    """The pins of the gates that are not nodes: the answers', else the standard wiring (a node turned back into a GPIO gate)."""
    try:
        nodes = parse_nodes(nodes_text) if nodes_text is not None else answers.nodes
    except GatectlError:
        nodes = answers.nodes
    standard = DEFAULT_DUAL_PINS if answers.method == Method.DUAL.value else DEFAULT_PINS
    pins = {g.name: answers.pins.get(g.name) or standard.get(g.name, ()) for g in answers.gates if g.name not in nodes}
    return ",".join(f"{name}={'+'.join(map(str, p))}" for name, p in pins.items())


def _ask_password(prompt: Prompter, has_password: bool) -> str | None:
    keep = "keep the current one" if has_password else "make a 6-digit PIN"
    while True:
        password = prompt.secret(f"The coach's password or PIN, for changing things on the dashboard (Enter: {keep})")
        if not password:
            return None
        try:
            validate_coach_password(password)
        except GatectlError as exc:
            prompt.say(str(exc))
            continue
        if prompt.secret("The same again, to be sure") == password:
            return password
        prompt.say("The two did not match; once more.")
