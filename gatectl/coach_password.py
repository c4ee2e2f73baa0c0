"""The coach's password or PIN: hashed in the settings table, checked at a Pi's cost.

The dashboard's login, ``gatectl set-password``, the demo and ``gatectl
setup`` all store and check it here.

One check costs 1 MiB and ~7 ms on a server core, ~70 ms estimated on a Pi
Zero 2 W (bench/bench_password_hash.py). werkzeug's default scrypt (N=32768)
takes 32 MiB a check: 90 wrong PINs at once took the server to 1.5 GB, which
on a 512 MB Pi is the OOM killer taking the daemon. A 4-digit PIN falls to an
offline search whatever the cost, so the defence is elsewhere: the login
limiter, and no hash in backups (``gatectl backup``).

>>> from gatectl.store import Store
>>> store = Store(":memory:")
>>> set_coach_password(store, "2468")
>>> check_coach_password(store, "2468"), check_coach_password(store, "1357")
(True, False)
"""

from __future__ import annotations

from typing import Protocol

from werkzeug.security import check_password_hash, generate_password_hash

from gatectl.errors import PasswordError
from gatectl.store import PASSWORD_SETTING

PASSWORD_METHOD = "scrypt:1024:8:1"
MAX_CHECK_MEMORY = 4 * 1024 * 1024  # an older, costlier hash is replaced at the next good login


class Settings(Protocol):
    """Where the hash is kept: the store's settings table."""

    def setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...


def validate_coach_password(password: str) -> None:
    """Refuse, with a sentence, a password or PIN too short or too long to be the coach's."""
    if not isinstance(password, str) or len(password.strip()) < 4:
        raise PasswordError("The coach password or PIN must have at least 4 characters.")
    if len(password) > 128:
        raise PasswordError("The coach password must have at most 128 characters.")


def set_coach_password(store: Settings, password: str) -> None:
    """Store the coach's password or PIN, hashed."""
    validate_coach_password(password)
    store.set_setting(PASSWORD_SETTING, generate_password_hash(password, method=PASSWORD_METHOD))


def has_coach_password(store: Settings) -> bool:
    return bool(store.setting(PASSWORD_SETTING))


def check_coach_password(store: Settings, password: str) -> bool:
    stored = store.setting(PASSWORD_SETTING)
    return bool(stored and isinstance(password, str) and check_password_hash(stored, password))


def check_memory(stored_hash: str) -> int:
    """Bytes one check of ``stored_hash`` takes: scrypt's 128 · N · r, next to nothing for PBKDF2.

    >>> check_memory("scrypt:1024:8:1$salt$hash")
    1048576
    """
    method = stored_hash.split("$", 1)[0].split(":")
    if method[0] != "scrypt":
        return 0
    n, r = (int(v) for v in (method[1:3] if len(method) >= 3 else ("32768", "8")))  # werkzeug's defaults
    return 128 * n * r
