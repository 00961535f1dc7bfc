"""What a seen record keeps of a record: the fields a change message, the App Home's Pending
panel and the version need, not the heavy ones.

Left out are free text no change message words (comments), bookkeeping (audit stamps, read
problems) and an order's lines, of which only the keys are kept (a change says "Lines 3 → 5").
A record is rebuilt from a snapshot over a template: the record just read, when a change
message needs the old state beside the new one, or blanks, for the App Home.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bolt_app.polling.codec import encode_fields, field_names, from_json, to_json
from sage.records import AuditStamps, PurchaseOrderLine

T = TypeVar("T")

_LEFT_OUT = ("comment", "stamps", "problems", "lines")
_BLANKS: dict[str, Any] = {
    "comment": "",
    "stamps": to_json(AuditStamps(created_at=None, created_by="")),
    "problems": [],
    "lines": [],
}


@cache
def _kept(cls: type) -> tuple[tuple[str, ...], bool]:
    """The field names a snapshot keeps of a record class, and whether it has lines."""
    names = field_names(cls) or ()
    return tuple(name for name in names if name not in _LEFT_OUT), "lines" in names


def record_snapshot(record: object) -> dict[str, Any]:
    """{"record": the kept fields, "line_keys": an order's line keys}."""
    names, has_lines = _kept(type(record))
    snapshot: dict[str, Any] = {"record": encode_fields(record, names)}
    if has_lines:
        snapshot["line_keys"] = [line.line_key for line in record.lines]  # type: ignore[attr-defined]
    return snapshot


def snapshot_record(
    cls: type[T], snapshot: Any, zone: ZoneInfo, *, like: object | None = None
) -> T:
    """The record a snapshot keeps, its left-out fields from `like` (or blank); an order's lines
    are `like`'s lines of the kept keys, a line gone since known by its key alone. A snapshot
    written whole (before snapshots were slimmed) comes back whole."""
    data = {**(_BLANKS if like is None else to_json(like)), **snapshot["record"]}
    if "line_keys" in snapshot:
        template = {line["line_key"]: line for line in data.get("lines", [])}
        data["lines"] = [
            template.get(key) or _line_known_by_key(key) for key in snapshot["line_keys"]
        ]
    return from_json(cls, data, zone)


def _line_known_by_key(line_key: str) -> dict[str, Any]:
    zero = Decimal(0)
    return to_json(PurchaseOrderLine(line_key, "", "", "", zero, zero, zero))
