"""The ``gpio`` edge source: beam receivers wired to the Pi's header, one pin a beam.

The kernel stamps every edge in its interrupt handler (CLOCK_MONOTONIC, integer
nanoseconds). lgpio hands that stamp to gpiozero's lgpio pin factory, which
passes it on as the ``ticks`` of ``Pin.when_changed(ticks, state)``. This source
turns those ticks into integer nanoseconds once, here, and never reads a clock
in the callback: however late Python runs it, an edge keeps the instant the
kernel saw.

What ``ticks`` is, factory by factory (gpiozero 2.0):

* ``LGPIOFactory``: lgpio calls back with ``tick``, the kernel's ``timestamp_ns``
  (uint64, CLOCK_MONOTONIC); ``LGPIOPin._call_when_changed`` passes on
  ``ticks / 1000000000``: float seconds. ``LGPIOFactory.ticks()`` is
  ``time.monotonic()``, the same clock in the same unit.
* ``MockFactory``: ``MockPin`` stamps a change with ``time.monotonic()`` as it
  is driven and passes that stamp when it calls back; ``MockFactory.ticks()`` is
  ``time.monotonic()`` too.
* Every other factory is refused: ``RPiGPIOFactory`` and ``NativeFactory`` read
  the clock in Python once a thread of theirs notices the edge (milliseconds late
  under load), and ``PiGPIOFactory`` counts microseconds on pigpiod's own
  wrapping 32-bit clock.

>>> from gpiozero.pins.mock import MockFactory
>>> source = GpioSource([BeamPin("M1", 17)], pin_factory=MockFactory())
>>> edges = []
>>> source.start(edges.append)
>>> source.stop()
>>> [(edge.beam, edge.broken) for edge in edges]  # the level at start: pulled up, clear
[('M1', False)]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gpiozero import Factory, Pin

from gatectl.errors import SourceError
from gatectl.sources import Emit
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

# lgpio's alert thread polls the lines every 0.5 ms and forwards edges through a
# FIFO to a Python thread, which then needs the GIL; with the dashboard and the
# database busy on a Pi Zero 2 W that takes tens of milliseconds at worst. The
# daemon holds results back this long, which nobody watching can notice.
DEFAULT_LATENCY_NS = 50 * NS_PER_MS

# Factories whose edge ticks are the kernel's stamp (or, for the mock, the
# instant the test drove the pin), in float seconds of CLOCK_MONOTONIC.
_STAMPING_FACTORIES = frozenset({"gpiozero.pins.lgpio.LGPIOFactory", "gpiozero.pins.mock.MockFactory"})


def ticks_to_ns(ticks: float) -> int:
    """A factory's ticks (float seconds) as integer nanoseconds.

    The lgpio factory's ticks are ``n / 10**9`` for the kernel's integer stamp
    ``n``: the double nearest that quotient (int / int rounds correctly), so its
    exact value lies within ``n * 2**-53`` ns of ``n``. Scaling that exact value
    by 10**9 in integers and rounding to nearest gives ``n`` back exactly while
    ``n < 2**52`` ns (52 days since boot), and stays within ``n * 2**-53`` ns
    after that (4 ns after a year), far below the microseconds of interrupt
    latency. ``round(ticks * 1e9)`` adds a second rounding, of the product, and
    is 1 ns off for some stamps from 26 days since boot.

    >>> ticks_to_ns(123_456_789_012_345 / 10**9)
    123456789012345
    """
    numerator, denominator = ticks.as_integer_ratio()
    return (2 * numerator * NS_PER_S + denominator) // (2 * denominator)


@dataclass(frozen=True, slots=True)
class BeamPin:
    """How one beam's receiver is wired to the Pi.

    ``pin`` is a BCM number (17) or a gpiozero pin name ("GPIO17", "BOARD11").
    ``active_low``: the line reads low while the beam is broken, as it does
    behind an optocoupler when the sensor's output switches on at a break
    (dark-on). ``pull_up``: enable the Pi's internal pull-up, which an
    optocoupler or an open-collector output needs; without it the line floats
    unless the interface drives it both ways.

    >>> BeamPin("M2", 27).is_broken(0)
    True
    """

    beam: str
    pin: int | str
    active_low: bool = True
    pull_up: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.beam, str) or not self.beam:
            raise SourceError(f"A beam wired to pin {self.pin!r} needs a name, e.g. M1.")
        if isinstance(self.pin, bool) or not isinstance(self.pin, int | str) or self.pin == "":
            raise SourceError(
                f"Beam {self.beam}: pin {self.pin!r} must be a BCM number such as 17 "
                "or a name such as 'GPIO17'."
            )

    def is_broken(self, level: int) -> bool:
        """Whether the beam is broken when its pin reads ``level`` (0 low, 1 high)."""
        return bool(level) != self.active_low


class GpioSource:
    """Beam edges from GPIO pins, stamped by the kernel, one pin per beam.

    ``pin_factory`` is gpiozero's: ``None`` opens the Pi's GPIO with lgpio, a
    ``MockFactory`` drives tests and demos. A factory passed in stays the
    caller's to close; one made here is closed by ``stop()``.

    ``start`` reports every beam's level at that instant, so a beam already
    blocked (or misaligned) shows as broken at once rather than at its first
    edge; a first clear edge only confirms what the detector assumes. An edge
    in the microseconds between reading a level and arming the pin is missed,
    and the next edge of that beam sets the record straight.

    A stopped source has released its pins and cannot start again.
    """

    def __init__(
        self,
        beams: Sequence[BeamPin],
        pin_factory: Factory | None = None,
        *,
        name: str = "gpio",
        latency_ns: int = DEFAULT_LATENCY_NS,
    ) -> None:
        self.beams = tuple(beams)
        self.name = name
        self.latency_ns = latency_ns
        if not self.beams:
            raise SourceError("The gpio source needs at least one beam wired to a pin.")
        names = [wiring.beam for wiring in self.beams]
        for beam in names:
            if names.count(beam) > 1:
                raise SourceError(f"Beam {beam} is wired more than once; give each beam one pin.")
        self._owns_factory = pin_factory is None
        self._factory = _open_lgpio() if pin_factory is None else _stamping(pin_factory)
        # gpiozero keeps only a weak reference to a when_changed callback: the
        # strong ones live here, with their pins, until stop().
        self._watching: list[tuple[BeamPin, Pin, Callable[[float, int], None]]] = []
        self._emit: Emit | None = None
        self._lock = threading.Lock()  # so that no emit runs once stop() has returned
        self._started = False
        self._stopped = False

    def __repr__(self) -> str:
        wiring = ", ".join(f"{w.beam} on {w.pin}" for w in self.beams)
        return f"<gatectl GpioSource {self.name!r}: {wiring}>"

    def now_ns(self) -> int:
        return ticks_to_ns(self._factory.ticks())

    def start(self, emit: Emit) -> None:
        if self._stopped:
            raise SourceError(f"The {self.name} source was stopped; make a new one to start again.")
        if self._started:
            raise SourceError(f"The {self.name} source is already started.")
        self._started = True
        self._emit = emit
        try:
            for wiring in self.beams:
                pin = self._open(wiring)
                changed = self._on_change(wiring)
                self._watching.append((wiring, pin, changed))
                emit(Edge(wiring.beam, self.now_ns(), wiring.is_broken(pin.state)))
                pin.when_changed = changed
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        with self._lock:
            self._emit = None
        if self._stopped:
            return
        self._stopped = True
        for _, pin, _ in self._watching:
            pin.when_changed = None
            pin.close()
        self._watching.clear()
        self._factory.release_all(self)
        if self._owns_factory:
            self._factory.close()

    def _open(self, wiring: BeamPin) -> Pin:
        where = f"pin {wiring.pin} for beam {wiring.beam}"
        try:
            pin = self._factory.pin(wiring.pin)
        except Exception as exc:  # gpiozero's PinInvalidPin, lgpio.error ('GPIO busy'), OSError...
            raise SourceError(
                f"Cannot open {where}: {exc}. Use a BCM GPIO number (e.g. 17) that no other program holds."
            ) from exc
        for held, other, _ in self._watching:
            if other is pin:
                raise SourceError(
                    f"Beams {held.beam} and {wiring.beam} are both wired to {pin.info.name}; "
                    "give each beam its own pin."
                )
        try:
            # Reserved the gpiozero way, so that no other device in this process
            # can take the pin, and its when_changed, from under us.
            self._factory.reserve_pins(self, pin.info.name)
            pin.input_with_pull("up" if wiring.pull_up else "floating")
            pin.edges = "both"
        except Exception as exc:  # GPIOPinInUse, PinFixedPull (GPIO2 and 3 have fixed pull-ups)...
            raise SourceError(f"Cannot set up {where} ({pin.info.name}): {exc}.") from exc
        return pin

    def _on_change(self, wiring: BeamPin) -> Callable[[float, int], None]:
        def changed(ticks: float, state: int) -> None:
            # Runs on the factory's callback thread, perhaps long after the
            # edge: the stamp is the edge's ticks, never the time now.
            edge = Edge(wiring.beam, ticks_to_ns(ticks), wiring.is_broken(state))
            with self._lock:
                if self._emit is not None:
                    self._emit(edge)

        return changed

    def _conflicts_with(self, other: object) -> bool:
        # gpiozero's reservation protocol (Factory.reserve_pins): a beam's pin
        # is shared with nothing else.
        return True


def _stamping(factory: Factory) -> Factory:
    lineage = {f"{cls.__module__}.{cls.__qualname__}" for cls in type(factory).__mro__}
    if not lineage & _STAMPING_FACTORIES:
        raise SourceError(
            f"Pin factory {type(factory).__name__} does not pass on the kernel's edge stamps; "
            "use the lgpio factory (the default) or gpiozero's MockFactory."
        )
    return factory


def _open_lgpio() -> Factory:
    try:
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    except ImportError as exc:
        raise SourceError(
            f"Cannot use the Pi's GPIO: {exc}. Install lgpio (apt install python3-lgpio, "
            "or pip install 'gatectl[pi]'), or use the simulator."
        ) from exc
    except Exception as exc:  # lgpio.error, gpiozero's PinUnknownPi off a Pi, PermissionError...
        raise SourceError(
            f"Cannot open the Pi's GPIO: {exc}. Run on a Raspberry Pi, as a user in the gpio group, "
            "in a writable working directory (lgpio makes its .lgd-nfy FIFO there)."
        ) from exc
