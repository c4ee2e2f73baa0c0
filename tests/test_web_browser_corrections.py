"""In a real browser: the coach opens a run on Control, drops a crossing, sees the history, undoes it.

``gatectl demo`` keeps timing simulated runs meanwhile, so Control refreshes its
runs in place while the run is open: it must stay open. Screenshots at phone
(390×844) and HDMI (1920×1080) sizes go to tests/screenshots/ for people to look at.
"""

from __future__ import annotations

import re

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, SIZES, get_json, log_in, running, shoot, wait_until, watch
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
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def newest_complete(base: str, page) -> dict:
    runs: list = []
    for _ in range(300):
        runs = [r for r in get_json(base + "/api/runs?status=complete&limit=5")["runs"] if r["crossings"].get("M1") is not None]
        if runs:
            break
        page.wait_for_timeout(200)
    assert runs, "the demo timed no complete run"
    return runs[0]


@pytest.mark.parametrize("size", ["phone", "hdmi"])
def test_drop_a_crossing_see_the_history_and_undo_it(demo, browser, size):
    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    seen = watch(page, demo)
    log_in(page, demo)
    run = newest_complete(demo, page)
    page.goto(f"{demo}/control?open={run['id']}#run-{run['id']}")
    panel = page.locator(f"#fix-{run['id']}")
    assert panel.get_attribute("open") is not None
    assert panel.locator("table.crossings").first.locator("tbody th").all_inner_texts() == ["M1", "M2", "M3"]
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
