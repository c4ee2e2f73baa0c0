"""The trackside dashboard: a Flask application over the store and the daemon.

``create_app`` builds it; ``gatectl run`` and ``gatectl demo`` serve it with
waitress (``serve``) in the daemon's process, ``gatectl web --db FILE`` serves
a copied database read-only. One blueprint per area: ``live`` (the big
display), ``api`` (JSON and the event stream), ``control`` (the coach's
page), ``workouts`` (start and run a workout), ``athletes``, ``history``,
``export``, ``auth`` (login) and ``check`` (the pre-session check).

>>> app = create_app(db_path="club.db", daemon=daemon)  # doctest: +SKIP
>>> serve(app, host="0.0.0.0", port=8000)  # doctest: +SKIP

Each request opens its own connection to the database file (``:memory:``
would give every request an empty database: use a file, even in tests).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from gatectl.config import Network
from gatectl.daemon.control import DaemonControl
from gatectl.errors import ConfigError
from gatectl.jsonable import jsonable
from gatectl.limits import ID, read_integer
from gatectl.store import Store

from .auth import ensure_secret_key
from .link import LiveLink

# Waitress gives each request a worker thread for as long as it runs, and an
# event stream (/api/stream) runs for as long as a browser shows a page: every
# live viewer holds one thread. 100 threads serve 50 viewers (the issue's
# target) with 50 left for page loads, the JSON API and the coach's controls;
# above MAX_STREAMS viewers a new stream is refused (the browser retries) so
# viewers can never starve the controls. An idle thread costs little: it waits
# on its queue with its stack mostly unmapped.
SERVE_THREADS = 100
MAX_STREAMS = SERVE_THREADS - 20
# One address (a phone with tabs open, or a script) holds at most this many streams, so
# it cannot take every slot; a browser opens at most 6 connections to one host anyway.
MAX_STREAMS_PER_ADDRESS = 8
# Forms and JSON bodies are small. Waitress reads a whole body before the app sees it, into
# a temporary file above 512 KB: without a limit at the server, eight anonymous 250 MB posts
# left 2.1 GB on the disk that holds the edges. Both the server and Flask refuse more.
MAX_BODY_BYTES = 256 * 1024


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    db_path: str | os.PathLike | None = None,
    daemon: DaemonControl | None = None,
    read_only: bool = False,
    network: Network | None = None,
    port: int = 8000,
) -> Flask:
    """The dashboard over the database at ``db_path``, live when given the ``daemon``.

    Without a daemon the live and control pages say there are no gates and
    refuse control actions; with ``read_only`` every change is refused and the
    database is opened read-only (``gatectl web``).

    Config keys (``test_config`` or defaults): ``DATABASE``, ``READ_ONLY``,
    ``SSE_HEARTBEAT_S`` (15), ``MAX_STREAMS``, ``MAX_STREAMS_PER_ADDRESS``, ``SET_SYSTEM_CLOCK`` (False:
    "set the date from this phone" only corrects labels unless this allows
    ``date -s``), ``LOGIN_ATTEMPTS`` (10 wrong passwords per 5 minutes per
    address), ``SECRET_KEY`` (default: generated once, kept in a 0600 file beside the database).
    ``network`` (the config's ``[network]``) and the ``port`` served on make
    the QR codes to join the Pi's Wi-Fi and open the dashboard.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE=str(db_path) if db_path is not None else os.environ.get("GATECTL_DB"),
        READ_ONLY=read_only,
        SSE_HEARTBEAT_S=15.0,
        MAX_STREAMS=MAX_STREAMS,
        SET_SYSTEM_CLOCK=os.environ.get("GATECTL_SET_SYSTEM_CLOCK") == "1",
        LOGIN_ATTEMPTS=10,
        MAX_STREAMS_PER_ADDRESS=MAX_STREAMS_PER_ADDRESS,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME="gatectl_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=365),  # the coach logs in once per device
        NETWORK=network,
        PORT=port,
    )
    if test_config is not None:
        app.config.update(test_config)
    if not app.config["DATABASE"]:
        raise ConfigError("The dashboard needs a database: pass db_path, or set GATECTL_DB.")
    if app.config["DATABASE"] != ":memory:":
        app.config["DATABASE"] = str(Path(app.config["DATABASE"]))
    app.json = TypedJSON(app)
    app.url_map.converters["int"] = IdConverter

    _prepare_database(app)
    app.extensions["gatectl"] = LiveLink(daemon, app.config["MAX_STREAMS"], app.config["MAX_STREAMS_PER_ADDRESS"])

    from . import api, athletes, auth, check, control, db, errors, export, format, headers, history, live, workouts

    db.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    format.init_app(app)
    auth.init_app(app)
    for blueprint in (live.bp, api.bp, control.bp, workouts.bp, athletes.bp, history.bp, export.bp, auth.bp, check.bp):
        app.register_blueprint(blueprint)
    return app


class TypedJSON(DefaultJSONProvider):
    """Flask's JSON (API answers, ``|tojson`` in templates) with gatectl's typed values in their JSON form."""

    sort_keys = False
    default = staticmethod(jsonable)


class IdConverter(IntegerConverter):
    """``<int:run_id>``: an id past ``limits.ID`` is a 400 with a sentence, not a database overflow."""

    def to_python(self, value: str) -> int:
        return read_integer(value, "The number in the address", ID, BadRequest)


def _prepare_database(app: Flask) -> None:
    """Check the database once, apply migrations, and find the session key (outside the database)."""
    path = app.config["DATABASE"]
    if app.config["READ_ONLY"]:
        with Store(path, read_only=True):
            pass  # raises a StoreError with a sentence if the file is missing or not ours
        # Nothing can change in a read-only copy, so a login need not outlive the process.
        app.secret_key = app.config["SECRET_KEY"] or secrets.token_hex(32)
        return
    with Store(path) as store:
        key = ensure_secret_key(store, Path(path).parent)
    if not app.config.get("SECRET_KEY"):
        app.secret_key = key


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8000, *, threads: int = SERVE_THREADS) -> None:
    """Serve the dashboard with waitress until interrupted.

    ``threads`` is sized for 50 live viewers plus API traffic: each open event
    stream holds a waitress thread (see ``SERVE_THREADS``).
    """
    import waitress

    waitress.serve(app, host=host, port=port, **_server_options(threads))


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000, *, threads: int = SERVE_THREADS) -> Any:
    """The server ``serve`` runs, listening but not yet serving (``.run()``, ``.close()``): for tests."""
    import waitress

    return waitress.create_server(app, host=host, port=port, **_server_options(threads))


def _server_options(threads: int) -> dict[str, Any]:
    return {
        "threads": threads,
        "connection_limit": max(300, 3 * threads),  # viewers, their page loads and keep-alive sockets
        "channel_timeout": 120,  # > the stream heartbeat (15 s): idle streams stay open
        "asyncore_use_poll": True,  # poll(), not select(): no 1024-descriptor ceiling
        "max_request_body_size": MAX_BODY_BYTES,  # refused after the headers, before any byte is stored
        "max_request_header_size": 64 * 1024,
        "channel_request_lookahead": 1,  # keeps reading while a stream runs: a closed tab is noticed at once
        "ident": "gatectl",
    }
