"""Shared by the browser tests: Debian's chromium, a gatectl served in a subprocess, and page helpers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent / "screenshots"
DEMO_PIN = "1234"
SIZES = {"phone": (390, 844), "hdmi": (1920, 1080)}


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@contextmanager
def running(args: list[str], port: int, log_path: Path):
    """``gatectl ARGS`` in a subprocess serving on ``port``, its output in ``log_path``; its base URL, then SIGTERM."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt)")
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gatectl", *args], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    get_json(base + "/api/live")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        pytest.fail(f"gatectl {args[0]} did not start:\n{log.read()}")
                    time.sleep(0.2)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def chromium_browser():
    """Debian's chromium, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def live_page_at(browser, base: str, size: str, scheme: str = "dark"):
    """The coach logged in on the live page at ``size`` (SIZES), streaming: its context, page and what it asked for."""
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    seen = watch(page, base)
    log_in(page, base)
    page.goto(base + "/")
    page.wait_for_selector("#conn.on", timeout=10_000)
    return context, page, seen


def watch(page, base: str):
    """Record what the page asks for and any script error."""
    seen = {"requests": [], "errors": [], "bytes": 0}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    # Anything the Content-Security-Policy blocks (an inline script or style, an eval) is a bug.
    page.on("console", lambda m: "Content Security Policy" in m.text and seen["errors"].append(m.text))

    def count(response):
        if response.url.startswith(base) and "/api/stream" not in response.url:
            with contextlib.suppress(Exception):  # a redirect has no body
                seen["bytes"] += len(response.body())

    page.on("response", count)
    return seen


def shoot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def wait_until(page, expression: str, timeout_s: float) -> None:
    """Poll ``expression`` in the page. wait_for_function would eval() it inside the page,
    which the dashboard's Content-Security-Policy rightly refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def log_in(page, base: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=password]", DEMO_PIN)
    page.click("button.primary")
    page.wait_for_url("**/control")


def serve_in_thread(app) -> str:
    """Serve ``app`` from a daemon thread on a free port; its base URL."""
    import socket
    import threading

    from gatectl.web import listen, serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    threading.Thread(target=serve, args=(app, listen("127.0.0.1", port)), kwargs={"threads": 4}, daemon=True).start()
    return f"http://127.0.0.1:{port}"


@contextmanager
def chromium_page(base: str, width: int, height: int, color_scheme: str = "light"):
    """Debian's chromium with one page of that size, watched (``watch``): yields (page, seen), then closes."""
    with chromium_browser() as browser:
        page = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme).new_page()
        yield page, watch(page, base)
