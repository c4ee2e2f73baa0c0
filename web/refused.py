"""A form whose input is refused comes back as the page it was on, the sentence next to what to fix.

No separate "Please check that" page: the view that shows the form renders it
again with ``form`` (what was typed, kept in the fields), ``error`` (the
sentence) and ``error_at`` (which form on the page: "layout", "run-12"...).
JSON requests keep their ``{"error": ...}`` answers (``errors.error_response``).

>>> @bp.post("/session")  # doctest: +SKIP
... @coach_required
... @back_to_form(page, "layout")
... def session(): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request

from gatectl.errors import GatectlError, StoreError


def back_to_form(page: Callable[..., Any], where: str | Callable[..., str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a form's POST view: a ``GatectlError`` renders ``page(form, error, error_at, **view_args)``.

    ``where`` names the form on the page, or is a function of the view's arguments
    (``lambda run_id: f"run-{run_id}"``).
    """

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            try:
                return view(**kwargs)
            except GatectlError as exc:
                if request.is_json:
                    raise
                missing = isinstance(exc, StoreError) and str(exc).startswith("There is no ")
                at = where(**kwargs) if callable(where) else where
                return page(form=request.form, error=exc, error_at=at, **kwargs), 404 if missing else 400

        return wrapped

    return wrap
