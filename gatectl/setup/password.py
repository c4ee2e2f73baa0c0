"""The coach's password, stored hashed in the database: the one place setup reaches for it.

The hashing lives with the dashboard today (``gatectl.web.auth``); when it moves
into the core, only the imports below change.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from gatectl.store import Store


def has_coach_password(database: Path) -> bool:
    from gatectl.web.auth import has_coach_password

    if not database.exists():
        return False
    with Store(database) as store:
        return has_coach_password(store)


def store_coach_password(database: Path, password: str) -> bool:
    """Store ``password`` (hashed) unless it is already the coach's; True if it changed."""
    from gatectl.web.auth import check_coach_password, set_coach_password

    with Store(database) as store:
        if check_coach_password(store, password):
            return False
        set_coach_password(store, password)
        return True


class _Discard:
    def set_setting(self, key: str, value: str) -> None:
        pass


def validate_coach_password(password: str) -> None:
    """Raise the dashboard's own sentence if it would refuse ``password``; stores nothing."""
    from gatectl.web.auth import set_coach_password

    set_coach_password(cast(Store, _Discard()), password)
