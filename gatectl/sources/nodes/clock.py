"""Clock sync: a node's microseconds mapped onto the host's monotonic nanoseconds.

Each exchange is NTP's four stamps: the host sends SYNC at ``t1`` (host ns),
the node stamps its arrival ``t2`` and its answer ``t3`` (node µs), the host
reads the answer at ``t4``. So the node read ``t2`` after the host read
``t1``, and ``t3`` before the host read ``t4``: every exchange bounds the
mapping from both sides, and a short trip either way bounds it tightly.

Two steps, both integer arithmetic on nanoseconds:

* offset: at a given rate, the line is placed halfway between the tightest
  lower bound (``host(t2) ≥ t1``) and the tightest upper bound
  (``host(t3) ≤ t4``) of the last 20 seconds' exchanges. Those come from the
  shortest trip out and the shortest trip back, whichever exchanges they were
  in, so the offset is as good as the link's best moments, not its average;
* drift: the five-minute window is cut into bins of 3 s, each placed that way
  (at the rate found so far), and a least-squares line through the bins gives
  the node's rate against the host's.

Half the gap between the two bounds is the sync's uncertainty: the mapping is
off by no more than that (unless the link is slower one way than the other at
its fastest, which the same firmware on the same kind of link is alike for).

>>> sync = ClockSync()
>>> sync.add(SyncSample(t1_ns=1_000_000, t2_us=5_000, t3_us=5_010, t4_ns=1_200_000))
>>> sync.to_host_ns(5_005), sync.uncertainty_ns  # node 5005 µs is host 1.1 ms, give or take 95 µs
(1100000, 95000)
"""

from __future__ import annotations

from dataclasses import dataclass

from gatectl.timing.model import NS_PER_S

NS_PER_US = 1000
MAX_DRIFT_PPM = 500  # a crystal is ±30 ppm; a fitted rate beyond this is noise or a fault
PPM = 1_000_000


@dataclass(frozen=True, slots=True)
class SyncSample:
    t1_ns: int
    t2_us: int
    t3_us: int
    t4_ns: int

    @property
    def round_trip_ns(self) -> int:
        return (self.t4_ns - self.t1_ns) - (self.t3_us - self.t2_us) * NS_PER_US


@dataclass(frozen=True, slots=True)
class ClockMap:
    """host(x) = (a2 + 2·(x − x0)·rate_num) / (2·rate_den) for x a node instant in ns."""

    x0: int
    a2: int
    rate_num: int
    rate_den: int
    uncertainty_ns: int

    def to_host_ns(self, node_us: int) -> int:
        numerator = self.a2 + 2 * (node_us * NS_PER_US - self.x0) * self.rate_num
        denominator = 2 * self.rate_den
        return (2 * numerator + denominator) // (2 * denominator)  # rounded to the nearest ns

    @property
    def drift_ppb(self) -> int:
        """How much faster the host counts than the node, parts per billion."""
        return (self.rate_num - self.rate_den) * 1_000_000_000 // self.rate_den


@dataclass(frozen=True, slots=True)
class SyncSettings:
    window_ns: int = 300 * NS_PER_S  # the rate is fitted over the last five minutes
    bins: int = 100  # each bin (3 s) keeps the exchange with the shortest round trip
    bounds_ns: int = 20 * NS_PER_S  # the offset is placed by the exchanges of the last 20 s
    min_span_ns: int = 10 * NS_PER_S  # a shorter span cannot tell drift from noise: rate 1
    max_round_trip_ns: int = 2 * NS_PER_S  # longer exchanges say too little to keep


class ClockSync:
    """The mapping from one node's clock (one boot) to the host's, refined by every exchange."""

    def __init__(self, settings: SyncSettings | None = None) -> None:
        self.settings = settings or SyncSettings()
        self.samples: list[SyncSample] = []  # the open bin's and the last ``bounds_ns``, in t4 order
        self.map: ClockMap | None = None
        self.exchanges = 0
        self._width = max(self.settings.window_ns // self.settings.bins, 1)
        self._bins: dict[int, tuple[int, int]] = {}  # closed bins: bin → (node ns, host ns) placed
        self._open: list[SyncSample] = []  # the exchanges of the newest bin

    def add(self, sample: SyncSample) -> None:
        """Take one exchange; one that cannot be right (negative or huge round trip, time going back) is ignored."""
        rtt = sample.round_trip_ns
        if not 0 <= rtt <= self.settings.max_round_trip_ns or sample.t3_us < sample.t2_us:
            return
        if self.samples and (sample.t4_ns < self.samples[-1].t4_ns or sample.t2_us < self.samples[-1].t3_us):
            return
        self.exchanges += 1
        num, den = (self.map.rate_num, self.map.rate_den) if self.map is not None else (1, 1)
        key = sample.t4_ns // self._width
        if self._open and self._open[0].t4_ns // self._width != key:  # the open bin is complete
            placed = _between_bounds(self._open, num, den)
            self._bins[self._open[0].t4_ns // self._width] = (placed.x0, placed.a2 // (2 * den))
            self._open = []
            oldest = key - self.settings.bins
            for old in [k for k in self._bins if k < oldest]:
                del self._bins[old]
        self._open.append(sample)
        self.samples.append(sample)
        start = sample.t4_ns - self.settings.bounds_ns
        drop = 0
        while self.samples[drop].t4_ns < start:
            drop += 1
        del self.samples[:drop]
        num, den = self._rate(num, den)
        self.map = self._place(num, den)

    def _rate(self, num: int, den: int) -> tuple[int, int]:
        """The host's ns per node ns, as a fraction: a line through the bins' placements."""
        placed = _between_bounds(self._open, num, den)
        points = [*self._bins.values(), (placed.x0, placed.a2 // (2 * den))]
        n = len(points)
        sum_x = sum(x for x, _ in points)
        sum_y = sum(y for _, y in points)
        sxx = n * sum(x * x for x, _ in points) - sum_x * sum_x
        sxy = n * sum(x * y for x, y in points) - sum_x * sum_y
        span = max(x for x, _ in points) - min(x for x, _ in points)
        if n < 3 or span < self.settings.min_span_ns or abs(sxy - sxx) * PPM > MAX_DRIFT_PPM * sxx:
            return 1, 1
        return sxy, sxx

    def _place(self, num: int, den: int) -> ClockMap:
        return _between_bounds(self.samples, num, den)

    def to_host_ns(self, node_us: int) -> int | None:
        return None if self.map is None else self.map.to_host_ns(node_us)

    @property
    def uncertainty_ns(self) -> int | None:
        return None if self.map is None else self.map.uncertainty_ns


def _between_bounds(samples: list[SyncSample], num: int, den: int) -> ClockMap:
    """The line at rate num/den halfway between the tightest bounds the exchanges set, at the newest one."""
    x0 = samples[-1].t3_us * NS_PER_US
    # Scaled by den: host(x) = (A + (x − x0)·num) / den, and A must satisfy every exchange.
    lower = max(s.t1_ns * den - (s.t2_us * NS_PER_US - x0) * num for s in samples)
    upper = min(s.t4_ns * den - (s.t3_us * NS_PER_US - x0) * num for s in samples)
    half_gap = abs(upper - lower)  # negative gap: the bounds disagree (the rate is off), by that much
    return ClockMap(x0, lower + upper, num, den, (half_gap + den) // (2 * den))
