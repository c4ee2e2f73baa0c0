"""Crash suite: SIGKILL the daemon at random moments, many within a few ms of an edge; nothing lost.

A real ``Daemon`` runs in a child process (``child``) on a database file, fed
by a gate-node-like source: simulated flying 30s stamped on the monotonic
clock, each edge handed over when the clock reaches it with its origin (node
id, boot, seq), and on every start every edge not acknowledged sent again, as
a gate node does, including those a kill caught between the commit and the
ACK: the database must know them by their origin. The child prints an
acknowledgement for each edge when the daemon calls the source's
``edges_stored``, as a gate node's ACK: only once ``add_edges`` has returned
(committed, synchronous=FULL).

The parent starts the child, kills it with SIGKILL at a random moment (most
within ±5 ms of an edge, the rest anywhere), checks the database (every
acknowledged edge is there, ``PRAGMA integrity_check`` is ok), starts it
again (it carries on with the same session), and so on. At the end the last
child delivers the rest of the trace and stops cleanly, and the parent checks:

* every acknowledged edge kept, none doubled (``resent_stored`` counts the edges
  sent again that the database already held); the raw log is the whole trace;
* integrity ok after every kill;
* one session: every restart carried on with it;
* the runs the daemon derived live, across all the kills, equal an
  uninterrupted run (``time_edges`` over the whole trace), and so does a
  recompute.

Usage:  python bench/bench_crash.py [--kills 100] [--seed 1]
(tests/test_crash.py runs 10 kills on every test run.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gatectl.sim.sprinters import SimOptions, Simulation, simulate
from gatectl.store import Store
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout
from gatectl.timing.pipeline import time_edges

LAYOUT = Layout.flying(30, 30)
NEAR_EDGE_NS = 5 * NS_PER_MS  # "within a few ms of an edge"
NODE, BOOT = "C0FFEE0000000001", 0x2026  # the suite's node: its edges are numbered 1, 2, ... through the trace


def trace(seed: int, start_ns: int, seconds: float) -> Simulation:
    """Flying 30s with arms and legs, back to back from ``start_ns`` on the monotonic clock, for at least ``seconds``."""
    return simulate(LAYOUT, int(seconds / 4) + 2, seed=seed, options=SimOptions(limbs=True), start_ns=start_ns, gap_ns=NS_PER_S)


def whole_reps_before(sim: Simulation, t_ns: int) -> list[Edge]:
    """The trace up to the first rep that starts after ``t_ns``: every rep in it whole."""
    cut = next((r.start_ns for r in sim.reps if r.start_ns > t_ns), sim.edges[-1].t_ns + 1)
    return [e for e in sim.edges if e.t_ns < cut]


# The child: a daemon fed like a gate node ---------------------------------------------------------


class NodeSource:
    """Edges handed over as the monotonic clock reaches them; on start, every one not acknowledged is sent again.

    Its clock never passes an edge not yet handed over, so the daemon never
    decides anything past an edge still on its way (as ``ReplaySource``).
    """

    name = "node"
    latency_ns = 20 * NS_PER_MS

    def __init__(self, edges: list[Edge], acked: set[tuple[str, int]]) -> None:
        self._origin = {e: (NODE, BOOT, seq) for seq, e in enumerate(edges, 1)}
        self._edges = [e for e in edges if (e.beam, e.t_ns) not in acked]
        self._next = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, emit) -> None:
        self._thread = threading.Thread(target=self._run, args=(emit,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)

    def now_ns(self) -> int:
        """The host's clock until the node talks (as a serial source's), then never past an edge not yet handed over.

        Held from the start, a resent edge older than what the daemon stored would set the clock the
        daemon reads as it resumes behind the session's last instant: a new clock epoch on the same boot.
        """
        now = time.monotonic_ns()
        i = self._next
        return min(now, self._edges[i].t_ns) if self._thread is not None and i < len(self._edges) else now

    def origins(self, edges: list[Edge]) -> list[tuple[str, int, int] | None]:
        return [self._origin.get(e) for e in edges]

    def edges_stored(self, edges: list[Edge]) -> None:
        """The daemon has them durably (as it tells a gate node): acknowledged to the parent."""
        sys.stdout.write("".join(f"A {e.beam} {e.t_ns}\n" for e in edges))
        sys.stdout.flush()

    def _run(self, emit) -> None:
        while self._next < len(self._edges) and not self._stop.is_set():
            edge = self._edges[self._next]
            wait = (edge.t_ns - time.monotonic_ns()) / NS_PER_S
            if wait > 0 and self._stop.wait(wait):
                return
            emit(edge)
            self._next += 1


def child(args: argparse.Namespace) -> int:
    from gatectl.daemon.daemon import Daemon

    edges = [Edge(b, t, bool(k)) for b, t, k in json.loads(Path(args.trace).read_text())]

    acked = {(b, t) for b, t in json.loads(Path(args.acked).read_text())}
    source = NodeSource(edges, acked)
    daemon = Daemon(source, lambda: Store(args.db), LAYOUT, place="crash suite")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    daemon.start()
    print(f"READY {daemon.snapshot().session_id}", flush=True)
    stop.wait()
    daemon.stop()
    print("STOPPED", flush=True)
    return 0


# The parent: kill, check, restart ------------------------------------------------------------------


class Child:
    def __init__(self, db: Path, trace_path: Path, acked: set[tuple[str, int]]) -> None:
        acked_path = trace_path.with_name("acked.json")  # what the node heard ACK for: it sends the rest again
        acked_path.write_text(json.dumps(sorted(acked)))
        self.process = subprocess.Popen(
            [sys.executable, __file__, "child", "--db", str(db), "--trace", str(trace_path), "--acked", str(acked_path)],
            stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.acked = acked
        self.ready = threading.Event()
        self.session: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("A "):
                _, beam, t_ns = line.split()
                self.acked.add((beam, int(t_ns)))
            elif line.startswith("READY"):
                self.session = int(line.split()[1])
                self.ready.set()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self._gone()

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._gone()

    def _gone(self) -> int:
        code = self.process.wait(60)
        self._reader.join(5)  # every acknowledgement the child wrote before it ended
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def _stored_count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select count(*) from edges").fetchone()[0]
    finally:
        conn.close()


def check_after_kill(db: Path, acked: set[tuple[str, int]]) -> tuple[bool, int, int]:
    """Integrity, how many acknowledged edges are missing (should be none), how many stored are not acknowledged."""
    conn = sqlite3.connect(db)
    try:
        ok = conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        stored = {(b, t) for b, t in conn.execute("select beam, t_ns from edges")}
    finally:
        conn.close()
    return ok, len(acked - stored), len(stored - acked)


def run_suite(kills: int, seed: int, workdir: Path, log=print) -> dict:
    """``kills`` SIGKILLs, then a clean finish; the figures."""
    rng = random.Random(seed)
    db, trace_path = workdir / "crash.db", workdir / "trace.json"
    # Longer than the kills can take (a start takes 0.7–3 s, then the wait for an edge); cut when they are done.
    sim = trace(seed, time.monotonic_ns(), kills * 8 + 20)
    edges = list(sim.edges)
    trace_path.write_text(json.dumps([[e.beam, e.t_ns, int(e.broken)] for e in edges]))
    acked: set[tuple[str, int]] = set()
    figures = {"kills": 0, "near_edge": 0, "integrity_failures": 0, "acked_missing": 0, "resent_stored": 0, "sessions": set(), "restart_s": []}
    for n in range(kills):
        started = time.monotonic()
        child = Child(db, trace_path, acked)
        if not child.ready.wait(30):
            raise RuntimeError(f"the daemon did not start (kill {n})")
        figures["restart_s"].append(time.monotonic() - started)
        figures["sessions"].add(child.session)
        now = time.monotonic_ns()
        upcoming = [e.t_ns for e in edges if now + 20 * NS_PER_MS < e.t_ns < now + 3 * NS_PER_S][:4]
        if upcoming and rng.random() < 0.7:  # most kills within a few ms of one of the next edges
            target = rng.choice(upcoming) + rng.randint(-NEAR_EDGE_NS, NEAR_EDGE_NS)
            figures["near_edge"] += 1
        else:
            target = now + rng.randint(0, 800 * NS_PER_MS)
        time.sleep(max(0, target - time.monotonic_ns()) / NS_PER_S)
        child.kill()
        figures["kills"] += 1
        ok, missing, unacked = check_after_kill(db, acked)
        figures["integrity_failures"] += not ok
        figures["acked_missing"] += missing
        figures["resent_stored"] += unacked  # the next start sends these again: the database must know them
        if n % 10 == 9:
            log(f"  {n + 1} kills: integrity {'ok' if ok else 'FAILED'}, {len(acked)} edges acknowledged, {missing} missing")
    # The last start: the reps under way finish (their edges sent again, then live), then a clean stop.
    edges = whole_reps_before(sim, time.monotonic_ns())
    trace_path.write_text(json.dumps([[e.beam, e.t_ns, int(e.broken)] for e in edges]))
    child = Child(db, trace_path, acked)
    child.ready.wait(30)
    figures["sessions"].add(child.session)
    time.sleep(max(0, edges[-1].t_ns - time.monotonic_ns()) / NS_PER_S + 1)
    deadline = time.monotonic() + 60
    while _stored_count(db) < len(edges) and time.monotonic() < deadline:  # some were stored but never acknowledged
        time.sleep(0.1)
    time.sleep(0.5)  # the last runs are decided
    figures["exit_code"] = child.terminate()
    return _final_figures(db, edges, acked, figures)


def _final_figures(db: Path, edges: list[Edge], acked: set[tuple[str, int]], figures: dict) -> dict:
    ok, missing, _ = check_after_kill(db, acked)
    with Store(db) as store:
        [session] = [s["id"] for s in store.sessions()] or [None]
        stored = store.edges(session)
        doubled = len(stored) - len({(e.beam, e.t_ns) for e in stored})
        live = _runs(store, session)
        store.recompute(session)
        recomputed = _runs(store, session)
        interrupted = sum(r[2] == "interrupted by a restart" for r in live)
    truth = [(r.status.value, {c.gate: c.t_ns for c in r.crossings}, r.reason) for r in time_edges(edges, LAYOUT).runs]
    figures.update(
        sessions=len(figures["sessions"]), sessions_in_db=1 if session else 0,
        edges=len(edges), stored=len(stored), acked=len(acked), doubled=doubled,
        acked_missing=figures["acked_missing"] + missing, integrity_failures=figures["integrity_failures"] + (not ok),
        raw_log_is_the_trace=sorted(stored) == sorted(edges),
        runs=len(truth), complete=sum(r[0] == "complete" for r in truth), interrupted=interrupted,
        live_equals_uninterrupted=[r[:2] for r in live] == [r[:2] for r in truth],
        recompute_equals_uninterrupted=[r[:2] for r in recomputed] == [r[:2] for r in truth],
        restart_s_median=sorted(figures["restart_s"])[len(figures["restart_s"]) // 2] if figures["restart_s"] else None,
    )  # fmt: skip
    del figures["restart_s"]
    return figures


def _runs(store: Store, session: int) -> list[tuple]:
    rows = sorted(store.runs(session_id=session), key=lambda r: r.number)
    return [(r.status.value, dict(r.crossings), r.reason) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    inner = commands.add_parser("child")
    inner.add_argument("--db", required=True)
    inner.add_argument("--trace", required=True)
    inner.add_argument("--acked", required=True)
    args = parser.parse_args()
    if args.command == "child":
        return child(args)
    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        print(f"crash suite: {args.kills} SIGKILLs, seed {args.seed}", flush=True)
        figures = run_suite(args.kills, args.seed, Path(tmp), log=lambda line: print(line, flush=True))
        figures["wall_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(figures, indent=2))
    good = (
        figures["acked_missing"] == 0 and figures["doubled"] == 0 and figures["integrity_failures"] == 0 and figures["sessions"] == 1
        and figures["raw_log_is_the_trace"] and figures["recompute_equals_uninterrupted"] and figures["live_equals_uninterrupted"]
    )  # fmt: skip
    return 0 if good else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
