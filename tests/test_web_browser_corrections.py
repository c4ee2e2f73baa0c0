"""In a real browser: the coach opens a run on Control, drops a crossing, sees the history, undoes it;
reassigns a run (a set-athlete correction); and corrects a run from History's session page.

``gatectl demo`` keeps timing simulated runs meanwhile, so Control refreshes its
runs in place while the run is open: it must stay open. Screenshots at phone
(390×844) and HDMI (1920×1080) sizes go to tests/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from browser import SIZES, chromium_browser, get_json, log_in, running, shoot, wait_until, watch
from helpers import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    port = free_port()
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with running(["demo", "--port", str(port), "--db", str(db), "--seed", "11"], port, db.with_suffix(".log")) as base:
        yield base


@pytest.fixture(scope="module")
def browser(demo):
    with chromium_browser() as chromium:
        yield chromium


def newest_complete(base: str, page) -> dict:
    runs: list = []
    for _ in range(300):
        runs = [r for r in get_json(base + "/api/runs?status=complete&limit=5")["runs"] if r["crossings"].get("M1") is not None]
        if runs:
            break
        page.wait_for_timeout(200)
    assert runs, "the demo timed no complete run"
    return runs[0]


def coach_page(demo, browser, size):
    """The coach logged in at ``size`` (SIZES): the page, what it asked for, and the demo's newest complete run."""
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    seen = watch(page, demo)
    log_in(page, demo)
    return page, seen, newest_complete(demo, page)


@pytest.mark.parametrize("size", ["phone", "hdmi"])
def test_drop_a_crossing_see_the_history_and_undo_it(demo, browser, size):
    page, seen, run = coach_page(demo, browser, size)
    width = SIZES[size][0]
    page.goto(f"{demo}/control?open={run['id']}#run-{run['id']}")
    panel = page.locator(f"#fix-{run['id']}")
    assert panel.get_attribute("open") is not None
    assert panel.locator("table.crossings").first.locator("tbody th").all_inner_texts() == ["M1", "M2", "M3"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing cut off nor scrolled to
    assert panel.locator("select").count() == 0  # one athlete control: the card's Reassign
    shoot(page, f"corrections-open-{size}", full_page=False)
    entries = "document.querySelectorAll('details.corrections[open] .history li').length"
    before = page.evaluate(entries)  # the phone's test may have corrected this run already
    panel.get_by_role("button", name=re.compile(r"^Drop the M1 crossing")).click()
    wait_until(page, f"{entries} > {before}", 10)
    opened = page.locator("details.corrections[open]").first
    history = opened.locator(".history").inner_text()
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d", history), history
    assert opened.locator("table.crossings").first.locator("tbody th").all_inner_texts() == ["M2", "M3"]
    assert page.url.endswith(f"#run-{run['id']}")  # sent in place: the page was not left
    shoot(page, f"corrections-dropped-{size}", full_page=False)
    fixed = get_json(f"{demo}/api/runs/{opened.get_attribute('id').removeprefix('fix-')}")
    assert list(fixed["crossings"]) == ["M2", "M3"] and fixed["fly"]["time_s"] == run["fly"]["time_s"]
    before = page.evaluate(entries)
    opened.get_by_role("button", name="Undo: M1 crossing removed").click()
    wait_until(page, f"{entries} > {before}", 10)
    again = page.locator("details.corrections[open]").first
    assert again.get_attribute("id") == f"fix-{run['id']}"  # the run as assembled, open again
    assert "(undone)" in again.locator(".history").inner_text()
    shoot(page, f"corrections-undone-{size}", full_page=False)
    assert get_json(f"{demo}/api/runs/{run['id']}")["crossings"] == run["crossings"]
    assert seen["errors"] == []
    page.close()


def fits(page, width: int) -> None:
    """Nothing scrolls sideways: the page, nor the runs table (its void status and ✎ in view on a phone)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("(() => { const t = document.querySelector('table.runs'); return !t || t.scrollWidth <= t.clientWidth; })()")


@pytest.mark.parametrize("size", ["phone", "hdmi"])
def test_reassign_on_control_is_a_correction_with_its_undo(demo, browser, size):
    page, seen, run = coach_page(demo, browser, size)
    width = SIZES[size][0]
    athletes = get_json(f"{demo}/api/athletes")["athletes"]
    other = next(a for a in athletes if a["name"] != run["athlete"])
    page.goto(f"{demo}/control#run-{run['id']}")
    card = page.locator(f"#run-{run['id']}")
    card.get_by_label(f"Athlete for run {run['number']}").select_option(str(other["id"]))
    with page.expect_navigation():
        card.get_by_role("button", name="Reassign").click()
    opened = page.locator("details.corrections[open]").first
    history = opened.locator(".history").inner_text()
    assert re.search(rf"athlete set to {re.escape(other['name'])} by the coach at \d\d:\d\d", history), history
    fixed = get_json(f"{demo}/api/runs/{opened.get_attribute('id').removeprefix('fix-')}")
    assert fixed["athlete"] == other["name"] and fixed["crossings"] == run["crossings"]
    fits(page, width)
    shoot(page, f"corrections-reassigned-{size}", full_page=False)
    entries = "document.querySelectorAll('details.corrections[open] .history li').length"
    before = page.evaluate(entries)
    opened.get_by_role("button", name=f"Undo: athlete set to {other['name']}").click()
    wait_until(page, f"{entries} > {before}", 10)
    assert "(undone)" in page.locator("details.corrections[open] .history").inner_text()
    assert get_json(f"{demo}/api/runs/{run['id']}")["athlete"] == run["athlete"]
    assert seen["errors"] == []
    page.close()


@pytest.mark.parametrize("size", ["phone", "hdmi"])
def test_correct_a_run_from_history_in_place_with_its_history_shown(demo, browser, size):
    page, seen, run = coach_page(demo, browser, size)
    width = SIZES[size][0]
    session = f"{demo}/history/sessions/{run['session']}"
    page.goto(session)
    fits(page, width)
    shoot(page, f"history-runs-{size}", full_page=True)
    page.get_by_role("link", name=f"Correct run {run['number']}", exact=True).click()
    panel = page.locator(f"#fix-{run['id']}")
    assert panel.get_attribute("open") is not None
    assert panel.locator("table.crossings").first.locator("tbody th").all_inner_texts() == ["M1", "M2", "M3"]
    fits(page, width)
    shoot(page, f"history-open-{size}", full_page=False)
    url = page.url
    listed = "document.querySelectorAll('#corrections .history li').length"
    before = page.evaluate(listed)
    panel.get_by_role("button", name=re.compile(r"^Drop the M1 crossing")).click()
    wait_until(page, f"{listed} > {before}", 10)
    assert page.url == url  # sent in place: the page was not left
    opened = page.locator("details.corrections[open]").first
    fixed_id = opened.get_attribute("id").removeprefix("fix-")
    card = page.locator(f"#run-{fixed_id}")
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d", card.locator(".history").inner_text())
    assert opened.locator("table.crossings").first.locator("tbody th").all_inner_texts() == ["M2", "M3"]
    fits(page, width)
    shoot(page, f"history-dropped-{size}", full_page=False)
    viewer = browser.new_page(viewport={"width": width, "height": SIZES[size][1]})  # not the coach: the history, no buttons
    viewer.goto(session)
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d", viewer.locator("#corrections").inner_text())
    assert viewer.locator("#corrections button").count() == 0
    viewer.close()
    before = page.evaluate(listed)
    card.get_by_role("button", name="Undo: M1 crossing removed").click()
    wait_until(page, f"{listed} > {before}", 10)
    assert "(undone)" in page.locator(f"#run-{run['id']} .history").inner_text()
    assert get_json(f"{demo}/api/runs/{run['id']}")["crossings"] == run["crossings"]
    assert seen["errors"] == []
    page.close()
