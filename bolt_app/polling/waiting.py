"""What is waiting in Sage 100, from the records the connector has seen: one computation for the
App Home's "Pending in Sage 100" panel and for scheduled reminders.

`seen_documents` reads the newest snapshot of every record of a type that has something
waiting (`RecordDescription.waiting`: AP invoices, purchase orders) a channel was told about,
with no call to the agent; `pending_groups` is pure: documents, today's date in the Sage
server's zone and the thresholds in, `PendingGroup`s out. A record deleted in Sage leaves no
trace in the agent's listings, so it stays waiting here until Sage shows it in another state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.blocks.reminders import MAX_PENDING_OLDEST, PendingGroup
from bolt_app.polling.snapshots import snapshot_record
from bolt_app.polling.store import latest_snapshots
from bolt_app.records.description import Waiting, WaitingAsk
from bolt_app.records.registry import DESCRIPTIONS, describe
from bolt_app.workspace.reminders import ReminderSection
from sage.records import RecordType

# The seen records of each type that can have something waiting, newest state of each.
SeenDocuments = Mapping[RecordType, Sequence[object]]


async def seen_documents(session: AsyncSession, team_id: str, zone: ZoneInfo) -> SeenDocuments:
    """The newest seen state of each record of the team whose type has something waiting."""
    waiting = {d.record_type.value: d for d in DESCRIPTIONS if d.waiting is not None}
    latest = await latest_snapshots(session, team_id, (d.record_type for d in waiting.values()))
    documents: dict[RecordType, list[object]] = {d.record_type: [] for d in waiting.values()}
    for (_, record_type, _), snapshot in latest.items():
        if not isinstance(snapshot, dict) or "record" not in snapshot:
            continue
        description = waiting[record_type]
        try:
            record = snapshot_record(description.record_class, snapshot, zone)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue  # a snapshot that does not read is left out rather than break the Home
        documents[description.record_type].append(record)
    return documents


def pending_groups(
    documents: SeenDocuments,
    *,
    today: date,
    include: Iterable[ReminderSection],
    due_within_days: int = 0,
    new_after_days: int | None = None,
) -> tuple[PendingGroup, ...]:
    """One group per waiting list of an included section, in section order (`DUE` gives
    overdue, then due soon), each type's lists in the documents' order within a section. The
    thresholds go to each type's `waiting` as they are (`WaitingAsk`)."""
    order = {section: position for position, section in enumerate(ReminderSection)}
    wanted = set(include)
    ask = WaitingAsk(today, due_within_days, new_after_days)
    lists = [
        waiting
        for record_type, records in documents.items()
        for waiting in _waiting_of(record_type, records, ask)
        if ReminderSection(waiting.section) in wanted
    ]
    lists.sort(key=lambda waiting: order[ReminderSection(waiting.section)])
    return tuple(_group(waiting) for waiting in lists)


def _waiting_of(
    record_type: RecordType, records: Sequence[object], ask: WaitingAsk
) -> Sequence[Waiting]:
    waiting = describe(record_type).waiting
    return () if waiting is None else waiting(records, ask)


def _group(waiting: Waiting) -> PendingGroup:
    ordered = sorted(waiting.items, key=lambda item: (item.since is None, item.since or date.min))
    return PendingGroup(
        title=waiting.title,
        count=len(waiting.items),
        total=sum((item.amount for item in waiting.items), Decimal(0)),
        oldest=tuple(ordered[:MAX_PENDING_OLDEST]),
        date_word=waiting.date_word,
    )
