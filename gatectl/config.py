"""The daemon's config file (TOML), read and checked field by field.

Every mistake raises ``ConfigError`` naming the field, e.g.
``gates[2].pin: must be a GPIO number from 0 to 27, not "x"``.

Example (GPIO gates, single beams, the flying 30 layout)::

    place = "Club track"

    [source]
    kind = "gpio"          # gpio | sim | replay

    [detection]
    method = "longest"     # first | longest | dual
    rearm_ms = 300
    window_ms = 300

    [[gates]]
    name = "M1"
    position_m = 0
    pin = 17               # for dual gates: pins = [17, 27]

    [[gates]]
    name = "M2"
    position_m = 30
    pin = 27
    # ...

    [[gates]]              # a gate node: a Pico in the gate, on a serial port
    name = "M3"
    position_m = 60
    kind = "serial"        # gpio (the default with source.kind gpio) | serial
    usb_serial = "E6614104035B2A2B"   # or port = "/dev/ttyACM0" (or an RS-485 / radio adapter)
    # baud = 115200        # node = "E66..." checks the id the node gives

    [sync]                 # optional: gate nodes' clock sync
    limit_ms = 5           # a run timed across gates whose sync uncertainty adds up to more is flagged

    [database]
    path = "/var/lib/gatectl/gatectl.db"

    [web]
    host = "0.0.0.0"
    port = 8000

    [network]              # optional: the Pi's own Wi-Fi (gatectl setup --hotspot)
    ssid = "gatectl"
    password = "8 to 63 characters"
    address = "10.42.0.1"  # the Pi's address on it: the dashboard's QR code points here
"""

from __future__ import annotations

import ipaddress
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatectl.errors import ConfigError, GatectlError
from gatectl.limits import DETECTION_MS, PORT, REPLAY_SPEED, SEED, SYNC_LIMIT_MS
from gatectl.sources.gpio import BeamPin
from gatectl.sources.nodes.serial import NodePort
from gatectl.timing.model import NS_PER_MS, DetectionSettings, Layout, Method
from gatectl.timing.sync import DEFAULT_LIMIT_NS

SOURCE_KINDS = ("gpio", "serial", "sim", "replay")
GATE_KINDS = ("gpio", "serial")  # with source.kind gpio or serial, each gate may be either
HOTSPOT_ADDRESS = "10.42.0.1"  # NetworkManager's own choice for a shared connection


@dataclass(frozen=True, slots=True)
class Network:
    """The Wi-Fi the Pi makes for the phones (``[network]``): what the dashboard's QR codes say."""

    ssid: str
    password: str
    address: str = HOTSPOT_ADDRESS


@dataclass(frozen=True, slots=True)
class Config:
    layout: Layout
    source: str
    database: Path
    wiring: tuple[BeamPin, ...] = ()
    nodes: tuple[NodePort, ...] = ()  # gates timed by gate nodes
    trace: Path | None = None  # replay source
    replay_speed: float = 1.0
    sim_seed: int = 0
    sim_limbs: bool = True
    place: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    network: Network | None = None
    sync_limit_ns: int = DEFAULT_LIMIT_NS  # a run whose clock-sync uncertainty is above this is flagged


def load_config(path: str | Path) -> Config:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from None
    try:
        return parse_config(data, base=Path(path).parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_config(data: dict, base: Path = Path(".")) -> Config:
    known = {"place", "source", "detection", "gates", "database", "web", "network", "sync"}
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown section or field {key!r}; expected one of {', '.join(sorted(known))}.")
    source = _table(data, "source")
    _known(source, "source", {"kind", "trace", "speed", "seed", "limbs"})
    kind = _get(source, "source.kind", str, "gpio")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"source.kind: must be one of {', '.join(SOURCE_KINDS)}, not {kind!r}.")
    detection = _table(data, "detection")
    _known(detection, "detection", {"method", "rearm_ms", "window_ms", "glitch_ms", "bridge_ms"})
    method = _get(detection, "detection.method", str, "longest")
    if method not in [m.value for m in Method]:
        raise ConfigError(f"detection.method: must be first, longest or dual, not {method!r}.")
    defaults = DetectionSettings()
    thresholds = {}
    for name in ("rearm", "window", "glitch", "bridge"):
        ms = _get(detection, f"detection.{name}_ms", (int, float), getattr(defaults, f"{name}_ns") / NS_PER_MS)
        if not math.isfinite(ms):
            raise ConfigError(f"detection.{name}_ms: must be a finite number of milliseconds, not {ms}.")
        if ms < 0:
            raise ConfigError(f"detection.{name}_ms: must be 0 or more milliseconds, not {ms}.")
        DETECTION_MS.check(ms, f"detection.{name}_ms:", ConfigError)
        thresholds[f"{name}_ns"] = round(ms * NS_PER_MS)
    # Named here by the config's own fields; DetectionSettings would name the _ns ones.
    if thresholds["window_ns"] == 0:
        raise ConfigError("detection.window_ms: must be more than 0.")
    if thresholds["rearm_ns"] < thresholds["bridge_ns"]:
        raise ConfigError(
            f"detection.rearm_ms: must be at least detection.bridge_ms ({thresholds['bridge_ns'] / NS_PER_MS:g} ms): "
            "a gate cannot re-arm inside a gap it would bridge."
        )
    try:
        settings = DetectionSettings(**thresholds)
    except GatectlError as exc:
        raise ConfigError(f"detection: {exc}") from None

    gates = data.get("gates")
    if not isinstance(gates, list) or len(gates) < 2:
        raise ConfigError("gates: give at least two [[gates]] tables, each with name and position_m.")
    positions: dict[str, float] = {}
    wiring: list[BeamPin] = []
    nodes: list[NodePort] = []
    for i, gate in enumerate(gates, start=1):
        where = f"gates[{i}]"
        if not isinstance(gate, dict):
            raise ConfigError(f"{where}: must be a table with name and position_m.")
        _known(gate, where, {"name", "position_m", "pin", "pins", "active_low", "pull_up", "kind", *_NODE_FIELDS})
        name = _get(gate, f"{where}.name", str)
        if name in positions:
            raise ConfigError(f"{where}.name: gate {name!r} is named twice; give each gate its own name.")
        positions[name] = float(_get(gate, f"{where}.position_m", (int, float)))
        if not math.isfinite(positions[name]):
            raise ConfigError(f"{where}.position_m: must be a finite number of metres, not {positions[name]}.")
        gate_kind = _get(gate, f"{where}.kind", str, kind)
        if gate_kind != kind and (kind not in GATE_KINDS or gate_kind not in GATE_KINDS):
            raise ConfigError(f"{where}.kind: must be one of {', '.join(GATE_KINDS)} (with source.kind gpio or serial), not {gate_kind!r}.")
        if gate_kind == "gpio":
            wiring += _gate_wiring(gate, where, name, method == "dual")
        elif gate_kind == "serial":
            nodes.append(_gate_node(gate, where, name, method == "dual"))
    try:
        layout = Layout.from_positions(positions, method, settings)
    except GatectlError as exc:
        raise ConfigError(f"gates: {exc}") from None
    if [g.name for g in layout.gates] != list(positions):
        raise ConfigError("gates: list the gates in running order, with rising position_m.")

    database = _table(data, "database")
    _known(database, "database", {"path"})
    db_path = Path(_get(database, "database.path", str))
    web = _table(data, "web")
    _known(web, "web", {"host", "port"})
    port = PORT.check(_get(web, "web.port", int, 8000), "web.port:", ConfigError)
    trace = None
    if kind == "replay":
        trace = base / _get(source, "source.trace", str)
    speed = float(_get(source, "source.speed", (int, float), 1.0))
    if not 0 < speed < math.inf:
        raise ConfigError(f"source.speed: must be more than 0, and finite, not {speed}.")
    REPLAY_SPEED.check(speed, "source.speed:", ConfigError)  # 1e300 overflows the replay clock
    sync = _table(data, "sync")
    _known(sync, "sync", {"limit_ms"})
    limit_ms = SYNC_LIMIT_MS.check(_get(sync, "sync.limit_ms", (int, float), DEFAULT_LIMIT_NS / NS_PER_MS), "sync.limit_ms:", ConfigError)
    return Config(
        layout=layout,
        source=kind,
        database=db_path if db_path.is_absolute() else base / db_path,
        wiring=tuple(wiring),
        nodes=tuple(nodes),
        trace=trace,
        replay_speed=speed,
        sim_seed=SEED.check(_get(source, "source.seed", int, 0), "source.seed:", ConfigError),
        sim_limbs=_get(source, "source.limbs", bool, True),
        place=_get(data, "place", str, ""),
        host=_get(web, "web.host", str, "127.0.0.1"),
        port=port,
        network=parse_network(data["network"]) if "network" in data else None,
        sync_limit_ns=round(limit_ms * NS_PER_MS),
    )


def parse_network(data: Any) -> Network:
    """The ``[network]`` table: a WPA2 network's name and key, and the Pi's address on it."""
    network = _table({"network": data}, "network")
    _known(network, "network", {"ssid", "password", "address"})
    ssid = _get(network, "network.ssid", str)
    if not 1 <= len(ssid.encode()) <= 32 or not ssid.isprintable():
        raise ConfigError(f"network.ssid: a Wi-Fi name has 1 to 32 bytes of printable text, not {ssid!r}.")
    password = _get(network, "network.password", str)
    if not 8 <= len(password) <= 63 or not password.isascii() or not password.isprintable():
        raise ConfigError("network.password: a WPA2 key has 8 to 63 printable ASCII characters.")
    address = _get(network, "network.address", str, HOTSPOT_ADDRESS)
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        raise ConfigError(f"network.address: must be an IPv4 address such as 10.42.0.1, not {address!r}.") from None
    if not ip.is_private or ip.packed[-1] in (0, 255):
        raise ConfigError(f"network.address: must be a private host address such as 10.42.0.1 or 192.168.4.1, not {address}.")
    return Network(ssid, password, address)


def _gate_wiring(gate: dict, where: str, name: str, dual: bool) -> list[BeamPin]:
    active_low = _get(gate, f"{where}.active_low", bool, True)
    pull_up = _get(gate, f"{where}.pull_up", bool, True)
    if dual:
        pins = _get(gate, f"{where}.pins", list)
        if len(pins) != 2:
            raise ConfigError(f"{where}.pins: a dual gate needs two pins, lower beam first, e.g. pins = [17, 27].")
        return [
            BeamPin(f"{name}{suffix}", _pin(pin, f"{where}.pins"), active_low, pull_up)
            for suffix, pin in zip("ab", pins)
        ]
    return [BeamPin(name, _pin(_get(gate, f"{where}.pin", int), f"{where}.pin"), active_low, pull_up)]


_NODE_FIELDS = {"port", "usb_serial", "node", "baud"}


def _gate_node(gate: dict, where: str, name: str, dual: bool) -> NodePort:
    for field in ("pin", "pins", "active_low", "pull_up"):
        if field in gate:
            raise ConfigError(f"{where}.{field}: a serial gate has no pins on the Pi; its node reads the beam (see firmware/main.py).")
    port = _get(gate, f"{where}.port", str, None)
    usb_serial = _get(gate, f"{where}.usb_serial", str, None)
    if (port is None) == (usb_serial is None):
        raise ConfigError(f"{where}: give the node's port (e.g. port = \"/dev/ttyACM0\") or its usb_serial, one of them.")
    node_id = _get(gate, f"{where}.node", str, None)
    for field, value in (("usb_serial", usb_serial), ("node", node_id)):
        if value is not None and not re.fullmatch(r"[0-9A-Fa-f]{2,32}", value):
            raise ConfigError(f"{where}.{field}: must be the node's id in hex digits, e.g. E6614104035B2A2B, not {value!r}.")
    baud = _get(gate, f"{where}.baud", int, 115200)
    if not 300 <= baud <= 4_000_000:
        raise ConfigError(f"{where}.baud: must be from 300 to 4000000, not {baud}.")
    beams = (f"{name}a", f"{name}b") if dual else (name,)
    return NodePort(beams, port=port, usb_serial=usb_serial, node_id=node_id, baud=baud)


def _pin(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 27:
        raise ConfigError(f"{where}: must be a GPIO number from 0 to 27, not {value!r}.")
    return value


_MISSING = object()


def _known(table: dict, where: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: unknown field; expected one of {', '.join(sorted(allowed))}.")


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a table ([{key}]).")
    return value


def _get(table: dict, where: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    key = where.rsplit(".", 1)[-1]
    if key not in table:
        if default is _MISSING:
            raise ConfigError(f"{where}: missing; it is required.")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join(k.__name__.replace("str", "text").replace("int", "whole number").replace("float", "number") for k in kinds)
        raise ConfigError(f"{where}: must be a {names}, not {value!r}.")
    return value
