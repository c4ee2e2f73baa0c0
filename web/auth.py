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
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for

from gatectl.coach_password import MAX_CHECK_MEMORY, check_coach_password, check_memory, has_coach_password, set_coach_password
from gatectl.store import COOKIE_SECRET_SETTING as SECRET_SETTING
from gatectl.store import PASSWORD_SETTING, Store

from .db import get_store
from .forms import payload, text

SECRET_FILE = "cookie-secret"  # beside the database, mode 0600
CONCURRENT_CHECKS = 2  # at most this many hashes computed at once, whatever the traffic
READ_ONLY = "This is a read-only copy of the database (gatectl web): nothing can be changed here."
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

bp = Blueprint("auth", __name__)


def ensure_secret_key(store: Store, state_dir: Path) -> str:
    """The key that signs session cookies: made once, kept so logins survive restarts.

    It lives in ``state_dir/SECRET_FILE``, readable by the service user only, and never in
    the database: a copied database must not let anyone forge the coach's cookie. A key
    from an older gatectl, kept in the database, moves to the file (logins survive).
    """
    path = state_dir / SECRET_FILE
    kept = store.setting(SECRET_SETTING)
    try:
        key = path.read_text(encoding="ascii").strip()
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except (FileNotFoundError, UnicodeDecodeError):
        key = ""
    if len(key) < 32:
        key = kept or secrets.token_hex(32)
        _write_private(path, key)
    if kept is not None:
        store.delete_setting(SECRET_SETTING)
    return key


def _write_private(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(text + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _fingerprint(stored_hash: str) -> str:
    # A login is bound to the password it was made with: a new password logs every device out.
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16]


# Guessing a 4-digit PIN -------------------------------------------------------


class LoginLimiter:
    """At most ``attempts`` passwords per address in ``window_s`` until one is right.

    An attempt is counted before it is checked, under one lock, so a burst of
    requests at once cannot slip past the limit while their checks run; and at
    most ``concurrent`` checks run at once, so memory stays bounded whatever
    the number of addresses.
    """

    def __init__(self, attempts: int, window_s: float = 300.0, concurrent: int = CONCURRENT_CHECKS) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._attempts: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._checking = threading.BoundedSemaphore(concurrent)

    def _recent(self, address: str, now: float) -> deque[float]:
        attempts = self._attempts[address]
        while attempts and attempts[0] < now - self.window_s:
            attempts.popleft()
        return attempts

    def attempt(self, address: str, check: Callable[[], bool]) -> bool:
        """Count an attempt from ``address``, then run ``check``; 429 once the limit is reached."""
        now = time.monotonic()
        with self._lock:
            attempts = self._recent(address, now)
            if len(attempts) >= self.attempts:
                abort(429, f"Too many wrong passwords from this device: wait {self.window_s / 60:g} minutes and try again.")
            attempts.append(now)
            if len(self._attempts) > 10_000:  # many addresses: forget the ones with nothing recent
                for other in [a for a, times in self._attempts.items() if not self._recent(a, now)]:
                    del self._attempts[other]
        with self._checking:
            right = check()
        if right:
            with self._lock:
                self._attempts.pop(address, None)
        return right


def _limiter() -> LoginLimiter:
    return current_app.extensions["gatectl_login"]


def _verify(password: str) -> bool:
    store = get_store()
    if not _limiter().attempt(request.remote_addr or "?", lambda: check_coach_password(store, password)):
        return False
    stored = store.setting(PASSWORD_SETTING) or ""
    if check_memory(stored) > MAX_CHECK_MEMORY and not current_app.config["READ_ONLY"]:
        set_coach_password(store, password)  # a hash made before PASSWORD_METHOD: Pi-sized from now on
    return True


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
