import re
import textwrap
import tomllib
from pathlib import Path

import pytest

from gatectl.cli import main
from gatectl.cli.live import _source
from gatectl.config import load_config, parse_config
from gatectl.errors import ConfigError, SourceError
from gatectl.sim.source import SimSource
from gatectl.sources.replay import ReplaySource
from gatectl.timing.model import NS_PER_MS, DetectionSettings, Layout

FULL_GPIO = """
place = "Club track"

[source]
kind = "gpio"

[detection]
method = "longest"
rearm_ms = 350
window_ms = 250.5
glitch_ms = 0.5
bridge_ms = 3

[[gates]]
name = "M1"
position_m = 0
pin = 17

[[gates]]
name = "M2"
position_m = 30
pin = 27
active_low = false

[[gates]]
name = "M3"
position_m = 60.5
pin = 22
pull_up = false

[database]
path = "/var/lib/gatectl/gatectl.db"

[web]
host = "0.0.0.0"
port = 8080
"""

GATES = """
[[gates]]
name = "M1"
position_m = 0

[[gates]]
name = "M2"
position_m = 30

[[gates]]
name = "M3"
position_m = 60
"""

SIM = f"""
[source]
kind = "sim"
seed = 7
limbs = false

[database]
path = "sim.db"
{GATES}"""


def write(tmp_path: Path, text: str, name: str = "gatectl.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def wiring(config) -> list[tuple]:
    return [(w.beam, w.pin, w.active_low, w.pull_up) for w in config.wiring]


def parse(text: str):
    import tomllib

    return parse_config(tomllib.loads(textwrap.dedent(text)), base=Path("/etc/gatectl"))


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


# Valid configs ---------------------------------------------------------------------------


def test_full_gpio_config(tmp_path):
    config = load_config(write(tmp_path, FULL_GPIO))
    assert config.source == "gpio"
    assert config.place == "Club track"
    assert config.layout == Layout.parse(
        "M1=0,M2=30,M3=60.5",
        "longest",
        DetectionSettings(rearm_ns=350 * NS_PER_MS, window_ns=250_500_000, glitch_ns=500_000, bridge_ns=3 * NS_PER_MS),
    )
    assert wiring(config) == [("M1", 17, True, True), ("M2", 27, False, True), ("M3", 22, True, False)]
    assert config.database == Path("/var/lib/gatectl/gatectl.db")
    assert (config.host, config.port) == ("0.0.0.0", 8080)
    assert config.trace is None


def test_sim_config_with_defaults(tmp_path):
    path = write(tmp_path, SIM)
    config = load_config(path)
    assert (config.source, config.sim_seed, config.sim_limbs, config.wiring) == ("sim", 7, False, ())
    assert config.database == tmp_path / "sim.db"  # relative to the config file
    assert config.layout == Layout.flying(30, 30)
    assert config.layout.settings == DetectionSettings()
    assert (config.host, config.port, config.place) == ("127.0.0.1", 8000, "")


def test_replay_config(tmp_path):
    config = load_config(write(tmp_path, f"""
        [source]
        kind = "replay"
        trace = "traces/monday.csv"
        speed = 10

        [database]
        path = "/tmp/replay.db"
        {GATES}"""))
    assert config.source == "replay"
    assert config.trace == tmp_path / "traces" / "monday.csv"
    assert config.replay_speed == 10.0
    assert config.database == Path("/tmp/replay.db")


def test_dual_gates_with_two_pins():
    config = parse("""
        [detection]
        method = "dual"
        [[gates]]
        name = "M1"
        position_m = 0
        pins = [17, 27]
        [[gates]]
        name = "M2"
        position_m = 30
        pins = [22, 23]
        [database]
        path = "g.db"
        """)
    assert config.layout.method == "dual"
    assert [g.beams for g in config.layout.gates] == [("M1a", "M1b"), ("M2a", "M2b")]
    assert [w[:2] for w in wiring(config)] == [("M1a", 17), ("M1b", 27), ("M2a", 22), ("M2b", 23)]


def test_database_path_relative_to_the_config():
    assert parse(SIM).database == Path("/etc/gatectl/sim.db")


# Errors name the field -------------------------------------------------------------------

DB = '\n[database]\npath = "g.db"\n'


def doc(top: str = "", source: str = 'kind = "sim"', detection: str = "", web: str = "", database: str = 'path = "g.db"', gates: str = GATES) -> str:
    """A config document with each part replaceable; empty parts are left out."""
    parts = [top]
    for name, body in (("source", source), ("detection", detection), ("web", web), ("database", database)):
        if body is not None:
            parts.append(f"[{name}]\n{body}")
    return "\n".join(parts) + "\n" + gates


@pytest.mark.parametrize(
    "text, message",
    [
        (doc(top='colour = "red"'), "unknown section or field 'colour'; expected one of"),
        (doc(top="[extra]\nx = 1"), "unknown section or field 'extra'"),
        (doc(source='kind = "sim"\nport = 3'), "source.port: unknown field; expected one of kind, limbs, seed, speed, trace"),
        (doc(detection="rearm = 300"), "detection.rearm: unknown field"),
        (doc(web="port = 80\nssl = true"), "web.ssl: unknown field"),
        (doc(database='path = "g.db"\nmode = "wal"'), "database.mode: unknown field"),
        (doc(top='source = "gpio"', source=None), "source: must be a table ([source])"),
        (doc(source="kind = 3"), "source.kind: must be a text, not 3"),
        (doc(source='kind = "radio"'), "source.kind: must be one of gpio, serial, sim, replay, not 'radio'"),
        (doc(source='kind = "sim"\nseed = "x"'), "source.seed: must be a whole number, not 'x'"),
        (doc(source='kind = "sim"\nseed = true'), "source.seed: must be a whole number, not True"),
        (doc(source='kind = "sim"\nlimbs = 1'), "source.limbs: must be a bool, not 1"),
        (doc(source='kind = "replay"'), "source.trace: missing; it is required"),
        (doc(source='kind = "replay"\ntrace = 5'), "source.trace: must be a text, not 5"),
        (doc(source='kind = "replay"\ntrace = "t.csv"\nspeed = 0'), "source.speed: must be more than 0"),
        (doc(source='kind = "replay"\ntrace = "t.csv"\nspeed = -2'), "source.speed: must be more than 0"),
        (doc(source='kind = "replay"\ntrace = "t.csv"\nspeed = inf'), "source.speed: must be more than 0, and finite, not inf"),
        (doc(source='kind = "replay"\ntrace = "t.csv"\nspeed = nan'), "source.speed: must be more than 0, and finite, not nan"),
        (doc(source='kind = "replay"\ntrace = "t.csv"\nspeed = true'), "source.speed: must be a whole number or number, not True"),
        (doc(detection='method = "torso"'), "detection.method: must be first, longest or dual, not 'torso'"),
        (doc(detection="method = 1"), "detection.method: must be a text, not 1"),
        (doc(detection="rearm_ms = -1"), "detection.rearm_ms: must be 0 or more milliseconds, not -1"),
        (doc(detection="glitch_ms = -0.5"), "detection.glitch_ms: must be 0 or more milliseconds, not -0.5"),
        (doc(detection='window_ms = "300"'), "detection.window_ms: must be a whole number or number, not '300'"),
        (doc(detection="bridge_ms = false"), "detection.bridge_ms: must be a whole number or number, not False"),
        (doc(detection="rearm_ms = 2\nbridge_ms = 5"), "detection.rearm_ms: must be at least detection.bridge_ms (5 ms)"),
        (doc(detection="rearm_ms = 3"), "detection.rearm_ms: must be at least detection.bridge_ms (4 ms)"),
        (doc(detection="window_ms = 0"), "detection.window_ms: must be more than 0."),
        (doc(detection="rearm_ms = nan"), "detection.rearm_ms: must be a finite number of milliseconds, not nan"),
        (doc(detection="window_ms = inf"), "detection.window_ms: must be a finite number of milliseconds, not inf"),
        (doc(web="port = 0"), "web.port: must be from 1 to 65535, not 0"),
        (doc(web="port = 65536"), "web.port: must be from 1 to 65535, not 65536"),
        (doc(web='port = "80"'), "web.port: must be a whole number, not '80'"),
        (doc(web="port = 80.0"), "web.port: must be a whole number, not 80.0"),
        (doc(web="port = true"), "web.port: must be a whole number, not True"),
        (doc(web="host = 1"), "web.host: must be a text, not 1"),
        (doc(top="web = 8000", web=None), "web: must be a table ([web])"),
        (doc(top="place = 5"), "place: must be a text, not 5"),
        (doc(top="gates = [1, 2]", gates=""), "gates[1]: must be a table with name and position_m"),
        (doc(top='gates = "M1=0,M2=30"', gates=""), "gates: give at least two"),
        (doc(database=""), "database.path: missing; it is required"),
        (doc(database=None), "database.path: missing; it is required"),
        (doc(database="path = 1"), "database.path: must be a text, not 1"),
    ],
)
def test_error_names_the_field(text, message):
    assert message in error(text)


def test_web_port_range_edges():
    assert parse(doc(web="port = 1")).port == 1
    assert parse(doc(web="port = 65535")).port == 65535


def test_zero_thresholds_where_allowed():
    settings = parse(doc(detection="glitch_ms = 0\nbridge_ms = 0\nrearm_ms = 0")).layout.settings
    assert (settings.glitch_ns, settings.bridge_ns, settings.rearm_ns) == (0, 0, 0)


@pytest.mark.parametrize(
    "gates, message",
    [
        ("", "gates: give at least two [[gates]] tables"),
        ('[[gates]]\nname = "M1"\nposition_m = 0\n', "gates: give at least two"),
        ('[gates]\nname = "M1"\n', "gates: give at least two"),
        ('[[gates]]\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates[1].name: missing; it is required"),
        ('[[gates]]\nname = "M1"\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates[1].position_m: missing; it is required"),
        ('[[gates]]\nname = "M1"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = "30"\n', "gates[2].position_m: must be a whole number or number, not '30'"),
        ('[[gates]]\nname = 1\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates[1].name: must be a text, not 1"),
        ('[[gates]]\nname = "M1"\nposition_m = 0\ncolour = "red"\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates[1].colour: unknown field"),
        ('[[gates]]\nname = "M2"\nposition_m = 30\n[[gates]]\nname = "M1"\nposition_m = 0\n', "gates: list the gates in running order"),
        ('[[gates]]\nname = "M1"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 0\n', "gates: "),
        ('[[gates]]\nname = "1st"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates: Gate name '1st' must start with a letter"),
        ('[[gates]]\nname = "M1"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = inf\n', "gates[2].position_m"),
        ('[[gates]]\nname = "M1"\nposition_m = nan\n[[gates]]\nname = "M2"\nposition_m = 30\n', "gates[1].position_m"),
    ],
)
def test_gate_errors_name_the_field(gates, message):
    assert message in error(doc(gates=gates))


@pytest.mark.parametrize("second", [30, 90, 10])
def test_gate_named_twice(second):
    # Before, M1=0, M2=30, M2=90 quietly became a two-gate layout.
    gates = f'[[gates]]\nname = "M1"\nposition_m = 0\n[[gates]]\nname = "M2"\nposition_m = 30\n[[gates]]\nname = "M2"\nposition_m = {second}\n'
    assert "gates[3].name: gate 'M2' is named twice" in error(doc(gates=gates))


def gpio_gate(extra: str, method: str = "longest") -> str:
    return (
        f'[detection]\nmethod = "{method}"\n{DB}'
        f'[[gates]]\nname = "M1"\nposition_m = 0\n{extra}\n'
        '[[gates]]\nname = "M2"\nposition_m = 30\npin = 5\npins = [5, 6]\n'
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        ("", "gates[1].pin: missing; it is required"),
        ("pin = 28", "gates[1].pin: must be a GPIO number from 0 to 27, not 28"),
        ("pin = -1", "gates[1].pin: must be a GPIO number from 0 to 27, not -1"),
        ('pin = "GPIO17"', "gates[1].pin: must be a whole number, not 'GPIO17'"),
        ("pin = true", "gates[1].pin: must be a whole number, not True"),
        ("pin = 17.0", "gates[1].pin: must be a whole number, not 17.0"),
        ("pin = 17\nactive_low = 0", "gates[1].active_low: must be a bool, not 0"),
        ('pin = 17\npull_up = "yes"', "gates[1].pull_up: must be a bool, not 'yes'"),
    ],
)
def test_gpio_pin_errors(extra, message):
    assert message in error(gpio_gate(extra))


@pytest.mark.parametrize(
    "extra, message",
    [
        ("pin = 17", "gates[1].pins: missing; it is required"),
        ("pins = [17]", "gates[1].pins: a dual gate needs two pins"),
        ("pins = [17, 27, 22]", "gates[1].pins: a dual gate needs two pins"),
        ("pins = 17", "gates[1].pins: must be a list, not 17"),
        ("pins = [17, 40]", "gates[1].pins: must be a GPIO number from 0 to 27, not 40"),
        ('pins = [17, "b"]', "gates[1].pins: must be a GPIO number from 0 to 27, not 'b'"),
        ("pins = [true, 27]", "gates[1].pins: must be a GPIO number from 0 to 27, not True"),
    ],
)
def test_dual_pin_errors(extra, message):
    assert message in error(gpio_gate(extra, "dual"))


def test_pins_are_not_needed_for_the_simulator():
    config = parse('[source]\nkind = "sim"\n[detection]\nmethod = "dual"\n' + DB + GATES)
    assert config.wiring == () and config.layout.gates[0].beams == ("M1a", "M1b")


def test_errors_are_config_errors_and_value_errors():
    with pytest.raises(ValueError):
        parse('[source]\nkind = "x"')


# The file ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"cannot read the config file .*nope\.toml: No such file or directory\."):
        load_config(path)


def test_directory_is_unreadable(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('place = "Pista de atletismo Águeda"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.toml"):
        load_config(path)


def test_invalid_toml(tmp_path):
    path = write(tmp_path, "[source\nkind = 'sim'\n")
    with pytest.raises(ConfigError, match=r"gatectl.toml is not valid TOML: .*line 1"):
        load_config(path)


def test_file_errors_start_with_the_file_name(tmp_path):
    path = write(tmp_path, '[source]\nkind = "radio"\n')
    with pytest.raises(ConfigError, match=r"^.*gatectl\.toml: source\.kind: must be one of"):
        load_config(path)


# gatectl run --config ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("[source\n", "is not valid TOML"),
        ('[source]\nkind = "radio"\n', "source.kind: must be one of gpio, serial, sim, replay"),
        (gpio_gate("pin = 99"), "gates[1].pin: must be a GPIO number from 0 to 27, not 99"),
    ],
)
def test_run_with_a_bad_config_exits_2_with_one_line(tmp_path, capsys, text, message):
    path = write(tmp_path, text, "bad.toml")
    assert main(["run", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"gatectl: error: {path}")
    assert message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_run_with_a_missing_config(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "gone.toml")]) == 2
    assert "cannot read the config file" in capsys.readouterr().err


def test_run_with_a_missing_trace(tmp_path, capsys):
    path = write(tmp_path, '[source]\nkind = "replay"\ntrace = "gone.csv"\n' + DB + GATES)
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gatectl: error: cannot read") and "gone.csv" in err


def test_run_with_a_bad_trace(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("gate,t_ns,state\nM9,5,1\n")
    path = write(tmp_path, '[source]\nkind = "replay"\ntrace = "t.csv"\n' + DB + GATES)
    assert main(["run", "--config", str(path)]) == 2
    assert "line 2: unknown gate 'M9'" in capsys.readouterr().err


# The sources a config makes ------------------------------------------------------------------


def test_sim_config_makes_a_sim_source(tmp_path):
    config = load_config(write(tmp_path, SIM))
    source = _source(config)
    assert isinstance(source, SimSource) and source.layout == config.layout


def test_replay_config_makes_a_replay_source(tmp_path):
    (tmp_path / "t.csv").write_text("gate,t_ns,state\nM2,9,1\nM1,5,1\nM1,7,0\n")
    config = load_config(write(tmp_path, '[source]\nkind = "replay"\ntrace = "t.csv"\nspeed = 4\n' + DB + GATES))
    source = _source(config)
    assert isinstance(source, ReplaySource)
    assert [e.t_ns for e in source.edges] == [5, 7, 9] and source.speed == 4.0


def test_gpio_config_off_a_pi_is_a_sentence(tmp_path):
    # Off a Pi either the GPIO module cannot load or the pins cannot be claimed:
    # both are a SourceError (a sentence), never a traceback, by the time the daemon starts.
    config = load_config(write(tmp_path, FULL_GPIO))
    try:
        source = _source(config)
    except SourceError as exc:
        assert str(exc)
        return
    assert source.name and hasattr(source, "now_ns")


# [network]: the Pi's own Wi-Fi, for the dashboard's QR codes -----------------------------


def test_network_section(tmp_path):
    from gatectl.config import Network

    config = load_config(write(tmp_path, FULL_GPIO + '\n[network]\nssid = "Track"\npassword = "sprint-fast-9"\n'))
    assert config.network == Network("Track", "sprint-fast-9", "10.42.0.1")
    assert load_config(write(tmp_path, FULL_GPIO)).network is None
    with_address = FULL_GPIO + '\n[network]\nssid = "Track"\npassword = "sprint-fast-9"\naddress = "192.168.4.1"\n'
    assert load_config(write(tmp_path, with_address)).network == Network("Track", "sprint-fast-9", "192.168.4.1")


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ('password = "sprint-fast-9"', "network.ssid: missing"),
        ('ssid = ""\npassword = "sprint-fast-9"', "network.ssid: a Wi-Fi name has 1 to 32 bytes"),
        (f'ssid = "{"x" * 33}"\npassword = "sprint-fast-9"', "1 to 32 bytes"),
        ('ssid = "Track"', "network.password: missing"),
        ('ssid = "Track"\npassword = "short"', "network.password: a WPA2 key has 8 to 63"),
        (f'ssid = "Track"\npassword = "{"k" * 64}"', "8 to 63"),
        ('ssid = "Track"\npassword = "sprint-fäst"', "printable ASCII"),
        ('ssid = "Track"\npassword = "sprint-fast-9"\naddress = "pi.local"', "network.address: must be an IPv4 address"),
        ('ssid = "Track"\npassword = "sprint-fast-9"\naddress = "8.8.8.8"', "must be a private host address"),
        ('ssid = "Track"\npassword = "sprint-fast-9"\naddress = "10.42.0.255"', "must be a private host address"),
        ('ssid = "Track"\npassword = "sprint-fast-9"\nchannel = 6', "network.channel: unknown field"),
        ('ssid = 5\npassword = "sprint-fast-9"', "network.ssid: must be a text"),
    ],
)
def test_network_errors_name_the_field(tmp_path, network, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, FULL_GPIO + "\n[network]\n" + network + "\n"))


def test_network_must_be_a_table():
    with pytest.raises(ConfigError, match=r"network: must be a table"):
        parse_config({**tomllib.loads(FULL_GPIO), "network": "Track"})
