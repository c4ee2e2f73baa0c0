"""Clock sync: node microseconds onto host nanoseconds, from four-stamp exchanges."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.sources.nodes.clock import ClockSync, SyncSample, SyncSettings

MS = 1_000_000
S = 1_000_000_000


class Node:
    """A node clock: ``drift_ppm`` fast, ``offset_ns`` ahead of the host at host 0."""

    def __init__(self, drift_ppm: float, offset_ns: int) -> None:
        self.ppb = round(drift_ppm * 1000)
        self.offset_ns = offset_ns

    def us(self, host_ns: int) -> int:
        return (host_ns + self.offset_ns) * (10**9 + self.ppb) // 10**12

    def host_ns(self, node_us: int) -> int:
        """The host instant the node's clock reads ``node_us`` (to within a µs)."""
        return node_us * 10**12 // (10**9 + self.ppb) - self.offset_ns


def exchanges(sync: ClockSync, node: Node, rng: random.Random, *, seconds: int, every_ns: int, base_ns: int, jitter_ns: int, start_ns: int = 0) -> int:
    t = start_ns
    while t < start_ns + seconds * S:
        out = base_ns + rng.randint(0, jitter_ns)
        back = base_ns + rng.randint(0, jitter_ns)
        t2 = node.us(t + out)
        t3 = node.us(t + out + 200_000)  # the node takes 0.2 ms to answer
        sync.add(SyncSample(t, t2, t3, t + out + 200_000 + back))
        t += every_ns
    return t


def test_symmetric_exchanges_map_exactly():
    sync = ClockSync()
    node = Node(0, 5 * S)
    exchanges(sync, node, random.Random(1), seconds=30, every_ns=100 * MS, base_ns=MS, jitter_ns=0)
    for host in (0, 10 * S, 30 * S):
        assert abs(sync.to_host_ns(node.us(host)) - host) <= 1000  # the node counts whole µs


@settings(max_examples=10, deadline=None)
@given(drift=st.floats(-100, 100), offset=st.integers(0, 10**13), seed=st.integers(0, 2**32), jitter_ms=st.sampled_from([0, 2, 10]))
def test_error_stays_within_the_uncertainty_it_reports(drift, offset, seed, jitter_ms):
    sync = ClockSync()
    node = Node(drift, offset)
    rng = random.Random(seed)
    t = exchanges(sync, node, rng, seconds=120, every_ns=100 * MS, base_ns=MS // 2, jitter_ns=jitter_ms * MS)
    error = sync.to_host_ns(node.us(t)) - t
    assert abs(error) <= sync.uncertainty_ns + 2_000  # the bound holds, give or take the µs the node rounds to
    assert sync.uncertainty_ns <= MS // 2 + 200_000 // 2 + jitter_ms * MS  # and it is about half the best round trip
    # The rate within 2 ppm on a clean link; each ms of jitter blurs the best exchange of a bin, and
    # so the fitted slope, by up to ~0.4 ppm over two minutes (a 3 s fly: ~1 µs a ppm, inside the sync budget).
    assert abs(sync.map.drift_ppb + node.ppb) <= 2_000 + 400 * jitter_ms + abs(node.ppb) // 100


def test_usb_like_link_maps_to_tens_of_microseconds_after_a_minute():
    errors = []
    for seed in range(5):
        sync = ClockSync()
        node = Node(random.Random(seed).uniform(-100, 100), seed * 7 * S)
        rng = random.Random(seed)
        t = exchanges(sync, node, rng, seconds=60, every_ns=100 * MS, base_ns=MS // 2, jitter_ns=2 * MS)
        for _ in range(60):
            t = exchanges(sync, node, rng, seconds=1, every_ns=100 * MS, base_ns=MS // 2, jitter_ns=2 * MS, start_ns=t)
            errors.append(abs(sync.to_host_ns(node.us(t)) - t))
    assert sorted(errors)[len(errors) * 95 // 100] < 50_000


def test_impossible_exchanges_are_ignored():
    sync = ClockSync()
    sync.add(SyncSample(10 * MS, 5_000, 5_000, 12 * MS))
    sync.add(SyncSample(20 * MS, 15_000, 15_000, 19 * MS))  # back before it was sent
    sync.add(SyncSample(30 * MS, 25_000, 24_000, 31 * MS))  # answered before it arrived
    sync.add(SyncSample(40 * MS, 35_000, 35_000, 40 * MS + 3 * S))  # a round trip of 3 s
    sync.add(SyncSample(50 * MS, 4_000, 4_000, 51 * MS))  # the node's clock went back
    sync.add(SyncSample(5 * MS, 45_000, 45_000, 6 * MS))  # before the last one
    assert (sync.exchanges, len(sync.samples)) == (1, 1)


def test_a_rate_beyond_any_crystal_is_taken_as_noise():
    sync = ClockSync()
    node = Node(5_000, 0)  # 5000 ppm: no crystal, a fault
    exchanges(sync, node, random.Random(2), seconds=60, every_ns=100 * MS, base_ns=MS, jitter_ns=0)
    assert (sync.map.rate_num, sync.map.rate_den) == (1, 1)


def test_old_exchanges_leave_the_window():
    sync = ClockSync(SyncSettings(window_ns=10 * S, bins=5, max_bounds_ns=20 * S))  # the offset window stays at 20 s
    exchanges(sync, Node(0, 0), random.Random(3), seconds=30, every_ns=S, base_ns=MS, jitter_ns=0)
    assert sorted(sync._bins) == [9, 10, 11, 12, 13]  # five 2-s bins before the open one (14)
    assert len(sync.samples) == 21  # the last 20 s place the offset
    assert sync.exchanges == 30


def reference_map(samples: list[SyncSample], settings: SyncSettings) -> tuple[int, int, int, int]:
    """The mapping after ``samples``, worked out again from all of them: (a2, num, den, uncertainty), at the newest.

    An independent model of the documented method: each bin of ``window/bins`` placed halfway
    between its tightest bounds at the rate found before it closed, a least-squares line through
    the bins (the open one too), the offset placed by the exchanges of the last ``bounds_ns``.
    """
    width = settings.window_ns // settings.bins
    rate = (1, 1)
    bins: dict[int, tuple[int, int]] = {}

    def between(group, num, den):
        x0 = group[-1].t3_us * 1000
        lower = max(s.t1_ns * den - (s.t2_us * 1000 - x0) * num for s in group)
        upper = min(s.t4_ns * den - (s.t3_us * 1000 - x0) * num for s in group)
        return x0, lower + upper, (abs(upper - lower) + den) // (2 * den)

    def fit(points):
        n = len(points)
        sxx = n * sum(x * x for x, _ in points) - sum(x for x, _ in points) ** 2
        sxy = n * sum(x * y for x, y in points) - sum(x for x, _ in points) * sum(y for _, y in points)
        span = max(x for x, _ in points) - min(x for x, _ in points)
        if n < 3 or span < settings.min_span_ns or abs(sxy - sxx) * 10**6 > 500 * sxx:
            return 1, 1
        return sxy, sxx

    for i, sample in enumerate(samples):
        key = sample.t4_ns // width
        open_bin = [s for s in samples[: i + 1] if s.t4_ns // width == key]
        previous = [s for s in samples[:i] if s.t4_ns // width == samples[i - 1].t4_ns // width] if i else []
        if previous and previous[0].t4_ns // width != key:
            x0, a2, _ = between(previous, *rate)
            bins[previous[0].t4_ns // width] = (x0, a2 // (2 * rate[1]))
            bins = {k: v for k, v in bins.items() if k >= key - settings.bins}
        x0, a2, _ = between(open_bin, *rate)
        rate = fit([*bins.values(), (x0, a2 // (2 * rate[1]))])
        recent = [s for s in samples[: i + 1] if s.t4_ns >= sample.t4_ns - settings.bounds_ns]
        _, a2, uncertainty = between(recent, *rate)
    return a2, rate[0], rate[1], uncertainty


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32), st.floats(-120, 120), st.integers(0, 3 * MS))
def test_the_running_fit_is_the_fit_over_every_exchange(seed, drift_ppm, jitter_ns):
    """Kept sums and sliding bounds give the mapping the whole window's exchanges give."""
    sync_settings = SyncSettings(window_ns=30 * S, bins=10, bounds_ns=5 * S, max_bounds_ns=5 * S, min_span_ns=5 * S)
    sync, node, rng = ClockSync(sync_settings), Node(drift_ppm, seed * 1000), random.Random(seed)
    added: list[SyncSample] = []
    real_add = sync.add
    sync.add = lambda sample: (real_add(sample), added.append(sample))  # type: ignore[method-assign]
    exchanges(sync, node, rng, seconds=40, every_ns=250 * MS, base_ns=MS // 2, jitter_ns=jitter_ns)
    m = sync.map
    a2, num, den, uncertainty = reference_map(added, sync_settings)
    assert (m.rate_num, m.rate_den) == (num, den)
    # The bounds' exchanges are chosen at the rate the last bin closed with: the rate moved by a few
    # ppb since, over a window of seconds, so the bounds by a few ns (1 µs: far inside any link's sync).
    assert abs(m.uncertainty_ns - uncertainty) <= 1_000
    assert abs(m.a2 // (2 * m.rate_den) - a2 // (2 * den)) <= 1_000


def slope_error(points: list[tuple[int, int]]) -> float:
    """The standard error of a least-squares slope through ``points`` (textbook formula, in floats)."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    residuals = sum((y - my - slope * (x - mx)) ** 2 for x, y in points)
    return (residuals / (n - 2) / sxx) ** 0.5


def test_the_offset_window_grows_as_the_rate_firms_up_and_sync_comes_less_often():
    """20 s until the bins span five minutes; then as long as the rate's standard error allows (up to 4 minutes)."""
    sync, node, rng = ClockSync(), Node(37.5, 3 * S), random.Random(4)
    t = exchanges(sync, node, rng, seconds=290, every_ns=100 * MS, base_ns=MS // 2, jitter_ns=2 * MS)
    assert sync.window_ns == 20 * S and len(sync.samples) == 201  # not yet settled: the last 20 s
    for _ in range(40):
        t = exchanges(sync, node, rng, seconds=15, every_ns=100 * MS, base_ns=MS // 2, jitter_ns=2 * MS, start_ns=t)
        expected = min(max(sync.settings.rate_error_ns / slope_error(list(sync._bins.values())), 20 * S), 240 * S)
        assert abs(sync.window_ns - expected) <= expected / 1000  # ε / σ, bounded
    assert sync.window_ns > 100 * S and sync.samples[0].t4_ns >= t - 100 * MS - sync.window_ns
    error = sync.to_host_ns(node.us(t)) - t
    assert abs(error) <= 20_000  # the longer window places the clock as well: tens of µs
    clean = ClockSync()
    exchanges(clean, Node(0, 0), random.Random(5), seconds=400, every_ns=S, base_ns=MS, jitter_ns=0)
    assert clean.window_ns == 240 * S  # bins on a line: the longest window


def test_the_link_asks_for_sync_as_often_as_the_window_needs():
    from gatectl.sources.nodes.link import NodeLink

    link = NodeLink(("M1",))
    assert link.sync_every_ns == 100 * MS  # 20 s: 200 exchanges at 0.1 s
    link.sync.window_ns = 180 * S
    assert link.sync_every_ns == 900 * MS  # 180 s: 200 exchanges at 0.9 s
