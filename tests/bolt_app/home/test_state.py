"""The App Home's read side on SQLite and PostgreSQL: pending documents, dead letters, deliveries."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.blocks.messages import SlackMessage
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue
from bolt_app.delivery.tables import deliveries
from bolt_app.home.state import load_home_state
from bolt_app.polling.snapshots import record_snapshot
from bolt_app.polling.store import PollKey, SeenRecord, SeenUpdate, save_seen
from bolt_app.storage.workspaces import apply_workspace
from bolt_app.workspace.model import WorkspaceConfig
from bolt_app.workspace.schedule import DEFAULT_SCHEDULES
from sage.connection import AuthMode, ConnectionSettings
from sage.records import (
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    RecordType,
)

TEAM = "T0123ABCD"
ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
STAMPS = AuditStamps(datetime(2026, 11, 20, 9, 0, tzinfo=ZONE), "0000000001")


def invoice(number: str, amount: str, *, posted=False, hold=False, day=1) -> APInvoice:
    source = APInvoiceSource.POSTED if posted else APInvoiceSource.ENTERED
    return APInvoice(
        "ABC", f"K{number}", source, "01", "AIRWAY", "Airway", number, date(2026, 11, day),
        None, Decimal(amount), Decimal(amount) if posted else None, "30", hold, "", "", STAMPS,
    )  # fmt: skip


def order(number: str, status: OrderStatus) -> PurchaseOrder:
    return PurchaseOrder(
        "ABC", f"P{number}", number, date(2026, 11, 2), OrderType.STANDARD, status, "01",
        "METRO", "Metro", "EST", "", None, Decimal("100"), Decimal(0), Decimal(0), Decimal(0),
        "", (), STAMPS,
    )  # fmt: skip


async def test_pending_dead_letters_and_deliveries_on_each_backend(engine, secret_box):
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    config = WorkspaceConfig(
        team_id=TEAM,
        connection=ConnectionSettings(
            "https://sage01.corp.example", ("ABC",), AuthMode.API_KEY, ZONE, api_key="k"
        ),
        channels={RecordType.AP_INVOICE: "C0AP00001", RecordType.PURCHASE_ORDER: "C0PO00001"},
        schedules=dict(DEFAULT_SCHEDULES),
    )
    seen = [
        (RecordType.AP_INVOICE, invoice("1001", "100.00", day=5)),
        (RecordType.AP_INVOICE, invoice("1002", "250.50", day=3, hold=True)),
        (RecordType.AP_INVOICE, invoice("1003", "75.00", posted=True, hold=True)),
        (RecordType.AP_INVOICE, invoice("1004", "10.00", posted=True)),
        (RecordType.PURCHASE_ORDER, order("0000184", OrderStatus.NEW)),
        (RecordType.PURCHASE_ORDER, order("0000185", OrderStatus.OPEN)),
    ]
    async with sessions.begin() as session:
        await apply_workspace(session, config, secret_box, now=NOW)
        for record_type, record in seen:
            seen_record = SeenRecord("v1", record_snapshot(record), None)
            # the same record told to two channels counts once
            updates = [
                SeenUpdate(record.record_key, channel, seen_record)
                for channel in ("C0AP00001", "C0EAST001")
            ]
            await save_seen(session, PollKey(TEAM, "ABC", record_type), updates, now=NOW)
        ids = []
        for key in ("K1", "K2"):
            ids.append(
                await enqueue(
                    session,
                    OutboundMessage(
                        TEAM,
                        "C0AP00001",
                        DeliveryKind.POST,
                        SlackMessage("x", ()),
                        "ABC",
                        RecordType.AP_INVOICE,
                        key,
                    ),  # fmt: skip
                    now=NOW,
                )
            )
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == ids[0])
            .values(status="dead", last_error="channel_not_found")
        )
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == ids[1])
            .values(status="sent", sent_at=NOW, slack_ts="1.2")
        )

    async with sessions() as session:
        state = await load_home_state(session, TEAM, secret_box, is_admin=True, now=NOW)
    entered, on_hold, new_orders = state.pending
    assert (entered.count, entered.total) == (2, Decimal("350.50"))
    assert [item.label for item in entered.oldest] == [
        "01-AIRWAY invoice 1002",
        "01-AIRWAY invoice 1001",
    ]
    assert (on_hold.count, on_hold.total) == (2, Decimal("325.50"))
    assert (new_orders.count, new_orders.total) == (1, Decimal("100"))
    assert [(d.delivery_id, d.error) for d in state.dead_letters] == [(ids[0], "channel_not_found")]
    assert [d.record_key for d in state.last_deliveries] == ["K2"]
    assert state.status.queue_dead == 1
    assert [r.company for r in state.status.resources] == ["ABC"] * 4

    async with sessions() as session:
        member = await load_home_state(session, TEAM, secret_box, is_admin=False, now=NOW)
    assert member.pending == state.pending
    assert member.dead_letters == () and member.routes == ()
