"""Workouts on the dashboard: the page, its forms, the JSON API, the live state, paces on athlete pages."""

import pytest
from helpers import PIN, athlete_id, basic, csrf, error, form, login, page_error, post, run_once, state_of

from gatectl.jsonable import jsonable
from gatectl.sim.sprinters import lap_edges
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge

S = NS_PER_S
FLYING = "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets."


def ids(db_path):
    return athlete_id(db_path, "Ana Silva"), athlete_id(db_path, "Ben Okafor")


def start(coach, db_path, **fields):
    ana, ben = ids(db_path)
    body = {"slug": "flying-30s", "athletes": [ana, ben], **fields}
    response = post(coach, "/api/workout", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["workout"]


# ---- The page --------------------------------------------------------------------------------------


def test_workouts_page_for_a_viewer(client):
    html = client.get("/workouts").get_data(as_text=True)
    assert "Log in as the coach" in html and "Flying 30s" in html and "12 x 400m @ 3K pace" in html
    assert 'id="start-form"' not in html


def test_workouts_page_without_gates_shows_the_library(history_app):
    html = history_app.test_client().get("/workouts").get_data(as_text=True)
    assert "No gates connected" in html or "no gates connected" in html
    assert "flying-30s" in html and 'id="start-form"' not in html


def test_the_coach_starts_a_workout_from_the_form(coach, db_path, daemon):
    html = coach.get("/workouts").get_data(as_text=True)
    assert 'id="start-form"' in html and "Ana Silva" in html and "M1=0,M2=30,M3=60" in html
    assert "reps of 30 m (the fly zone) or 60 m (the whole line)" in html  # what the gates time, before the coach picks
    ana, ben = ids(db_path)
    response = coach.post("/workouts", data={"csrf_token": coach.token, "slug": "flying-30s", "text": FLYING, "athletes": [str(ben), str(ana)]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/workouts")
    html = coach.get("/workouts").get_data(as_text=True)
    assert "Workout started in session 2: Ben Okafor is called first" in html
    assert "Under way: " + FLYING in html and "Next: <strong>Ben Okafor</strong>" in html
    assert "faster than 400m pace (3.75 s)" in html  # Ana's target, from her 50.0 s 400 m
    assert daemon.snapshot().queue == (ben, ana)
    with Store(db_path) as store:
        assert store.workout(2)["slug"] == "flying-30s"


@pytest.mark.parametrize(
    "fields, words, status",
    [
        ({"text": "3 x 3 x 30q"}, "Cannot read &#39;30q&#39; at column 9: unknown unit", 400),
        ({"text": "3 x (30m"}, "this bracket is never closed\n  3 x (30m\n      ^", 400),
        ({"slug": "", "text": ""}, "Workout: pick a session from the library or write one", 400),
        ({"slug": "nope"}, "No built-in workout &#39;nope&#39;", 400),
        ({"athletes": []}, "Athletes: choose at least one athlete", 400),
        ({"timing": "track", "lap_m": "5"}, "Lap must be from 50 to 1000 m", 400),
        ({"timing": "track", "countdown_s": "1"}, "Countdown must be from 3 to 60", 400),
        ({"timing": "track", "lap_gate": "X9"}, "Gate on the line must be one of M1, M2, M3", 400),
        ({"timing": "track", "start": "later"}, "Start must be one of go, rolling", 400),
        ({"kind": "fun-run"}, "Kind of workout must be one of", 400),
        ({"timing": "bike"}, "Timing must be one of flying, track", 400),
        ({"timing": "track", "group": "waves", "wave_s": "ninety"}, "Seconds between waves must be a number from 0 to 60 s, not &#39;ninety&#39;", 400),
        ({"timing": "track", "group": "waves", "wave_s": ""}, "Seconds between waves: give the gap, e.g. 5", 400),
        ({"timing": "track", "group": "relay"}, "The group runs must be one of one, together, waves", 400),
        ({"group": "together"}, "The group runs together on one gate in track reps only", 400),
        (
            {"slug": "", "text": "3 x 3 x 40m"},
            "The gates time 30 m (the fly zone, M2→M3) or 60 m (the whole line, M1→M3), not 40 m reps. "
            "Change the layout on Control so the fly zone is 40 m (e.g. M1=0,M2=30,M3=70), or write the reps as 30 m.",
            400,
        ),
    ],
)
def test_start_form_errors_come_back_with_the_form(coach, db_path, daemon, fields, words, status):
    ana, _ = ids(db_path)
    data = {"csrf_token": coach.token, "slug": "flying-30s", "athletes": [str(ana)], **fields}
    response = coach.post("/workouts", data=data)
    page_error(response, status, words)
    html = response.get_data(as_text=True)
    assert 'id="start-form"' in html and 'role="alert"' in html
    assert daemon.snapshot().workout is None and daemon.snapshot().session_id == 1


def test_a_caret_error_keeps_what_was_typed(coach, db_path, daemon):
    ana, _ = ids(db_path)
    html = coach.post("/workouts", data={"csrf_token": coach.token, "text": "4 x 50m. 1:30 Rec betwen reps", "athletes": [str(ana)]}).get_data(as_text=True)
    assert '<pre class="caret" id="text-error">' in html and ">4 x 50m. 1:30 Rec betwen reps</textarea>" in html
    assert f'value="{ana}" checked' in html


def test_taps_from_the_page(coach, db_path, daemon):
    start(coach, db_path)
    html = coach.get("/workouts").get_data(as_text=True)
    assert "Skip Ana Silva&#39;s rep" in html and "End the workout" in html
    response = form(coach, "/workouts/skip")
    assert response.status_code == 302
    assert "Workout: rep skipped." in coach.get("/workouts").get_data(as_text=True)
    assert daemon.snapshot().workout.next_up.name == "Ben Okafor"
    response = form(coach, "/workouts/ready", next="/")
    assert response.headers["Location"] == "/"
    response = form(coach, "/workouts/end", next="https://elsewhere.example/")
    assert response.headers["Location"].endswith("/workouts")
    assert daemon.snapshot().workout.finished
    assert "Finished: " in coach.get("/workouts").get_data(as_text=True)


def test_page_tap_errors_are_sentences(coach, db_path, daemon):
    response = form(coach, "/workouts/skip")
    page_error(response, 400, "No workout is running: start one on the Workouts page.")
    html = response.get_data(as_text=True)
    assert "<h1>Workouts</h1>" in html and 'id="error-taps"' in html and "Please check that" not in html  # on the page itself
    page_error(form(coach, "/workouts/dance"), 400, "Workout action must be one of ready, skip, repeat, end-set, end, go")


def test_workout_forms_need_the_coach_and_the_token(client, coach, db_path, daemon):
    assert client.post("/workouts", data={"slug": "flying-30s"}).status_code == 400  # no token
    with client.session_transaction() as session:
        session["csrf"] = "t"
    assert client.post("/workouts", data={"csrf_token": "t", "slug": "flying-30s"}).status_code == 401
    assert client.post("/workouts/skip", data={"csrf_token": "t"}).status_code == 401
    assert coach.post("/workouts/skip", data={}).status_code == 400


# ---- The JSON API -----------------------------------------------------------------------------------


def test_the_library_as_json(client):
    library = client.get("/api/workouts").get_json()["workouts"]
    assert library[0] == {
        "slug": "flying-30s", "name": "Flying 30s", "kind": "max-velocity", "text": FLYING,
        "note": library[0]["note"],
    }  # fmt: skip
    assert {"12x400-3k", "400-pace-2x4x100"} <= {w["slug"] for w in library}


def test_start_and_follow_a_workout_over_the_api(client, coach, db_path, daemon, gates):
    assert client.get("/api/workout").get_json() == {"connected": True, "workout": None}
    state = start(coach, db_path)
    ana, ben = ids(db_path)
    assert (state["status"], state["next"]["id"], state["set"], state["rep"], state["mode"]) == ("ready", ana, 1, 1, "line")
    called = jsonable(daemon.bus.latest("workout").data)["effects"]  # the live pages hear the call
    assert called == [{"cue": "call", "athlete": ana, "message": "Ana Silva: your turn, set 1 rep 1 of 3, 30 m, faster than 400m pace (3.75 s)"}]
    assert state["next"]["next"]["target"]["paces"][0]["race"] == "400m"
    run = run_once(gates, daemon)  # 3.1 s through the fly zone: beats 3.75 s
    assert (run["athlete_id"], run["set"], run["rep"]) == (ana, 1, 1)
    shown = client.get("/api/workout").get_json()["workout"]
    ana_view = shown["athletes"][0]
    assert ana_view["last"]["check"]["verdict"] == "beat" and ana_view["last"]["check"]["diff_s"] == pytest.approx(-0.65)
    assert ana_view["status"] == "resting" and 170 * S < ana_view["rest_left_ns"] <= 180 * S
    assert (shown["next"]["id"], shown["last"]["name"]) == (ben, "Ana Silva")
    assert client.get("/api/live").get_json()["workout"]["session"] == shown["session"]
    # A void reaches the workout: Ana runs the rep again.
    post(coach, f"/api/runs/{run['id']}/void", {"reason": "false start"})
    assert client.get("/api/workout").get_json()["workout"]["athletes"][0]["done"] == 0
    state = post(coach, "/api/workout/skip", {"athlete": ben}).get_json()["workout"]
    assert state["athletes"][1]["last"] is None and state["athletes"][1]["next"]["rep"] == 2
    assert post(coach, "/api/workout/end").get_json()["workout"]["finished"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"slug": 7}, "slug"),
        ({"text": ["30m"]}, "text"),
        ({"athletes": "1"}, "athletes"),
        ({"athletes": [999]}, "athletes"),
        ({"athletes": ["x"]}, "athletes"),
        ({"athletes": [1, 1]}, "athletes"),
        ({"kind": "sprint"}, "kind"),
        ({"timing": "track", "lap_m": "lots"}, "lap_m"),
        ({"timing": "track", "lap_gate": "Z"}, "lap_gate"),
        ({"timing": "track", "start": "now"}, "start"),
        ({"timing": "track", "countdown_s": 600}, "countdown_s"),
        ({"text": "400 @ 800m pace - 3:00"}, "text"),  # a target Ana cannot run: no time left
    ],
)
def test_start_refusals_name_the_field(coach, db_path, daemon, body, field):
    ana, _ = ids(db_path)
    error(post(coach, "/api/workout", {"slug": "flying-30s", "athletes": [ana], **body}), 400, field)
    assert daemon.snapshot().workout is None


def test_a_notation_error_points_at_the_part(coach, db_path, daemon):
    ana, _ = ids(db_path)
    response = post(coach, "/api/workout", {"text": "3 x x", "athletes": [ana]})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Workout: Cannot read 'x' at column 5: expected a distance such as 400m, or a group in brackets, after 'x'\n  3 x x\n      ^",
        "field": "text",
    }


def test_an_archived_athlete_cannot_join(coach, db_path, daemon):
    _, ben = ids(db_path)
    with Store(db_path) as store:
        store.update_athlete(ben, archived=True)
    assert "archived" in error(post(coach, "/api/workout", {"slug": "flying-30s", "athletes": [ben]}), 400, "athletes")


def test_tap_refusals_name_the_field(coach, db_path, daemon):
    assert "No workout is running" in error(post(coach, "/api/workout/skip"), 400, "action")
    start(coach, db_path)
    error(post(coach, "/api/workout/dance"), 400, "action")
    assert "not in this workout" in error(post(coach, "/api/workout/ready", {"athlete": 999}), 400, "athlete")
    error(post(coach, "/api/workout/ready", {"athlete": "x"}), 400, "athlete")
    assert "Go starts track reps" in error(post(coach, "/api/workout/go"), 400, "action")
    assert "no done rep to repeat" in error(post(coach, "/api/workout/repeat"), 400, "action")


def test_workout_api_needs_the_coach(client, app, db_path, daemon):
    ana, _ = ids(db_path)
    assert client.post("/api/workout", json={"slug": "flying-30s", "athletes": [ana]}).status_code == 400  # no CSRF token
    c = app.test_client()
    response = c.post("/api/workout", json={"slug": "flying-30s", "athletes": [ana]}, headers=basic(PIN))  # scripts: Basic auth
    assert response.status_code == 201
    assert c.post("/api/workout/end", json={}, headers=basic("0000")).status_code == 401


def test_no_gates_no_workout(history_app, db_path):
    c = history_app.test_client()
    assert login(c).status_code == 302
    assert c.get("/api/workout").get_json() == {"connected": False, "workout": None}
    response = c.post("/api/workout", json={"slug": "flying-30s", "athletes": [1]}, headers={"X-CSRF-Token": csrf(c)})
    assert response.status_code == 409


def test_read_only_refuses_workouts(read_only_app):
    c = read_only_app.test_client()
    assert c.post("/api/workout", json={}, headers=basic(PIN)).status_code == 409


def test_track_reps_with_a_go_over_the_api(coach, client, db_path, daemon, gates):
    ana, _ = ids(db_path)
    with Store(db_path) as store:
        store.set_race_time(ana, 3000, 600 * S)
    body = {"text": "2 x 400m @ 3K pace, 200m jog recovery", "athletes": [ana], "timing": "track", "lap_gate": "M1", "lap_m": "400", "start": "go", "countdown_s": 5}
    state = post(coach, "/api/workout", body).get_json()["workout"]
    assert (state["mode"], state["lap_gate"], state["lap_m"], state["start"], state["countdown_s"], state["kind"]) == ("track", "M1", 400.0, "go", 5.0, "track-reps")
    assert state["needs_go"] and state["next"]["next"]["target"]["time_s"] == 80.0
    assert [g["gate"] for g in client.get("/api/live").get_json()["layout"]["gates"]] == ["M1"]
    go_at = gates.now_ns()
    state = post(coach, "/api/workout/go").get_json()["workout"]
    assert state["status"] == "running" and state["lap"]["elapsed_ns"] < 0
    finish = go_at + 5 * S + 79 * S
    for edge in lap_edges(daemon.snapshot().layout.gate("M1"), [finish], speed_mps=5):
        gates.emit(edge)
    gates.set_now(finish + 2 * S)
    daemon.call(lambda: None)
    daemon.call(lambda: None)
    run = client.get("/api/runs?limit=1").get_json()["runs"][0]
    assert (run["lap"]["check"]["verdict"], run["rep"]) == ("on-target", 1)
    assert run["lap"]["time_s"] == pytest.approx(79.0, abs=0.01) and run["lap"]["check"]["diff_s"] == pytest.approx(-1.0, abs=0.01)
    html = client.get(f"/history/sessions/{run['session']}").get_data(as_text=True)
    assert "Track reps: gate <strong>M1</strong> on the line, 400 m lap" in html and "1:19.00" in html
    assert '<span class="verdict on-target">−1.00 s</span> vs 1:20.00' in html
    assert "Workout: 2 x 400m @ 3K pace, 200m jog recovery" in html


def test_a_bad_gap_between_waves_is_told_next_to_its_field_with_what_was_typed(coach, db_path, daemon):
    ana, ben = ids(db_path)
    data = {"csrf_token": coach.token, "slug": "flying-30s", "athletes": [str(ana), str(ben)], "timing": "track", "group": "waves", "wave_s": "99"}
    html = coach.post("/workouts", data=data).get_data(as_text=True)
    assert '<span class="field-error" role="alert" id="wave-s-error">Seconds between waves must be from 0 to 60 s, not 99.</span>' in html
    assert 'name="wave_s" id="wave-s" inputmode="decimal" size="3" value="99" aria-invalid="true"' in html
    assert '<option value="waves" selected>' in html


def test_a_group_rep_over_the_api_and_the_coachs_mark(coach, client, db_path, daemon, gates):
    """Ana and Ben run together; they finish side by side; the coach says the first across was Ben."""
    ana, ben = ids(db_path)
    body = {"text": "2 x 400m @ 1:20 / R1:00", "athletes": [ana, ben], "timing": "track", "group": "together", "countdown_s": 3}
    state = post(coach, "/api/workout", body).get_json()["workout"]
    assert (state["start"], state["wave_s"], state["needs_go"], state["group"]) == ("go", 0.0, True, None)
    go_at = gates.now_ns() + 3 * S
    state = post(coach, "/api/workout/go").get_json()["workout"]
    assert [a["elapsed_ns"] for a in state["group"]["athletes"]] == [-3 * S, -3 * S]
    gate = daemon.snapshot().layout.gate("M1")
    edges = sorted([*lap_edges(gate, [go_at + 80 * S], speed_mps=5, seed=1), *lap_edges(gate, [go_at + 80_400 * NS_PER_MS], speed_mps=5, seed=2)], key=lambda e: e.t_ns)
    for edge in edges:
        gates.emit(edge)
    gates.set_now(go_at + 100 * S)
    daemon.call(lambda: None)
    daemon.call(lambda: None)
    group = client.get("/api/workout").get_json()["workout"]["group"]
    assert group["done"] and [a["ambiguous"] for a in group["athletes"]] == [True, True]
    doubt = group["doubts"][0]
    assert (doubt["athlete"], doubt["could_be"], doubt["at_s"]) == (ana, [ana, ben], pytest.approx(80, abs=0.01))
    assert isinstance(doubt["crossing"], str)  # every nanosecond, beyond what a browser's numbers hold
    assert "did not run in that group rep" in error(post(coach, "/api/workout/mark", {"crossing": doubt["crossing"], "athlete": 999}), 400, "athlete")
    error(post(coach, "/api/workout/mark", {"crossing": "soon", "athlete": ben}), 400, "crossing")
    assert "not one of a group rep" in error(post(coach, "/api/workout/mark", {"crossing": "12", "athlete": ben}), 400, "athlete")
    html = coach.get("/workouts").get_data(as_text=True)
    assert "Crossing at 80.00 s: taken to be Ana Silva, but it may have been Ben Okafor. Who was it?" in html
    refused = coach.post("/workouts/mark", data={"csrf_token": coach.token, "crossing": doubt["crossing"], "athlete": "999"})
    page_error(refused, 400, "Athlete 999 did not run in that group rep.")
    response = coach.post("/workouts/mark", data={"csrf_token": coach.token, "crossing": doubt["crossing"], "athlete": str(ben)})
    assert response.status_code == 302
    state = client.get("/api/workout").get_json()["workout"]
    assert state["group"]["doubts"] == []
    times = {r["athlete"]: r["lap"]["time_s"] for r in client.get("/api/runs?limit=2").get_json()["runs"]}
    assert times == {"Ben Okafor": pytest.approx(80, abs=0.01), "Ana Silva": pytest.approx(80.4, abs=0.01)}


# ---- The live page, control, history ------------------------------------------------------------


def test_live_state_has_the_workout_and_the_coach_token(client, coach, db_path, daemon):
    assert state_of(client.get("/").get_data(as_text=True))["workout"] is None
    start(coach, db_path)
    viewer = state_of(client.get("/").get_data(as_text=True))
    assert viewer["workout"]["next"]["name"] == "Ana Silva"
    assert (viewer["coach"], viewer["csrf"]) == (False, None)
    mine = state_of(coach.get("/").get_data(as_text=True))
    assert (mine["coach"], mine["csrf"]) == (True, coach.token)
    assert "/workouts" in coach.get("/").get_data(as_text=True)


def test_control_says_the_workout_keeps_the_queue(coach, db_path, daemon):
    assert "A workout is under way" not in coach.get("/control").get_data(as_text=True)
    start(coach, db_path)
    assert "A workout is under way" in coach.get("/control").get_data(as_text=True)


def test_history_shows_the_workout_summary(coach, client, db_path, daemon, gates):
    state = start(coach, db_path, text="30m", slug="")
    run_once(gates, daemon)
    html = client.get(f"/history/sessions/{state['session']}").get_data(as_text=True)
    assert "Workout: 30m" in html and "Ben Okafor" in html
    assert '<td class="num">1/1</td>' in html  # Ana: one rep of one done


def test_the_workouts_page_shows_the_summary_when_the_workout_ends(coach, db_path, daemon, gates):
    start(coach, db_path, text="30m", slug="")
    run_once(gates, daemon)
    form(coach, "/workouts/end")  # Ben does not run
    html = coach.get("/workouts").get_data(as_text=True)
    assert "Finished: 30m" in html and "<h3>Summary</h3>" in html
    summary = html.split('<table class="list summary">')[1].split("</table>")[0]
    assert '<td class="strong">Ana Silva</td>' in summary and '<td class="strong">Ben Okafor</td>' in summary
    assert '<td class="num">1/1</td>' in summary  # Ana: one rep of one done
    assert "30 m: <strong>" in summary  # her best and mean over 30 m


def test_a_stray_crossing_at_a_track_session_is_not_a_rep(coach, client, db_path, daemon, gates):
    ana, _ = ids(db_path)
    post(coach, "/api/workout", {"text": "400 @ 1:20", "athletes": [ana], "timing": "track", "start": "go"})
    gates.emit(Edge("M2", gates.now_ns() + S, True))  # another gate of the layout: in the raw log only
    gates.emit(Edge("M2", gates.now_ns() + 80 * NS_PER_MS, False))
    daemon.call(lambda: None)
    assert client.get("/api/runs").get_json()["runs"] == []


# ---- Paces on athlete pages ------------------------------------------------------------------------


def test_athlete_page_shows_pace_equivalents(client, db_path):
    ana, _ = ids(db_path)
    html = client.get(f"/athletes/{ana}").get_data(as_text=True)
    assert "per km" in html and "km/h" in html
    assert "2:05.00" in html  # 50.0 s for 400 m is 2:05 per km
    assert "8.00" in html and "28.8" in html  # m/s, km/h


@pytest.mark.parametrize(
    "query, shown",
    [
        ("distance=10k&time=35:00", ["35:00.00", "3:30.00", "1:24.00", "4.76", "17.1"]),
        ("distance=10k&per_km=3:30", ["35:00.00", "1:24.00"]),
        ("distance=5k&per_400m=1:20", ["16:40.00", "3:20.00"]),
        ("distance=400&mps=8", ["50.00", "2:05.00"]),
    ],
)
def test_pace_calculator(client, query, shown):
    html = client.get("/athletes?" + query).get_data(as_text=True)
    assert 'id="pace-result"' in html
    for text in shown:
        assert text in html


@pytest.mark.parametrize(
    "query, words",
    [
        ("distance=far&time=1:00", "Distance: Race distance &#39;far&#39;"),
        ("distance=10k", "Give one of: the race time"),
        ("distance=10k&time=35:00&per_km=3:30", "Give one of"),
        ("distance=10k&time=soon", "Race time &#39;soon&#39; must look like"),
        ("distance=400&mps=40", "Velocity must be from 0.1 to 15 m/s"),
        ("time=35:00", "Distance is required"),
    ],
)
def test_pace_calculator_errors(client, query, words):
    page_error(client.get("/athletes?" + query), 400, words)


def test_workouts_script_is_served(client):
    response = client.get("/static/workouts.js")
    assert response.status_code == 200 and b"data-count-ms" in response.data
    response.close()
