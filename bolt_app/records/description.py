"""What generic code needs to know of one record type, so no module branches on the type.

`sage.resources` describes how the agent serves a type; this describes how the Slack side
tracks, routes, words and schedules it. Each record type's module holds one `RecordDescription`
and `bolt_app.records.registry` lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sage.records import RecordType

Fields = dict[str, str]


@dataclass(frozen=True, slots=True)
class RecordDescription:
    record_type: RecordType
    record_class: type  # what a message, a rule and the Details modal are given
    noun: str  # "AP invoice"
    plural: str  # "AP invoices"
    default_schedule: str  # a `parse_schedule` text: "15m", "1h"
    record_key: Callable[[Any], str]  # the key a Details button and a record link carry
    # What a channel is told about, keyed and versioned; None: built from lines (register_lines).
    tracked_key: Callable[[Any], str] | None = None
    tracked_fields: Callable[[Any], Fields] | None = None
    # Rules: min_amount compares with `amount` (None: rules take no amount) and warehouse is
    # one of `warehouses` (None: rules take no warehouse). The digest totals `amount` too.
    amount: Callable[[Any], Decimal] | None = None
    amount_label: str = "total"
    warehouses: Callable[[Any], set[str]] | None = None
    problems: Callable[[Any], tuple[str, ...]] = lambda record: record.problems
    # Flags of the poll.
    whole_baseline: bool = False  # the first poll reads every record, not a recent window
    changes_post_fresh: bool = False  # a change is an event of its own, not an update in place
    awaiting_lines: Callable[[Any], bool] | None = None  # a new record held until lines arrive
    register_lines: bool = False  # lines grouped into registers, tracked per register

    @property
    def label(self) -> str:
        """A heading's label: "AP invoices", "Purchase orders"."""
        return self.plural[0].upper() + self.plural[1:]


def tracked_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def tracked_amount(value: Decimal | None) -> str:
    """Amounts as plain decimal strings, so versions compare exactly."""
    return "" if value is None else f"{value:.2f}"
