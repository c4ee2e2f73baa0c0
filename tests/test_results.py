import pytest
from helpers import S

from gatectl.coaching.paces import parse_race_time
from gatectl.jsonable import jsonable
from gatectl.timing.model import Crossing, Layout, Method, Run, RunStatus
from gatectl.timing.results import Fly, Segment, pace_comparison, report, velocity_mps

FLYING = Layout.flying()


def run_at(seconds, gates=("M1", "M2", "M3"), status=RunStatus.COMPLETE, reason=None, offset_ns=0):
    crossings = tuple(Crossing(g, offset_ns + round(t * S), Method.LONGEST) for g, t in zip(gates, seconds))
    return Run(1, crossings, status, reason)


def test_segments_and_fly():
    typed = report(run_at([0, 3.6, 6.7]), FLYING)
    assert typed.segments == (Segment("M1", "M2", 30.0, 3_600_000_000), Segment("M2", "M3", 30.0, 3_100_000_000))
    assert typed.fly == Fly(30.0, 3_100_000_000)
    r = jsonable(typed)  # the wire format: ``gatectl replay --json`` and the API
    assert r["segments"] == [
        {"from": "M1", "to": "M2", "distance_m": 30.0, "time_ns": 3_600_000_000, "time_s": 3.6, "velocity_mps": 30 / 3.6},
        {"from": "M2", "to": "M3", "distance_m": 30.0, "time_ns": 3_100_000_000, "time_s": 3.1, "velocity_mps": 30 / 3.1},
    ]
    v = 30 / 3.1
    assert r["fly"] == {
        "distance_m": 30.0,
        "time_ns": 3_100_000_000,
        "time_s": 3.1,
        "velocity_mps": pytest.approx(v),
        "kmh": pytest.approx(v * 3.6),
        "per_100m_s": pytest.approx(100 / v),
        "equivalent_400m_s": pytest.approx(400 / v),
    }
    assert round(typed.fly.kmh, 2) == 34.84
    assert round(typed.fly.per_100m_s, 3) == 10.333
    assert round(typed.fly.equivalent_400m_s, 2) == 41.33
    assert (r["number"], r["status"], r["reason"], r["vs_pace"]) == (1, "complete", None, {})
    assert r["crossings"] == {"M1": 0, "M2": 3_600_000_000, "M3": 6_700_000_000}


@pytest.mark.parametrize(
    ("distance", "best", "seconds", "percent"),
    [(400, "47.0", 47, 113.7), (800, "1:52.0", 112, 135.5), (200, "20.0", 20, 96.8)],
)
def test_fly_against_race_pace(distance, best, seconds, percent):
    r = report(run_at([0, 3.6, 6.7]), FLYING, {distance: parse_race_time(best)})
    cmp = r.vs_pace[f"{distance}m"]
    pace = distance / seconds
    assert cmp.pace_mps == pytest.approx(pace)
    assert cmp.ratio == pytest.approx((30 / 3.1) / pace)
    assert cmp.percent == percent
    assert cmp.diff_mps == pytest.approx(30 / 3.1 - pace)
    assert cmp.faster is (percent > 100)
    assert jsonable(cmp) == {"pace_mps": cmp.pace_mps, "ratio": cmp.ratio, "percent": percent, "diff_mps": cmp.diff_mps, "faster": cmp.faster}


def test_every_pace_given_is_compared_in_distance_order():
    paces = {800: parse_race_time("2:00"), 200: parse_race_time("24"), 400: parse_race_time("52")}
    assert list(report(run_at([0, 3.6, 6.7]), FLYING, paces).vs_pace) == ["200m", "400m", "800m"]


def test_bolt_berlin_2009():
    # 50 → 80 m in 2.45 s; 400 m best 45.28 s.
    layout = Layout.parse("M1=20,M2=50,M3=80")
    r = report(run_at([0, 2.9, 5.35]), layout, {400: parse_race_time("45.28")})
    assert (r.fly.distance_m, r.fly.time_s) == (30.0, 2.45)
    assert round(r.fly.velocity_mps, 2) == 12.24
    cmp = r.vs_pace["400m"]
    assert round(cmp.pace_mps, 2) == 8.83
    assert round(cmp.ratio * 100) == 139
    assert cmp.faster is True


@pytest.mark.parametrize(
    ("seconds", "status", "segments"),
    [([0, 4.0], RunStatus.INCOMPLETE, 1), ([0], RunStatus.INCOMPLETE, 0), ([1.0], RunStatus.REJECTED, 0)],
)
def test_unfinished_run_has_no_fly_and_no_pace(seconds, status, segments):
    r = report(run_at(seconds, status=status, reason="why"), FLYING, {400: parse_race_time("47.5")})
    assert (r.fly, r.vs_pace, r.status, r.reason) == (None, {}, status.value, "why")
    assert len(r.segments) == segments


def test_rejected_crossing_at_a_later_gate():
    r = report(run_at([1.0], gates=("M2",), status=RunStatus.REJECTED, reason="orphan"), FLYING)
    assert (r.crossings, r.segments, r.fly) == ({"M2": S}, (), None)
    assert (jsonable(r)["segments"], jsonable(r)["fly"]) == ([], None)


def test_fly_zone_is_the_last_segment_of_a_long_line():
    layout = Layout.parse(",".join(f"S{i}={10 * i}" for i in range(11)))
    run = Run(1, tuple(Crossing(f"S{i}", i * S + (i > 0) * S, Method.FIRST) for i in range(11)), RunStatus.COMPLETE)
    r = report(run, layout)
    assert len(r.segments) == 10
    assert (r.fly.distance_m, r.fly.time_s, r.fly.velocity_mps) == (10.0, 1.0, 10.0)


def test_times_stay_exact_on_a_huge_clock():
    a = report(run_at([0, 3.6, 6.7]), FLYING)
    b = report(run_at([0, 3.6, 6.7], offset_ns=10**18 + 1), FLYING)
    assert a.segments == b.segments and a.fly == b.fly
    assert b.crossings["M1"] == 10**18 + 1


def test_helpers():
    assert velocity_mps(30, 2_450_000_000) == pytest.approx(12.2449, abs=1e-4)
    paces = {400.0: 47_000_000_000, 1609.344: 250_000_000_000}
    assert list(report(run_at([0, 3.6, 6.7]), FLYING, paces).vs_pace) == ["400m", "mile"]
    slower = pace_comparison(7.0, 400, parse_race_time("50"))
    assert (slower.ratio, slower.percent, slower.faster) == (pytest.approx(0.875), 87.5, False)


def test_run_without_m1_has_its_fly_and_says_the_acceleration_zone_was_not_seen():
    typed = report(run_at([4.0, 7.1], gates=("M2", "M3"), reason="M1 not seen"), FLYING, {400: parse_race_time("47")})
    assert (typed.fly, typed.unseen, typed.status) == (Fly(30.0, 3_100_000_000), ("M1",), RunStatus.COMPLETE)
    assert typed.line == Segment("M2", "M3", 30.0, 3_100_000_000)
    r = jsonable(typed)
    assert (r["fly"]["time_ns"], r["unseen"], r["status"]) == (3_100_000_000, ["M1"], "complete")
    assert [(s["from"], s["to"]) for s in r["segments"]] == [("M2", "M3")]
    assert r["vs_pace"]["400m"]["percent"] == 113.7
    assert (r["line"]["from"], r["line"]["to"], r["line"]["time_ns"]) == ("M2", "M3", 3_100_000_000)


def test_run_without_m2_has_no_fly_only_the_average_over_the_whole_line():
    typed = report(run_at([0, 6.0], gates=("M1", "M3"), status=RunStatus.INCOMPLETE, reason="no M2"), FLYING, {400: parse_race_time("47")})
    assert (typed.fly, typed.vs_pace, typed.segments, typed.unseen) == (None, {}, (), ("M2",))
    assert typed.line == Segment("M1", "M3", 60.0, 6 * S)
    r = jsonable(typed)
    assert (r["fly"], r["vs_pace"], r["segments"], r["unseen"]) == (None, {}, [], ["M2"])
    assert r["line"] == {"from": "M1", "to": "M3", "distance_m": 60.0, "time_ns": 6 * S, "time_s": 6.0, "velocity_mps": 10.0}


def test_a_complete_run_sees_every_gate_and_a_rejected_crossing_has_no_line():
    r = jsonable(report(run_at([0, 3.6, 6.7]), FLYING))
    assert (r["unseen"], r["ambiguous"], r["line"]["time_ns"]) == ([], False, 6_700_000_000)
    r = jsonable(report(run_at([1.0], gates=("M2",), status=RunStatus.REJECTED, reason="orphan"), FLYING))
    assert (r["unseen"], r["line"]) == ([], None)


def test_an_ambiguous_run_says_so():
    run = Run(1, run_at([0, 3.6, 6.7]).crossings, RunStatus.COMPLETE, "ambiguous: M2 at +3.10 s would fit about as well", True)
    assert report(run, FLYING).ambiguous is True
    assert jsonable(report(run, FLYING))["ambiguous"] is True
