"""Every entry point under random hostile numbers and text: a refusal with a sentence, or success.

Never a 500, a traceback or a hang: forms, JSON, the command line, the config,
trace lines and workout text.
"""

import io
import time

from helpers import athlete_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatectl.cli import build_parser, main
from gatectl.coaching.notation import expand, parse_workout
from gatectl.coaching.paces import parse_race_distance, parse_race_time
from gatectl.config import parse_config
from gatectl.errors import ConfigError, PaceError, TraceError, WorkoutError
from gatectl.timing.trace import read_trace

HOSTILE = ["1e309", "1e400", "-1e309", "9" * 5000, str(2**63), str(2**64), str(-(2**63) - 1), "nan", "inf", "-inf",
           "1e999990", "", " ", "-0", "0", "1e-400", "0x10", "1_000", "٣", "²", "1,5", "30", "400", "\x00", "\u202e1"]  # fmt: skip

numbers_as_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers().map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=40),
)
json_values = st.one_of(
    numbers_as_text,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
workout_text = st.one_of(
    st.text(alphabet="0123456789 x()m.,:+@/R-rec between reps sets jog", max_size=200),
    st.builds(lambda n, unit: f"{n} x {unit}", numbers_as_text, st.sampled_from(["30m", "400 @ 1:20", "(100m. 2:00 Rec)"])),
    st.builds(lambda d: "2x(" * d + "30m" + ")" * d, st.integers(0, 700)),
    st.text(max_size=300),
)
FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
OK_STATUSES = {200, 201, 302, 400, 404, 409}


def _refused_with_a_sentence(response) -> bool:
    if response.status_code < 400:
        return True
    body = response.get_json(silent=True)
    text = body["error"] if body is not None else response.get_data(as_text=True)
    return bool(text.strip()) and "Traceback" not in text


# The dashboard -------------------------------------------------------------------------------------------


@FAST
@given(distance=numbers_as_text, field=st.sampled_from(["time", "per_km", "per_400m", "mps"]), value=numbers_as_text)
def test_pace_calculator(client, distance, field, value):
    response = client.get("/athletes", query_string={"distance": distance, field: value})
    assert response.status_code in (200, 400) and _refused_with_a_sentence(response)


@FAST
@given(value=numbers_as_text, name=st.sampled_from(["session", "athlete", "limit"]))
def test_query_numbers(client, value, name):
    for url in ("/api/runs", "/history"):
        response = client.get(url, query_string={name: value})
        assert response.status_code in OK_STATUSES and _refused_with_a_sentence(response)


@FAST
@given(path=st.sampled_from(["/api/runs/", "/api/athletes/", "/history/sessions/", "/athletes/"]), value=numbers_as_text)
def test_ids_in_the_address(client, path, value):
    response = client.get(path + value.replace("/", "").replace("?", "").replace("#", ""))
    assert response.status_code in OK_STATUSES and _refused_with_a_sentence(response)


@FAST
@given(
    endpoint=st.sampled_from([
        ("/api/athletes/{ana}/race-times", ("distance", "time", "kind")),
        ("/api/queue", ("op", "athlete", "position")),
        ("/api/clock", ("epoch_ms", "tz_minutes")),
        ("/api/sessions", ("accel_m", "fly_m", "layout", "method")),
        ("/api/runs/1/assign", ("athlete",)),
        ("/api/workout", ("text", "timing", "lap_m", "countdown_s")),
        ("/api/workout/ready", ("athlete",)),
        ("/api/athletes", ("name", "notes")),
    ]),
    values=st.lists(json_values, min_size=4, max_size=4),
    as_form=st.booleans(),
)
def test_json_and_form_bodies(coach, db_path, endpoint, values, as_form):
    url, fields = endpoint
    url = url.format(ana=athlete_id(db_path, "Ana Silva"))
    body = dict(zip(fields, values))
    if url == "/api/workout":
        body["athletes"] = []  # the notation is read, then the empty group refused: nothing starts
    if as_form:
        form = {k: (str(v) if v is not None else "") for k, v in body.items()} | {"csrf_token": coach.token}
        response = coach.post(url, data=form, headers={"X-CSRF-Token": coach.token})
    else:
        response = coach.post(url, json=body, headers={"X-CSRF-Token": coach.token})
    assert response.status_code in OK_STATUSES, (url, body, response.get_data(as_text=True)[:300])
    assert _refused_with_a_sentence(response)


# The command line --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.one_of(
        st.builds(lambda v: ["web", "--port", v], numbers_as_text),
        st.builds(lambda v: ["demo", "--port", v], numbers_as_text),
        st.builds(lambda v: ["recompute", "--session", v], numbers_as_text),
        st.builds(lambda v: ["athletes", "add", "Ana", "--best", f"400={v}"], numbers_as_text),
        st.builds(lambda v: ["athletes", "add", "Ana", "--best", f"{v}=50"], numbers_as_text),
        st.builds(lambda v: ["workout", "parse", "12 x 400 @ 10k pace", "--race", f"10k={v}"], numbers_as_text),
        st.builds(lambda v: ["workout", "parse", "3 x 30m", "--sprinter-factor", v], numbers_as_text),
        st.builds(lambda v: ["simulate", "--layout", "M1=0,M2=30", "--reps", v, "--out", "/nonexistent/x.csv"], numbers_as_text),
        st.builds(lambda v: ["simulate", "--layout", f"M1=0,M2={v}", "--out", "/nonexistent/x.csv"], numbers_as_text),
    )
)
def test_cli_arguments(args, capsys, tmp_path_factory):
    if args[0] in ("web", "demo", "recompute", "athletes"):
        args = [*args, "--db", str(tmp_path_factory.mktemp("db") / "g.db")]
    args = [" " + a if a[:1] == "-" and a[1:2].isdigit() else a for a in args]  # argparse reads -1 as an option
    try:
        if args[0] in ("web", "demo"):  # read the options only: these would serve the dashboard
            build_parser().parse_args(args)
            code = 0
        else:
            code = main(args)
    except SystemExit as exc:  # argparse: a bad option value
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err


@settings(max_examples=100, deadline=2000)
@given(workout_text)
def test_cli_and_core_read_any_workout_text(text):
    started = time.perf_counter()
    try:
        reps = expand(parse_workout(text))
    except WorkoutError as exc:
        assert str(exc).strip()
    else:
        assert 1 <= len(reps) <= 1000
    assert time.perf_counter() - started < 1


@settings(max_examples=100, deadline=2000)
@given(numbers_as_text)
def test_race_times_and_distances(text):
    for read in (parse_race_time, parse_race_distance):
        try:
            value = read(text)
        except PaceError as exc:
            assert len(str(exc)) < 400  # the text is quoted with its escapes, never 5000 digits
        else:
            assert 0 < value < 2**63


# Config and trace ---------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=2000)
@given(
    speed=st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70)),
    position=st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70)),
    rearm=st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70)),
    seed=st.integers(min_value=-(2**70), max_value=2**70),
    port=st.integers(min_value=-(2**70), max_value=2**70),
)
def test_config_numbers(speed, position, rearm, seed, port):
    data = {
        "source": {"kind": "sim", "speed": speed, "seed": seed},
        "detection": {"rearm_ms": rearm},
        "gates": [{"name": "M1", "position_m": 0}, {"name": "M2", "position_m": position}],
        "database": {"path": "g.db"},
        "web": {"port": port},
    }
    try:
        config = parse_config(data)
    except ConfigError as exc:
        assert len(str(exc)) < 300
    else:
        assert 0 < config.replay_speed <= 10_000 and 0 <= config.sim_seed < 2**63 and 1 <= config.port <= 65535
        assert all(abs(g.position_m) <= 10_000 for g in config.layout.gates)
        assert config.layout.settings.rearm_ns <= 60 * 10**9


@settings(max_examples=100, deadline=2000)
@given(st.lists(st.tuples(st.sampled_from(["M1", "M2", "", "M1 "]), numbers_as_text, st.sampled_from(["0", "1", "2", ""])), max_size=5))
def test_trace_lines(rows):
    text = "gate,t_ns,state\n" + "".join(f"{g},{t.replace(',', '').replace(chr(10), '')},{s}\n" for g, t, s in rows)
    try:
        edges = read_trace(io.StringIO(text), beams={"M1", "M2"})
    except TraceError as exc:
        assert str(exc).startswith("line ") and len(str(exc)) < 300
    else:
        assert all(-(2**63) < e.t_ns < 2**63 for e in edges)
