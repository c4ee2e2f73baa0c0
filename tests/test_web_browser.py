"""End to end in a real browser: ``gatectl demo`` on a free port, Debian's chromium headless.

Waits for a simulated run to reach the live page over the event stream, checks
the fly time shown is the API's latest run, that the page loads nothing from
elsewhere and weighs under 150 KB, and saves screenshots of every page at phone
(390×844) and HDMI (1920×1080) sizes into tests/screenshots/ (git-ignored) for
people to look at. Last, a coach starts "3 x 3 x 30m" for three athletes on the
Workouts page (the demo runs with fast rests) and the live page walks them
through it: who is next, a result against 400 m pace, the recovery countdown.
"""

from __future__ import annotations

import re
import time

import pytest
from browser import DEMO_PIN, SHOTS, SIZES, chromium_browser, get_json, log_in, running, shoot, wait_until, watch
from helpers import free_port

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``gatectl demo`` in a subprocess; yields its base URL."""
    port = free_port()
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with running(["demo", "--port", str(port), "--db", str(db), "--seed", "7", "--fast-rests", "4"], port, db.with_suffix(".log")) as base:
        yield base


@pytest.fixture(scope="module")
def browser(demo):
    with chromium_browser() as chromium:
        yield chromium


def latest_complete(base: str) -> dict | None:
    runs = get_json(base + "/api/runs?status=complete&limit=1")["runs"]
    return runs[0] if runs else None


def test_a_simulated_run_appears_on_the_live_page(demo, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    seen = watch(page, demo)
    page.goto(demo + "/")
    page.wait_for_selector("#conn.on", timeout=10_000)  # the event stream is open
    page.wait_for_selector("#result:not([hidden])", timeout=90_000)  # a run came over the stream
    for _ in range(3):  # a newer run may land between the reads
        before = latest_complete(demo)
        shown = page.inner_text("#fly")
        after = latest_complete(demo)
        if before["id"] == after["id"]:
            break
    assert shown == f"{after['fly']['time_s']:.2f}"
    assert page.inner_text("#mps") == f"{after['fly']['velocity_mps']:.2f}"
    assert page.inner_text("#name") == (after["athlete"] or "Unassigned")
    if after["vs_pace"].get("400m"):
        assert ("▲" if after["vs_pace"]["400m"]["faster"] else "▼") in page.inner_text("#pace")
    assert seen["errors"] == []
    assert all(url.startswith(demo) or url.startswith("data:") for url in seen["requests"]), seen["requests"]
    assert seen["bytes"] < 150 * 1024, seen["bytes"]
    context.close()


def test_screenshots_of_every_page(demo, browser):
    run = latest_complete(demo)
    deadline = time.monotonic() + 90
    while run is None and time.monotonic() < deadline:
        time.sleep(1)
        run = latest_complete(demo)
    assert run is not None, "the demo produced no run"
    athlete = run["athlete_id"] or get_json(demo + "/api/athletes")["athletes"][0]["id"]
    pages = {
        "control": "/control",
        "athletes": "/athletes",
        "athlete": f"/athletes/{athlete}",
        "history": "/history",
        "history-athlete": f"/history?athlete={athlete}",
        "session": f"/history/sessions/{run['session']}",
        "login": "/login",
    }
    for size, (width, height) in SIZES.items():
        for scheme in ("dark", "light"):
            context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
            page = context.new_page()
            seen = watch(page, demo)
            page.goto(demo + "/")
            page.wait_for_selector("#result:not([hidden])", timeout=30_000)
            shoot(page, f"live-{size}-{scheme}", full_page=False)
            if (size, scheme) in (("phone", "light"), ("hdmi", "dark")):  # the rest once per size
                page.goto(demo + "/?kiosk=1")
                page.wait_for_selector("#result:not([hidden])", timeout=30_000)
                shoot(page, f"live-kiosk-{size}-{scheme}", full_page=False)
                page.goto(demo + "/login")
                shoot(page, f"login-{size}-{scheme}")
                page.fill("input[name=password]", DEMO_PIN)
                page.click("button.primary")
                page.wait_for_url("**/control")
                for name, path in pages.items():
                    if name != "login":
                        page.goto(demo + path)
                        shoot(page, f"{name}-{size}-{scheme}")
            assert seen["errors"] == [], seen["errors"]
            context.close()
    assert len(list(SHOTS.glob("*.png"))) >= 2 * (len(pages) + 3)


def test_a_workout_walked_through_on_the_live_page(demo, browser):
    """The issue's flow, last: the workout ends the demo's free running."""
    hdmi = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    page = hdmi.new_page()
    seen = watch(page, demo)
    log_in(page, demo)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="light")
    pocket = phone.new_page()
    log_in(pocket, demo)
    pocket.goto(demo + "/workouts")
    shoot(pocket, "workouts-phone-light")
    page.goto(demo + "/workouts")
    page.select_option("#slug", "flying-30s")
    assert page.input_value("#text") == "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets."
    for name in ("Amara", "Ben", "Chloe"):  # ticked in running order
        page.check(f"label.pick:has-text('{name}') input")
    assert page.inner_text("label.pick:has-text('Chloe') .order").strip() == "3"
    shoot(page, "workouts-hdmi-dark")
    page.click("#start-form button.primary")
    page.wait_for_url("**/workouts")
    assert "Amara is called first" in page.inner_text(".flash")
    shoot(page, "workouts-running-hdmi-dark")

    # The live page: the next athlete and the target, on the HDMI screen and a phone.
    page.goto(demo + "/")
    pocket.goto(demo + "/")
    page.wait_for_selector("#workout:not([hidden])", timeout=10_000)
    assert page.text_content("#wk-name") == "Amara" and page.text_content("#wk-label") in ("Your turn", "Running")
    assert re.match(r"30 m · faster than 400m pace \(\d\.\d\d s\)", page.text_content("#wk-target"))
    # A result against 400 m pace, labelled with its set and rep.
    wait_until(page, "!document.getElementById('result').hidden && document.getElementById('name').textContent === 'Amara'", timeout_s=60)
    assert page.text_content("#setrep") == "Set 1 · Rep 1"
    assert re.match(r"▲ \d+\.\d % of 400 m pace · FASTER", page.text_content("#pace"))
    assert page.text_content("#wk-name") == "Ben"  # called next
    pocket.wait_for_selector("#result:not([hidden])")
    shoot(page, "live-result-hdmi-dark", full_page=False)
    shoot(pocket, "live-result-phone-light", full_page=False)
    # The recovery countdown: Amara rests (3:00 / 4) while Ben and Chloe run, then she is next.
    page.wait_for_selector('#workout[data-status="resting"]', timeout=90_000)
    first = page.text_content("#wk-clock")
    assert re.fullmatch(r"0:\d\d", first) and page.text_content("#wk-name") == "Amara"
    page.wait_for_timeout(1500)
    assert page.text_content("#wk-clock") < first  # counting down on the browser's clock
    pocket.wait_for_selector('#workout[data-status="resting"]')
    shoot(page, "live-rest-hdmi-dark", full_page=False)
    shoot(pocket, "live-rest-phone-light", full_page=False)
    assert page.locator("#wk-taps button[data-action=ready]").is_visible()  # the coach can call her early
    assert seen["errors"] == [], seen["errors"]
    assert all(url.startswith(demo) or url.startswith("data:") for url in seen["requests"]), seen["requests"]
    hdmi.close()
    phone.close()
