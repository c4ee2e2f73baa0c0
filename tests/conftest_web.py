"""Fixtures for the dashboard's tests: a temp database, a real daemon over gates we drive.

Imported by the ``test_web_*`` modules (``from conftest_web import *``).
``FakeGates`` is an edge source whose clock the test sets, so a run is three
beam breaks and a clock moved past the detection window.
"""

from __future__ import annotations

import threading

import pytest
from gatectl.web import create_app
from gatectl.web.auth import PASSWORD_SETTING
from werkzeug.security import generate_password_hash

from gatectl.daemon.daemon import Daemon
from gatectl.store import Store
from gatectl.timing.assemble import AssemblySettings
from gatectl.timing.model import NS_PER_MS, NS_PER_S, Edge, Layout

__all__ = [
    "FLY30",
    "PIN",
    "FakeGates",
    "app",
    "athlete_id",
    "client",
    "coach",
    "csrf",
    "daemon",
    "db_path",
    "gates",
    "history_app",
    "login",
    "read_only_app",
    "run_once",
    "set_pin",
]

PIN = "2468"
FLY30 = Layout.parse("M1=0,M2=30,M3=60")


class FakeGates:
    """An ``EdgeSource`` driven by the test: ``break_beams`` emits, ``now`` is set by hand."""

    name = "fake"
    latency_ns = 0

    def __init__(self) -> None:
        self.now = 1000 * NS_PER_S
        self._emit = None
        self.lock = threading.Lock()

    def start(self, emit) -> None:
        self._emit = emit

    def stop(self) -> None:
        self._emit = None

    def now_ns(self) -> int:
        with self.lock:
            return self.now

    def set_now(self, t_ns: int) -> None:
        with self.lock:
            self.now = max(self.now, t_ns)

    def emit(self, edge: Edge) -> None:
        self.set_now(edge.t_ns)
        self._emit(edge)


def run_once(gates: FakeGates, daemon: Daemon, times_s=(0.0, 3.5, 6.6), *, gap_s: float = 30.0, timeout: float = 5.0, extra=()) -> dict:
    """One athlete through M1, M2, M3 at ``times_s`` after the clock (and ``extra`` crossings: (gate, s));
    returns the published run."""
    sub = daemon.bus.subscribe()
    try:
        start = gates.now_ns() + round(gap_s * NS_PER_S)
        for gate, t in sorted([*zip(("M1", "M2", "M3"), times_s), *extra], key=lambda c: c[1]):
            t_ns = start + round(t * NS_PER_S)
            gates.emit(Edge(gate, t_ns, True))
            gates.emit(Edge(gate, t_ns + 80 * NS_PER_MS, False))
        # Past the window (the crossing is decided) and the assembler's wait (the run is).
        gates.set_now(start + round((times_s[-1] + 2) * NS_PER_S) + AssemblySettings().decision_wait_ns)
        while True:
            event = sub.get(timeout=timeout)
            assert event is not None, "the daemon published no run"
            if event.kind == "run":
                return event.data
    finally:
        sub.close()


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        ana = store.add_athlete("Ana Silva")
        store.set_race_time(ana, 400, 50 * NS_PER_S)
        store.set_race_time(ana, 800, 115 * NS_PER_S)
        store.add_athlete("Ben Okafor")
    return path


def athlete_id(path, name: str) -> int:
    with Store(path, migrate=False) as store:
        return store.find_athlete(name)["id"]


@pytest.fixture
def gates():
    return FakeGates()


@pytest.fixture
def daemon(db_path, gates):
    d = Daemon(gates, lambda: Store(db_path), FLY30, place="Club track")
    d.start()
    yield d
    d.stop()


def set_pin(path, pin: str = PIN) -> None:
    """The coach's PIN, hashed cheaply: the real scrypt hash costs 0.2 s a check (tested on its own)."""
    with Store(path, migrate=False) as store:
        store.set_setting(PASSWORD_SETTING, generate_password_hash(pin, method="pbkdf2:sha256:1000"))


def _config(**extra):
    return {"TESTING": True, "SSE_HEARTBEAT_S": 0.05, "SECRET_KEY": "test", **extra}


@pytest.fixture
def app(db_path, daemon):
    set_pin(db_path)
    return create_app(_config(), db_path=db_path, daemon=daemon)


@pytest.fixture
def history_app(db_path):
    """The dashboard over the database, no gates (but writable)."""
    set_pin(db_path)
    return create_app(_config(), db_path=db_path)


@pytest.fixture
def read_only_app(db_path):
    set_pin(db_path)
    return create_app(_config(), db_path=db_path, read_only=True)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client) -> str:
    """The session's CSRF token (what every form of the session carries)."""
    with client.session_transaction() as session:
        return session.setdefault("csrf", "test-csrf-token")


def login(client, password: str = PIN):
    return client.post("/login", data={"csrf_token": csrf(client), "password": password})


@pytest.fixture
def coach(app):
    """A test client logged in as the coach; ``coach.token`` is its CSRF token."""
    c = app.test_client()
    assert login(c).status_code == 302
    c.token = csrf(c)
    return c
