"""One ``Store`` per request, opened on first use and closed at teardown.

Each request gets its own SQLite connection (the daemon writes through its
own); WAL lets them read while the daemon writes.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from gatectl.store import Store


def get_store() -> Store:
    if "store" not in g:
        path = current_app.config["DATABASE"]
        g.store = Store(path, read_only=True) if current_app.config["READ_ONLY"] else Store(path, migrate=False)
    return g.store


def close_store(exc: BaseException | None = None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_store)
