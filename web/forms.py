"""Reading fields from forms and JSON bodies; every refusal names the field.

Each reader takes the submitted mapping (``request.form`` or a JSON object)
and raises ``FieldError`` (a ``GatectlError``, answered with 400) with a
sentence that starts with the field's label.

>>> integer({"athlete": "x"}, "athlete", "Athlete")
Traceback (most recent call last):
...
gatectl.web.forms.FieldError: Athlete must be a whole number from 1 to 9007199254740992, not 'x'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, overload

from flask import request

from gatectl.errors import GatectlError
from gatectl.limits import ID, Range, read_integer, read_number, shown

MAX_ID = int(ID.high)
T = TypeVar("T")


class FieldError(GatectlError, ValueError):
    """A submitted field that cannot be used; ``field`` is its name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def payload() -> Mapping[str, Any]:
    """The submitted fields: a JSON object or a form."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise FieldError("body", "The request body must be a JSON object, e.g. {\"armed\": true}.")
        return data
    return request.form


def _present(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


# A required field, or one that falls back to a text default, always gives text.
@overload
def text(data: Mapping[str, Any], name: str, label: str, *, required: Literal[True] = True, max_len: int = 100, default: str | None = "") -> str: ...
@overload
def text(data: Mapping[str, Any], name: str, label: str, *, required: bool, max_len: int = 100, default: str = "") -> str: ...
@overload
def text(data: Mapping[str, Any], name: str, label: str, *, required: bool, max_len: int = 100, default: str | None) -> str | None: ...
def text(data: Mapping[str, Any], name: str, label: str, *, required: bool = True, max_len: int = 100, default: str | None = "") -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(name, f"{label} is required.")
        return default if value is None else ""
    if not isinstance(value, str):
        raise FieldError(name, f"{label} must be text.")
    value = value.strip()
    if len(value) > max_len:
        raise FieldError(name, f"{label} must be at most {max_len} characters long.")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise FieldError(name, f"{label} must not contain control characters.")
    return value


@overload
def integer(data: Mapping[str, Any], name: str, label: str, *, required: Literal[True] = True, minimum: int = 1, maximum: int = MAX_ID) -> int: ...
@overload
def integer(data: Mapping[str, Any], name: str, label: str, *, required: bool, minimum: int = 1, maximum: int = MAX_ID) -> int | None: ...
def integer(data: Mapping[str, Any], name: str, label: str, *, required: bool = True, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    if not _present(data, name):
        if required:
            raise FieldError(name, f"{label} is required.")
        return None
    value = data[name]
    limits = Range(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(name, f"{label} must be a whole number, not {shown(value)}.")
    if isinstance(value, int):
        return _field(name, lambda: limits.check(value, label, ValueError))
    return _field(name, lambda: read_integer(value, label, limits, ValueError))


@overload
def number(data: Mapping[str, Any], name: str, label: str, *, unit: str, minimum: float, maximum: float, required: Literal[True] = True) -> float: ...
@overload
def number(data: Mapping[str, Any], name: str, label: str, *, unit: str, minimum: float, maximum: float, required: bool) -> float | None: ...
def number(data: Mapping[str, Any], name: str, label: str, *, unit: str, minimum: float, maximum: float, required: bool = True) -> float | None:
    if not _present(data, name):
        if required:
            raise FieldError(name, f"{label} is required.")
        return None
    value = data[name]
    limits = Range(minimum, maximum, unit)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError(name, f"{label} must be a number of {unit}, not {shown(value)}.")
    if isinstance(value, str):
        return _field(name, lambda: read_number(value, label, limits, ValueError))
    return float(_field(name, lambda: limits.check(value, label, ValueError)))


def _field(name: str, read: Callable[[], T]) -> T:
    """A number read by ``gatectl.limits``, its refusal reported against the field."""
    try:
        return read()
    except ValueError as exc:
        raise FieldError(name, str(exc)) from None


_TRUE = {"1", "true", "on", "yes", "armed"}
_FALSE = {"0", "false", "off", "no", "disarmed", ""}


def boolean(data: Mapping[str, Any], name: str, label: str, *, required: bool = True, default: bool = False) -> bool:
    value = data.get(name)
    if value is None:
        if required:
            raise FieldError(name, f"{label} is required (true or false).")
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise FieldError(name, f"{label} must be true or false, not {value!r}.")


def choice(data: Mapping[str, Any], name: str, label: str, choices: tuple[str, ...], *, default: str | None = None) -> str:
    value = data.get(name)
    if value is None or value == "":
        if default is not None:
            return default
        raise FieldError(name, f"{label} is required: one of {', '.join(choices)}.")
    if value not in choices:
        raise FieldError(name, f"{label} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def id_list(data: Mapping[str, Any], name: str, label: str, *, max_items: int = 100) -> list[int]:
    """A list of ids: a JSON array, or repeated / comma-separated form values."""
    if hasattr(data, "getlist"):
        raw = [part for value in data.getlist(name) for part in value.split(",") if part.strip()]
    else:
        raw = data.get(name, [])
        if not isinstance(raw, list):
            raise FieldError(name, f"{label} must be a list of ids, e.g. [3, 1].")
    if len(raw) > max_items:
        raise FieldError(name, f"{label} may hold at most {max_items} entries.")
    return [integer({name: item}, name, f"Each entry of {label.lower()}") for item in raw]


def with_field(name: str, exc: GatectlError) -> FieldError:
    """A library error (pace, layout...) reported against the form field it came from."""
    message = str(exc)
    return FieldError(name, message)
