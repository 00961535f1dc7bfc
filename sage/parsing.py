"""Sage 100 value formats turned into typed values, and agent rows turned into records.

This is the only module that knows how BOI writes dates ("YYYYMMDD", blank or 17530101 when
empty), times (decimal hours, padded or not) and amounts (decimal strings). Every malformed
value raises `ParseError` naming the field, and `parse_row` turns that into a `SkippedRecord`
so one bad row never costs the rest of a page; a malformed date or amount of the record itself
(not its key, stamps or shape) is read as blank (or 0) instead and said on the record, so an
identifiable record is still posted, flagged ("InvoiceDate 20261399 is not a date").

Local time: Sage stamps are the server's wall clock without a zone. `local_stamp` reads them in
the connection's zone; `to_sage_stamp` writes a cursor back for `since_date`/`since_time`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sage.errors import ParseError
from sage.records import (
    AccountStatus,
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    GLAccount,
    GLPosting,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    PurchaseOrderLine,
    SageRecord,
    SkippedRecord,
)

EMPTY_DATES = frozenset({"", "17530101"})
_DATE = re.compile(r"\d{8}", re.ASCII)
_TIME = re.compile(r"\d{1,2}(\.\d*)?", re.ASCII)
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_SECONDS_PER_HOUR = Decimal(3600)
_FIVE_PLACES = Decimal("0.00001")
# Stamps and dates repeat from row to row (a day's invoices, a batch's stamp): parsed values
# are kept for this many distinct strings, a few hundred kilobytes at most.
_CACHED_VALUES = 4096
# Sage 100 keeps money in at most 15 digits; past 18, sums and rounding leave Decimal's default
# 28-digit precision, so such a value is a damaged row, never an amount.
MAX_AMOUNT_DIGITS = 18

Row = Mapping[str, object]
RowParser = Callable[[Row, str, ZoneInfo], SageRecord]


def trim(value: str) -> str:
    """BOI pads fixed-width fields with trailing blanks; leading ones are user data."""
    return value.rstrip(" ")


@functools.lru_cache(maxsize=_CACHED_VALUES)
def parse_date(value: str) -> date | None:
    """ "YYYYMMDD" -> date; "" and "17530101" (SQL editions' empty date) -> None."""
    text = trim(value)
    if text in EMPTY_DATES:
        return None
    if not _DATE.fullmatch(text):
        raise ParseError(f"date {value!r} is not YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise ParseError(f"date {value!r} is not a calendar date") from None


def format_date(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


@functools.lru_cache(maxsize=_CACHED_VALUES)
def parse_time(value: str) -> time | None:
    """Decimal hours since midnight -> time, rounded to the nearest second (half up).

    "13.50833" is 13:30:30 (BOI keeps five places, about 0.02 s, so whole seconds are exact
    after rounding). "9.5", "09.50000" and "9." are all 09:30:00; "" (old rows) -> None. A value
    that rounds up to 24:00:00 ("23.99999") is clamped to 23:59:59 so it stays on its own day.
    """
    text = trim(value)
    if text == "":
        return None
    if not _TIME.fullmatch(text):
        raise ParseError(f"time {value!r} is not decimal hours")
    hours = Decimal(text)
    if hours >= 24:
        raise ParseError(f"time {value!r} is 24 hours or more")
    seconds = min(int((hours * _SECONDS_PER_HOUR).to_integral_value(ROUND_HALF_UP)), 86399)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def format_time(value: time) -> str:
    """time -> decimal hours with five places, unpadded ("9.50000"); inverse of parse_time."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    hours = (Decimal(seconds) / _SECONDS_PER_HOUR).quantize(_FIVE_PLACES, ROUND_HALF_UP)
    return f"{hours:.5f}"


def parse_amount(value: str) -> Decimal:
    """Decimal string ("1250.00", "-75.10") -> Decimal; no exponents, NaN or infinities."""
    text = trim(value)
    if not _AMOUNT.fullmatch(text):
        raise ParseError(f"amount {value!r} is not a decimal number")
    amount = Decimal(text)
    # Text no longer than the limit cannot hold more digits (nearly every amount is short).
    if len(text) > MAX_AMOUNT_DIGITS and len(amount.as_tuple().digits) > MAX_AMOUNT_DIGITS:
        raise ParseError(f"amount {value!r} has more than {MAX_AMOUNT_DIGITS} digits")
    return amount


@functools.lru_cache(maxsize=_CACHED_VALUES)
def local_stamp(day: date | None, clock: time | None, zone: ZoneInfo) -> datetime | None:
    """Sage's (date, time) in the server's zone -> aware datetime; no date -> None.

    A blank time on a dated row means midnight. Daylight-saving changes are resolved the way
    PEP 495 reads fold=0, always, so the same strings give the same instant:
    - a repeated wall time (autumn) is its first occurrence, the earlier instant;
    - a skipped wall time (spring gap, only possible on hand-set clocks) is read with the
      offset before the gap, i.e. moved forward by the gap (02:30 -> 03:30 daylight time).
    The result is normalised through UTC so it always names a wall time that really exists.
    """
    if day is None:
        return None
    naive = datetime.combine(day, clock or time(0))
    try:
        return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    except OverflowError:  # 9999-12-31 late at night west of UTC
        raise ParseError(f"stamp {naive.isoformat()} is out of range") from None


def to_sage_stamp(moment: datetime, zone: ZoneInfo) -> tuple[str, str]:
    """An aware instant -> (since_date, since_time) that includes every record at or after it.

    The agent compares decimal hours numerically and `parse_time` rounds to the nearest
    second, so a record that reads as second S may be stored as low as S - 0.5 s. The bound is
    therefore the local second (microseconds dropped) minus half a second, rounded DOWN to
    five places: never above any record stamped at `moment`, at most one extra second early.
    An instant that a skipped (spring-gap) wall time also reads as is written as that earlier
    wall time, so the record it came from is still included.
    """
    if moment.tzinfo is None:
        raise ValueError("to_sage_stamp needs an aware datetime")
    wall = _earliest_wall_time(moment.astimezone(zone), zone)
    seconds = wall.hour * 3600 + wall.minute * 60 + wall.second
    if seconds == 0:
        return format_date(wall.date()), "0.00000"
    hours = ((Decimal(seconds) - Decimal("0.5")) / _SECONDS_PER_HOUR).quantize(
        _FIVE_PLACES, ROUND_FLOOR
    )
    return format_date(wall.date()), f"{hours:.5f}"


def _earliest_wall_time(local: datetime, zone: ZoneInfo) -> datetime:
    """The earliest naive wall time `local_stamp` reads as this instant: the instant's own, or
    one inside a daylight-saving gap just before it (moved forward by the gap)."""
    wall = local.replace(tzinfo=None)
    before = (local.astimezone(UTC) - timedelta(hours=3)).astimezone(zone)
    gap = local.utcoffset() - before.utcoffset()
    if gap > timedelta(0):
        skipped = wall - gap
        if local_stamp(skipped.date(), skipped.time(), zone) == local.astimezone(UTC):
            return skipped
    return wall


# --- rows -------------------------------------------------------------------------------------


def field(row: Row, name: str) -> object:
    if name not in row:
        raise ParseError(f"{name} is missing")
    return row[name]


def text(row: Row, name: str) -> str:
    """A text field, trimmed as `trim` does (inlined: every field of every row comes here)."""
    try:
        value = row[name]
    except KeyError:
        raise ParseError(f"{name} is missing") from None
    if not isinstance(value, str):
        raise ParseError(f"{name} is not a string")
    return value.rstrip(" ")


def optional_text(row: Row, name: str) -> str:
    return text(row, name) if name in row else ""


def _in(row: Row, name: str, parse: Callable[[str], object]):
    value = text(row, name)
    try:
        return parse(value)
    except ParseError as error:
        raise ParseError(f"{name}: {error}") from None


class _UnreadableValue(ParseError):
    """A date or an amount that is not one, in a row that may still be shown: `parse_row`
    reads the row again with `stand_in` for it and says `problem` on the record."""

    def __init__(self, message: str, *, name: str, stand_in: str, problem: str) -> None:
        super().__init__(message)
        self.name = name
        self.stand_in = stand_in
        self.problem = problem


def _as_received(value: str) -> str:
    shown = value.strip()
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


def date_field(row: Row, name: str) -> date | None:
    """A record's own date; a malformed one is shown as none, flagged."""
    value = text(row, name)
    try:
        return parse_date(value)
    except ParseError as error:
        raise _UnreadableValue(
            f"{name}: {error}",
            name=name,
            stand_in="",
            problem=f"{name} {_as_received(value)} is not a date",
        ) from None


def amount_field(row: Row, name: str, *, stand_in: str = "0") -> Decimal:
    """A record's amount; a malformed or absurd one is shown as `stand_in`, flagged."""
    value = text(row, name)
    try:
        return parse_amount(value)
    except ParseError as error:
        instead = "none" if stand_in == "" else stand_in
        raise _UnreadableValue(
            f"{name}: {error}",
            name=name,
            stand_in=stand_in,
            problem=f"{name} {_as_received(value)} is not an amount ({instead} is shown)",
        ) from None


def optional_amount(row: Row, name: str) -> Decimal | None:
    """Absent or blank -> None (e.g. Balance, which only posted invoices carry)."""
    if name not in row or text(row, name) == "":
        return None
    return amount_field(row, name, stand_in="")


def stamp_field(row: Row, date_name: str, time_name: str, zone: ZoneInfo) -> datetime | None:
    """Audit stamps place a record in the change listing, so a bad one is never stood in for."""
    day = _in(row, date_name, parse_date) if date_name in row else None
    clock = _in(row, time_name, parse_time) if time_name in row else None
    return local_stamp(day, clock, zone)


def choice(row: Row, name: str, enum):
    value = text(row, name)
    member = _members(enum).get(value)
    if member is None:
        allowed = ", ".join(member.value for member in enum)
        raise ParseError(f"{name} {value!r} is not one of {allowed}")
    return member


@functools.cache
def _members(enum) -> dict[str, object]:
    """An enum's members by value: a dict lookup, where calling the enum costs a microsecond."""
    return {member.value: member for member in enum}


MAX_RECORD_KEY = 255  # what the connector's tables hold


def record_key(row: Row) -> str:
    """RecordKey is opaque: kept byte for byte (no trimming), but it must be a non-empty string
    of whole characters that fits the connector's tables."""
    value = field(row, "RecordKey")
    if not isinstance(value, str) or value == "":
        raise ParseError("RecordKey is not a non-empty string")
    if len(value) > MAX_RECORD_KEY:
        raise ParseError(f"RecordKey is {len(value)} characters, over {MAX_RECORD_KEY}")
    if _has_surrogate(value):
        raise ParseError("RecordKey holds half a UTF-16 character pair")
    return value


def _has_surrogate(value: str) -> bool:
    if value.isascii():  # constant time in CPython, and nearly every Sage value is ASCII
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown_as_received(value: str) -> str:
    """Text with each lone surrogate written as its escape (`\\ud800`), so it can be stored and
    shown without pretending to know the character it was part of."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


_SURROGATE_IN_JSON = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def may_hold_surrogates(content: bytes) -> bool:
    """Whether JSON text could decode to a lone surrogate: an escape `\\ud800`-`\\udfff`, or
    the bytes UTF-8 would use for one (`json.loads` reads bytes with surrogatepass). A page
    with neither (nearly every page) needs no row-by-row search; text not in UTF-8 is not
    vouched for."""
    if json.detect_encoding(content) != "utf-8":
        return True
    # Plain substring searches first: they scan a page many times faster than the pattern.
    if b"\\ud" not in content and b"\\uD" not in content and b"\xed" not in content:
        return False
    return _SURROGATE_IN_JSON.search(content) is not None


def _holds_surrogate(value: object) -> bool:
    """Whether any text in a row (nested too) holds a lone surrogate: a pass that builds
    nothing, so a clean row (nearly all of them) is not copied field by field."""
    if isinstance(value, str):
        return _has_surrogate(value)
    items = value.values() if isinstance(value, Mapping) else value
    if not isinstance(value, Mapping | list):
        return False
    for item in items:  # text tested here, not by a call per field: this runs on every row
        if isinstance(item, str):
            if not item.isascii() and _has_surrogate(item):
                return True
        elif isinstance(item, Mapping | list) and _holds_surrogate(item):
            return True
    return False


def _escape_broken_text(value: object, name: str, problems: list[str]) -> object:
    """The row with lone surrogates escaped in every text field below RecordKey, each named."""
    if isinstance(value, str):
        if not _has_surrogate(value):
            return value
        shown = shown_as_received(value)
        problems.append(f"{name} {shown.strip()!r} holds half a UTF-16 character pair")
        return shown
    if isinstance(value, Mapping):
        return {
            key: value_ if key == "RecordKey" else _escape_broken_text(value_, key, problems)
            for key, value_ in value.items()
        }
    if isinstance(value, list):
        return [_escape_broken_text(item, f"{name}[{i}]", problems) for i, item in enumerate(value)]
    return value


def audit_stamps(row: Row, zone: ZoneInfo) -> AuditStamps:
    return AuditStamps(
        created_at=stamp_field(row, "DateCreated", "TimeCreated", zone),
        created_by=text(row, "UserCreatedKey"),
        updated_at=stamp_field(row, "DateUpdated", "TimeUpdated", zone),
        updated_by=optional_text(row, "UserUpdatedKey"),
    )


def parse_ap_invoice(row: Row, company: str, zone: ZoneInfo) -> APInvoice:
    return APInvoice(
        company=company,
        record_key=record_key(row),
        source=choice(row, "SourceTable", APInvoiceSource),
        division_no=text(row, "APDivisionNo"),
        vendor_no=text(row, "VendorNo"),
        vendor_name=text(row, "VendorName"),
        invoice_no=text(row, "InvoiceNo"),
        invoice_date=date_field(row, "InvoiceDate"),
        due_date=date_field(row, "InvoiceDueDate"),
        amount=amount_field(row, "InvoiceAmt"),
        balance=optional_amount(row, "Balance"),
        terms_code=text(row, "TermsCode"),
        on_hold=yes_no(row, "HoldPayment"),
        purchase_order_no=text(row, "PurchaseOrderNo"),
        comment=text(row, "Comment"),
        stamps=audit_stamps(row, zone),
    )


def yes_no(row: Row, name: str) -> bool:
    value = text(row, name)
    if value not in ("Y", "N"):
        raise ParseError(f"{name} {value!r} is not Y or N")
    return value == "Y"


def parse_po_line(row: Row) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        line_key=text(row, "LineKey"),
        item_code=text(row, "ItemCode"),
        item_description=text(row, "ItemCodeDesc"),
        warehouse_code=text(row, "WarehouseCode"),
        quantity_ordered=amount_field(row, "QuantityOrdered"),
        unit_cost=amount_field(row, "UnitCost"),
        extension_amount=amount_field(row, "ExtensionAmt"),
    )


def po_lines(row: Row) -> tuple[PurchaseOrderLine, ...]:
    lines = field(row, "Lines")
    if not isinstance(lines, list):
        raise ParseError("Lines is not a list")
    parsed = []
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            raise ParseError(f"Lines[{index}] is not an object")
        try:
            parsed.append(parse_po_line(line))
        except ParseError as error:
            raise ParseError(f"Lines[{index}]: {error}") from None
    return tuple(parsed)


def parse_purchase_order(row: Row, company: str, zone: ZoneInfo) -> PurchaseOrder:
    return PurchaseOrder(
        company=company,
        record_key=record_key(row),
        po_no=text(row, "PurchaseOrderNo"),
        order_date=date_field(row, "PurchaseOrderDate"),
        order_type=choice(row, "OrderType", OrderType),
        status=choice(row, "OrderStatus", OrderStatus),
        division_no=text(row, "APDivisionNo"),
        vendor_no=text(row, "VendorNo"),
        vendor_name=text(row, "PurchaseName"),
        warehouse_code=text(row, "WarehouseCode"),
        ship_to_code=text(row, "ShipToCode"),
        required_date=date_field(row, "RequiredExpireDate"),
        taxable_amount=amount_field(row, "TaxableAmt"),
        non_taxable_amount=amount_field(row, "NonTaxableAmt"),
        sales_tax_amount=amount_field(row, "SalesTaxAmt"),
        freight_amount=amount_field(row, "FreightAmt"),
        comment=text(row, "Comment"),
        lines=po_lines(row),
        stamps=audit_stamps(row, zone),
    )


def parse_gl_posting(row: Row, company: str, zone: ZoneInfo) -> GLPosting:
    return GLPosting(
        company=company,
        record_key=record_key(row),
        account_key=text(row, "AccountKey"),
        account=text(row, "Account"),
        account_description=text(row, "AccountDesc"),
        posting_date=date_field(row, "PostingDate"),
        source_journal=text(row, "SourceJournal"),
        register_no=text(row, "JournalRegisterNo"),
        sequence_no=text(row, "SequenceNo"),
        comment=text(row, "PostingComment"),
        debit=amount_field(row, "DebitAmount"),
        credit=amount_field(row, "CreditAmount"),
        batch_no=text(row, "BatchNo"),
        source_module=text(row, "SourceModule"),
        stamps=audit_stamps(row, zone),
    )


def parse_gl_account(row: Row, company: str, zone: ZoneInfo) -> GLAccount:
    return GLAccount(
        company=company,
        record_key=record_key(row),
        account_key=text(row, "AccountKey"),
        account=text(row, "Account"),
        raw_account=text(row, "RawAccount"),
        description=text(row, "AccountDesc"),
        main_account_code=text(row, "MainAccountCode"),
        account_type=text(row, "AccountType"),
        account_group=text(row, "AccountGroup"),
        status=choice(row, "Status", AccountStatus),
        stamps=audit_stamps(row, zone),
    )


def parse_row(
    parser: RowParser,
    row: object,
    company: str,
    zone: ZoneInfo,
    *,
    surrogates_possible: bool = True,
) -> SageRecord | SkippedRecord:
    """One agent row -> its record, or a SkippedRecord saying why (never raises for the row).

    `surrogates_possible=False` (the page's JSON text has none, `may_hold_surrogates`) skips
    the row's walk for lone surrogates."""
    if not isinstance(row, Mapping):
        return SkippedRecord(record_key=None, reason="the row is not a JSON object")
    key = row.get("RecordKey")
    problems: list[str] = []
    readable: Mapping[str, object] = row
    if surrogates_possible and _holds_surrogate(row):
        readable = _escape_broken_text(row, "", problems)  # type: ignore[assignment]
    while True:
        try:
            record = parser(readable, company, zone)
            break
        except _UnreadableValue as error:
            if readable.get(error.name) == error.stand_in:  # the stand-in did not read either
                return SkippedRecord(record_key=_shown_key(key), reason=str(error))
            readable = {**readable, error.name: error.stand_in}  # the agent's row stays as sent
            problems.append(error.problem)
        except ParseError as error:
            return SkippedRecord(record_key=_shown_key(key), reason=str(error))
    return dataclasses.replace(record, problems=tuple(problems)) if problems else record


def _shown_key(key: object) -> str | None:
    """A RecordKey fit for a report line: escaped, and cut short when it is absurdly long."""
    if not isinstance(key, str):
        return None
    shown = shown_as_received(key)
    return shown if len(shown) <= 80 else f"{shown[:77]}..."
