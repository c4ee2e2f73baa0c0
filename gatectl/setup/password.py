"""The coach's password for setup: kept, checked and stored in the database it will serve.

>>> from pathlib import Path
>>> has_coach_password(Path("/nonexistent/gatectl.db"))
False
"""

from __future__ import annotations

from pathlib import Path

from gatectl import coach_password
from gatectl.store import Store


def has_coach_password(database: Path) -> bool:
    if not database.exists():
        return False
    with Store(database) as store:
        return coach_password.has_coach_password(store)


def store_coach_password(database: Path, password: str) -> bool:
    """Store ``password`` (hashed) unless it is already the coach's; True if it changed."""
    with Store(database) as store:
        if coach_password.check_coach_password(store, password):
            return False
        coach_password.set_coach_password(store, password)
        return True
