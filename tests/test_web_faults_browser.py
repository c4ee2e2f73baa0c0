"""The fault banner in a real browser (Debian's chromium): shown as a fault event arrives, gone when it clears."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS
from fakes import FakeGates
from helpers import FLY30, free_port

from gatectl.daemon.daemon import Daemon
from gatectl.store import Store
from gatectl.web import create_app, listen, serve

pytestmark = pytest.mark.browser



def test_the_live_page_shows_a_fault_while_it_stands(tmp_path):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    db = tmp_path / "g.db"
    daemon = Daemon(FakeGates(), lambda: Store(db), FLY30)
    daemon.start()
    port = free_port()
    threading.Thread(target=serve, args=(create_app({"SECRET_KEY": "t"}, db_path=db, daemon=daemon), listen("127.0.0.1", port)), daemon=True).start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#conn.on", timeout=10_000)
            assert page.locator("#faults").is_hidden()
            daemon.faults.raise_fault("store", "The database is locked by another program. Timing goes on: 3 edges wait.")
            page.wait_for_selector("#faults:not([hidden])", timeout=5_000)
            assert "3 edges wait" in page.inner_text("#faults")
            page.reload()  # from the page's state too, not only the event
            page.wait_for_selector("#faults:not([hidden])", timeout=5_000)
            daemon.faults.clear("store")
            page.wait_for_selector("#faults[hidden]", state="attached", timeout=5_000)
            browser.close()
    finally:
        daemon.stop()
