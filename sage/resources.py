"""One declarative description per agent resource: everything generic code needs to read it.

The client lists and fetches any resource through its `Resource`, and the poller drives all
four from this table alone: path segment, record type it feeds, row parser and the audit fields
that make up its change stamp (the agent's cursor). Adding a resource means adding a row here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sage import parsing
from sage.records import RecordType, SageRecord, SkippedRecord


@dataclass(frozen=True, slots=True)
class Resource:
    path: str  # the `{resource}` segment of the agent's URLs
    record_type: RecordType
    parser: parsing.RowParser
    created_fields: tuple[str, str]  # (date field, time field)
    updated_fields: tuple[str, str] | None  # None: the resource has only the created pair

    def parse_row(
        self, row: object, company: str, zone: ZoneInfo, *, surrogates_possible: bool = True
    ) -> SageRecord | SkippedRecord:
        return parsing.parse_row(
            self.parser, row, company, zone, surrogates_possible=surrogates_possible
        )

    def change_stamp(self, row: Mapping[str, object], zone: ZoneInfo) -> datetime | None:
        """The stamp the agent sorts and filters by: the updated pair, else the created pair.

        Raises ParseError when the stamp fields themselves are malformed.
        """
        if self.updated_fields is not None:
            updated = parsing.stamp_field(row, *self.updated_fields, zone)
            if updated is not None:
                return updated
        return parsing.stamp_field(row, *self.created_fields, zone)

    def record_stamp(self, record: SageRecord) -> datetime | None:
        """`change_stamp` of a row that parsed, taken from its record (read once, not twice)."""
        stamps = record.stamps
        if self.updated_fields is not None and stamps.updated_at is not None:
            return stamps.updated_at
        return stamps.created_at


_CREATED = ("DateCreated", "TimeCreated")
_UPDATED = ("DateUpdated", "TimeUpdated")

RESOURCES: tuple[Resource, ...] = (
    Resource("ap-invoices", RecordType.AP_INVOICE, parsing.parse_ap_invoice, _CREATED, _UPDATED),
    Resource(
        "purchase-orders",
        RecordType.PURCHASE_ORDER,
        parsing.parse_purchase_order,
        _CREATED,
        _UPDATED,
    ),
    Resource("gl-postings", RecordType.GL_ENTRY, parsing.parse_gl_posting, _CREATED, None),
    Resource("gl-accounts", RecordType.GL_ACCOUNT, parsing.parse_gl_account, _CREATED, _UPDATED),
)

_BY_PATH = {resource.path: resource for resource in RESOURCES}
_BY_RECORD_TYPE = {resource.record_type: resource for resource in RESOURCES}


def by_path(path: str) -> Resource:
    """The resource for a URL segment; KeyError names the known ones."""
    try:
        return _BY_PATH[path]
    except KeyError:
        raise KeyError(f"unknown agent resource {path!r}; known: {', '.join(_BY_PATH)}") from None


def by_record_type(record_type: RecordType) -> Resource:
    """The resource that feeds a record type (gl_entry is read from gl-postings)."""
    return _BY_RECORD_TYPE[record_type]
