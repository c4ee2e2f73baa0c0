"""The gpio source, on gpiozero's MockFactory with a clock set by hand.

The mock pins stamp a change with ``gpiozero.pins.mock.monotonic`` as a test
drives them, as the lgpio pins pass on the kernel's stamp: replacing that clock
gives every edge an exact, known instant. gpiozero's own lgpio pins are tried
over ``FakeLgpio``: nothing here imports the real lgpio, which would leave a
``.lgd-nfy*`` FIFO in the working directory.
"""

from __future__ import annotations

import errno
import gc
import importlib
import sys
import time
import types

import gpiozero.pins
import gpiozero.pins.mock
import pytest
from gpiozero import Button, Factory
from gpiozero.pins.mock import MockFactory, MockPin
from hypothesis import given
from hypothesis import strategies as st

from gatectl.errors import SourceError
from gatectl.sources.gpio import DEFAULT_LATENCY_NS, BeamPin, GpioSource, ticks_to_ns
from gatectl.timing.model import NS_PER_MS, Edge

T0 = 5_000_000_000_123  # ns since boot: about 83 minutes


class Clock:
    """The mock pins' monotonic clock, moved by hand, in integer nanoseconds."""

    def __init__(self, t_ns: int) -> None:
        self.t_ns = t_ns

    def __call__(self) -> float:
        return self.t_ns / 1_000_000_000  # float seconds, as lgpio's factory gives them

    def advance_ms(self, ms: int) -> int:
        self.t_ns += ms * NS_PER_MS
        return self.t_ns


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(T0)
    monkeypatch.setattr(gpiozero.pins.mock, "monotonic", clock)
    return clock


@pytest.fixture
def factory(clock: Clock):
    factory = MockFactory()
    yield factory
    factory.close()


@pytest.fixture
def edges() -> list[Edge]:
    return []


def started(factory: Factory, edges: list[Edge], *beams: BeamPin) -> GpioSource:
    source = GpioSource(beams or [BeamPin("M1", 17)], pin_factory=factory)
    source.start(edges.append)
    return source


def test_edges_carry_the_pin_ticks_as_integer_ns(factory, clock, edges):
    source = started(factory, edges)
    pin = factory.pin(17)
    clock.advance_ms(2)
    pin.drive_low()
    clock.t_ns += 38_000_007
    pin.drive_high()
    source.stop()
    assert edges == [
        Edge("M1", T0, False),
        Edge("M1", T0 + 2_000_000, True),
        Edge("M1", T0 + 40_000_007, False),
    ]
    assert all(type(edge.t_ns) is int for edge in edges)


def test_active_high_beam_is_broken_when_the_line_is_high(factory, clock, edges):
    source = started(factory, edges, BeamPin("M1", 17, active_low=False))
    pin = factory.pin(17)
    pin.drive_low()
    pin.drive_high()
    source.stop()
    assert [edge.broken for edge in edges] == [True, False, True]  # the pull-up holds it high at start


@pytest.mark.parametrize(("pull_up", "pull"), [(True, "up"), (False, "floating")])
def test_pull_up_is_set_as_wired(factory, edges, pull_up, pull):
    source = started(factory, edges, BeamPin("M1", 17, pull_up=pull_up))
    assert factory.pin(17).pull == pull
    assert factory.pin(17).edges == "both"
    assert factory.pin(17).bounce is None  # no debounce: it would delay and drop edges
    source.stop()


def test_a_beam_blocked_at_start_is_reported_broken(factory, clock, edges):
    factory.pin(17).drive_low()  # the receiver holds the line low: beam broken
    source = started(factory, edges, BeamPin("M1", 17, pull_up=False))
    source.stop()
    assert edges == [Edge("M1", T0, True)]


def test_each_beam_has_its_own_pin(factory, clock, edges):
    beams = (BeamPin("M1", 17), BeamPin("M2", "GPIO27"), BeamPin("M3", "BOARD15"))
    source = started(factory, edges, *beams)
    for number, ms in ((22, 1), (17, 2), (27, 3)):
        clock.t_ns = T0 + ms * NS_PER_MS
        factory.pin(number).drive_low()
    source.stop()
    assert edges[3:] == [
        Edge("M3", T0 + 1 * NS_PER_MS, True),
        Edge("M1", T0 + 2 * NS_PER_MS, True),
        Edge("M2", T0 + 3 * NS_PER_MS, True),
    ]


def test_a_slow_emit_does_not_move_the_stamps(factory, clock):
    edges: list[Edge] = []

    def slow_emit(edge: Edge) -> None:
        clock.advance_ms(80)  # the consumer takes 80 ms; the clock runs on meanwhile
        edges.append(edge)

    source = GpioSource([BeamPin("M1", 17)], pin_factory=factory)
    source.start(slow_emit)
    broken_at = clock.advance_ms(1)
    factory.pin(17).drive_low()
    clear_at = clock.advance_ms(1)
    factory.pin(17).drive_high()
    source.stop()
    assert [edge.t_ns for edge in edges] == [T0, broken_at, clear_at]


def test_a_late_callback_keeps_the_edge_ticks(factory, clock, edges, monkeypatch):
    source = started(factory, edges)
    changed = factory.pin(17).when_changed
    edge_ticks = clock()
    clock.advance_ms(500)  # Python gets round to the callback half a second late

    def no_clock_in_the_callback() -> float:
        raise AssertionError("the callback read a clock")

    for name in ("monotonic", "monotonic_ns", "time", "time_ns", "perf_counter", "perf_counter_ns"):
        monkeypatch.setattr(time, name, no_clock_in_the_callback)
    changed(edge_ticks, 0)
    monkeypatch.undo()
    source.stop()
    assert edges[-1] == Edge("M1", T0, True)


def test_now_ns_reads_the_clock_of_the_stamps(factory, clock):
    source = GpioSource([BeamPin("M1", 17)], pin_factory=factory)
    assert source.now_ns() == T0
    clock.advance_ms(750)
    assert source.now_ns() == T0 + 750 * NS_PER_MS
    assert source.latency_ns == DEFAULT_LATENCY_NS == 50 * NS_PER_MS
    assert source.name == "gpio"


def test_callbacks_survive_garbage_collection(factory, edges):
    source = started(factory, edges)
    gc.collect()
    factory.pin(17).drive_low()
    source.stop()
    assert edges[-1].broken is True
    assert len(edges) == 2


def test_stop_is_idempotent_and_releases_the_pins(factory, edges):
    source = started(factory, edges, BeamPin("M1", 17), BeamPin("M2", 27))
    changed = factory.pin(17).when_changed
    source.stop()
    source.stop()
    assert factory.pin(17).when_changed is None
    factory.pin(17).drive_low()
    changed(0.5, 0)  # a callback already under way when stop() ran: dropped
    assert len(edges) == 2
    with Button(17, pin_factory=factory) as button:  # free for anyone else
        assert button.pin.info.name == "GPIO17"
    again = started(factory, [], BeamPin("M2", 27))
    again.stop()


def test_a_stopped_source_does_not_start_again(factory, edges):
    source = started(factory, edges)
    with pytest.raises(SourceError, match="already started"):
        source.start(edges.append)
    source.stop()
    with pytest.raises(SourceError, match="stopped"):
        source.start(edges.append)


def test_a_pin_that_is_no_gpio_names_beam_and_pin(factory, edges):
    with pytest.raises(SourceError, match=r"pin 99 for beam M2") as raised:
        started(factory, edges, BeamPin("M1", 17), BeamPin("M2", 99))
    assert "GPIO number" in str(raised.value)
    with Button(17, pin_factory=factory):  # M1, opened before the failure, was released
        pass


def test_a_pin_in_use_names_beam_and_pin(factory, edges):
    with Button(17, pin_factory=factory), pytest.raises(SourceError, match=r"pin 17 for beam M1 \(GPIO17\).*in use"):
        started(factory, edges)


def test_a_pin_busy_in_the_kernel_names_beam_and_pin(clock, edges):
    class BusyPin(MockPin):  # as lgpio fails when another process holds the line
        def __init__(self, factory, info):
            raise OSError(errno.EBUSY, "GPIO busy")

    with MockFactory(pin_class=BusyPin) as factory, pytest.raises(SourceError, match=r"Cannot open pin 17 for beam M1: .*GPIO busy"):
        started(factory, edges)


def test_a_fixed_pull_up_cannot_float(factory, edges):
    with pytest.raises(SourceError, match=r"beam M1 \(GPIO2\)"):
        started(factory, edges, BeamPin("M1", 2, pull_up=False))


def test_two_beams_cannot_share_a_pin(factory, edges):
    with pytest.raises(SourceError, match="M1 and M2 are both wired to GPIO17"):
        started(factory, edges, BeamPin("M1", 17), BeamPin("M2", "GPIO17"))


@pytest.mark.parametrize(
    ("beams", "message"),
    [
        ([], "at least one beam"),
        ([BeamPin("M1", 17), BeamPin("M1", 27)], "M1 is wired more than once"),
    ],
)
def test_wiring_is_checked_when_made(factory, beams, message):
    with pytest.raises(SourceError, match=message):
        GpioSource(beams, pin_factory=factory)


@pytest.mark.parametrize(("beam", "pin"), [("", 17), ("M1", True), ("M1", ""), ("M1", 17.0)])
def test_a_beam_needs_a_name_and_a_pin(beam, pin):
    with pytest.raises(SourceError):
        BeamPin(beam, pin)


def test_factories_that_stamp_in_python_are_refused():
    class PolledFactory(Factory):  # stands in for RPiGPIOFactory, NativeFactory, PiGPIOFactory
        ticks = staticmethod(time.monotonic)

    with pytest.raises(SourceError, match="PolledFactory does not pass on the kernel's edge stamps"):
        GpioSource([BeamPin("M1", 17)], pin_factory=PolledFactory())


class FakeLgpio(types.ModuleType):
    """Just enough of lgpio for gpiozero's lgpio pins, and never the real one.

    Like lgpio, it calls back with the kernel's stamp: integer nanoseconds.
    """

    SET_PULL_UP, SET_PULL_DOWN, SET_PULL_NONE = 32, 64, 128
    RISING_EDGE, FALLING_EDGE, BOTH_EDGES = 1, 2, 3
    error = RuntimeError

    def __init__(self) -> None:
        super().__init__("lgpio")
        self.modes: dict[int, int] = {}
        self.levels: dict[int, int] = {}
        self.alerts: dict[int, object] = {}
        self.no_chip = False

    def edge(self, gpio: int, level: int, stamp_ns: int) -> None:
        self.levels[gpio] = level
        self.alerts[gpio](0, gpio, level, stamp_ns)

    def gpiochip_open(self, chip):
        if self.no_chip:
            raise self.error("can't open gpiochip")
        return 0

    def gpiochip_close(self, handle):
        pass

    def gpio_claim_input(self, handle, gpio, flags=0):
        self.modes[gpio] = 1 << 8 | flags
        self.levels[gpio] = int(bool(flags & self.SET_PULL_UP))

    def gpio_claim_output(self, handle, gpio):  # named, never called, by LGPIOPin._set_function
        raise AssertionError("a beam pin is an input")

    def gpio_free(self, handle, gpio):
        pass

    def gpio_get_mode(self, handle, gpio):
        return self.modes[gpio]

    def gpio_read(self, handle, gpio):
        return self.levels[gpio]

    def gpio_claim_alert(self, handle, gpio, edges, flags):
        self.modes[gpio] = 1 << 10 | flags

    def callback(self, handle, gpio, edges, func):
        self.alerts[gpio] = func
        return types.SimpleNamespace(cancel=lambda: self.alerts.pop(gpio))


@pytest.fixture
def lgpio(monkeypatch: pytest.MonkeyPatch):
    """gpiozero's own lgpio pins (gpiozero.pins.lgpio), imported over FakeLgpio."""
    fake = FakeLgpio()
    monkeypatch.setitem(sys.modules, "lgpio", fake)
    monkeypatch.setitem(sys.modules, "gpiozero.pins.lgpio", None)  # forgotten again afterwards
    monkeypatch.setattr(gpiozero.pins, "lgpio", None, raising=False)
    del sys.modules["gpiozero.pins.lgpio"]
    pins = importlib.import_module("gpiozero.pins.lgpio")

    class PiLGPIOFactory(pins.LGPIOFactory):
        def _get_revision(self) -> int:
            return 0xC03114  # a Pi 4 B, whichever machine runs the tests

    factory = PiLGPIOFactory()
    yield fake, factory
    factory.close()


def test_lgpio_pins_pass_on_the_kernel_stamp_to_the_ns(lgpio, edges):
    fake, factory = lgpio
    source = started(factory, edges, BeamPin("M1", 17), BeamPin("M2", 27, active_low=False))
    assert fake.modes[17] & FakeLgpio.SET_PULL_UP
    forty_days = 40 * 86_400 * 10**9 + 123_456_789
    fake.edge(17, 0, forty_days)
    fake.edge(27, 1, forty_days + 1)
    fake.edge(17, 1, forty_days + 2)
    assert abs(source.now_ns() - time.monotonic_ns()) < NS_PER_MS  # the factory's ticks: CLOCK_MONOTONIC
    source.stop()
    assert edges[2:] == [
        Edge("M1", forty_days, True),
        Edge("M2", forty_days + 1, True),
        Edge("M1", forty_days + 2, False),
    ]
    assert fake.alerts == {}


def test_a_gpio_chip_that_cannot_be_opened_says_so(lgpio):
    fake, _ = lgpio
    fake.no_chip = True  # (off a Pi, gpiozero gives up sooner: it finds no Pi model)
    with pytest.raises(SourceError, match="Cannot open the Pi's GPIO: .*gpio group"):
        GpioSource([BeamPin("M1", 17)])


def test_without_lgpio_the_default_factory_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lgpio", None)  # makes `import lgpio` fail, never run
    monkeypatch.delitem(sys.modules, "gpiozero.pins.lgpio", raising=False)
    with pytest.raises(SourceError, match="Install lgpio"):
        GpioSource([BeamPin("M1", 17)])


@given(st.integers(min_value=0, max_value=2**52 - 1))
def test_lgpio_ticks_convert_back_to_the_kernel_ns_exactly(stamp_ns):
    assert ticks_to_ns(stamp_ns / 1000000000) == stamp_ns  # what LGPIOPin._call_when_changed passes on


def test_ticks_to_ns_rounds_to_nearest():
    assert ticks_to_ns(1.0000000004) == 1_000_000_000
    assert ticks_to_ns(1.0000000006) == 1_000_000_001
    assert ticks_to_ns(3) == 3_000_000_000
