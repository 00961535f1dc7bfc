"""Sage 100 value formats as BOI hands them out, and the change stamp the agent sorts by.

The simulator writes values the way the real agent does, quirks included, so the client's
parsers meet them in tests: YYYYMMDD dates with two spellings of "empty", decimal-hour times
that are padded or not, decimal strings for amounts, and the stamp rule of the contract.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum


class Resource(StrEnum):
    """The agent's resources, by their path segment."""

    AP_INVOICES = "ap-invoices"
    PURCHASE_ORDERS = "purchase-orders"
    GL_POSTINGS = "gl-postings"
    GL_ACCOUNTS = "gl-accounts"


class TimeStyle(StrEnum):
    """How a decimal-hours time is spelled: `09.50000`, `9.50000` or `9.5`."""

    PADDED = "padded"
    PLAIN = "plain"
    TRIMMED = "trimmed"


EMPTY_DATES = ("", "17530101")
_FIVE_PLACES = Decimal("0.00001")

Stamp = tuple[str, Decimal]
"""A change stamp: (YYYYMMDD or "" when missing, decimal hours)."""


def sage_date(value: date | None, *, empty: str = "") -> str:
    if value is None:
        return empty
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def decimal_hours(value: time) -> Decimal:
    hours = Decimal(value.hour) + Decimal(value.minute) / 60 + Decimal(value.second) / 3600
    return hours.quantize(_FIVE_PLACES, rounding=ROUND_HALF_UP)


def sage_time(value: time, style: TimeStyle = TimeStyle.PADDED) -> str:
    hours = decimal_hours(value)
    if style is TimeStyle.PADDED:
        return f"{hours:08.5f}"
    text = f"{hours:.5f}"
    if style is TimeStyle.TRIMMED:
        text = text.rstrip("0")
        text = text + "0" if text.endswith(".") else text
    return text


def sage_stamp(local: datetime, style: TimeStyle = TimeStyle.PADDED) -> tuple[str, str]:
    """(date, time) strings for a wall-clock moment on the Sage server."""
    return sage_date(local.date()), sage_time(local.time().replace(microsecond=0), style)


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _hours(text: str) -> Decimal:
    try:
        return Decimal(text) if text.strip() else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def change_stamp(row: dict) -> Stamp:
    """DateUpdated+TimeUpdated, else DateCreated+TimeCreated (contract, "Listing changes").

    Tolerant of junk so a deliberately malformed row still sorts somewhere.
    """
    updated = str(row.get("DateUpdated", "") or "")
    if updated not in EMPTY_DATES:
        return updated, _hours(str(row.get("TimeUpdated", "") or ""))
    created = str(row.get("DateCreated", "") or "")
    return ("" if created in EMPTY_DATES else created), _hours(
        str(row.get("TimeCreated", "") or "")
    )
