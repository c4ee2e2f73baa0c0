"""Typed values as JSON: the one place where results, runs and workout states become plain data.

Inside gatectl a result is a frozen dataclass (``RunReport``, ``RunView``,
``WorkoutState``...) read by attribute, so the type checker notices a renamed
field. At the edge of the system (the JSON API, the event stream, exports,
``gatectl replay --json``, the page's embedded state) ``jsonable`` turns it
into dicts, lists, strings and numbers.

A dataclass becomes an object of its fields, in order. A class may say how it
differs on the wire with a ``WIRE`` class attribute (``Wire``): fields kept out
(instants on the timing clock, integer ns a display shows in seconds), fields
renamed (``start`` → ``"from"``), fields whose object is merged into this one,
and properties shown after the fields (``time_s`` from ``time_ns``). Enums
become their values, mappings objects with string keys, tuples lists.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Split:
...     gate: str
...     time_ns: int
...     WIRE = Wire(hide=("time_ns",), rename={"gate": "at"}, show=("time_s",))
...     @property
...     def time_s(self) -> float:
...         return self.time_ns / 1e9
>>> jsonable({"splits": (Split("M2", 3_100_000_000),)})
{'splits': [{'at': 'M2', 'time_s': 3.1}]}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

JSONValue = None | bool | int | float | str | list[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Wire:
    """How a dataclass differs on the wire from its fields."""

    hide: tuple[str, ...] = ()  # fields kept out of JSON
    rename: Mapping[str, str] = field(default_factory=dict)  # field name → JSON key
    inline: tuple[str, ...] = ()  # fields whose value's keys are merged into this object
    show: tuple[str, ...] = ()  # properties added after the fields, by name


PLAIN = Wire()


def jsonable(value: object) -> JSONValue:
    """``value`` as data ``json.dumps`` takes: see the module's description."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _object(value)
    if isinstance(value, Mapping):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no JSON form: make it a dataclass, an enum, a tuple or a mapping.")


def json_object(value: object) -> dict[str, Any]:
    """A dataclass as a JSON object (``jsonable`` of it, typed as the dict it is)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"{type(value).__name__} is not a dataclass instance.")
    return _object(value)


def _object(value: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name, inline in _layout(type(value)):
        item = jsonable(getattr(value, name))
        if inline:
            if not isinstance(item, dict):
                raise TypeError(f"{type(value).__name__}.{name} is inlined but is not an object on the wire.")
            out.update(item)
        else:
            out[key] = item
    return out


_LAYOUTS: dict[type, tuple[tuple[str, str, bool], ...]] = {}


def _layout(cls: type) -> tuple[tuple[str, str, bool], ...]:
    """(JSON key, attribute, inline) for each entry of ``cls`` on the wire, checked once."""
    if cls not in _LAYOUTS:
        _LAYOUTS[cls] = _read_layout(cls)
    return _LAYOUTS[cls]


def _read_layout(cls: type) -> tuple[tuple[str, str, bool], ...]:
    wire: Wire = getattr(cls, "WIRE", PLAIN)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [n for n in (*wire.hide, *wire.rename, *wire.inline) if n not in names]
    unknown += [n for n in wire.show if not isinstance(getattr(cls, n, None), property)]
    if unknown:
        raise TypeError(f"{cls.__name__}.WIRE names {', '.join(unknown)}: not a field (or, in show, a property) of it.")
    entries = [(wire.rename.get(n, n), n, n in wire.inline) for n in names if n not in wire.hide]
    return (*entries, *((n, n, False) for n in wire.show))
