import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatectl.coaching.paces import (
    equivalents,
    format_duration_ns,
    pace_velocity,
    parse_race,
    parse_race_distance,
    parse_race_time,
    race_label,
    scale_to_distance,
    time_at_velocity,
)
from gatectl.errors import PaceError

S = 1_000_000_000



@pytest.mark.parametrize(
    "text, ns",
    [("45.28", 45_280_000_000), ("1:52.3", 112_300_000_000), ("35:00", 2100 * S), ("1:02:10", 3730 * S)],
)
def test_race_time_reads_typed_times_exactly(text, ns):
    assert parse_race_time(text) == ns


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("10k=35:00", (10_000.0, 2100 * S)),
        ("400=45.28", (400.0, 45_280_000_000)),
        ("800m=1:52.3", (800.0, 112_300_000_000)),
        ("mile=4:05", (1609.344, 245 * S)),
        ("3K=9:00", (3000.0, 540 * S)),
        (" 10 km = 35:00 ", (10_000.0, 2100 * S)),
        ("Half-Marathon=1:15:00", (21_097.5, 4500 * S)),
        ("marathon=2:30:00", (42_195.0, 9000 * S)),
        ("1.5k=4:00", (1500.0, 240 * S)),
    ],
)
def test_race_spec_gives_distance_and_time(spec, expected):
    assert parse_race(spec) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        ("10k", "must look like 10k=35:00"),
        ("10k=", "must look like 10k=35:00"),
        ("=35:00", "must look like 10k=35:00"),
        ("10y=35:00", "Race distance '10y' must be metres"),
        ("0m=1:00", "Race distance '0m' must be metres"),
        ("k=1:00", "Race distance 'k' must be metres"),
        ("10k=fast", "Race time 'fast' must look like"),
        ("10k=35:75", "seconds after a colon must be under 60"),
        ("400=5", "400 m in 5.00 would be 80.0 m/s on average, which no race is run at"),
        ("10k=2000:00:00", "10000 m in 2000:00:00.00 would be 0.0 m/s on average"),
        ("2000k=100:00:00", "Race distance '2000k' is too long: a race is at most 1000 km."),
    ],
)
def test_bad_race_spec_says_what_to_fix(spec, message):
    with pytest.raises(PaceError, match=message):
        parse_race(spec)


def test_race_distance_knows_named_races():
    assert parse_race_distance("Mile") == 1609.344
    assert parse_race_distance("half marathon") == parse_race_distance("HM") == 21_097.5


@pytest.mark.parametrize(
    "ns, decimals, text",
    [
        (84 * S, 1, "1:24.0"),
        (45_280_000_000, 2, "45.28"),
        (9_580_000_000, 2, "9.58"),
        (3730 * S, 0, "1:02:10"),
        (3730 * S, 1, "1:02:10.0"),
        (59_950_000_000, 1, "1:00.0"),  # rounds half up, carrying into the minutes
        (59_949_999_999, 1, "59.9"),
        (2_450_000_000, 3, "2.450"),
        (0, 1, "0.0"),
        (-20 * S, 0, "-20"),
        (1, 9, "0.000000001"),
    ],
)
def test_format_duration(ns, decimals, text):
    assert format_duration_ns(ns, decimals) == text


def test_format_duration_rejects_impossible_decimals():
    with pytest.raises(PaceError, match="Decimals must be 0 to 9"):
        format_duration_ns(S, 10)


@given(st.integers(min_value=1, max_value=10 * 3600 * 10**3), st.sampled_from([0, 1, 2, 3]))
def test_formatted_durations_read_back_exactly(ticks, decimals):
    ns = ticks * 10 ** (9 - decimals) if decimals else ticks * S
    assert parse_race_time(format_duration_ns(ns, decimals)) == ns


def test_race_time_converts_to_pace_per_km_and_per_400_and_back():
    ten_k = parse_race_time("35:00")
    per_km = scale_to_distance(ten_k, 10_000, 1000)
    assert per_km == 210 * S
    assert scale_to_distance(ten_k, 10_000, 400) == 84 * S
    assert scale_to_distance(per_km, 1000, 400) == 84 * S
    assert scale_to_distance(per_km, 1000, 10_000) == ten_k


def test_scaling_a_marathon_is_exact_to_the_nanosecond():
    marathon = parse_race_time("2:01:09")
    assert scale_to_distance(marathon, 42_195, 42_195) == marathon
    assert scale_to_distance(marathon, 42_195, 400) == round(7269 * S * 400 / 42_195)


@given(
    st.integers(min_value=S, max_value=30 * 3600 * S),
    st.floats(min_value=50, max_value=50_000),
    st.floats(min_value=50, max_value=50_000),
)
def test_scaling_keeps_the_velocity(time_ns, distance_m, to_m):
    scaled = scale_to_distance(time_ns, distance_m, to_m)
    assert math.isclose(pace_velocity(to_m, scaled), pace_velocity(distance_m, time_ns), rel_tol=1e-6)


def test_velocity_and_time_are_inverse():
    assert time_at_velocity(400, 8.0) == 50 * S
    assert round(pace_velocity(400, parse_race_time("45.28")), 2) == 8.83
    assert time_at_velocity(30, pace_velocity(30, 2_450_000_000)) == 2_450_000_000


def test_time_at_velocity_needs_movement():
    with pytest.raises(PaceError, match="above 0 m/s"):
        time_at_velocity(400, 0)


def test_equivalents_of_a_35_minute_10k():
    e = equivalents(10_000, parse_race_time("35:00"))
    assert (e.per_km_ns, e.per_400m_ns, e.per_100m_ns) == (210 * S, 84 * S, 21 * S)
    assert e.velocity_m_s == pytest.approx(4.7619, abs=1e-4)
    assert e.velocity_km_h == pytest.approx(17.1429, abs=1e-4)


def test_equivalents_of_bolts_400_best():
    e = equivalents(400, parse_race_time("45.28"))
    assert e.per_400m_ns == 45_280_000_000
    assert e.per_100m_ns == 11_320_000_000
    assert e.velocity_m_s == pytest.approx(8.834, abs=1e-3)


def test_equivalents_need_a_distance_and_a_time():
    with pytest.raises(PaceError, match="must be above zero"):
        equivalents(0, S)


@pytest.mark.parametrize(
    "distance_m, label",
    [(10_000.0, "10k"), (3000.0, "3k"), (1500.0, "1500m"), (400.0, "400m"), (1609.344, "mile"),
     (21_097.5, "half marathon"), (42_195.0, "marathon")],
)  # fmt: skip
def test_race_label(distance_m, label):
    assert race_label(distance_m) == label
