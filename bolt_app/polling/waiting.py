"""What is waiting in Sage 100, from the records the connector has seen: one computation for the
App Home's "Pending in Sage 100" panel and for scheduled reminders.

`seen_documents` reads the newest snapshot of every AP invoice and purchase order a channel was
told about (no call to the agent); `pending_groups` is pure: documents, today's date in the Sage
server's zone and the thresholds in, `PendingGroup`s out. A record deleted in Sage leaves no
trace in the agent's listings, so it stays waiting here until Sage shows it in another state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.blocks.reminders import MAX_PENDING_OLDEST, PendingGroup, PendingItem
from bolt_app.polling.snapshots import snapshot_record
from bolt_app.polling.store import latest_snapshots
from bolt_app.workspace.reminders import ReminderSection
from sage.records import APInvoice, OrderStatus, PurchaseOrder, RecordType


@dataclass(frozen=True, slots=True)
class SeenDocuments:
    invoices: tuple[APInvoice, ...]
    orders: tuple[PurchaseOrder, ...]


async def seen_documents(session: AsyncSession, team_id: str, zone: ZoneInfo) -> SeenDocuments:
    """The newest seen state of each AP invoice and purchase order of the team."""
    latest = await latest_snapshots(
        session, team_id, (RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER)
    )
    invoices: list[APInvoice] = []
    orders: list[PurchaseOrder] = []
    for (_, record_type, _), snapshot in latest.items():
        if not isinstance(snapshot, dict) or "record" not in snapshot:
            continue
        try:
            if record_type == RecordType.AP_INVOICE.value:
                invoices.append(snapshot_record(APInvoice, snapshot, zone))
            else:
                orders.append(snapshot_record(PurchaseOrder, snapshot, zone))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue  # a snapshot that does not read is left out rather than break the Home
    return SeenDocuments(tuple(invoices), tuple(orders))


def pending_groups(
    documents: SeenDocuments,
    *,
    today: date,
    include: Iterable[ReminderSection],
    due_within_days: int = 0,
    new_after_days: int | None = None,
) -> tuple[PendingGroup, ...]:
    """One group per included section, in section order (`DUE` gives overdue, then due soon).

    `new_after_days` None counts every New purchase order, whatever its age."""
    wanted = set(include)
    invoices, orders = documents.invoices, documents.orders
    unpaid = [i for i in invoices if not i.is_paid]
    groups: list[PendingGroup] = []
    if ReminderSection.DUE in wanted:
        horizon = today + timedelta(days=due_within_days)
        dated = [(i, i.due_date, _owed(i)) for i in unpaid if i.due_date is not None]
        groups.append(
            _group("AP invoices overdue", [e for e in dated if e[1] < today], date_word="due")
        )
        groups.append(
            _group(
                f"AP invoices due in the next {due_within_days} days",
                [e for e in dated if today <= e[1] <= horizon],
                date_word="due",
            )
        )
    if ReminderSection.UNPOSTED in wanted:
        groups.append(
            _group(
                "AP invoices entered, not posted",
                [(i, i.invoice_date, i.amount) for i in invoices if not i.is_posted],
            )
        )
    if ReminderSection.ON_HOLD in wanted:
        groups.append(
            _group(
                "AP invoices on hold",
                [(i, i.invoice_date, _owed(i)) for i in unpaid if i.on_hold],
            )
        )
    if ReminderSection.NEW_ORDERS in wanted:
        title = "Purchase orders still New"
        new = [o for o in orders if o.status is OrderStatus.NEW]
        if new_after_days is not None:
            title += f" after {new_after_days} days"
            cutoff = today - timedelta(days=new_after_days)
            new = [o for o in new if o.order_date is not None and o.order_date <= cutoff]
        groups.append(_group(title, [(o, o.order_date, o.total) for o in new]))
    return tuple(groups)


def _owed(invoice: APInvoice) -> Decimal:
    return invoice.balance if invoice.balance is not None else invoice.amount


def _group(
    title: str,
    entries: Sequence[tuple[APInvoice | PurchaseOrder, date | None, Decimal]],
    *,
    date_word: str = "since",
) -> PendingGroup:
    ordered = sorted(entries, key=lambda entry: (entry[1] is None, entry[1] or date.min))
    return PendingGroup(
        title=title,
        count=len(entries),
        total=sum((amount for _, _, amount in entries), Decimal(0)),
        oldest=tuple(
            PendingItem(record.company, _label(record), amount, since)
            for record, since, amount in ordered[:MAX_PENDING_OLDEST]
        ),
        date_word=date_word,
    )


def _label(record: APInvoice | PurchaseOrder) -> str:
    if isinstance(record, APInvoice):
        return f"{record.vendor_display} invoice {record.invoice_no}"
    return f"PO {record.po_no}, {record.vendor_display}"
