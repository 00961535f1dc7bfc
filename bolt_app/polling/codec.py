"""Sage records to JSON and back, so a seen record's last version can be shown as "old -> new".

Generic over the frozen dataclasses of `sage.records`: Decimals travel as strings (exact),
dates and datetimes as ISO text (datetimes come back in the agent's zone), enums by value.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

_AS_IS = frozenset({str, int, float, bool, type(None)})  # exact types: an enum is not as is
# A record's own values by exact type, encoded without a call of `to_json` each.
_EXACT: dict[type, Callable[[Any], str]] = {
    Decimal: str,
    date: date.isoformat,
    datetime: datetime.isoformat,
}


@cache
def field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for anything else), looked up once per class: a poll
    encodes every record it reads."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def to_json(value: Any) -> Any:
    cls = type(value)
    if cls in _AS_IS:
        return value
    names = field_names(cls)
    if names is not None:
        return encode_fields(value, names)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


def encode_fields(record: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a record as JSON values (every record a poll reads comes here)."""
    encoded: dict[str, Any] = {}
    for name, value in zip(names, _values(names)(record), strict=True):
        kind = type(value)
        if kind in _AS_IS:
            encoded[name] = value
        elif (encode := _EXACT.get(kind)) is not None:
            encoded[name] = encode(value)
        else:
            encoded[name] = to_json(value)
    return encoded


@cache
def _values(names: tuple[str, ...]) -> Callable[[object], tuple[Any, ...]]:
    """Reads the named attributes of a record in one call."""
    if len(names) == 1:
        (name,) = names
        return lambda record: (getattr(record, name),)
    return operator.attrgetter(*names)


def from_json(cls: type[T], data: Any, zone: ZoneInfo) -> T:
    """Rebuilds a record `to_json` wrote; KeyError/ValueError if the data does not fit."""
    return _decoder(cls)(data, zone)


Decoder = Callable[[Any, ZoneInfo], Any]


@cache
def _decoder(kind: Any) -> Decoder:
    """How to rebuild a value of `kind`, worked out once per type."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        option = _decoder(options[0])
        return lambda data, zone: None if data is None else option(data, zone)
    if origin is tuple:
        item = _decoder(typing.get_args(kind)[0])
        return lambda data, zone: tuple(item(value, zone) for value in data)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = [
            (f.name, _decoder(hints[f.name]), f.default is dataclasses.MISSING)
            for f in dataclasses.fields(kind)
        ]

        def build(data: Any, zone: ZoneInfo) -> Any:
            return kind(  # a field added since the data was written keeps its default
                **{
                    name: decode(data[name], zone)
                    for name, decode, required in fields
                    if required or name in data
                }
            )

        return build
    if kind is datetime:
        return lambda data, zone: datetime.fromisoformat(data).astimezone(zone)
    if kind is date:
        return lambda data, zone: date.fromisoformat(data)
    if kind is Decimal:
        return lambda data, zone: Decimal(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return lambda data, zone: kind(data)
    return lambda data, zone: data
