import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatectl.errors import GatectlError, LayoutError
from gatectl.timing.model import Crossing, DetectionSettings, Gate, Layout, Method, Run, RunStatus


def test_parse_flying_preset():
    layout = Layout.parse("M1=0,M2=30,M3=60")
    assert [(g.name, g.position_m, g.beams) for g in layout.gates] == [
        ("M1", 0.0, ("M1",)),
        ("M2", 30.0, ("M2",)),
        ("M3", 60.0, ("M3",)),
    ]
    assert layout.method is Method.LONGEST
    assert layout == Layout.flying()


@pytest.mark.parametrize(("accel", "fly"), [(30, 30), (30, 40), (20, 50)])
def test_flying_fly_zone_is_m2_to_m3(accel, fly):
    layout = Layout.flying(accel, fly)
    assert layout.describe() == f"M1=0,M2={accel},M3={accel + fly}"
    assert (layout.fly_zone.start.name, layout.fly_zone.end.name, layout.fly_zone.distance_m) == ("M2", "M3", fly)
    assert layout.segments[0].distance_m == accel


def test_fly_zone_is_the_last_segment():
    layout = Layout.parse("start=0,split=20,fly=30,end=60")
    assert [(s.start.name, s.end.name) for s in layout.segments] == [("start", "split"), ("split", "fly"), ("fly", "end")]
    assert layout.fly_zone == layout.segments[-1]


def test_hundred_metres_with_ten_metre_splits():
    text = ",".join(f"S{i}={10 * i}" for i in range(11))
    layout = Layout.parse(text)
    assert len(layout.gates) == 11
    assert [s.distance_m for s in layout.segments] == [10.0] * 10
    assert (layout.fly_zone.start.name, layout.fly_zone.end.name) == ("S9", "S10")


def test_two_gates_make_one_segment_that_is_the_fly_zone():
    layout = Layout.parse("A=0,B=30.5")
    assert layout.segments == (layout.fly_zone,)
    assert layout.fly_zone.distance_m == 30.5


def test_parse_tolerates_spaces_and_decimals():
    layout = Layout.parse(" M1 = 0 , M2 = 29.95 ,M3=59.9")
    assert [g.position_m for g in layout.gates] == [0.0, 29.95, 59.9]
    assert layout.segments[1].distance_m == 29.95  # rounded: no 29.949999999999996


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("M1", "'M1' must look like NAME=METRES"),
        ("M1=0,M2", "'M2' must look like NAME=METRES"),
        ("M1=0,M2=", "'M2=' must look like NAME=METRES"),
        ("=0,M2=30", "'=0' must look like NAME=METRES"),
        ("M1=0,,M2=30", "'' must look like NAME=METRES"),
        ("M1=0,M2=30,", "'' must look like NAME=METRES"),
        ("", "'' must look like NAME=METRES"),
        ("M1=0,M2=thirty", "Position of gate M2 must be a number of metres, not 'thirty'"),
        ("M1=0,M2=30m", "not '30m'"),
        ("M1=0,M2=nan", "Position of gate M2 must be a finite number"),
        ("M1=0,M2=inf", "Position of gate M2 must be a finite number"),
        ("M1=-inf,M2=0", "Position of gate M1 must be a finite number"),
        ("M1=0,M2=30,M1=60", "Gate M1 is named twice"),
        ("M1=0,M3=60,M2=30", "running order with rising positions; got M1 at 0 m, M3 at 60 m, M2 at 30 m"),
        ("M1=60,M2=0", "running order"),
        ("M1=0,M2=0", "Gate M2 at 0 m must be further along than M1 at 0 m"),
        ("M1=0", "at least two gates"),
        ("1M=0,M2=30", "Gate name '1M' must start with a letter"),
        ("M-1=0,M2=30", "Gate name 'M-1'"),
        ("M 1=0,M2=30", "Gate name 'M 1'"),
        ("Gate_with_17chars=0,M2=30", "Gate name 'Gate_with_17chars'"),
    ],
)
def test_parse_errors_name_what_to_fix(text, message):
    with pytest.raises(LayoutError) as caught:
        Layout.parse(text)
    assert message in str(caught.value)


def test_layout_error_is_a_value_error_and_a_gatectl_error():
    with pytest.raises(ValueError):
        Layout.parse("M1=0")
    assert issubclass(LayoutError, GatectlError)


def test_bad_method_is_named():
    with pytest.raises(LayoutError, match="'fastest' is not one of first, longest, dual"):
        Layout.parse("A=0,B=10", "fastest")


@pytest.mark.parametrize("method", ["first", "longest", "dual", Method.DUAL])
def test_method_given_as_text_or_enum(method):
    assert Layout.parse("A=0,B=10", method).method is Method(method)


def test_dual_gates_get_beams_a_and_b():
    layout = Layout.parse("M1=0,M2=30,M3=60", "dual")
    assert [g.beams for g in layout.gates] == [("M1a", "M1b"), ("M2a", "M2b"), ("M3a", "M3b")]
    assert layout.beams == ("M1a", "M1b", "M2a", "M2b", "M3a", "M3b")
    assert layout.gate_of_beam("M2b").name == "M2"
    assert layout.gate_of_beam("M2") is None


def test_dual_names_never_collide():
    # Gate "M" has beam "Ma"; gate "Ma" has beams "Maa", "Mab": still all distinct.
    layout = Layout.parse("M=0,Ma=10,Mb=20", "dual")
    assert len(set(layout.beams)) == 6


@pytest.mark.parametrize(
    ("gates", "method", "message"),
    [
        ((Gate("A", 0, ("A",)), Gate("B", 10, ("A",))), Method.LONGEST, "Beam names must be unique"),
        ((Gate("A", 0, ("A",)), Gate("B", 10, ("B",))), Method.DUAL, "Gate A has 1 beam(s); detection 'dual' needs 2"),
        ((Gate("A", 0, ("Aa", "Ab")), Gate("B", 10, ("B",))), Method.FIRST, "Gate A has 2 beam(s); detection 'first' needs 1"),
        ((Gate("A", 0, ("A",)), Gate("A", 10, ("B",))), Method.LONGEST, "Gate names must be unique"),
    ],
)
def test_gates_built_by_hand_are_checked(gates, method, message):
    with pytest.raises(LayoutError) as caught:
        Layout(gates, method)
    assert message in str(caught.value)


def test_gate_lookup():
    layout = Layout.flying()
    assert layout.gate("M2").position_m == 30
    with pytest.raises(LayoutError, match="There is no gate 'M9' in layout M1=0,M2=30,M3=60"):
        layout.gate("M9")


@pytest.mark.parametrize(
    "changes",
    [
        {"rearm_ns": -1},
        {"glitch_ns": 1.5},
        {"bridge_ns": True},
        {"window_ns": "300"},
        {"window_ns": 0},
        {"rearm_ns": 1_000, "bridge_ns": 2_000},
    ],
)
def test_detection_settings_are_checked(changes):
    with pytest.raises(LayoutError):
        DetectionSettings(**changes)


def test_detection_settings_travel_with_the_layout():
    custom = DetectionSettings(rearm_ns=500_000_000)
    assert Layout.parse("A=0,B=10", settings=custom).settings is custom
    assert Layout.parse("A=0,B=10").settings == DetectionSettings()


positions = st.lists(
    st.integers(min_value=0, max_value=1_000_000).map(lambda cm: cm / 100), min_size=2, max_size=12, unique=True
).map(sorted)


@settings(max_examples=100, deadline=None)
@given(positions)
def test_describe_reads_back_as_the_same_layout(points):
    layout = Layout.parse(",".join(f"G{i}={p}" for i, p in enumerate(points)))
    assert Layout.parse(layout.describe()) == layout
    assert layout.fly_zone.distance_m == round(points[-1] - points[-2], 6)


def test_run_helpers():
    crossings = (Crossing("M1", 5, Method.FIRST), Crossing("M2", 9, Method.FIRST))
    run = Run(3, crossings, RunStatus.INCOMPLETE, "timed out")
    assert run.started_ns == 5
    assert run.crossing_at("M2").t_ns == 9
    assert run.crossing_at("M3") is None
