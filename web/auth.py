"""The coach's password: hashed in the settings table, one login per device.

Viewing is open; everything that changes state needs the coach. A browser
logs in once (a signed session cookie, valid for a year, void when the
password changes); scripts may send the password with HTTP Basic auth
instead (any user name). Every form carries a per-session token and every
``fetch()`` an ``X-CSRF-Token`` header, so another site cannot post through
a coach's browser.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from gatectl.store import Store

from .db import get_store
from .forms import FieldError, payload, text

PASSWORD_SETTING = "coach_password_hash"
SECRET_SETTING = "web_secret_key"
READ_ONLY = "This is a read-only copy of the database (gatectl web): nothing can be changed here."
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

bp = Blueprint("auth", __name__)


# The password, for the CLI and the demo ----------------------------------------


def set_coach_password(store: Store, password: str) -> None:
    """Store the coach's password or PIN, hashed; ``gatectl set-password`` calls this."""
    if not isinstance(password, str) or len(password.strip()) < 4:
        raise FieldError("password", "The coach password or PIN must have at least 4 characters.")
    if len(password) > 128:
        raise FieldError("password", "The coach password must have at most 128 characters.")
    store.set_setting(PASSWORD_SETTING, generate_password_hash(password))


def has_coach_password(store: Store) -> bool:
    return bool(store.setting(PASSWORD_SETTING))


def check_coach_password(store: Store, password: str) -> bool:
    stored = store.setting(PASSWORD_SETTING)
    return bool(stored and isinstance(password, str) and check_password_hash(stored, password))


def ensure_secret_key(store: Store) -> str:
    """The key that signs session cookies: made once, kept so logins survive restarts."""
    key = store.setting(SECRET_SETTING)
    if not key:
        key = secrets.token_hex(32)
        store.set_setting(SECRET_SETTING, key)
    return key


def _fingerprint(stored_hash: str) -> str:
    # A login is bound to the password it was made with: a new password logs every device out.
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


# Guessing a 4-digit PIN -------------------------------------------------------


class LoginLimiter:
    """At most ``attempts`` wrong passwords per address in ``window_s``."""

    def __init__(self, attempts: int, window_s: float = 300.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures[address]
        while failures and failures[0] < now - self.window_s:
            failures.popleft()
        return failures

    def check(self, address: str) -> None:
        with self._lock:
            if len(self._recent(address, time.monotonic())) >= self.attempts:
                abort(429, f"Too many wrong passwords from this device: wait {self.window_s / 60:g} minutes and try again.")

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address, time.monotonic()).append(time.monotonic())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def _limiter() -> LoginLimiter:
    return current_app.extensions["gatectl_login"]


def _verify(password: str) -> bool:
    address = request.remote_addr or "?"
    _limiter().check(address)
    if check_coach_password(get_store(), password):
        _limiter().succeeded(address)
        return True
    _limiter().failed(address)
    return False


# Who is the coach ------------------------------------------------------------


def is_coach() -> bool:
    stored = get_store().setting(PASSWORD_SETTING)
    return bool(stored and session.get("coach") == _fingerprint(stored))


def require_coach() -> None:
    """Abort unless this request may change things."""
    if current_app.config["READ_ONLY"]:
        abort(409, READ_ONLY)
    store = get_store()
    if not has_coach_password(store):
        abort(403, "No coach password is set yet: set one on the Pi with  gatectl set-password  (then log in on Control).")
    if request.authorization is not None:
        if request.authorization.type != "basic" or not _verify(request.authorization.password or ""):
            abort(401, "The coach password sent with the request is wrong.")
        return
    if not is_coach():
        abort(401, "Log in as the coach first: open Control and enter the coach's password or PIN.")


def coach_required(view):
    @functools.wraps(view)
    def wrapped(**kwargs):
        require_coach()
        return view(**kwargs)

    return wrapped


# Cross-site request forgery ------------------------------------------------------


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.authorization is not None or request.routing_exception is not None:
        return  # Basic auth is never sent by a browser on another site's behalf here: we never ask for it
    sent = request.headers.get("X-CSRF-Token") or (request.form.get("csrf_token") if not request.is_json else None)
    expected = session.get("csrf")
    if not sent or not expected or not secrets.compare_digest(str(sent), str(expected)):
        abort(400, "The form's security token is missing or out of date: reload the page and try again.")


def init_app(app: Flask) -> None:
    app.extensions["gatectl_login"] = LoginLimiter(app.config["LOGIN_ATTEMPTS"])
    app.before_request(check_csrf)

    @app.context_processor
    def coach_context():
        return {"csrf_token": csrf_token, "is_coach": is_coach, "read_only": app.config["READ_ONLY"]}


# Pages -----------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("control.index")


@bp.route("/login", methods=("GET", "POST"))
def login():
    store = get_store()
    if request.method == "POST":
        password = text(payload(), "password", "Password or PIN", max_len=128)
        if not has_coach_password(store):
            abort(403, "No coach password is set yet: set one on the Pi with  gatectl set-password.")
        if not _verify(password):
            abort(401, "Password or PIN: that is not the coach's password. Try again.")
        session.clear()
        session.permanent = True
        stored = store.setting(PASSWORD_SETTING)
        assert stored  # _verify has just checked the password against it
        session["coach"] = _fingerprint(stored)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", has_password=has_coach_password(store), next=request.args.get("next", ""))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("live.index"))
