"""Soak: 50 live viewers, 10 requests a second and a run every second, for 10 minutes, on loopback.

The real stack in one process, as ``gatectl run`` has it: a ``Daemon`` (store
on a temp file, WAL, synchronous=FULL) fed by beam breaks on the monotonic
clock (the short ``first``-method line of ``bench_live_latency``: a run
takes about half a second), the dashboard served by waitress with its
production threads. Around it, in threads:

* 50 viewers read ``/api/stream`` as the live page does, and reconnect with
  ``Last-Event-ID`` if the stream ends (as the browser does);
* a client makes 10 requests a second, round-robin over the pages and the
  JSON API (live page, ``/api/live``, Control, History, ``/api/gates``...);
* a run every second: M1, M2, M3 broken in turn.

It checks and reports:

* every run the daemon stored reached every viewer, once: none lost, none
  doubled;
* latency from a run being published (decided and stored) to each viewer
  reading it, p50 / p99 (the dashboard's target: 100 ms p99, as
  ``bench_live_latency`` measures it), and from its last beam break; the
  requests' response times;
* the process's resident memory every 10 s: its change over the last half of
  the soak, and the slope there (flat: within a few MB).

Usage:  python bench/bench_soak.py [--minutes 10] [--viewers 50] [--rps 10]
Everything listens on 127.0.0.1; the soak ends after ``--minutes`` whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import sys
import threading
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_live_latency import pct, serve_dashboard

from gatectl.store import Store
from gatectl.web import SERVE_THREADS

TARGET_MS = 100.0  # the dashboard's latency target, from a run's last break to the screen
PAGES = ("/", "/api/live", "/control", "/history", "/api/gates", "/api/queue", "/athletes", "/api/workout", "/workouts")


class StreamViewer(threading.Thread):
    """One live viewer: every run event it reads, in order, with when; it reconnects like the page does."""

    def __init__(self, port: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        # Each run event read: its run id, and when (wall ms). Arrays, 16 bytes a run: the soak's own
        # bookkeeping (50 viewers × 600 runs) must not pass for the dashboard's memory growing.
        self.run_ids, self.read_ms = array("q"), array("d")
        self.last_id: int | None = None
        self.reconnects = 0
        self.ready = threading.Event()
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError):
                self._read()
            if not self.stop.is_set():
                self.reconnects += 1
                time.sleep(0.5)

    def _read(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
        self.connection.request("GET", "/api/stream", headers=headers)
        response = self.connection.getresponse()
        if response.status != 200:
            return
        kind = None
        while not self.stop.is_set():
            line = response.readline()
            if not line:
                return
            text = line.decode().rstrip("\n")
            if text.startswith("id: "):
                self.last_id = int(text[4:])
            elif text.startswith("event: "):
                kind = text[7:]
                if kind == "hello":
                    self.ready.set()
            elif text.startswith("data: ") and kind == "run":
                self.run_ids.append(json.loads(text[6:])["id"])
                self.read_ms.append(time.time() * 1000)

    def close(self) -> None:
        if self.connection is not None and self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)


class Requester(threading.Thread):
    """``rps`` requests a second over ``PAGES``, each timed; a failure is counted."""

    def __init__(self, port: int, rps: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.rps, self.stop = port, rps, stop
        self.times_ms: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        n, began = 0, time.monotonic()
        while not self.stop.is_set():
            path = PAGES[n % len(PAGES)]
            t = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status != 200:
                    self.failures.append(f"{path}: {response.status}")
            except OSError as exc:
                self.failures.append(f"{path}: {exc}")
            self.times_ms.append((time.monotonic() - t) * 1000)
            n += 1
            self.stop.wait(max(0.0, began + n / self.rps - time.monotonic()))


def rss_mb() -> float:
    """This process's resident memory."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def soak(minutes: float, viewers: int, rps: float) -> dict:
    db, daemon, gates, bus, port = serve_dashboard("soak")
    stop = threading.Event()
    watchers = [StreamViewer(port, stop) for _ in range(viewers)]
    for viewer in watchers:
        viewer.start()
    for viewer in watchers:
        if not viewer.ready.wait(20):
            raise RuntimeError("a viewer could not connect")
    requester = Requester(port, rps, stop)
    requester.start()

    began = time.monotonic()
    end = began + minutes * 60
    handed: list[float] = []  # each run's last break, when it was handed over (wall ms), in order
    memory: list[tuple[float, float]] = [(0.0, rss_mb())]
    next_sample, n = began + 10, 0
    while time.monotonic() < end:
        cycle = began + n  # a run every second
        time.sleep(max(0.0, cycle - time.monotonic()))
        gates.beam("M1")
        time.sleep(0.2)
        gates.beam("M2")
        time.sleep(0.2 + n % 7 * 0.003)
        handed.append(gates.beam("M3"))
        if time.monotonic() >= next_sample:
            memory.append((time.monotonic() - began, rss_mb()))
            next_sample += 10
        n += 1
    # Assembly decides a group of crossings 2 s after its last one and holds a run open while
    # others follow (up to 24 s): runs a second apart are decided late. Wait for every run.
    deadline = time.monotonic() + 30
    while len(bus.published) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # the last run reaches everyone
    stop.set()
    for viewer in watchers:
        viewer.close()
    requester.join(15)
    daemon.stop()
    with Store(db) as store:
        stored = [r.id for r in store.runs(statuses=("complete",))]
    shutil.rmtree(db.parent, ignore_errors=True)
    published = bus.published
    # One run a cycle, decided in the order they ran (after assembly's decision wait): the n-th run
    # stored is the n-th cycle's.
    edges = dict(zip(sorted(published), handed))
    reads = [list(zip(v.run_ids, v.read_ms)) for v in watchers]
    latency = [t - published[i] for runs in reads for i, t in runs if i in published]  # the dashboard's target
    from_edge = [t - edges[i] for runs in reads for i, t in runs if i in edges]
    half = [(t, m) for t, m in memory if t >= minutes * 30]
    return {
        "minutes": minutes, "viewers": viewers, "rps": rps, "threads": SERVE_THREADS,
        "runs_made": n, "runs_stored": len(stored), "runs_published": len(published),
        "lost": sum(len(set(published) - set(v.run_ids)) for v in watchers),
        "doubled": sum(len(v.run_ids) - len(set(v.run_ids)) for v in watchers),
        "reconnects": sum(v.reconnects for v in watchers),
        "latency_ms_p50": round(pct(latency, 50), 1), "latency_ms_p99": round(pct(latency, 99), 1),
        "latency_ms_max": round(max(latency), 1), "deliveries": len(latency),
        "edge_to_viewer_ms_p50": round(pct(from_edge, 50), 1), "edge_to_viewer_ms_p99": round(pct(from_edge, 99), 1),
        "requests": len(requester.times_ms), "request_failures": len(requester.failures), "failures_seen": requester.failures[:5],
        "request_ms_p50": round(pct(requester.times_ms, 50), 1), "request_ms_p99": round(pct(requester.times_ms, 99), 1),
        "rss_mb_start": round(memory[0][1], 1), "rss_mb_half": round(half[0][1], 1), "rss_mb_end": round(memory[-1][1], 1),
        "rss_mb_per_min_last_half": round(slope(half) * 60, 3) if len(half) > 1 else None,
        "rss_mb_range_last_half": round(max(m for _, m in half) - min(m for _, m in half), 1),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rps", type=float, default=10)
    args = parser.parse_args()
    figures = soak(args.minutes, args.viewers, args.rps)
    print(json.dumps(figures, indent=2))
    held = figures["lost"] == 0 and figures["doubled"] == 0 and figures["latency_ms_p99"] <= TARGET_MS and figures["request_failures"] == 0
    held = held and figures["runs_stored"] == figures["runs_made"]
    print(f"soak {'held' if held else 'did NOT hold'}: p99 {figures['latency_ms_p99']} ms (target {TARGET_MS:g}), "
          f"{figures['lost']} lost, {figures['doubled']} doubled, memory {figures['rss_mb_per_min_last_half']} MB/min over the last half")  # fmt: skip
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
