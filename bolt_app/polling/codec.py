"""Sage records to JSON and back, so a seen record's last version can be shown as "old -> new".

Generic over the frozen dataclasses of `sage.records`: Decimals travel as strings (exact),
dates and datetimes as ISO text (datetimes come back in the agent's zone), enums by value.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any, zone: ZoneInfo) -> T:
    """Rebuilds a record `to_json` wrote; KeyError/ValueError if the data does not fit."""
    return _decode(cls, data, zone)


def _decode(kind: Any, data: Any, zone: ZoneInfo) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return None if data is None else _decode(options[0], data, zone)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(_decode(item, value, zone) for value in data)
    if dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(  # a field added since the data was written keeps its default
            **{
                f.name: _decode(hints[f.name], data[f.name], zone)
                for f in dataclasses.fields(kind)
                if f.name in data or f.default is dataclasses.MISSING
            }
        )
    if kind is datetime:
        return datetime.fromisoformat(data).astimezone(zone)
    if kind is date:
        return date.fromisoformat(data)
    if kind is Decimal:
        return Decimal(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    return data
