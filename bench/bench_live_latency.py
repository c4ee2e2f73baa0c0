"""Live latency: from the last edge of a run to the result on screen, with 1 and 50 viewers.

Runs the real stack in one process, as ``gatectl run`` does: a ``Daemon``
(store on a temp file, synchronous=FULL) fed by a source on the monotonic
clock, the dashboard served by waitress with its production thread count
(``web.serve``), one real browser (Debian's chromium, headless) on the live
page and, for the 50-viewer case, 49 more viewers: plain HTTP clients in
threads reading ``/api/stream``.

Each run is three beam breaks on a short line (M1=0, M2=3, M3=6: a 3 m fly
zone, so a run takes under a second), detected with the ``first`` method, so
the run is decided as soon as its last break outlives the 1 ms glitch filter
(plus up to one daemon tick, 20 ms): what is measured is the pipeline, not a
detection window. With ``longest`` (the default, the torso rule) a crossing
is decided ``window_ns`` (300 ms) after its first break, by design, and the
rest of the path is the same.

Instants (all on the same machine, wall clock in ms):
  edge       the run's last edge (the break at M3) is handed to the daemon
  published  the daemon publishes the run on the bus (stored, decided)
  received   each HTTP viewer reads the ``run`` event off its stream
  rendered   the browser's next animation frame after the live page drew the run

Usage:  python bench/bench_live_latency.py [--runs 100] [--viewers 1,50]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatectl.daemon.daemon import Daemon
from gatectl.daemon.events import EventBus
from gatectl.store import Store
from gatectl.timing.model import Edge, Layout
from gatectl.web import SERVE_THREADS, create_app, listen, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
LAYOUT = Layout.parse("M1=0,M2=3,M3=6", "first")


class MonotonicGates:
    """An edge source on the monotonic clock; the benchmark breaks the beams."""

    name = "bench"
    latency_ns = 0

    def start(self, emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        pass

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def beam(self, gate: str, hold_s: float = 0.05) -> float:
        """Break a beam now and clear it ``hold_s`` later; returns when the break was handed over (ms)."""
        t = time.monotonic_ns()
        handed = time.time() * 1000
        self._emit(Edge(gate, t, True))
        time.sleep(hold_s)
        self._emit(Edge(gate, time.monotonic_ns(), False))
        return handed


class TimedBus(EventBus):
    """The bus, noting when each run was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: dict[int, float] = {}

    def publish(self, kind, data):
        if kind == "run":  # a stored run, typed (RunView)
            self.published[data.id] = time.time() * 1000
        return super().publish(kind, data)


class Viewer(threading.Thread):
    """A live viewer without a browser: reads the event stream, notes each run's arrival."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.received: dict[int, float] = {}
        self.ready = threading.Event()
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.connection.request("GET", "/api/stream")
        response = self.connection.getresponse()
        kind = None
        try:
            while True:
                line = response.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                    if kind == "hello":
                        self.ready.set()
                elif line.startswith("data: ") and kind == "run":
                    self.received[json.loads(line[6:])["id"]] = time.time() * 1000
        except OSError:
            return

    def close(self) -> None:
        if self.connection is not None and self.connection.sock is not None:
            self.connection.sock.shutdown(socket.SHUT_RDWR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# Runs in the browser: note the frame after each run the page drew.
RENDER_HOOK = """
window.__rendered = {};
document.addEventListener("gatectl:run", function (e) {
  requestAnimationFrame(function () { window.__rendered[e.detail.id] = performance.timeOrigin + performance.now(); });
});
"""


def serve_dashboard(name: str) -> tuple[Path, Daemon, MonotonicGates, TimedBus, int]:
    """A daemon over gates the bench drives, its dashboard served on a free loopback port.

    Returns the database, the daemon (started), its gates and bus, and the port, once the port answers.
    """
    db = Path(tempfile.mkdtemp(prefix=f"gatectl-{name}-")) / f"{name}.db"
    Store(db).close()
    gates, bus = MonotonicGates(), TimedBus()
    daemon = Daemon(gates, lambda: Store(db), LAYOUT, bus=bus)
    daemon.start()
    port = free_port()
    app = create_app({"SECRET_KEY": name}, db_path=db, daemon=daemon)
    threading.Thread(target=serve, args=(app, listen("127.0.0.1", port)), daemon=True).start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return db, daemon, gates, bus, port


def measure(viewers: int, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    _, daemon, gates, bus, port = serve_dashboard("bench")
    base = f"http://127.0.0.1:{port}"

    others = [Viewer(port) for _ in range(viewers - 1)]
    for viewer in others:
        viewer.start()
    for viewer in others:
        assert viewer.ready.wait(10), "a viewer could not connect"

    edges: dict[int, float] = {}
    weight: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.add_init_script(RENDER_HOOK)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))

        def count(response):
            if "/api/stream" not in response.url:
                try:
                    weight[response.url] = len(response.body())
                except Exception:
                    weight[response.url] = 0

        page.on("response", count)
        page.goto(base + "/")
        page.wait_for_selector("#conn.on")
        for n in range(runs):
            before = set(bus.published)
            gates.beam("M1")
            time.sleep(0.25)
            gates.beam("M2")
            time.sleep(0.25 + n % 7 * 0.003)  # fly times differ from run to run
            handed = gates.beam("M3")
            deadline = time.monotonic() + 5
            while not set(bus.published) - before and time.monotonic() < deadline:
                time.sleep(0.005)
            new = set(bus.published) - before
            assert new, "the daemon published no run"
            edges[new.pop()] = handed
            time.sleep(0.35)  # the gates re-arm (300 ms clear)
        page.wait_for_timeout(500)
        rendered = {int(k): v for k, v in page.evaluate("window.__rendered").items()}
        external = [u for u in requests if not u.startswith(base) and not u.startswith("data:")]
        browser.close()

    for viewer in others:
        viewer.close()
    daemon.stop()

    ids = sorted(edges)
    published = bus.published
    result = {
        "viewers": viewers,
        "runs": len(ids),
        "edge_to_published": [published[i] - edges[i] for i in ids],
        "published_to_viewer": [v.received[i] - published[i] for v in others for i in ids if i in v.received],
        "published_to_rendered": [rendered[i] - published[i] for i in ids if i in rendered],
        "edge_to_rendered": [rendered[i] - edges[i] for i in ids if i in rendered],
        "missing_renders": sum(1 for i in ids if i not in rendered),
        "missing_viewer_events": sum(1 for v in others for i in ids if i not in v.received),
        "weight": weight,
        "external": external,
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--viewers", default="1,50", help="comma-separated viewer counts (default 1,50)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"needs Debian's chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    results = [measure(int(v), args.runs) for v in args.viewers.split(",")]

    def cell(values: list[float]) -> str:
        return f"{pct(values, 50):6.1f} / {pct(values, 99):6.1f}" if values else "      —       "

    print(f"\nlive latency, ms, p50 / p99 ({args.runs} runs each; waitress threads={SERVE_THREADS}; method 'first')")
    print(f"{'viewers':>7}  {'edge→published':>15}  {'published→viewers':>17}  {'published→screen':>16}  {'edge→screen':>15}")
    for r in results:
        print(
            f"{r['viewers']:>7}  {cell(r['edge_to_published']):>15}  {cell(r['published_to_viewer']):>17}  "
            f"{cell(r['published_to_rendered']):>16}  {cell(r['edge_to_rendered']):>15}"
            + (f"   (missed: {r['missing_renders']} renders, {r['missing_viewer_events']} viewer events)" if r["missing_renders"] or r["missing_viewer_events"] else "")
        )
    weight = results[0]["weight"]
    print(f"\nlive page weight: {sum(weight.values())} bytes in {len(weight)} responses (target ≤ 150 KB)")
    for url, size in sorted(weight.items()):
        print(f"  {size:>7}  {url.split('/', 3)[-1] or '/'}")
    print(f"external requests: {len(results[0]['external'])}")
    for r in results:
        if r["edge_to_published"]:
            print(f"mean edge→screen with {r['viewers']} viewer(s): {statistics.fmean(r['edge_to_rendered']):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
