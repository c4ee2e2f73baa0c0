"""The fault banner in a real browser (Debian's chromium): shown as a fault event arrives, gone when it clears."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from browser import CHROMIUM, chromium_page, serve_in_thread
from fakes import FakeGates
from helpers import FLY30

from gatectl.daemon.daemon import Daemon
from gatectl.store import Store
from gatectl.web import create_app

pytestmark = pytest.mark.browser


def test_the_live_page_shows_a_fault_while_it_stands(tmp_path):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed")
    db = tmp_path / "g.db"
    daemon = Daemon(FakeGates(), lambda: Store(db), FLY30)
    daemon.start()
    base = serve_in_thread(create_app({"SECRET_KEY": "t"}, db_path=db, daemon=daemon))
    try:
        with chromium_page(base, 390, 844) as (page, _):
            page.goto(base + "/")
            page.wait_for_selector("#conn.on", timeout=10_000)
            assert page.locator("#faults").is_hidden()
            daemon.faults.raise_fault("store", "The database is locked by another program. Timing goes on: 3 edges wait.")
            page.wait_for_selector("#faults:not([hidden])", timeout=5_000)
            assert "3 edges wait" in page.inner_text("#faults")
            page.reload()  # from the page's state too, not only the event
            page.wait_for_selector("#faults:not([hidden])", timeout=5_000)
            daemon.faults.clear("store")
            page.wait_for_selector("#faults[hidden]", state="attached", timeout=5_000)
    finally:
        daemon.stop()
