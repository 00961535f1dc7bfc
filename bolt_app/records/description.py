"""What generic code needs to know of one record type, so no module branches on the type.

`sage.resources` describes how the agent serves a type; this describes how the Slack side
tracks, routes, words, shows and schedules it, and what of it waits in Sage. Each record type's
module holds one `RecordDescription` and `bolt_app.records.registry` lists them; the generic
builders (`bolt_app.blocks.messages`, `bolt_app.home.views.details`, `bolt_app.polling.waiting`)
put each type's pieces in the frame every type shares.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bolt_app.blockkit.kit import Block
from sage.records import RecordType

Fields = dict[str, str]


@dataclass(frozen=True, slots=True)
class RecordMessage:
    """A record's message as its type words it. The generic builder escapes `title` (the
    header) and `text` (the fallback), and puts the Details and Open in Sage buttons and the
    context line ("Company … · Record key …", then `context`) under `body`."""

    title: str
    body: Sequence[Block]
    text: str
    context: Sequence[str] = ()  # escaped mrkdwn


@dataclass(frozen=True, slots=True)
class WaitingAsk:
    """What the App Home or a reminder asks: today in the Sage server's zone, and its thresholds."""

    today: date
    due_within_days: int = 0
    new_after_days: int | None = None  # None: every New order, whatever its age


@dataclass(frozen=True, slots=True)
class PendingItem:
    """One waiting document as the App Home's Pending panel and a reminder list it."""

    company: str
    label: str  # e.g. "01-AIRWAY invoice 10045" or "PO 0000184, 01-AIRWAY"
    amount: Decimal
    since: date | None  # the document's date, or its due date in a "due" group


@dataclass(frozen=True, slots=True)
class Waiting:
    """Records of one type waiting for someone in Sage, under one reminder section."""

    section: str  # a `bolt_app.workspace.reminders.ReminderSection` value: "due", "on_hold"
    title: str  # "AP invoices on hold"
    items: Sequence[PendingItem]
    date_word: str = "since"  # how an item's date reads: "since Nov 3, 2026", "due Nov 3, 2026"


@dataclass(frozen=True, slots=True)
class RecordDescription:
    record_type: RecordType
    record_class: type  # what a message, a rule and the Details modal are given
    noun: str  # "AP invoice"
    plural: str  # "AP invoices"
    default_schedule: str  # a `parse_schedule` text: "15m", "1h"
    record_key: Callable[[Any], str]  # the key a Details button and a record link carry
    # How the type reads in Slack (`bolt_app.records.wording` holds the pieces types share).
    message: Callable[[Any, Any], RecordMessage]  # (record, the record as posted before or None)
    change_lines: Callable[[Any, Any], list[str]]  # (old, new): "Posted", "Lines 3 → 5"
    digest_row: Callable[[Any], str]  # one escaped mrkdwn bullet of a digest
    details: Callable[[Any], list[Block]]  # the Details modal's blocks
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
    # A reconcile pass lists every key (deletes, silent imports); posted GL lines never change.
    reconciled: bool = False
    # False: the tracked key is of the record's own fields (an AP invoice's business key), so a
    # first reconcile pass learns it from a listing instead of from the RecordKey.
    tracked_by_record_key: bool = True
    # What waits in Sage among the type's seen records (None: nothing of the type waits).
    waiting: Callable[[Sequence[Any], WaitingAsk], Sequence[Waiting]] | None = None

    @property
    def label(self) -> str:
        """A heading's label: "AP invoices", "Purchase orders"."""
        return self.plural[0].upper() + self.plural[1:]


def tracked_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def tracked_amount(value: Decimal | None) -> str:
    """Amounts as plain decimal strings, so versions compare exactly."""
    return "" if value is None else f"{value:.2f}"
