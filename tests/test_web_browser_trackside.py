"""Trackside, in Debian's chromium: what a coach sees on a phone and on the HDMI screen during a workout.

Each test runs ``gatectl demo`` with a workout under way, checks what the page
shows with the page's own geometry, and saves screenshots at phone (390×844)
and HDMI (1920×1080) size into tests/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from browser import SIZES, chromium_browser, live_page_at, log_in, running, shoot, wait_until, watch
from helpers import free_port

from gatectl.coaching.paces import format_duration_ns
from gatectl.timing.model import NS_PER_S

pytestmark = pytest.mark.browser

FLYING = "3 x 3 x 30m. 3:00 Rec between reps. 6:00 Rec between sets."
PHONE_W, PHONE_H = SIZES["phone"]


@contextmanager
def demo(tmp_path, *extra: str):
    """``gatectl demo`` with fast rests and ``extra`` arguments; its base URL."""
    port = free_port()
    db = tmp_path / "demo.db"
    with running(["demo", "--port", str(port), "--db", str(db), "--seed", "7", "--fast-rests", "6", *extra], port, db.with_suffix(".log")) as base:
        yield base


@pytest.fixture(scope="module")
def chromium():
    with chromium_browser() as browser:
        yield browser


@pytest.fixture(scope="module")
def flying(tmp_path_factory):
    with demo(tmp_path_factory.mktemp("flying"), "--workout", FLYING) as base:
        yield base


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    with demo(tmp_path_factory.mktemp("track"), "--track") as base:
        yield base


def live_page(chromium, base: str, size: str, scheme: str = "dark"):
    """The coach on the live page at ``size``, once a result is on it."""
    context, page, seen = live_page_at(chromium, base, size, scheme)
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    return context, page, seen


def box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, height: r.height}; }")


# ---- 4. A phone during a workout: the athlete's own time first, nothing wider than the screen ------------


def test_on_a_phone_the_athlete_s_time_is_first_and_above_the_fold(chromium, flying):
    context, page, seen = live_page(chromium, flying, "phone", "light")
    page.wait_for_selector("#workout:not([hidden])")
    header, fly, workout = box(page, "header.bar"), box(page, "#fly"), box(page, "#workout")
    assert header["height"] <= 80, header  # two short rows: pages and ⋯, then the status and session
    assert fly["bottom"] <= PHONE_H / 2, fly  # the time in the top half, without scrolling
    assert fly["top"] < workout["top"]  # the result first, then who runs next
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_W
    assert not page.is_visible("#beep")  # folded away behind ⋯
    shoot(page, "trackside-workout-phone-light", full_page=False)
    # Max velocity: when the athlete is up again, their best of the day (and of the set) beside the target.
    page.wait_for_selector("#wk-target .wk-bests", timeout=120_000)
    assert re.fullmatch(r"Best today \d\.\d\d s( · this set \d\.\d\d s)?", page.inner_text("#wk-target .wk-bests"))
    shoot(page, "trackside-bests-phone-light", full_page=False)
    page.click("#more")
    assert page.is_visible("#beep") and page.get_attribute("#more", "aria-expanded") == "true"
    shoot(page, "trackside-tools-phone-light", full_page=False)
    assert seen["errors"] == [], seen["errors"]
    context.close()

    context, page, seen = live_page(chromium, flying, "hdmi")
    assert page.is_visible("#beep") and not page.is_visible("#more")  # the HDMI screen keeps its bar
    assert page.evaluate("document.documentElement.scrollHeight") <= SIZES["hdmi"][1]
    shoot(page, "trackside-workout-hdmi-dark", full_page=False)
    assert seen["errors"] == [], seen["errors"]
    context.close()


def test_track_mode_fits_a_phone_with_names_whole(chromium, track):
    context, page, seen = live_page(chromium, track, "phone", "light")
    page.wait_for_selector("#wk-group li")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_W
    names = page.eval_on_selector_all("#wk-group .g-name", "es => es.map(e => [e.textContent, e.scrollWidth <= e.clientWidth + 1])")
    assert [n for n, _ in names] == ["Amara", "Ben", "Chloe"] and all(whole for _, whole in names), names
    assert box(page, "#fly")["bottom"] <= PHONE_H / 2
    shoot(page, "trackside-track-phone-light", full_page=True)
    assert seen["errors"] == [], seen["errors"]
    context.close()
    context, page, seen = live_page(chromium, track, "hdmi")
    shoot(page, "trackside-track-hdmi-dark", full_page=False)
    assert seen["errors"] == [], seen["errors"]
    context.close()


# ---- 5. A lost connection is unmistakable -----------------------------------------------------------------


def test_a_lost_connection_says_not_live_and_dims_the_old_results(chromium, tmp_path):
    pages = []
    with demo(tmp_path, "--workout", FLYING) as base:
        for size in ("phone", "hdmi"):
            context, page, _ = live_page(chromium, base, size)
            assert not page.is_visible("#offline")
            pages.append((size, context, page))
    # The demo has stopped: the stream is gone.
    for size, context, page in pages:
        page.wait_for_selector("#offline:not([hidden])", timeout=15_000)
        assert "NOT LIVE" in page.inner_text("#offline") and "reconnecting" in page.inner_text("#offline")
        assert page.evaluate("document.body.classList.contains('stale')")
        assert float(page.eval_on_selector(".stage", "e => getComputedStyle(e).opacity")) < 0.5
        banner = box(page, "#offline")
        assert banner["top"] < SIZES[size][1] / 10 and banner["height"] >= 40, banner  # across the top, big
        shoot(page, f"trackside-offline-{size}-dark", full_page=False)
        context.close()


# ---- 9. Control updates in place; the layout form near the top --------------------------------------------


@pytest.fixture(scope="module")
def free_running(tmp_path_factory):
    with demo(tmp_path_factory.mktemp("free")) as base:
        yield base


def test_control_updates_in_place_without_moving_what_is_under_the_finger(chromium, free_running):
    context = chromium.new_context(viewport={"width": PHONE_W, "height": PHONE_H}, color_scheme="light")
    page = context.new_page()
    seen = watch(page, free_running)
    log_in(page, free_running)
    page.wait_for_selector(".runcard", timeout=120_000)
    page.evaluate("window.stayed = true; window.refreshed = 0; document.addEventListener('gatectl:refreshed', () => window.refreshed++)")
    # The layout form is reachable on the first screen, above the runs, however many there are.
    assert box(page, "#layout summary")["bottom"] <= PHONE_H
    assert box(page, "#layout")["bottom"] < box(page, "#runs")["top"]
    page.click("#layout summary")
    assert page.is_visible("#layout input[name=fly_m]")
    shoot(page, "trackside-control-phone-light", full_page=True)
    page.click("#layout summary")

    # A thumb over the newest run's Reassign: a new run arrives above it, and the button stays under the thumb.
    runs = page.locator(".runcard").count()
    key = page.get_attribute(".runcard", "data-key")
    button = f'[data-key="{key}"] button:has-text("Reassign")'
    page.eval_on_selector(button, "e => e.scrollIntoView({block: 'center'})")
    before = box(page, button)
    wait_until(page, f"document.querySelectorAll('.runcard').length > {runs}", 90)
    assert page.evaluate("window.stayed")  # no reload
    assert abs(box(page, button)["top"] - before["top"]) <= 1, (before, box(page, button))

    # Typing a reason to void: the runs wait until the coach is done, and what was typed is kept.
    runs = page.locator(".runcard").count()
    reason = f'[data-key="{key}"] input[name=reason]'
    page.fill(reason, "false start")
    done = page.evaluate("window.refreshed")
    wait_until(page, f"window.refreshed > {done}", 90)  # the next run's refresh came
    assert page.locator(".runcard").count() == runs and page.input_value(reason) == "false start"
    assert seen["errors"] == [], seen["errors"]
    context.close()


# ---- 10. A refused form comes back with the sentence beside it, as it was filled in ----------------------


def test_a_wrong_layout_is_said_beside_the_form_with_what_was_typed(chromium, free_running):
    for size in ("phone", "hdmi"):
        width, height = SIZES[size]
        context = chromium.new_context(viewport={"width": width, "height": height}, color_scheme="light")
        page = context.new_page()
        seen = watch(page, free_running)
        log_in(page, free_running)
        page.click("#layout summary")
        page.fill("#layout input[name=layout]", "M1=0,M3=60,M2=30")
        page.click("#layout button.primary")
        page.wait_for_selector("#error-layout")
        assert "got M1 at 0 m, M3 at 60 m, M2 at 30 m" in page.inner_text("#error-layout")
        assert page.input_value("#layout input[name=layout]") == "M1=0,M3=60,M2=30"
        shoot(page, f"trackside-layout-error-{size}-light", full_page=False)
        assert box(page, "#error-layout")["bottom"] <= height  # on the first screen, beside the form
        assert page.inner_text("h1") == "Control"
        shoot(page, f"trackside-layout-error-{size}-light", full_page=False)
        assert seen["errors"] == [], seen["errors"]
        context.close()


# ---- Smaller: a voided run has no verdict; the strip's arrows have a legend -----------------------------------


def test_a_voided_run_loses_its_faster_badge_and_the_strip_explains_its_arrows(chromium, flying):
    context, page, seen = live_page(chromium, flying, "phone", "light")
    latest = page.evaluate("fetch('/api/runs?status=complete&limit=1').then(r => r.json()).then(b => b.runs[0])")
    run_id = latest["id"]
    shown = format_duration_ns(round(latest["fly"]["time_s"] * NS_PER_S), 2, minutes=False)  # as the page writes it
    wait_until(page, f"document.getElementById('fly').textContent === '{shown}'", 30)
    csrf = page.evaluate("JSON.parse(document.getElementById('state').textContent).csrf")
    answer = page.evaluate(
        f"fetch('/api/runs/{run_id}/void', {{method: 'POST', headers: {{'Content-Type': 'application/json', 'X-CSRF-Token': '{csrf}'}}, body: JSON.stringify({{reason: 'false start'}})}}).then(r => r.status)"
    )
    assert answer == 200
    page.wait_for_selector("#void:not([hidden])", timeout=10_000)
    pace = page.inner_text("#pace")
    assert "Voided: false start" in pace and "FASTER" not in pace and "%" not in pace
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_W  # VOID beside the time, not off the screen
    amara = page.locator("#wk-group li", has_text=latest["athlete"]).locator(".g-last")
    wait_until(page, "[...document.querySelectorAll('#wk-group .g-last')].some(e => e.textContent.endsWith('voided'))", 10)
    assert "verdict-" not in amara.get_attribute("class")
    card = page.locator("#strip li.voided").last
    assert "% 400" not in card.inner_text() and "void" in card.inner_text()
    legend = page.inner_text("#legend")
    assert "faster or slower than the athlete's run before" in legend and "share of their 400 m pace" in legend
    shoot(page, "trackside-voided-phone-light", full_page=True)
    assert seen["errors"] == [], seen["errors"]
    context.close()


def test_tables_fit_a_phone_without_scrolling_sideways(chromium, free_running):
    context = chromium.new_context(viewport={"width": PHONE_W, "height": PHONE_H}, color_scheme="light")
    page = context.new_page()
    seen = watch(page, free_running)
    log_in(page, free_running)
    page.wait_for_selector(".runcard", timeout=120_000)
    athlete = page.evaluate("fetch('/api/athletes').then(r => r.json()).then(b => b.athletes[0].id)")
    page.goto(free_running + "/control")
    run = int(page.get_attribute(".runcard", "data-key").split("-")[1])
    token = page.input_value("input[name=csrf_token]")
    headers = {"Content-Type": "application/json", "X-CSRF-Token": token}
    assert page.evaluate(f"fetch('/api/runs/{run}/void', {{method: 'POST', headers: {headers}, body: JSON.stringify({{reason: 'a hand through the beam'}})}}).then(r => r.status)") == 200
    overflowing = {}
    for name, path in {"history": "/history", "session": "/history/sessions/1", "athletes": "/athletes", "athlete": f"/athletes/{athlete}",
                       "history-athlete": f"/history?athlete={athlete}", "workouts": "/workouts"}.items():
        page.goto(free_running + path)
        wide = page.eval_on_selector_all("table", "ts => ts.filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.className + ' ' + t.scrollWidth)")
        if wide or page.evaluate("document.documentElement.scrollWidth") > PHONE_W:
            overflowing[name] = wide
        shoot(page, f"trackside-table-{name}-phone-light", full_page=True)
    assert overflowing == {}
    page.goto(free_running + "/history/sessions/1")
    assert page.is_visible("td.status strong:has-text('void')")  # the void status in view, not off to the right
    page.goto(free_running + f"/athletes/{athlete}")
    assert page.is_visible("button:has-text('Remove')")
    assert seen["errors"] == [], seen["errors"]
    context.close()


# ---- Smaller: one event stream per browser, however many tabs --------------------------------------------


def test_eight_tabs_share_one_stream_and_another_takes_over_when_its_tab_closes(chromium, free_running):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    streams = []
    context.on("request", lambda r: streams.append(r.url) if "/api/stream" in r.url else None)
    pages = []
    for _ in range(8):  # a browser holds 6 connections to a server: a stream per tab left the 7th blank
        page = context.new_page()
        errors = watch(page, free_running)["errors"]
        page.goto(free_running + "/", timeout=15_000)
        page.wait_for_selector("#conn.on", timeout=15_000)
        pages.append((page, errors))
    page = context.new_page()
    page.goto(free_running + "/control", timeout=15_000)  # the coach's page shares it too
    assert len(streams) == 1, streams
    # The tab holding the stream closes: another takes over, and every page still follows the runs.
    pages[0][0].close()
    pages = pages[1:]
    for page, _ in pages:
        page.wait_for_selector("#conn.on", timeout=15_000)
    before = pages[-1][0].evaluate("document.querySelectorAll('#strip li').length")
    for page, _ in pages:
        wait_until(page, f"document.querySelectorAll('#strip li').length > {before}", 90)
    assert len(streams) == 2, streams
    assert all(errors == [] for _, errors in pages)
    context.close()
