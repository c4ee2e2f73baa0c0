"""Clock sync: a node's microseconds mapped onto the host's monotonic nanoseconds.

Each exchange is NTP's four stamps: the host sends SYNC at ``t1`` (host ns),
the node stamps its arrival ``t2`` and its answer ``t3`` (node µs), the host
reads the answer at ``t4``. So the node read ``t2`` after the host read
``t1``, and ``t3`` before the host read ``t4``: every exchange bounds the
mapping from both sides, and a short trip either way bounds it tightly.

Two steps, both integer arithmetic on nanoseconds:

* offset: at a given rate, the line is placed halfway between the tightest
  lower bound (``host(t2) ≥ t1``) and the tightest upper bound
  (``host(t3) ≤ t4``) of the exchanges in the offset window. Those come from
  the shortest trip out and the shortest trip back, whichever exchanges they
  were in, so the offset is as good as the link's best moments, not its average;
* drift: the half-hour window is cut into bins of 3 s, each placed that way
  (at the rate found so far), and a least-squares line through the bins gives
  the node's rate against the host's;
* the offset window is 20 s, longer once the rate is known well: when the
  bins span five minutes, as long as the rate's standard error (from the
  bins' scatter about their line) moves an exchange at the window's far end
  by no more than 2 µs, up to 4 minutes. So once the drift is known, an exchange a
  few tenths of a second places the clock as well as ten a second did, and the
  host asks for one only that often (``window_ns``, ``NodeLink.due``).

Half the gap between the two bounds is the sync's uncertainty: the mapping is
off by no more than that (unless the link is slower one way than the other at
its fastest, which the same firmware on the same kind of link is alike for).

>>> sync = ClockSync()
>>> sync.add(SyncSample(t1_ns=1_000_000, t2_us=5_000, t3_us=5_010, t4_ns=1_200_000))
>>> sync.to_host_ns(5_005), sync.uncertainty_ns  # node 5005 µs is host 1.1 ms, give or take 95 µs
(1100000, 95000)
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from math import isqrt

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
    window_ns: int = 1800 * NS_PER_S  # the rate is fitted over the last half hour
    bins: int = 600  # each bin (3 s) is placed by its tightest bounds
    bounds_ns: int = 20 * NS_PER_S  # the offset is placed by the exchanges of the last 20 s at least,
    max_bounds_ns: int = 240 * NS_PER_S  # and of up to 4 minutes once the rate is known well enough:
    rate_error_ns: int = 2 * NS_PER_US  # its standard error moves the window's oldest exchange by at most this,
    settled_ns: int = 300 * NS_PER_S  # once the bins span this long (a shorter fit misjudges its own error)
    min_span_ns: int = 10 * NS_PER_S  # a shorter span cannot tell drift from noise: rate 1
    max_round_trip_ns: int = 2 * NS_PER_S  # longer exchanges say too little to keep


class ClockSync:
    """The mapping from one node's clock (one boot) to the host's, refined by every exchange.

    An exchange costs the same however many the windows hold: the closed bins'
    sums are kept, and so are the exchanges that may set the tightest bounds
    (sliding maxima and minima at the rate the last bin closed with; the rate
    moves by far less between two bins than the link's jitter).
    """

    def __init__(self, settings: SyncSettings | None = None) -> None:
        self.settings = settings or SyncSettings()
        self.map: ClockMap | None = None
        self.exchanges = 0
        self.window_ns = self.settings.bounds_ns  # the offset window now: set again as each bin closes
        self._kept: list[SyncSample] = []  # the last ``max_bounds_ns``, in t4 order
        self._width = max(self.settings.window_ns // self.settings.bins, 1)
        self._bins: dict[int, tuple[int, int]] = {}  # closed bins: bin → (node ns, host ns) placed
        self._sums = (0, 0, 0, 0, 0, 0)  # the closed bins': count, Σx, Σy, Σx², Σxy, Σy²
        self._fitted = False  # whether the rate is the bins' line (not 1, for too short a span or a fault)
        self._open: list[SyncSample] = []  # the exchanges of the newest bin
        # The exchanges that may yet set the tightest bound, with their bounds at ``_kept_rate``:
        # lower bounds decreasing (the first is the tightest), upper bounds increasing.
        self._kept_rate = (1, 1)
        self._lower: deque[tuple[int, SyncSample]] = deque()
        self._upper: deque[tuple[int, SyncSample]] = deque()

    def add(self, sample: SyncSample) -> None:
        """Take one exchange; one that cannot be right (negative or huge round trip, time going back) is ignored."""
        rtt = sample.round_trip_ns
        if not 0 <= rtt <= self.settings.max_round_trip_ns or sample.t3_us < sample.t2_us:
            return
        if self._kept and (sample.t4_ns < self._kept[-1].t4_ns or sample.t2_us < self._kept[-1].t3_us):
            return
        self.exchanges += 1
        num, den = (self.map.rate_num, self.map.rate_den) if self.map is not None else (1, 1)
        key = sample.t4_ns // self._width
        if self._open and self._open[0].t4_ns // self._width != key:  # the open bin is complete
            self._close_bin(key, num, den)
        self._open.append(sample)
        self._kept.append(sample)
        drop = 0
        while self._kept[drop].t4_ns < sample.t4_ns - self.settings.max_bounds_ns:
            drop += 1
        del self._kept[:drop]
        self._keep((sample,))
        start = sample.t4_ns - self.window_ns
        for kept in (self._lower, self._upper):
            while kept[0][1].t4_ns < start:
                kept.popleft()
        num, den = self._rate(num, den)
        x0 = sample.t3_us * NS_PER_US
        low, high = self._lower[0][1], self._upper[0][1]
        lower = low.t1_ns * den - (low.t2_us * NS_PER_US - x0) * num
        upper = high.t4_ns * den - (high.t3_us * NS_PER_US - x0) * num
        self.map = ClockMap(x0, lower + upper, num, den, (abs(upper - lower) + den) // (2 * den))

    def _close_bin(self, key: int, num: int, den: int) -> None:
        placed = _between_bounds(self._open, num, den)
        self._bins[self._open[0].t4_ns // self._width] = point = (placed.x0, placed.a2 // (2 * den))
        self._count(point, 1)
        self._open = []
        oldest = key - self.settings.bins
        while (first := next(iter(self._bins))) < oldest:  # the bins are in time order
            self._count(self._bins.pop(first), -1)
        self.window_ns = self._window() if self._fitted else self.settings.bounds_ns
        self._kept_rate = (num, den)  # every bound moves with the rate: set them again
        self._lower.clear()
        self._upper.clear()
        self._keep(self.samples)

    def _window(self) -> int:
        """The offset window the closed bins' fit allows: its rate's standard error times the window is ``rate_error_ns``.

        With A = nΣx² − (Σx)², B = nΣxy − ΣxΣy, C = nΣy² − (Σy)², the slope's
        variance is (AC − B²) / ((n − 2)·A²), so the window squared is
        ``rate_error_ns``² · (n − 2)·A² / (AC − B²).
        """
        n, sum_x, sum_y, sum_xx, sum_xy, sum_yy = self._sums
        a, b, c = n * sum_xx - sum_x * sum_x, n * sum_xy - sum_x * sum_y, n * sum_yy - sum_y * sum_y
        low, high = self.settings.bounds_ns, max(self.settings.max_bounds_ns, self.settings.bounds_ns)
        bins = self._bins.values()  # in time order
        span = next(reversed(bins))[0] - next(iter(bins))[0] if bins else 0
        if n < 3 or a <= 0 or span < self.settings.settled_ns:
            return low
        residual = a * c - b * b
        if residual <= 0:  # the bins on a line to the ns
            return high
        return min(max(isqrt(self.settings.rate_error_ns**2 * (n - 2) * a * a // residual), low), high)

    def _count(self, point: tuple[int, int], sign: int) -> None:
        x, y = point
        n, sx, sy, sxx, sxy, syy = self._sums
        self._sums = (n + sign, sx + sign * x, sy + sign * y, sxx + sign * x * x, sxy + sign * x * y, syy + sign * y * y)

    def _keep(self, samples: Iterable[SyncSample]) -> None:
        """Keep each sample's bounds (in t4 order), dropping those it makes loose for good."""
        num, den = self._kept_rate
        lows, highs = self._lower, self._upper
        for sample in samples:
            # Scaled by den, without x0: host(x) = (A + (x − x0)·num) / den, and A must satisfy every exchange.
            lower = sample.t1_ns * den - sample.t2_us * NS_PER_US * num
            upper = sample.t4_ns * den - sample.t3_us * NS_PER_US * num
            while lows and lows[-1][0] <= lower:
                lows.pop()
            lows.append((lower, sample))
            while highs and highs[-1][0] >= upper:
                highs.pop()
            highs.append((upper, sample))

    def _rate(self, num: int, den: int) -> tuple[int, int]:
        """The host's ns per node ns, as a fraction: a line through the bins' placements (the open one's too)."""
        placed = _between_bounds(self._open, num, den)
        x, y = placed.x0, placed.a2 // (2 * den)
        n, sum_x, sum_y, sum_xx, sum_xy, _ = self._sums
        n, sum_x, sum_y, sum_xx, sum_xy = n + 1, sum_x + x, sum_y + y, sum_xx + x * x, sum_xy + x * y
        self._fitted = False
        if n < 3:
            return 1, 1
        sxx = n * sum_xx - sum_x * sum_x
        sxy = n * sum_xy - sum_x * sum_y
        span = x - next(iter(self._bins.values()))[0]  # the bins are in time order, the open one last
        if span < self.settings.min_span_ns or abs(sxy - sxx) * PPM > MAX_DRIFT_PPM * sxx:
            return 1, 1
        self._fitted = True
        return sxy, sxx

    @property
    def samples(self) -> list[SyncSample]:
        """The exchanges of the offset window, in t4 order."""
        if not self._kept:
            return []
        return self._kept[bisect_left(self._kept, self._kept[-1].t4_ns - self.window_ns, key=_t4) :]

    def to_host_ns(self, node_us: int) -> int | None:
        return None if self.map is None else self.map.to_host_ns(node_us)

    @property
    def uncertainty_ns(self) -> int | None:
        return None if self.map is None else self.map.uncertainty_ns


def _t4(sample: SyncSample) -> int:
    return sample.t4_ns


def _between_bounds(samples: list[SyncSample], num: int, den: int) -> ClockMap:
    """The line at rate num/den halfway between the tightest bounds the exchanges set, at the newest one."""
    x0 = samples[-1].t3_us * NS_PER_US
    # Scaled by den: host(x) = (A + (x − x0)·num) / den, and A must satisfy every exchange.
    lower = max(s.t1_ns * den - (s.t2_us * NS_PER_US - x0) * num for s in samples)
    upper = min(s.t4_ns * den - (s.t3_us * NS_PER_US - x0) * num for s in samples)
    half_gap = abs(upper - lower)  # negative gap: the bounds disagree (the rate is off), by that much
    return ClockMap(x0, lower + upper, num, den, (half_gap + den) // (2 * den))
