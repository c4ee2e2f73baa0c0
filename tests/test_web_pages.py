"""The pages: live, control, athletes, history, export, login; forms, CSRF and refusals."""

import re
from pathlib import Path

import pytest
from helpers import PIN, athlete_id, csrf, form, page_error, run_once, set_pin, state_of

from gatectl.errors import StoreError
from gatectl.store import Store

WEB = Path(__file__).resolve().parent.parent / "web"


# Live ----------------------------------------------------------------------------------------


def test_live_page_before_any_run(client, daemon):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Waiting for the first run" in html and 'src="/static/live.js"' in html
    state = state_of(html)
    assert state["connected"] is True and state["runs"] == [] and state["session"]["id"] == daemon.snapshot().session_id
    assert [g["gate"] for g in state["layout"]["gates"]] == ["M1", "M2", "M3"]
    assert "Set-Cookie" not in response.headers  # viewers get no cookie


def test_live_page_carries_the_session_s_runs(client, gates, daemon, db_path):
    daemon.set_queue([athlete_id(db_path, "Ana Silva")])
    run = run_once(gates, daemon, (0, 3.4, 6.4))
    state = state_of(client.get("/").get_data(as_text=True))
    assert [r["id"] for r in state["runs"]] == [run["id"]]
    shown = state["runs"][0]
    assert shown["fly"]["time_s"] == 3.0 and shown["athlete"] == "Ana Silva"
    assert shown["vs_pace"]["400m"]["faster"] is True
    assert state["since"] >= 1


def test_live_page_names_are_escaped_in_the_state(client, gates, daemon, db_path):
    with Store(db_path, migrate=False) as store:
        evil = store.add_athlete("</script><script>alert(1)</script>")
    daemon.set_queue([evil])
    run_once(gates, daemon)
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert state_of(html)["runs"][0]["athlete"] == "</script><script>alert(1)</script>"


def test_live_page_without_gates(history_app):
    html = history_app.test_client().get("/").get_data(as_text=True)
    state = state_of(html)
    assert state["connected"] is False and state["message"] == "History only — no gates connected."


def test_kiosk_mode_for_the_hdmi_screen(client):
    assert 'class="live kiosk"' in client.get("/?kiosk=1").get_data(as_text=True)


def test_live_page_weight_and_no_external_requests(client):
    html = client.get("/").get_data()
    assets = re.findall(rb'(?:src|href)="(/static/[^"]+)"', html)
    assert sorted(assets) == [b"/static/app.js", b"/static/live.css", b"/static/live.js", b"/static/stream.js"]  # app.js: the theme switch and durations, shared
    total = len(html)
    for asset in assets:
        response = client.get(asset.decode())
        total += len(response.get_data())
        response.close()
    assert total < 150 * 1024, total
    assert b'rel="icon" href="data:,"' in html  # no /favicon.ico request either


def test_no_external_url_anywhere_in_web():
    allowed = {"http://www.w3.org/2000/svg"}
    for path in WEB.rglob("*"):
        if path.suffix in (".py", ".html", ".js", ".css"):
            for url in re.findall(r"https?://[^\s\"'<>)]+", path.read_text(encoding="utf-8")):
                assert url in allowed, f"{path}: {url}"
            assert "@import" not in path.read_text(encoding="utf-8") and "url(" not in path.read_text(encoding="utf-8").replace("url_for(", "")


def test_static_files_are_served(client):
    for name in ("live.js", "live.css", "app.css", "app.js", "control.js", "stream.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        response.close()


# Control ----------------------------------------------------------------------------------------


def test_control_for_a_viewer(client):
    html = client.get("/control").get_data(as_text=True)
    assert "Log in as the coach" in html and "Disarm the gates" not in html and "ARMED" in html


def test_control_without_a_password_says_how_to_set_one(db_path, daemon):
    from gatectl.web import create_app

    html = create_app({"TESTING": True, "SECRET_KEY": "t"}, db_path=db_path, daemon=daemon).test_client().get("/control").get_data(as_text=True)
    assert "gatectl set-password" in html


def test_control_without_gates(history_app):
    html = history_app.test_client().get("/control").get_data(as_text=True)
    assert "History only — no gates connected." in html and "Disarm" not in html


def test_control_for_the_coach(coach, gates, daemon):
    run_once(gates, daemon)
    html = coach.get("/control").get_data(as_text=True)
    for words in ("Disarm the gates", "Who runs next", "Ana Silva", "Void", "Reassign", "Start a new session", "Set the Pi's date from this phone", 'name="accel_m"', 'value="30"'):
        assert words in html, words


def test_control_forms(coach, gates, daemon, db_path):
    ana = athlete_id(db_path, "Ana Silva")
    response = form(coach, "/control/armed", armed="false")
    assert response.status_code == 302 and response.headers["Location"] == "/control"
    assert daemon.snapshot().armed is False
    assert "Gates disarmed" in coach.get("/control").get_data(as_text=True)
    form(coach, "/control/armed", armed="true")
    form(coach, "/control/queue", op="add", athlete=str(ana))
    form(coach, "/control/queue", op="next", athlete=str(athlete_id(db_path, "Ben Okafor")))
    assert len(daemon.snapshot().queue) == 2
    form(coach, "/control/queue", op="remove", position="0")
    assert daemon.snapshot().queue == (ana,)
    run = run_once(gates, daemon)
    assert run["athlete"] == "Ana Silva"
    response = form(coach, f"/control/runs/{run['id']}/void", reason="false start")
    assert response.headers["Location"] == f"/control#run-{run['id']}"  # back at the run just fixed, not the top of the page
    assert "voided: false start" in coach.get("/control").get_data(as_text=True)
    form(coach, f"/control/runs/{run['id']}/unvoid")
    response = form(coach, f"/control/runs/{run['id']}/correct", kind="set-athlete", athlete="")  # Reassign, as the page sends it
    fixed = int(response.headers["Location"].rsplit("#run-", 1)[1])  # the run carried on by the correction, open
    assert coach.get(f"/api/runs/{fixed}").get_json()["athlete"] is None
    response = form(coach, f"/control/runs/{fixed}/assign", athlete=str(ana))  # the old address: the same correction
    again = int(response.headers["Location"].rsplit("#run-", 1)[1])
    assert coach.get(f"/api/runs/{again}").get_json()["athlete"] == "Ana Silva"
    assert [h["kind"] for h in coach.get(f"/api/runs/{again}/crossings").get_json()["history"]] == ["set-athlete", "set-athlete"]
    form(coach, "/control/clock", epoch_ms="1780000000000", tz_minutes="60")
    assert "Date set from this device: 2026-05-28" in coach.get("/control").get_data(as_text=True)
    old = daemon.snapshot().session_id
    response = form(coach, "/control/session", accel_m="25", fly_m="40", method="longest", place="Track 2", layout="")
    assert response.status_code == 302 and daemon.snapshot().session_id == old + 1
    assert "Session" in coach.get("/control").get_data(as_text=True)


@pytest.mark.parametrize(
    "url, fields, words",
    [
        ("/control/armed", {}, "Armed is required"),
        ("/control/queue", {"op": "add", "athlete": "x"}, "Athlete must be a whole number"),
        ("/control/session", {"accel_m": "thirty", "fly_m": "30"}, "Acceleration zone (M1→M2) must be a number"),
        ("/control/clock", {"epoch_ms": ""}, "epoch_ms"),
        ("/control/runs/999/void", {"reason": "x"}, "There is no run 999"),
    ],
)
def test_control_form_errors_come_back_on_the_control_page_with_a_sentence(coach, url, fields, words):
    response = form(coach, url, **fields)
    page_error(response, 404 if "no run" in words else 400, words)
    html = response.get_data(as_text=True)
    assert "<h1>Control</h1>" in html and 'class="field-error" role="alert"' in html
    assert "Please check that" not in html and "Go back" not in html  # no separate error page


def test_a_refused_layout_shows_the_positions_it_got_and_keeps_what_was_typed(coach, daemon):
    session = daemon.snapshot().session_id
    response = form(coach, "/control/session", layout="M1=0,M3=60,M2=30", place="Track 2", method="longest")
    page_error(response, 400, "Layout: Gates must be listed in running order with rising positions; got M1 at 0 m, M3 at 60 m, M2 at 30 m.")
    html = response.get_data(as_text=True)
    layout = html.split('id="layout"')[1].split("</section>")[0]
    assert "<details open>" in layout and 'id="error-layout"' in layout  # unfolded, the sentence above the form
    assert 'value="M1=0,M3=60,M2=30"' in layout and 'aria-invalid="true"' in layout and 'value="Track 2"' in layout
    response = form(coach, "/control/session", accel_m="thirty", fly_m="40", method="longest", layout="")
    layout = response.get_data(as_text=True).split('id="layout"')[1].split("</section>")[0]
    assert 'value="thirty"' in layout and 'value="40"' in layout
    assert daemon.snapshot().session_id == session


def test_a_refused_void_keeps_its_reason_beside_the_run(coach, gates, daemon):
    run = run_once(gates, daemon)
    response = form(coach, f"/control/runs/{run['id']}/void", reason="x" * 201)
    page_error(response, 400, "Reason for voiding must be at most 200 characters long.")
    card = response.get_data(as_text=True).split(f'data-key="run-{run["id"]}"')[1].split("</li>")[0]
    assert 'id="error-run-{}"'.format(run["id"]) in card and 'value="{}"'.format("x" * 201) in card


def test_forms_without_the_token_are_refused(coach, daemon):
    response = coach.post("/control/armed", data={"armed": "false"})
    page_error(response, 400, "security token is missing")
    assert daemon.snapshot().armed is True


def test_forms_from_a_viewer_are_refused(client, daemon):
    client.token = csrf(client)
    response = form(client, "/control/armed", armed="false")
    page_error(response, 401, "Log in as the coach")
    assert "/login?next=" in response.get_data(as_text=True)
    assert daemon.snapshot().armed is True


# Login ------------------------------------------------------------------------------------------------


def test_login_page(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'type="password"' in html and 'name="csrf_token"' in html


def test_login_and_logout(app):
    c = app.test_client()
    response = c.post("/login?next=/athletes", data={"csrf_token": csrf(c), "password": PIN})
    assert response.status_code == 302 and response.headers["Location"] == "/athletes"
    assert "Log out" in c.get("/athletes").get_data(as_text=True)
    c.post("/logout", data={"csrf_token": csrf(c)})
    assert "Coach log in" in c.get("/athletes").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "\\\\evil"])
def test_login_never_redirects_off_site(app, target):
    c = app.test_client()
    response = c.post(f"/login?next={target}", data={"csrf_token": csrf(c), "password": PIN})
    assert response.headers["Location"] == "/control"


def test_wrong_password(app):
    c = app.test_client()
    page_error(c.post("/login", data={"csrf_token": csrf(c), "password": "1111"}), 401, "not the coach&#39;s password")
    page_error(c.post("/login", data={"csrf_token": csrf(c)}), 400, "Password or PIN is required")
    assert "Coach log in" in c.get("/control").get_data(as_text=True) or "Log in as the coach" in c.get("/control").get_data(as_text=True)


def test_a_wrong_pin_shows_the_login_form_again_and_the_right_one_then_goes_where_the_coach_was_going(app):
    c = app.test_client()
    response = c.post("/login?next=/athletes", data={"csrf_token": csrf(c), "password": "1111"})
    page_error(response, 401, "not the coach&#39;s password")
    html = response.get_data(as_text=True)
    assert "<h1>Coach log in</h1>" in html and "Coach only" not in html and "Please check that" not in html
    assert 'class="field-error" role="alert" id="password-error"' in html and 'aria-invalid="true"' in html
    assert 'action="/login?next=/athletes"' in html  # the same form, the same next page
    response = c.post("/login?next=/athletes", data={"csrf_token": csrf(c), "password": PIN})
    assert response.status_code == 302 and response.headers["Location"] == "/athletes"


@pytest.mark.parametrize("target", ["/login", "/login?next=/login"])
def test_login_never_sends_the_coach_back_to_the_login_form(app, target):
    c = app.test_client()
    assert 'action="/login?next=/control"' in c.get(f"/login?next={target}").get_data(as_text=True)
    response = c.post(f"/login?next={target}", data={"csrf_token": csrf(c), "password": PIN})
    assert response.headers["Location"] == "/control"


def test_too_many_wrong_pins_are_said_on_the_login_form(app):
    c = app.test_client()
    token = csrf(c)
    for _ in range(app.config["LOGIN_ATTEMPTS"]):
        c.post("/login", data={"csrf_token": token, "password": "0000"})
    html = c.post("/login", data={"csrf_token": token, "password": PIN}).get_data(as_text=True)
    assert "Too many wrong passwords" in html and 'type="password"' in html


def test_login_without_token_is_refused(app):
    page_error(app.test_client().post("/login", data={"password": PIN}), 400, "security token")


def test_login_is_rate_limited(app):
    c = app.test_client()
    token = csrf(c)
    for _ in range(app.config["LOGIN_ATTEMPTS"]):
        c.post("/login", data={"csrf_token": token, "password": "0000"})
    page_error(c.post("/login", data={"csrf_token": token, "password": PIN}), 429, "Too many wrong passwords")


def test_a_new_password_logs_every_device_out(coach, db_path):
    assert "Log out" in coach.get("/control").get_data(as_text=True)
    set_pin(db_path, "13579")
    assert "Log out" not in coach.get("/control").get_data(as_text=True)


def test_login_without_a_password_set(db_path, daemon):
    from gatectl.web import create_app

    c = create_app({"TESTING": True, "SECRET_KEY": "t"}, db_path=db_path, daemon=daemon).test_client()
    assert "No coach password is set yet" in c.get("/login").get_data(as_text=True)
    page_error(c.post("/login", data={"csrf_token": csrf(c), "password": "1234"}), 403, "gatectl set-password")


def test_set_coach_password_hashes_and_checks(tmp_path):
    from gatectl.coach_password import check_coach_password, has_coach_password, set_coach_password

    with Store(tmp_path / "p.db") as store:
        assert not has_coach_password(store)
        set_coach_password(store, "1234")
        assert store.setting("coach_password_hash").startswith("scrypt:")
        assert check_coach_password(store, "1234") and not check_coach_password(store, "12345")
        with pytest.raises(ValueError, match="at least 4"):
            set_coach_password(store, "12 ")
        with pytest.raises(ValueError, match="at most 128"):
            set_coach_password(store, "x" * 129)


def test_the_session_key_is_made_once_and_kept(tmp_path):
    from gatectl.web import create_app

    first = create_app({"TESTING": True}, db_path=tmp_path / "k.db").secret_key
    assert len(first) == 64 and create_app({"TESTING": True}, db_path=tmp_path / "k.db").secret_key == first


# Athletes ----------------------------------------------------------------------------------------------


def test_athletes_pages(client, db_path):
    html = client.get("/athletes").get_data(as_text=True)
    assert "Ana Silva" in html and "400m 50.00" in html and "Add an athlete" not in html
    ana = athlete_id(db_path, "Ana Silva")
    html = client.get(f"/athletes/{ana}").get_data(as_text=True)
    assert "Race times" in html and "50.00" in html and "8.00" in html and "1:55.00" in html
    page_error(client.get("/athletes/999"), 404, "There is no athlete 999")
    page_error(client.get("/athletes?archived=lots"), 400, "archived must be true or false")


def test_athlete_forms(coach):
    response = form(coach, "/athletes", name="Cleo Park", notes="")
    assert response.status_code == 302
    url = response.headers["Location"]
    assert "Cleo Park added" in coach.get(url).get_data(as_text=True)
    form(coach, url, name="Cleo P.", notes="prefers lane 2")
    form(coach, f"{url}/race-times", distance="800", kind="best", time="2:05.3")
    html = coach.get(url).get_data(as_text=True)
    assert "Cleo P." in html and "prefers lane 2" in html and "2:05.30" in html
    form(coach, f"{url}/race-times", distance="800", kind="best", time="")
    assert "2:05.30" not in coach.get(url).get_data(as_text=True)
    form(coach, f"{url}/archive", archived="1")
    assert f'href="{url}"' not in coach.get("/athletes").get_data(as_text=True)
    assert f'href="{url}"' in coach.get("/athletes?archived=1").get_data(as_text=True)
    form(coach, f"{url}/archive", archived="0")
    assert f'href="{url}"' in coach.get("/athletes").get_data(as_text=True)


@pytest.mark.parametrize(
    "suffix, fields, words",
    [
        ("", {"name": ""}, "Name is required"),
        ("", {"name": "Ana Silva"}, "There is already an athlete called"),
        ("/1", {"name": "Ben Okafor"}, "There is already an athlete called"),
        ("/1/race-times", {"distance": "400", "time": "abc"}, "Time: Race time"),
        ("/1/race-times", {"distance": "lap", "time": "50"}, "Distance: Race distance"),
        ("/1/archive", {"archived": "later"}, "Archived must be true or false"),
    ],
)
def test_athlete_form_errors(coach, suffix, fields, words):
    response = form(coach, f"/athletes{suffix}", **fields)
    page_error(response, 400, words)
    html = response.get_data(as_text=True)
    assert 'class="field-error" role="alert"' in html and "Please check that" not in html  # on the form's own page
    for value in fields.values():
        if value and suffix != "/1/archive":
            assert f'value="{value}"' in html  # what was typed is kept


# History and export -------------------------------------------------------------------------------------


def test_history_says_voided_runs_are_left_out_of_the_count(client, gates, daemon):
    run_once(gates, daemon)
    html = client.get("/history").get_data(as_text=True)
    assert "voided and incomplete runs are left out" in html


def test_history_pages(client, gates, daemon, db_path):
    ana = athlete_id(db_path, "Ana Silva")
    daemon.set_queue([ana, ana])
    run_once(gates, daemon, (0, 3.4, 6.4))
    run = run_once(gates, daemon, (0, 3.3, 6.2))
    run_once(gates, daemon, (0, 3.3, 6.2))
    html = client.get("/history").get_data(as_text=True)
    assert f">{daemon.snapshot().session_id}<" in html and "Club track" in html
    html = client.get(f"/history?athlete={ana}").get_data(as_text=True)
    assert "<svg" in html and "best fly velocity each week" in html and "400 m pace 8.00" in html and "800 m pace 6.96" in html
    html = client.get(f"/history/sessions/{daemon.snapshot().session_id}").get_data(as_text=True)
    assert html.count("<svg") == 2  # Ana, and the unassigned run
    assert "Ana Silva: fly velocity of each rep" in html and "Unassigned runs" in html
    # The next rep began 40.4 s later: run_once waits for the assembler's 2 s decision too.
    assert "3.00" in html and "10.00" in html and "0:40" in html
    html = client.get(f"/history/sessions/{daemon.snapshot().session_id}?athlete={ana}&all=1").get_data(as_text=True)
    assert html.count("<svg") == 1 and str(run["number"]) in html


def test_history_errors(client):
    page_error(client.get("/history?athlete=x"), 400, "athlete must be a whole number")
    page_error(client.get("/history?athlete=99"), 404, "There is no athlete 99")
    page_error(client.get("/history/sessions/99"), 404, "There is no session 99")
    page_error(client.get("/history/sessions/1?all=maybe"), 400, "all must be true or false")


def test_history_empty(history_app):
    html = history_app.test_client().get("/history").get_data(as_text=True)
    assert "No sessions yet" in html


def test_export_a_session(client, gates, daemon, db_path):
    with Store(db_path, migrate=False) as store:
        trick = store.add_athlete("=HYPERLINK(1)")
    daemon.set_queue([trick])
    run = run_once(gates, daemon)
    response = client.get(f"/export/sessions/{daemon.snapshot().session_id}.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="gatectl-session-{daemon.snapshot().session_id}-')
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("id,session,number,athlete,status,date,")
    assert "'=HYPERLINK(1)" in lines[1] and ",3.100000000," in lines[1]
    with Store(db_path, migrate=False) as store:
        assert f",complete,{store.session(daemon.snapshot().session_id)['date']}," in lines[1]  # the session's date
    data = client.get(f"/export/sessions/{daemon.snapshot().session_id}.json").get_json()
    assert data["runs"][0]["id"] == run["id"] and data["runs"][0]["athlete"] == "=HYPERLINK(1)"


def test_export_an_athlete(client, gates, daemon, db_path):
    ana = athlete_id(db_path, "Ana Silva")
    daemon.set_queue([ana])
    run_once(gates, daemon)
    run_once(gates, daemon)  # nobody queued: not Ana's
    response = client.get(f"/export/athletes/{ana}.csv")
    assert 'filename="gatectl-ana-silva.csv"' in response.headers["Content-Disposition"]
    assert len(response.get_data(as_text=True).splitlines()) == 2
    assert len(client.get(f"/export/athletes/{ana}.json").get_json()["runs"]) == 1


def test_export_errors(client):
    page_error(client.get("/export/sessions/99.csv"), 404, "There is no session 99")
    page_error(client.get("/export/athletes/99.json"), 404, "There is no athlete 99")
    assert client.get("/export/sessions/1.xml").status_code == 404


# Read-only copy --------------------------------------------------------------------------------------------


def test_read_only_copy_serves_history(read_only_app, db_path):
    c = read_only_app.test_client()
    assert c.get("/history").status_code == 200
    assert "read-only copy" in c.get("/athletes").get_data(as_text=True)
    assert "nothing to change" in c.get("/login").get_data(as_text=True)
    token = csrf(c)
    page_error(c.post("/athletes", data={"csrf_token": token, "name": "X"}), 409, "read-only copy")


def test_read_only_needs_an_existing_database(tmp_path):
    from gatectl.web import create_app

    with pytest.raises(StoreError, match="There is no database"):
        create_app(db_path=tmp_path / "missing.db", read_only=True)


def test_a_database_is_required(monkeypatch):
    from gatectl.errors import ConfigError
    from gatectl.web import create_app

    monkeypatch.delenv("GATECTL_DB", raising=False)
    with pytest.raises(ConfigError, match="needs a database"):
        create_app()


def test_unknown_page_is_a_sentence(client):
    page_error(client.get("/nowhere"), 404, "There is nothing here")


def test_an_ambiguous_run_is_marked_for_the_coach(coach, gates, daemon):
    # M2 at 3.5 s (a ball?) or at 4.0 s fit about as well.
    run = run_once(gates, daemon, (0, 4.0, 7.0), extra=[("M2", 3.5)])
    assert run["ambiguous"] is True
    assert 'class="tag warn" title="another match of the crossings fits about as well">ambiguous<' in coach.get("/control").get_data(as_text=True)
    assert "<strong>ambiguous</strong><small>ambiguous: M2 at +" in coach.get(f"/history/sessions/{daemon.snapshot().session_id}").get_data(as_text=True)
