"""Gathers what the App Home shows for one workspace into a `HomeState` (one read session).

The view builders stay pure; this module is the read side: the stored configuration
(`bolt_app.storage.workspaces`), the poll status (`bolt_app.status.model.load_status`, as /sage-status),
the routing rules, the outbox's dead letters and last deliveries (`bolt_app.delivery.store`), and the
"Pending" read model.

Pending documents come from what the connector has seen (polling's `latest_snapshots`: the last
snapshot of each record a channel was told about), so they need no call to the agent. A record deleted in
Sage leaves no trace in the agent's listings, so it stays pending here until Sage shows it
again in another state; the panel says its figures come from what the connector has seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox
from bolt_app.delivery.outbox import DeliveryStatus
from bolt_app.delivery.store import latest_deliveries
from bolt_app.home.admin import load_or_new_workspace
from bolt_app.home.views.home import (
    MAX_DEAD_LETTERS_SHOWN,
    MAX_DELIVERIES_SHOWN,
    MAX_PENDING_OLDEST,
    DeadLetterRow,
    DeliveryRow,
    HomeState,
    PendingGroup,
    PendingItem,
    RouteRow,
    StatusPanel,
)
from bolt_app.polling.codec import from_json
from bolt_app.polling.store import latest_snapshots
from bolt_app.status.model import load_status
from bolt_app.storage.workspaces import load_polling_settings, pause_state
from sage.records import APInvoice, OrderStatus, PurchaseOrder, RecordType


async def load_home_state(
    session: AsyncSession,
    team_id: str,
    box: SecretBox,
    *,
    is_admin: bool,
    now: datetime,
    notice: str | None = None,
) -> HomeState:
    config = await load_or_new_workspace(session, team_id, box)
    paused = await pause_state(session, team_id)
    if paused is None:  # installed, never configured: nothing polled, nothing queued
        status = StatusPanel(paused=False, resources=(), queue_pending=0, queue_dead=0)
    else:
        loaded = await load_status(session, team_id, now)
        status = StatusPanel(
            paused=loaded.paused,
            paused_reason=paused[1],
            resources=loaded.resources,
            queue_pending=loaded.queue.pending,
            queue_dead=loaded.queue.dead,
        )
    zone = config.connection.timezone if config.connection else ZoneInfo("UTC")
    state = HomeState(
        team_id=team_id,
        is_admin=is_admin,
        status=status,
        pending=await load_pending(session, team_id, zone),
        extra_admins=config.admins,
        connection=config.connection,
        notice=notice,
    )
    if not is_admin:
        return state
    return dataclasses.replace(
        state,
        routes=tuple(
            RouteRow(rt, config.channels.get(rt), str(config.schedules[rt])) for rt in RecordType
        ),
        rules=(await load_polling_settings(session, team_id)).rules,
        dead_letters=await _dead_letters(session, team_id),
        last_deliveries=await _last_deliveries(session, team_id),
    )


async def load_pending(
    session: AsyncSession, team_id: str, zone: ZoneInfo
) -> tuple[PendingGroup, ...]:
    """AP invoices entered but not posted, invoices on hold, POs still New: from seen records."""
    latest = await latest_snapshots(
        session, team_id, (RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER)
    )
    invoices: list[APInvoice] = []
    orders: list[PurchaseOrder] = []
    for (_, record_type, _), snapshot in latest.items():
        data = snapshot.get("record") if isinstance(snapshot, dict) else None
        if data is None:
            continue
        if record_type == RecordType.AP_INVOICE.value:
            invoices.append(from_json(APInvoice, data, zone))
        else:
            orders.append(from_json(PurchaseOrder, data, zone))
    return (
        _group(
            "AP invoices entered, not posted",
            [(i, i.invoice_date, i.amount) for i in invoices if not i.is_posted],
        ),
        _group(
            "AP invoices on hold",
            [
                (i, i.invoice_date, i.balance if i.balance is not None else i.amount)
                for i in invoices
                if i.on_hold and not i.is_paid
            ],
        ),
        _group(
            "Purchase orders still New",
            [(o, o.order_date, o.total) for o in orders if o.status is OrderStatus.NEW],
        ),
    )


def _group(
    title: str, entries: Sequence[tuple[APInvoice | PurchaseOrder, date | None, Decimal]]
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
    )


def _label(record: APInvoice | PurchaseOrder) -> str:
    if isinstance(record, APInvoice):
        return f"{record.vendor_display} invoice {record.invoice_no}"
    return f"PO {record.po_no}, {record.vendor_display}"


async def _dead_letters(session: AsyncSession, team_id: str) -> tuple[DeadLetterRow, ...]:
    rows = await latest_deliveries(session, team_id, DeliveryStatus.DEAD, MAX_DEAD_LETTERS_SHOWN)
    return tuple(
        DeadLetterRow(
            delivery_id=row.id,
            channel_id=row.channel_id,
            record_type=RecordType(row.record_type),
            record_key=row.record_key,
            error=row.last_error or "no reason recorded",
            failed_at=row.updated_at,
        )
        for row in rows
    )


async def _last_deliveries(session: AsyncSession, team_id: str) -> tuple[DeliveryRow, ...]:
    rows = await latest_deliveries(session, team_id, DeliveryStatus.SENT, MAX_DELIVERIES_SHOWN)
    return tuple(
        DeliveryRow(
            channel_id=row.channel_id,
            record_type=RecordType(row.record_type),
            record_key=row.record_key,
            outcome=f"{row.kind} sent",
            at=row.sent_at,
        )
        for row in rows
    )
