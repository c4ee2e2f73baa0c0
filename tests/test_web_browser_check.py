"""The Check page and the join QR codes in Debian's chromium: ``gatectl run`` over simulated gates, with a hotspot.

The simulator's athletes cross the gates every ~15 s, so the walk ticks gates
off as a hand would. Screenshots at phone (390×844) and HDMI (1920×1080) size
go to tests/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import pytest
from browser import SIZES, chromium_browser, running, shoot, wait_until, watch
from helpers import free_port

pytestmark = pytest.mark.browser

CONFIG = """\
place = "Club track"

[source]
kind = "sim"
seed = 7

[[gates]]
name = "M1"
position_m = 0

[[gates]]
name = "M2"
position_m = 30

[[gates]]
name = "M3"
position_m = 60

[database]
path = "check.db"

[web]
host = "127.0.0.1"
port = {port}

[network]
ssid = "Club gates"
password = "sprint-fast-9"
address = "10.42.0.1"
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """``gatectl run`` with a simulated source and a [network] section; yields its base URL."""
    port = free_port()
    folder = tmp_path_factory.mktemp("check")
    (folder / "gatectl.toml").write_text(CONFIG.format(port=port))
    with running(["run", "--config", str(folder / "gatectl.toml")], port, folder / "run.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser(service):
    with chromium_browser() as chromium:
        yield chromium


def test_the_check_page_ticks_gates_off_as_bodies_pass(service, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="light")
    page = context.new_page()
    seen = watch(page, service)
    page.goto(service + "/check")
    page.wait_for_selector("#beams tbody tr", timeout=10_000)
    assert page.locator("#beams tbody tr").count() == 3
    assert page.locator("#walk li").count() == 3
    assert "No gate nodes" in page.inner_text("#nodes")
    assert "GB free" in page.inner_text("#disk") or "free on the SD card" in page.inner_text("#disk")
    assert "The Pi's date" in page.inner_text("#clock")
    page.wait_for_selector("#walk li.done", timeout=60_000)  # a simulated athlete went through a gate
    assert page.inner_text("#walk li.done .tick") == "✓"
    assert sum(int(n) for n in page.locator("#beams td.num").all_inner_texts()) >= 1
    shoot(page, "check-phone-light")
    page.click("#check-again")  # a new check counts from now
    wait_until(page, "document.querySelectorAll('#walk li.done').length === 0", 5)
    assert seen["errors"] == []
    assert all(url.startswith(service) or url.startswith("data:") for url in seen["requests"]), seen["requests"]
    context.close()


def test_screenshots_of_the_check_page_and_the_join_codes(service, browser):
    for size, (width, height) in SIZES.items():
        for scheme in ("dark", "light"):
            context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
            page = context.new_page()
            seen = watch(page, service)
            page.goto(service + "/check")
            page.wait_for_selector("#beams tbody tr", timeout=10_000)
            assert page.locator(".joinrow svg.qr").count() == 2
            shoot(page, f"check-{size}-{scheme}")
            page.goto(service + "/?kiosk=1")
            page.wait_for_selector("#conn.on", timeout=10_000)
            codes = page.locator(".join svg.qr")
            assert codes.count() == 2
            if size == "hdmi":  # the trackside screen shows where to join, beside the gates
                assert codes.first.is_visible() and codes.first.bounding_box()["width"] >= 120
                assert "http://10.42.0.1:" in page.inner_text(".join")
            else:  # a phone has joined already: the codes would push the time off screen
                assert not codes.first.is_visible()
            shoot(page, f"live-join-{size}-{scheme}", full_page=False)
            assert seen["errors"] == []
            context.close()
