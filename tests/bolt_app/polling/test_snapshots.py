"""Seen records keep what a change message and the App Home need, and old databases are slimmed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bolt_app.blocks.messages import describe_change
from bolt_app.polling.codec import to_json
from bolt_app.polling.snapshots import record_snapshot, snapshot_record
from bolt_app.polling.tables import seen_records
from bolt_app.storage.engine import create_engine, upgrade_database
from bolt_app.storage.tables import workspaces
from sage.records import OrderStatus, PurchaseOrder
from tests.bolt_app.sample_records import ap_invoice, purchase_order

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_an_order_snapshot_keeps_its_line_keys_not_its_lines_or_comment():
    order = replace(purchase_order(), comment="x" * 5000)
    snapshot = record_snapshot(order)
    assert "lines" not in snapshot["record"] and "comment" not in snapshot["record"]
    assert snapshot["line_keys"] == [line.line_key for line in order.lines]
    assert len(str(snapshot)) < len(str(to_json(order))) / 3


def test_a_change_message_reads_the_old_state_from_a_snapshot():
    before = replace(purchase_order(), status=OrderStatus.NEW)
    added = replace(before.lines[0], line_key="new-line")
    after = replace(before, status=OrderStatus.OPEN, lines=(*before.lines, added))
    old = snapshot_record(PurchaseOrder, record_snapshot(before), ZONE, like=after)
    change = describe_change(old, after)
    assert "Status: New → Open" in change
    assert f"Lines {before.line_count} → {after.line_count}" in change


def test_the_app_home_reads_a_snapshot_with_blanks_for_what_it_left_out():
    invoice = replace(ap_invoice(), amount=Decimal("99.50"), on_hold=True)
    shown = snapshot_record(type(invoice), record_snapshot(invoice), ZONE)
    assert (shown.amount, shown.on_hold, shown.invoice_no) == (
        Decimal("99.50"),
        True,
        invoice.invoice_no,
    )
    assert shown.comment == "" and shown.stamps.created_at is None


async def test_the_migration_slims_whole_snapshots_and_leaves_registers(tmp_path):
    engine: AsyncEngine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade_database(engine, "0005_reminders")
        order, invoice = purchase_order(), ap_invoice()
        register = {"L1": {"record_key": "L1", "debit": "10.00"}}
        whole = {
            "purchase_order": {"fields": {"po_no": order.po_no}, "record": to_json(order)},
            "ap_invoice": {"fields": {}, "record": to_json(invoice)},
            "gl_entry": register,
        }
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(workspaces).values(team_id="T1", created_at=NOW, updated_at=NOW)
            )
            for record_type, snapshot in whole.items():
                await connection.execute(
                    sa.insert(seen_records).values(
                        team_id="T1",
                        company="ABC",
                        record_type=record_type,
                        record_key="K1",
                        channel_id="C1",
                        version="v",
                        snapshot=snapshot,
                        first_seen_at=NOW,
                        changed_at=NOW,
                    )  # fmt: skip
                )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            stored = dict(
                (await connection.execute(sa.select(seen_records.c.record_type, seen_records.c.snapshot))).all()
            )  # fmt: skip
    finally:
        await engine.dispose()
    assert stored["purchase_order"] == record_snapshot(order)
    assert stored["ap_invoice"] == record_snapshot(invoice)
    assert stored["gl_entry"] == register
