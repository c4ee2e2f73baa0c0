"""The JSON API: reading, changing (coach only, CSRF), and every refusal as a sentence."""


import pytest
from helpers import PIN, athlete_id, basic, csrf, error, post, run_once

from gatectl.store import Store
from gatectl.timing.model import NS_PER_S

# Reading --------------------------------------------------------------------------------


def test_runs_newest_first_with_the_replay_report(client, gates, daemon, db_path):
    first = run_once(gates, daemon)
    second = run_once(gates, daemon, (0, 3.4, 6.4))
    runs = client.get("/api/runs").get_json()["runs"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]]
    run = runs[0]
    assert run["status"] == "complete" and run["session"] == daemon.snapshot().session_id
    assert run["fly"]["time_ns"] == 3_000_000_000 and run["fly"]["distance_m"] == 30.0
    assert [s["from"] + s["to"] for s in run["segments"]] == ["M1M2", "M2M3"]
    assert {"number", "crossings", "vs_pace", "reason", "athlete", "athlete_id", "voided", "void_reason"} <= set(run)


def test_runs_filters(client, gates, daemon, db_path):
    ana = athlete_id(db_path, "Ana Silva")
    daemon.set_queue([ana])
    run_once(gates, daemon, (0, 3.5, 6.5))
    run_once(gates, daemon)
    assert len(client.get(f"/api/runs?athlete={ana}").get_json()["runs"]) == 1
    assert len(client.get(f"/api/runs?session={daemon.snapshot().session_id}&status=complete&limit=1").get_json()["runs"]) == 1
    assert client.get("/api/runs?status=rejected").get_json()["runs"] == []
    pct = client.get(f"/api/runs?athlete={ana}").get_json()["runs"][0]["vs_pace"]["400m"]
    assert pct["faster"] is True and pct["percent"] == 125.0  # 10 m/s against 50.0 s for 400 m


@pytest.mark.parametrize(
    "query, field",
    [("session=abc", "session"), ("athlete=1.5", "athlete"), ("limit=0", "limit"), ("limit=99999", "limit"), ("status=done", "status"), ("session=-3", "session")],
)
def test_runs_bad_filters_name_the_field(client, query, field):
    error(client.get(f"/api/runs?{query}"), 400, field)


def test_runs_of_unknown_session_or_athlete_are_404(client):
    assert "no session 99" in error(client.get("/api/runs?session=99"), 404)
    assert "no athlete 99" in error(client.get("/api/runs?athlete=99"), 404)


def test_one_run(client, gates, daemon):
    run = run_once(gates, daemon)
    assert client.get(f"/api/runs/{run['id']}").get_json()["fly"] == run["fly"]
    error(client.get("/api/runs/12345"), 404)
    assert client.get("/api/runs/abc").status_code == 404


def test_sessions_and_one_session(client, gates, daemon):
    run_once(gates, daemon)
    sessions = client.get("/api/sessions").get_json()["sessions"]
    assert sessions[0]["id"] == daemon.snapshot().session_id and sessions[0]["complete_runs"] == 1
    one = client.get(f"/api/sessions/{daemon.snapshot().session_id}").get_json()
    assert one["layout"] == "M1=0,M2=30,M3=60" and one["place"] == "Club track" and len(one["runs"]) == 1
    error(client.get("/api/sessions/77"), 404)


def test_athletes(client, db_path):
    athletes = client.get("/api/athletes").get_json()["athletes"]
    assert [a["name"] for a in athletes] == ["Ana Silva", "Ben Okafor"]
    ana = client.get(f"/api/athletes/{athletes[0]['id']}").get_json()
    assert {(t["distance_m"], t["kind"], t["time_ns"]) for t in ana["race_times"]} == {(400.0, "best", 50 * NS_PER_S), (800.0, "best", 115 * NS_PER_S)}
    error(client.get("/api/athletes/404"), 404)
    error(client.get("/api/athletes?archived=maybe"), 400, "archived")
    assert len(client.get("/api/athletes?archived=1").get_json()["athletes"]) == 2


def test_gates_queue_and_live_state(client, daemon, gates, db_path):
    gates_view = client.get("/api/gates").get_json()
    assert gates_view["connected"] is True
    assert [(g["gate"], g["state"]) for g in gates_view["gates"]] == [("M1", "clear"), ("M2", "clear"), ("M3", "clear")]
    assert client.get("/api/queue").get_json() == {"connected": True, "athletes": []}
    run = run_once(gates, daemon)
    live = client.get("/api/live").get_json()
    assert live["connected"] is True and live["armed"] is True
    assert live["session"]["id"] == daemon.snapshot().session_id and live["layout"]["fly_m"] == 30.0
    assert [r["id"] for r in live["runs"]] == [run["id"]]
    assert live["since"] >= 1 and live["boot"]


def test_without_gates_the_api_says_so(history_app):
    c = history_app.test_client()
    assert c.get("/api/gates").get_json() == {"connected": False, "gates": []}
    assert c.get("/api/queue").get_json() == {"connected": False, "athletes": []}
    live = c.get("/api/live").get_json()
    assert live["connected"] is False and live["message"] == "History only — no gates connected."


def test_unknown_api_path_and_wrong_method_answer_json(client):
    error(client.get("/api/nothing"), 404)
    response = client.delete("/api/runs")
    error(response, 405)


# Who may change things ---------------------------------------------------------------------

MUTATIONS = [
    ("post", "/api/armed", {"armed": False}),
    ("post", "/api/queue", {"op": "clear"}),
    ("put", "/api/queue", {"athletes": []}),
    ("post", "/api/sessions", {"accel_m": 30, "fly_m": 40}),
    ("post", "/api/clock", {"epoch_ms": 1_750_000_000_000}),
    ("post", "/api/athletes", {"name": "Cleo"}),
    ("patch", "/api/athletes/1", {"notes": "x"}),
    ("post", "/api/athletes/1/race-times", {"distance": "400", "time": "52.0"}),
    ("post", "/api/runs/1/void", {"reason": "false start"}),
    ("post", "/api/runs/1/unvoid", {}),
    ("post", "/api/runs/1/assign", {"athlete": 1}),
    ("post", "/api/runs/1/corrections", {"kind": "set-athlete", "athlete": 1}),
    ("post", "/api/corrections/1/undo", {}),
]


@pytest.mark.parametrize("method, url, body", MUTATIONS)
def test_changes_need_the_coach(client, method, url, body):
    token = csrf(client)
    response = getattr(client, method)(url, json=body, headers={"X-CSRF-Token": token})
    assert "Log in as the coach" in error(response, 401)


@pytest.mark.parametrize("method, url, body", MUTATIONS)
def test_changes_need_the_csrf_header(coach, method, url, body):
    response = getattr(coach, method)(url, json=body)
    assert "security token" in error(response, 400)
    response = getattr(coach, method)(url, json=body, headers={"X-CSRF-Token": "forged"})
    error(response, 400)


@pytest.mark.parametrize("method, url, body", MUTATIONS)
def test_read_only_copy_refuses_every_change(read_only_app, method, url, body):
    c = read_only_app.test_client()
    response = getattr(c, method)(url, json=body, headers=basic(PIN))
    assert "read-only" in error(response, 409)


def test_without_a_password_nothing_can_change(db_path, daemon):
    from gatectl.web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "t"}, db_path=db_path, daemon=daemon)
    response = app.test_client().post("/api/armed", json={"armed": False}, headers=basic("anything"))
    assert "gatectl set-password" in error(response, 403)


def test_basic_auth_works_for_scripts_without_csrf(client, daemon):
    response = client.post("/api/armed", json={"armed": False}, headers=basic(PIN))
    assert response.status_code == 200 and response.get_json() == {"armed": False}
    assert daemon.snapshot().armed is False
    error(client.post("/api/armed", json={"armed": True}, headers=basic("0000")), 401)
    assert daemon.snapshot().armed is False


def test_wrong_passwords_are_rate_limited(app):
    c = app.test_client()
    for _ in range(app.config["LOGIN_ATTEMPTS"]):
        error(c.post("/api/armed", json={"armed": False}, headers=basic("0000")), 401)
    assert "Too many wrong passwords" in error(c.post("/api/armed", json={"armed": False}, headers=basic(PIN)), 429)


# Gates, queue, sessions -----------------------------------------------------------------------


def test_arm_and_disarm(coach, daemon):
    assert post(coach, "/api/armed", {"armed": False}).get_json() == {"armed": False}
    assert daemon.snapshot().armed is False
    assert post(coach, "/api/armed", {"armed": "true"}).get_json() == {"armed": True}
    assert daemon.snapshot().armed is True


@pytest.mark.parametrize("body, field", [({}, "armed"), ({"armed": "perhaps"}, "armed"), ({"armed": 1.5}, "armed")])
def test_arm_validation(coach, body, field):
    error(post(coach, "/api/armed", body), 400, field)


def test_body_must_be_a_json_object(coach):
    error(post(coach, "/api/armed", [1, 2]), 400, "body")
    response = coach.post("/api/armed", data="{not json", content_type="application/json", headers={"X-CSRF-Token": coach.token})
    error(response, 400, "body")


def test_queue_operations(coach, daemon, db_path):
    ana, ben = athlete_id(db_path, "Ana Silva"), athlete_id(db_path, "Ben Okafor")
    assert post(coach, "/api/queue", {"op": "add", "athlete": ana}).get_json() == {"athletes": [ana]}
    assert post(coach, "/api/queue", {"op": "next", "athlete": ben}).get_json() == {"athletes": [ben, ana]}
    assert post(coach, "/api/queue", {"op": "up", "position": 1}).get_json() == {"athletes": [ana, ben]}
    assert post(coach, "/api/queue", {"op": "up", "position": 0}).get_json() == {"athletes": [ana, ben]}
    assert post(coach, "/api/queue", {"op": "remove", "position": 0}).get_json() == {"athletes": [ben]}
    assert post(coach, "/api/queue", {"athletes": [ana, ana, ben]}, method="put").get_json() == {"athletes": [ana, ana, ben]}
    assert post(coach, "/api/queue", {"op": "clear"}).get_json() == {"athletes": []}
    assert daemon.snapshot().queue == ()


def test_each_new_run_goes_to_the_head_of_the_queue(coach, daemon, gates, db_path):
    ana, ben = athlete_id(db_path, "Ana Silva"), athlete_id(db_path, "Ben Okafor")
    post(coach, "/api/queue", {"athletes": [ben, ana]}, method="put")
    assert run_once(gates, daemon)["athlete"] == "Ben Okafor"
    assert run_once(gates, daemon)["athlete"] == "Ana Silva"
    assert coach.get("/api/queue").get_json()["athletes"] == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"op": "shuffle"}, "op"),
        ({"op": "add"}, "athlete"),
        ({"op": "add", "athlete": "Ana"}, "athlete"),
        ({"op": "add", "athlete": 999}, "athlete"),
        ({"op": "remove", "position": 5}, "position"),
        ({"op": "remove", "position": -1}, "position"),
        ({"op": "set", "athletes": "1,2"}, "athletes"),
        ({"op": "set", "athletes": [1, "x"]}, "athletes"),
        ({"op": "set", "athletes": [999]}, "athletes"),
        ({"op": "set", "athletes": [1] * 101}, "athletes"),
    ],
)
def test_queue_validation(coach, body, field):
    error(post(coach, "/api/queue", body), 400, field)


def test_archived_athletes_cannot_be_queued(coach, db_path):
    ben = athlete_id(db_path, "Ben Okafor")
    post(coach, f"/api/athletes/{ben}", {"archived": True}, method="patch")
    assert "archived" in error(post(coach, "/api/queue", {"op": "add", "athlete": ben}), 400, "athlete")


def test_start_a_session_with_the_day_s_distances(coach, daemon):
    old = daemon.snapshot().session_id
    response = post(coach, "/api/sessions", {"accel_m": "28.5", "fly_m": 40, "method": "first", "place": "Stadium"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"session": daemon.snapshot().session_id, "layout": "M1=0,M2=28.5,M3=68.5", "method": "first"}
    assert daemon.snapshot().session_id != old and daemon.snapshot().layout.fly_zone.distance_m == 40
    session = coach.get(f"/api/sessions/{daemon.snapshot().session_id}").get_json()
    assert session["place"] == "Stadium" and session["method"] == "first"


def test_start_a_session_with_a_whole_layout(coach, daemon):
    response = post(coach, "/api/sessions", {"layout": "M1=0,M2=20,M3=50"})
    assert response.status_code == 201 and daemon.snapshot().layout.describe() == "M1=0,M2=20,M3=50"


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"accel_m": "x", "fly_m": 30}, "accel_m", "Acceleration zone"),
        ({"accel_m": 30}, "fly_m", "Fly zone"),
        ({"accel_m": -5, "fly_m": 30}, "accel_m", "from 0.5"),
        ({"accel_m": "nan", "fly_m": 30}, "accel_m", "Acceleration zone"),
        ({"accel_m": 30, "fly_m": 30, "method": "laser"}, "method", "Detection method"),
        ({"accel_m": 30, "fly_m": 30, "method": "dual"}, "method", "wired as beams"),
        ({"layout": "M1=0,M2=x"}, "layout", "must be a number"),
        ({"layout": "A=0,B=30,C=60"}, "layout", "wired as beams"),
        ({"layout": "M1=0,M2=30"}, "layout", "wired as beams"),
        ({"layout": "M1=0,M2=60,M3=30"}, "layout", "running order"),
        ({"accel_m": 30, "fly_m": 30, "place": "x" * 81}, "place", "Place"),
    ],
)
def test_session_validation(coach, daemon, body, field, words):
    old = daemon.snapshot().session_id
    assert words in error(post(coach, "/api/sessions", body), 400, field)
    assert daemon.snapshot().session_id == old


def test_control_actions_need_gates(history_app):
    c = history_app.test_client()
    for url, body in (("/api/armed", {"armed": True}), ("/api/queue", {"op": "clear"}), ("/api/sessions", {"accel_m": 30, "fly_m": 30})):
        assert "no gates connected" in error(c.post(url, json=body, headers=basic(PIN)), 409)


# Runs --------------------------------------------------------------------------------------------


def test_void_unvoid_and_reassign_reach_live_viewers(coach, daemon, gates, db_path):
    """A reassign of a run through the gates is a set-athlete correction: the run carries on under its new id,
    live viewers are told (``corrected``, then the run), and the void stays with it."""
    run = run_once(gates, daemon)
    sub = daemon.bus.subscribe()
    voided = post(coach, f"/api/runs/{run['id']}/void", {"reason": " false start "}).get_json()
    assert voided["voided"] is True and voided["void_reason"] == "false start"
    ben = athlete_id(db_path, "Ben Okafor")
    to_ben = post(coach, f"/api/runs/{run['id']}/assign", {"athlete": ben}).get_json()
    assert to_ben["athlete"] == "Ben Okafor"
    nobody = post(coach, f"/api/runs/{to_ben['id']}/assign", {"athlete": None}).get_json()
    assert nobody["athlete_id"] is None
    assert post(coach, f"/api/runs/{nobody['id']}/unvoid").get_json()["voided"] is False
    published = []
    while (event := sub.get(timeout=1)) is not None:
        published.append(event)
    sub.close()
    assert [e.kind for e in published] == ["run", "corrected", "run", "corrected", "run", "run"]
    runs = [e.data for e in published if e.kind == "run"]
    assert [r.id for r in runs] == [run["id"], to_ben["id"], nobody["id"], nobody["id"]]
    assert [r.voided for r in runs] == [True, True, True, False]
    assert [r.athlete for r in runs] == [run["athlete"], "Ben Okafor", None, None]


@pytest.mark.parametrize(
    "url, body, status, field",
    [
        ("void", {}, 400, "reason"),
        ("void", {"reason": "   "}, 400, "reason"),
        ("void", {"reason": "x" * 201}, 400, "reason"),
        ("void", {"reason": 5}, 400, "reason"),
        ("assign", {"athlete": "Ben"}, 400, "athlete"),
        ("assign", {"athlete": 999}, 400, "athlete"),
        ("assign", {"athlete": True}, 400, "athlete"),
    ],
)
def test_run_fix_validation(coach, daemon, gates, url, body, status, field):
    run = run_once(gates, daemon)
    error(post(coach, f"/api/runs/{run['id']}/{url}", body), status, field)


def test_fixing_an_unknown_run_is_404(coach):
    error(post(coach, "/api/runs/999/void", {"reason": "x"}), 404)
    error(post(coach, "/api/runs/999/unvoid"), 404)
    error(post(coach, "/api/runs/999/assign", {"athlete": None}), 404)


# Athletes -------------------------------------------------------------------------------------------


def test_add_edit_archive_an_athlete(coach):
    response = post(coach, "/api/athletes", {"name": "  Cleo Park ", "notes": "800 m"})
    assert response.status_code == 201
    cleo = response.get_json()
    assert cleo["name"] == "Cleo Park" and cleo["notes"] == "800 m" and cleo["archived"] == 0
    url = f"/api/athletes/{cleo['id']}"
    assert post(coach, url, {"name": "Cleo P.", "notes": ""}, method="patch").get_json()["name"] == "Cleo P."
    assert post(coach, url, {"archived": "1"}, method="patch").get_json()["archived"] == 1
    assert "Cleo P." not in [a["name"] for a in coach.get("/api/athletes").get_json()["athletes"]]
    assert post(coach, url, {"archived": False}, method="patch").get_json()["archived"] == 0


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({}, "name", "Name is required"),
        ({"name": "  "}, "name", "Name is required"),
        ({"name": "x" * 81}, "name", "at most 80"),
        ({"name": "ana silva"}, "name", "already an athlete"),
        ({"name": 42}, "name", "must be text"),
        ({"name": "Bad\x00Name"}, "name", "control characters"),
        ({"name": "Ok", "notes": "n" * 2001}, "notes", "Notes"),
    ],
)
def test_athlete_validation(coach, body, field, words):
    assert words in error(post(coach, "/api/athletes", body), 400, field)


def test_edit_athlete_validation(coach, db_path):
    ben = athlete_id(db_path, "Ben Okafor")
    assert "already an athlete" in error(post(coach, f"/api/athletes/{ben}", {"name": "Ana Silva"}, method="patch"), 400, "name")
    error(post(coach, f"/api/athletes/{ben}", {"name": ""}, method="patch"), 400, "name")
    error(post(coach, f"/api/athletes/{ben}", {"archived": "soon"}, method="patch"), 400, "archived")
    error(post(coach, "/api/athletes/999", {"name": "X"}, method="patch"), 404)


def test_race_times_set_and_clear(coach, db_path):
    ben = athlete_id(db_path, "Ben Okafor")
    url = f"/api/athletes/{ben}/race-times"
    athlete = post(coach, url, {"distance": "800m", "time": "1:58.4", "kind": "goal"}).get_json()
    assert athlete["race_times"] == [{"distance_m": 800.0, "kind": "goal", "time_ns": 118_400_000_000}]
    athlete = post(coach, url, {"distance": 400, "time": "52.1"}).get_json()
    assert {"distance_m": 400.0, "kind": "best", "time_ns": 52_100_000_000} in athlete["race_times"]
    athlete = post(coach, url, {"distance": "400", "time": ""}).get_json()
    assert all(t["distance_m"] != 400.0 for t in athlete["race_times"])


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"time": "52.0"}, "distance", "Distance is required"),
        ({"distance": "far", "time": "52.0"}, "distance", "Distance"),
        ({"distance": "-400", "time": "52.0"}, "distance", "Distance"),
        ({"distance": "2000k", "time": "52.0"}, "distance", "1000 km"),
        ({"distance": "400", "time": "fast"}, "time", "Time"),
        ({"distance": "400", "time": "1:75"}, "time", "under 60"),
        ({"distance": "400", "time": "4.5"}, "time", "no race is run at"),
        ({"distance": "400", "time": "99:00:00"}, "time", "no race is run at"),
        ({"distance": "400", "time": "52", "kind": "dream"}, "kind", "Kind"),
    ],
)
def test_race_time_validation(coach, db_path, body, field, words):
    ana = athlete_id(db_path, "Ana Silva")
    assert words in error(post(coach, f"/api/athletes/{ana}/race-times", body), 400, field)


# The Pi's clock ----------------------------------------------------------------------------------------


def test_set_the_date_from_a_phone(coach, daemon, db_path):
    epoch_ms = 1_780_000_000_000  # 2026-05-28
    body = post(coach, "/api/clock", {"epoch_ms": epoch_ms, "tz_minutes": 120}).get_json()
    assert body["date"] == "2026-05-28" and body["session"] == daemon.snapshot().session_id
    assert "not tried" in body["system_clock"]
    with Store(db_path, migrate=False) as store:
        assert store.session(daemon.snapshot().session_id)["date"] == "2026-05-28"
    post(coach, "/api/sessions", {"accel_m": 30, "fly_m": 30})
    assert coach.get(f"/api/sessions/{daemon.snapshot().session_id}").get_json()["date"] == "2026-05-28"


def test_setting_the_system_clock_reports_a_refusal(app, coach, monkeypatch):
    import subprocess

    app.config["SET_SYSTEM_CLOCK"] = True

    class Done:
        returncode, stdout, stderr = 1, "", "date: cannot set date: Operation not permitted"

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args) or Done())
    body = post(coach, "/api/clock", {"epoch_ms": 1_780_000_000_000}).get_json()
    assert calls and calls[0][:3] == ["date", "-u", "-s"]
    assert body["system_clock"] == "not set: date: cannot set date: Operation not permitted"
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: (_ for _ in ()).throw(FileNotFoundError("no date")))
    assert post(coach, "/api/clock", {"epoch_ms": 1_780_000_000_000}).get_json()["system_clock"].startswith("not set")


@pytest.mark.parametrize(
    "body, field",
    [({}, "epoch_ms"), ({"epoch_ms": "soon"}, "epoch_ms"), ({"epoch_ms": 5}, "epoch_ms"), ({"epoch_ms": 1_780_000_000_000, "tz_minutes": 9999}, "tz_minutes")],
)
def test_clock_validation(coach, body, field):
    error(post(coach, "/api/clock", body), 400, field)


# Failures never leak ----------------------------------------------------------------------------------------


def test_an_unexpected_error_is_a_sentence(client, monkeypatch):
    monkeypatch.setattr(Store, "sessions", lambda self: 1 / 0)
    message = error(client.get("/api/sessions"), 500)
    assert "went wrong" in message


def test_a_silent_daemon_is_a_503(client, daemon, monkeypatch):
    monkeypatch.setattr(daemon, "snapshot", lambda: (_ for _ in ()).throw(TimeoutError("the daemon did not answer")))
    assert "did not answer" in error(client.get("/api/gates"), 503)


def test_oversized_bodies_are_refused(coach):
    response = coach.post("/api/athletes", data="x" * 300_000, content_type="application/json", headers={"X-CSRF-Token": coach.token})
    error(response, 413)
