"""Fixtures for the dashboard's tests: a temp database, a real daemon over gates we drive.

``FakeGates`` (tests/fakes.py) is an edge source whose clock the test sets, so a
run is three beam breaks and a clock moved past the detection window; helpers
that drive them are in tests/helpers.py.
"""

from __future__ import annotations

import pytest
from fakes import FakeGates
from helpers import FLY30, app_config, csrf, login, set_pin

from gatectl.daemon.daemon import Daemon
from gatectl.store import Store
from gatectl.timing.model import NS_PER_S
from gatectl.web import create_app


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "gatectl.db"
    with Store(path) as store:
        ana = store.add_athlete("Ana Silva")
        store.set_race_time(ana, 400, 50 * NS_PER_S)
        store.set_race_time(ana, 800, 115 * NS_PER_S)
        store.add_athlete("Ben Okafor")
    return path


@pytest.fixture
def gates():
    return FakeGates()


@pytest.fixture
def daemon(db_path, gates):
    d = Daemon(gates, lambda: Store(db_path), FLY30, place="Club track")
    d.start()
    yield d
    d.stop()


@pytest.fixture
def app(db_path, daemon):
    set_pin(db_path)
    return create_app(app_config(), db_path=db_path, daemon=daemon)


@pytest.fixture
def history_app(db_path):
    """The dashboard over the database, no gates (but writable)."""
    set_pin(db_path)
    return create_app(app_config(), db_path=db_path)


@pytest.fixture
def read_only_app(db_path):
    set_pin(db_path)
    return create_app(app_config(), db_path=db_path, read_only=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def coach(app):
    """A test client logged in as the coach; ``coach.token`` is its CSRF token."""
    c = app.test_client()
    assert login(c).status_code == 302
    c.token = csrf(c)
    return c
