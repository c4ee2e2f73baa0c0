"""Config: gates timed by gate nodes (kind = "serial"), alone or mixed with GPIO gates."""

from __future__ import annotations

import tomllib

import pytest

from gatectl.cli.live import _source
from gatectl.config import parse_config
from gatectl.errors import ConfigError
from gatectl.sources.mixed import MixedSource
from gatectl.sources.nodes.serial import NodePort, SerialSource

MIXED = """
[source]
kind = "gpio"

[database]
path = "g.db"

[[gates]]
name = "M1"
position_m = 0
pin = 17

[[gates]]
name = "M2"
position_m = 30
kind = "serial"
usb_serial = "e6614104035b2a2b"
node = "E6614104035B2A2B"

[[gates]]
name = "M3"
position_m = 60
kind = "serial"
port = "/dev/ttyUSB0"
baud = 9600
"""


def config(text: str, base=None):
    return parse_config(tomllib.loads(text)) if base is None else parse_config(tomllib.loads(text), base=base)


def test_gpio_and_node_gates_mix_in_one_layout(monkeypatch, tmp_path):
    from gpiozero.pins.mock import MockFactory

    monkeypatch.setattr("gatectl.sources.gpio._open_lgpio", MockFactory)  # off a Pi: the mock pins
    cfg = config(MIXED, tmp_path)
    assert [w.beam for w in cfg.wiring] == ["M1"]
    assert cfg.nodes == (
        NodePort(("M2",), usb_serial="e6614104035b2a2b", node_id="E6614104035B2A2B"),
        NodePort(("M3",), port="/dev/ttyUSB0", baud=9600),
    )
    source = _source(cfg)
    assert isinstance(source, MixedSource)
    assert [type(s).__name__ for s in source.sources] == ["GpioSource", "SerialSource"]
    assert source.latency_ns == max(s.latency_ns for s in source.sources)


def test_all_gates_on_nodes_and_dual_gates_use_two_channels(tmp_path):
    text = MIXED.replace('kind = "gpio"', 'kind = "serial"').replace("pin = 17", 'port = "/dev/ttyACM0"')
    text = text.replace("[database]", '[detection]\nmethod = "dual"\n\n[database]')
    cfg = config(text, tmp_path)
    assert cfg.wiring == ()
    assert [n.beams for n in cfg.nodes] == [("M1a", "M1b"), ("M2a", "M2b"), ("M3a", "M3b")]
    assert isinstance(_source(cfg), SerialSource)


@pytest.mark.parametrize(
    "change, message",
    [
        (('usb_serial = "e6614104035b2a2b"', ""), "gates[2]: give the node's port"),
        (('baud = 9600', 'baud = 9600\nusb_serial = "AB"'), "gates[3]: give the node's port"),
        (('baud = 9600', "baud = 12"), "gates[3].baud: must be from 300 to 4000000, not 12"),
        (('node = "E6614104035B2A2B"', 'node = "Pico 1"'), "gates[2].node: must be the node's id in hex digits"),
        (('baud = 9600', "baud = 9600\npin = 4"), "gates[3].pin: a serial gate has no pins on the Pi"),
        (('kind = "serial"\nport', 'kind = "sim"\nport'), "gates[3].kind: must be one of gpio, serial"),
    ],
)
def test_node_mistakes_name_the_field(change, message):
    old, new = change
    text = MIXED.replace(old, new)
    assert text != MIXED
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config(text)


def test_a_gate_kind_only_mixes_with_gpio_or_serial_sources():
    text = MIXED.replace('kind = "gpio"', 'kind = "sim"')
    with pytest.raises(ConfigError, match=r"gates\[2\]\.kind: must be one of gpio, serial \(with source\.kind gpio or serial\)"):
        config(text)
