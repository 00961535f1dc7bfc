"""Driver values -> the contract's formats, whatever the driver hands back.

ProvideX gives dates as `date` (or NULL with EnforceNullDate), SQL Server as `datetime` with
1753-01-01 for "empty", SQLite's driver as `date` or text; amounts come as Decimal, float,
int or a string that lost its scale ("1250" for 1250.00). Out always: "YYYYMMDD" or "",
decimal strings in the column's own scale, times as unpadded decimal hours with five places,
text without trailing blanks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sage.agent.layout import Column, Kind

SQL_EMPTY_DATE = date(1753, 1, 1)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?", re.ASCII)
_FIVE_PLACES = Decimal("0.00001")
# Distinct values remembered per conversion: a scan's rows share their days and, entered
# together, their times (Sage hands times as text), and converting one costs microseconds.
TEXT_CACHE = 4096


def date_text(value: object) -> str:
    """A date column's value as "YYYYMMDD"; NULL and 1753-01-01 as "". Text the driver could
    not type is passed on trimmed, so the connector skips that row naming the field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _date_of_text(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return _date_of_day(value)
    return _date_of_text(str(value))


@functools.lru_cache(maxsize=TEXT_CACHE)
def _date_of_day(day: date) -> str:
    return "" if day == SQL_EMPTY_DATE else f"{day.year:04d}{day.month:02d}{day.day:02d}"


@functools.lru_cache(maxsize=TEXT_CACHE)
def _date_of_text(value: str) -> str:
    text = value.strip()
    match = _ISO_DATE.fullmatch(text)
    if match:
        text = "".join(match.groups())
    return "" if text == "17530101" else text


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def amount_text(value: object, scale: int) -> str:
    """An amount in its column's scale ("1250" -> "1250.00"); NULL is zero, as Sage shows it.
    Anything that is not a number is passed on trimmed for the connector to refuse."""
    if value is None:
        return f"{Decimal(0):.{scale}f}"
    number = _decimal(value)
    if number is None:
        return str(value).strip()
    quantum = Decimal(1).scaleb(-scale)
    return f"{number.quantize(quantum, rounding=ROUND_HALF_UP):.{scale}f}"


def time_text(value: object) -> str:
    """Decimal hours as "13.50833" (five places, not padded); NULL or blank -> ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _time_of_text(value)
    return _hours_text(value, str(value).strip())


@functools.lru_cache(maxsize=TEXT_CACHE)
def _time_of_text(value: str) -> str:
    text = value.strip()
    return _hours_text(text, text) if text else ""


def _hours_text(value: object, text: str) -> str:
    number = _decimal(value)
    if number is None or not 0 <= number < 24:
        return text
    return f"{number.quantize(_FIVE_PLACES, rounding=ROUND_HALF_UP):.5f}"


def plain_text(value: object) -> str:
    """Text without the trailing blanks Sage pads fixed-width fields with; NULL -> ""."""
    if value is None:
        return ""
    return str(value).rstrip(" ")


def converter(column: Column) -> Callable[[object], str]:
    """What turns one column's values into the contract's form (chosen once per column when
    many rows are served)."""
    if column.kind is Kind.DATE:
        return date_text
    if column.kind is Kind.AMOUNT:
        return functools.partial(amount_text, scale=column.scale)
    if column.kind is Kind.TIME:
        return time_text
    return plain_text


def served(column: Column, value: object) -> str:
    """One column's value as the contract serves it."""
    return converter(column)(value)


@functools.lru_cache(maxsize=TEXT_CACHE)
def hours(text: str) -> Decimal:
    """A served time as a number for sorting; blank or junk (NaN among it) sorts as midnight."""
    try:
        number = Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)
