"""The polling pipeline end to end: simulated agent -> poller -> outbox -> Slack stand-in."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session

from bolt_app.blockkit.text import escape
from bolt_app.blocks.messages import CONNECTED_EVENT_TYPE, DIGEST_EVENT_TYPE
from bolt_app.polling.service import PollTuning
from bolt_app.polling.store import PollKey
from bolt_app.status.model import load_status
from bolt_app.storage.audit import list_audit_events
from bolt_app.workspace.rules import RoutingRule
from sage.records import RecordType
from tests.fixtures.slack import AP_CHANNEL, GL_CHANNEL, PO_CHANNEL, TEAM_ID

EAST_CHANNEL = "C0EAST001"


async def test_first_connection_posts_one_connected_message_per_channel_and_no_history(polling):
    for record_type in RecordType:
        outcome = await polling.poll(record_type)
        assert outcome.new == 0 and outcome.queued >= 1
    ap, po, gl = (polling.messages(c) for c in (AP_CHANNEL, PO_CHANNEL, GL_CHANNEL))
    assert len(ap) == 1 and len(po) == 1 and len(gl) == 2
    assert all("Connected to Sage 100 company" in m.text for m in ap + po + gl)
    polling.clock.advance(minutes=15)
    for record_type in RecordType:
        await polling.poll(record_type)
    assert len(polling.messages(AP_CHANNEL)) == 1
    assert len(polling.messages(PO_CHANNEL)) == 1
    assert len(polling.messages(GL_CHANNEL)) == 2


def rendered(message) -> str:
    """Everything a person could read in a message: fallback text and every block."""
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


async def baseline(polling, *record_types: RecordType) -> None:
    for record_type in record_types:
        await polling.poll(record_type)
    polling.clock.advance(minutes=1)


def records_in(polling, channel: str):
    """Top-level messages about records (connected notes left out)."""
    return [
        m
        for m in polling.top_level(channel)
        if (m.metadata or {}).get("event_type") != CONNECTED_EVENT_TYPE
    ]


async def test_new_records_are_posted_once_to_their_channels_with_their_fields(polling):
    await baseline(polling, RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER)
    polling.data.add_ap_invoice(
        "ABC", polling.clock(), vendor="01-AIRWAY", InvoiceNo="INV-7001",
        InvoiceAmt="1250.00",
    )  # fmt: skip
    order = polling.data.add_purchase_order("ABC", polling.clock())
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 1
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 1

    [invoice_message] = records_in(polling, AP_CHANNEL)
    text = rendered(invoice_message)
    assert "INV-7001" in text and "Airway Freight Lines" in text and "$1,250.00" in text
    assert invoice_message.metadata["event_payload"]["record_type"] == "ap_invoice"
    [order_message] = records_in(polling, PO_CHANNEL)
    assert str(order["PurchaseOrderNo"]) in rendered(order_message)
    assert records_in(polling, GL_CHANNEL) == []

    polling.clock.advance(minutes=15)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 0
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 0
    assert len(polling.messages(AP_CHANNEL)) == len(polling.messages(PO_CHANNEL)) == 2


async def test_a_status_change_updates_the_original_and_replies_in_its_thread(polling):
    await baseline(polling, RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER)
    order = polling.data.add_purchase_order("ABC", polling.clock(), OrderStatus="N")
    invoice = polling.data.add_ap_invoice("ABC", polling.clock(), HoldPayment="N")
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.PURCHASE_ORDER)
    await polling.poll(RecordType.AP_INVOICE)

    polling.data.set_po_status("ABC", str(order["RecordKey"]), "O", polling.clock())
    polling.data.post_invoice("ABC", str(invoice["RecordKey"]), polling.clock())
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).changed == 1
    assert (await polling.poll(RecordType.AP_INVOICE)).changed == 1

    for channel, said in ((PO_CHANNEL, "Open"), (AP_CHANNEL, "Posted")):
        [original] = records_in(polling, channel)
        assert original.edits == 1
        [reply] = polling.slack.thread_replies(channel, original.ts)
        assert said in reply.text
    [posted] = records_in(polling, AP_CHANNEL)
    assert "Posted" in rendered(posted)

    polling.clock.advance(minutes=15)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).changed == 0
    assert len(polling.messages(PO_CHANNEL)) == 3  # connected, the order, one reply


async def test_shared_stamps_across_pages_and_late_writes_are_each_posted_once(polling):
    polling.tuning = PollTuning(page_size=5)
    await baseline(polling, RecordType.PURCHASE_ORDER)
    rows = polling.data.add_many("ABC", "purchase-orders", 12, start=polling.clock(), per_stamp=12)
    polling.clock.advance(minutes=1)
    listings_before = len(polling.simulator.requests)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 12
    assert len(polling.simulator.requests) - listings_before >= 4  # health + three pages

    # Written now, stamped three minutes ago: behind the cursor, inside the lookback.
    late = polling.data.add_purchase_order("ABC", polling.clock() - timedelta(minutes=3))
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 1
    polling.clock.advance(minutes=5)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 0

    posted = [rendered(m) for m in records_in(polling, PO_CHANNEL)]
    assert len(posted) == 13
    for row in [*rows, late]:
        assert sum(str(row["PurchaseOrderNo"]) in text for text in posted) == 1


async def test_a_crash_between_reading_and_committing_loses_nothing_and_reposts_nothing(polling):
    await baseline(polling, RecordType.PURCHASE_ORDER)
    polling.data.add_many("ABC", "purchase-orders", 3, start=polling.clock())
    polling.clock.advance(minutes=1)

    class LostConnection(Session):
        commits = 0

    def crash_on_the_poll_commit(session):
        LostConnection.commits += 1
        if LostConnection.commits == 2:  # 1: the lease; 2: the poll's own transaction
            raise ConnectionResetError("database connection lost")

    event.listen(LostConnection, "before_commit", crash_on_the_poll_commit)
    crashing = async_sessionmaker(polling.engine, sync_session_class=LostConnection)
    key = PollKey(TEAM_ID, "ABC", RecordType.PURCHASE_ORDER)
    failed = await polling.service(crashing).poll(key)
    assert failed.error and "database connection lost" in failed.error
    assert (await polling.worker.drain(team_id=TEAM_ID)).sent == 0

    polling.clock.advance(seconds=1)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 3
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 0
    assert len(records_in(polling, PO_CHANNEL)) == 3


async def test_mention_and_link_syntax_in_a_vendor_name_is_neutralised(polling):
    await baseline(polling, RecordType.AP_INVOICE)
    hostile = "<!channel> <!here> <@U0123ABCD> <https://evil.example|Pay here> & <#C0AP00001>"
    polling.data.add_ap_invoice("ABC", polling.clock(), VendorName=hostile, Comment=hostile)
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.AP_INVOICE)
    [message] = records_in(polling, AP_CHANNEL)
    text = rendered(message)
    for live in ("<!channel>", "<!here>", "<@U0123ABCD>", "<https://evil", "<#C0AP00001>"):
        assert live not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text


async def test_a_ten_thousand_character_comment_stays_within_slack_limits(polling):
    await baseline(polling, RecordType.PURCHASE_ORDER)
    polling.data.add_purchase_order("ABC", polling.clock(), Comment="Deliver to dock 4. " * 527)
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.PURCHASE_ORDER)
    [message] = records_in(polling, PO_CHANNEL)
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    assert "…" in rendered(message)


async def test_sixty_new_orders_in_one_poll_become_one_digest(polling):
    await baseline(polling, RecordType.PURCHASE_ORDER)
    polling.data.add_many("ABC", "purchase-orders", 60, start=polling.clock(), per_stamp=3)
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 60
    [digest] = records_in(polling, PO_CHANNEL)
    assert digest.metadata["event_type"] == DIGEST_EVENT_TYPE
    assert digest.metadata["event_payload"]["count"] == 60
    polling.clock.advance(minutes=5)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 0
    assert len(records_in(polling, PO_CHANNEL)) == 1


async def test_routing_rules_add_the_east_channel_and_a_user_group_mention(polling):
    polling.slack.add_channel(TEAM_ID, EAST_CHANNEL, "east-warehouse")
    await polling.apply(
        rules=(
            RoutingRule(RecordType.PURCHASE_ORDER, channel=EAST_CHANNEL, warehouse="EST"),
            RoutingRule(RecordType.AP_INVOICE, min_amount=Decimal(10000), mention="S0FIN0001"),
        )
    )
    await baseline(polling, RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER)
    assert len(polling.messages(EAST_CHANNEL)) == 1  # its own "connected" note
    east = polling.data.add_purchase_order("ABC", polling.clock(), WarehouseCode="EST")
    main = polling.data.add_purchase_order("ABC", polling.clock(), WarehouseCode="000")
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="BIG-1", InvoiceAmt="25000.00")
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="SMALL-1", InvoiceAmt="100.00")
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.PURCHASE_ORDER)
    await polling.poll(RecordType.AP_INVOICE)

    [only_east] = records_in(polling, EAST_CHANNEL)
    assert str(east["PurchaseOrderNo"]) in rendered(only_east)
    both = [rendered(m) for m in records_in(polling, PO_CHANNEL)]
    assert len(both) == 2 and any(str(main["PurchaseOrderNo"]) in t for t in both)
    by_invoice = {("BIG-1" in rendered(m)): m for m in records_in(polling, AP_CHANNEL)}
    assert by_invoice[True].text.startswith("<!subteam^S0FIN0001>")
    assert "subteam" not in rendered(by_invoice[False])


async def test_a_gl_register_is_posted_once_quiet_and_late_lines_update_it(polling):
    await baseline(polling, RecordType.GL_ENTRY)
    start = polling.clock()
    lines = polling.data.add_gl_register("ABC", start, lines=4, spread=timedelta(minutes=2))
    polling.clock.advance(seconds=60)  # the last lines are younger than the settle lag
    waiting = await polling.poll(RecordType.GL_ENTRY)
    assert waiting.new == 0 and waiting.waiting > 0 and waiting.skipped == ()
    assert records_in(polling, GL_CHANNEL) == []

    polling.clock.advance(minutes=2)
    assert (await polling.poll(RecordType.GL_ENTRY)).new == 1
    [register] = records_in(polling, GL_CHANNEL)
    assert lines[0]["JournalRegisterNo"] in rendered(register)

    late = dict(lines[0], RecordKey=f"{lines[0]['RecordKey'][:-6]}000009", SequenceNo="000009")
    polling.data.put("ABC", "gl-postings", polling.data.restamp(late, polling.clock()))
    polling.clock.advance(minutes=3)  # a late line that unbalances the register waits 2 min
    assert (await polling.poll(RecordType.GL_ENTRY)).changed == 1
    [register] = records_in(polling, GL_CHANNEL)
    assert register.edits == 1
    assert len(polling.slack.thread_replies(GL_CHANNEL, register.ts)) == 1


async def test_a_changed_gl_account_is_posted_with_old_and_new_values(polling):
    await baseline(polling, RecordType.GL_ACCOUNT)
    account = polling.data.rows("ABC", "gl-accounts")[0]
    polling.data.edit_account(
        "ABC", str(account["RecordKey"]), polling.clock(), description="Petty cash (closed)"
    )
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.GL_ACCOUNT)).changed == 1
    [message] = records_in(polling, GL_CHANNEL)
    assert "Petty cash (closed)" in rendered(message)
    assert escape(str(account["AccountDesc"]).strip()) in rendered(message)  # the old value


async def test_backfill_days_replays_the_recent_past_at_first_connection(polling):
    await polling.apply(backfill_days=2)
    day_ago = polling.clock() - timedelta(days=1)
    polling.data.add_ap_invoice("ABC", day_ago, InvoiceNo="BACK-1")
    polling.data.add_ap_invoice("ABC", polling.clock() - timedelta(days=3), InvoiceNo="OLD-1")
    outcome = await polling.poll(RecordType.AP_INVOICE)
    posted = [rendered(m) for m in records_in(polling, AP_CHANNEL)]
    assert outcome.new == len(posted) >= 1
    assert any("BACK-1" in text for text in posted)
    assert not any("OLD-1" in text for text in posted)
    assert len(polling.top_level(AP_CHANNEL)) == len(posted) + 1  # and the connected note


async def test_a_backfill_that_reads_nothing_says_connected_once_per_channel(polling):
    await polling.apply(backfill_days=2)
    polling.clock.advance(days=30)  # nothing stamped inside the backfill window
    for record_type in (RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER, RecordType.GL_ENTRY):
        assert (await polling.poll(record_type)).read == 0
    for _ in range(2):
        polling.clock.advance(minutes=15)
        for record_type in RecordType:
            await polling.poll(record_type)
    connected = {
        channel: [
            m
            for m in polling.top_level(channel)
            if (m.metadata or {}).get("event_type") == CONNECTED_EVENT_TYPE
        ]
        for channel in (AP_CHANNEL, PO_CHANNEL, GL_CHANNEL)
    }
    assert [len(connected[c]) for c in (AP_CHANNEL, PO_CHANNEL, GL_CHANNEL)] == [1, 1, 2]


async def test_an_order_read_before_its_lines_is_posted_once_with_its_lines(polling):
    await baseline(polling, RecordType.PURCHASE_ORDER)
    order = polling.data.add_purchase_order("ABC", polling.clock())
    key, lines = str(order["RecordKey"]), order["Lines"]
    assert lines
    polling.data.update("ABC", "purchase-orders", key, {"Lines": []}, at=None)
    polling.clock.advance(minutes=1)  # past the settle lag, the header alone is readable
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 0
    assert records_in(polling, PO_CHANNEL) == []

    polling.data.update("ABC", "purchase-orders", key, {"Lines": lines}, at=None)  # no new stamp
    polling.clock.advance(minutes=2)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 1
    [message] = records_in(polling, PO_CHANNEL)
    assert f"*Lines*\n{len(lines)}" in [
        f["text"] for b in message.blocks for f in b.get("fields", [])
    ]
    assert message.edits == 0 and polling.slack.thread_replies(PO_CHANNEL, message.ts) == []


async def test_a_malformed_row_is_audited_with_its_reason_and_the_poll_moves_on(polling):
    await baseline(polling, RecordType.AP_INVOICE)
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="BROKEN-1", HoldPayment="?")
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="GOOD-1")
    polling.clock.advance(minutes=1)
    outcome = await polling.poll(RecordType.AP_INVOICE)
    assert outcome.ok and outcome.new == 1
    assert any("HoldPayment '?' is not Y or N" in reason for reason in outcome.skipped)
    [posted] = records_in(polling, AP_CHANNEL)
    assert "GOOD-1" in rendered(posted)

    async with polling.sessions() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    last = [e for e in events if e.kind == "poll"][-1]
    assert any("HoldPayment" in reason for reason in last.details["skipped"])
    # A newer record moves the cursor on; then the broken row has left the window.
    polling.clock.advance(minutes=15)
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="GOOD-2")
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 1
    polling.clock.advance(minutes=15)
    later = await polling.poll(RecordType.AP_INVOICE)
    assert later.ok and later.new == 0 and later.skipped == ()


async def test_a_failing_agent_is_recorded_in_status_and_loses_nothing(polling):
    await baseline(polling, RecordType.PURCHASE_ORDER)
    polling.data.add_many("ABC", "purchase-orders", 3, start=polling.clock())
    polling.clock.advance(minutes=1)
    polling.simulator.faults.script("/v1/companies/ABC/purchase-orders", "internal", times=1)
    failed = await polling.service().poll(PollKey(TEAM_ID, "ABC", RecordType.PURCHASE_ORDER))
    assert failed.error and "internal" in failed.error
    await polling.worker.drain(team_id=TEAM_ID)
    assert records_in(polling, PO_CHANNEL) == []
    async with polling.sessions() as session:
        status = (await load_status(session, TEAM_ID, polling.clock())).to_json()
    [row] = [r for r in status["resources"] if r["record_type"] == "purchase_order"]
    assert row["last_error"] and row["last_poll_at"] != row["last_success_at"]

    polling.clock.advance(minutes=15)
    assert (await polling.poll(RecordType.PURCHASE_ORDER)).new == 3
    async with polling.sessions() as session:
        status = (await load_status(session, TEAM_ID, polling.clock())).to_json()
    [row] = [r for r in status["resources"] if r["record_type"] == "purchase_order"]
    assert row["last_error"] is None
    assert len(records_in(polling, PO_CHANNEL)) == 3


async def test_a_rule_mention_is_kept_when_its_invoice_is_folded_into_a_digest(polling):
    await polling.apply(
        rules=(RoutingRule(RecordType.AP_INVOICE, min_amount=Decimal(10000), mention="S0FIN0001"),)
    )
    polling.tuning = PollTuning(burst_threshold=2)
    await baseline(polling, RecordType.AP_INVOICE)
    polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo="BIG-1", InvoiceAmt="25000.00")
    for n in range(3):
        polling.data.add_ap_invoice("ABC", polling.clock(), InvoiceNo=f"S-{n}", InvoiceAmt="10.00")
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 4
    [digest] = records_in(polling, AP_CHANNEL)
    assert digest.metadata["event_type"] == DIGEST_EVENT_TYPE
    assert digest.text.startswith("<!subteam^S0FIN0001>")


async def test_posting_a_thousand_entered_invoices_becomes_one_digest_and_bounded_updates(polling):
    await baseline(polling, RecordType.AP_INVOICE)
    polling.tuning = PollTuning(burst_threshold=2000)  # each invoice gets a message of its own
    entered = polling.data.add_many("ABC", "ap-invoices", 1000, start=polling.clock(), per_stamp=50)
    polling.clock.advance(minutes=30)
    assert (await polling.poll(RecordType.AP_INVOICE)).new == 1000
    before = len(polling.messages(AP_CHANNEL))

    polling.tuning = PollTuning()
    total = sum(Decimal(str(row["InvoiceAmt"])) for row in entered)
    posted = [
        polling.data.post_invoice("ABC", str(row["RecordKey"]), polling.clock()) for row in entered
    ]
    polling.clock.advance(minutes=1)
    started = polling.clock()
    outcome = await polling.poll(RecordType.AP_INVOICE)
    draining = polling.clock() - started

    assert outcome.changed == 1000 and outcome.new == 0
    [digest] = polling.messages(AP_CHANNEL)[before:]
    assert digest.metadata["event_type"] == DIGEST_EVENT_TYPE
    assert digest.metadata["event_payload"]["count"] == 1000
    assert digest.text.startswith(f"1000 AP invoices posted in company ABC, total ${total:,.2f}")
    assert "950 earlier messages about these were not updated" in rendered(digest)
    originals = polling.messages(AP_CHANNEL)[1:before]
    updated = [m for m in originals if m.edits]
    assert len(updated) == 50 and updated == originals[-50:]  # the newest, still in view
    assert all("Posted" in rendered(m) for m in updated)
    assert all(polling.slack.thread_replies(AP_CHANNEL, m.ts) == [] for m in originals)
    assert outcome.queued == 51 and draining <= timedelta(minutes=1)

    # An earlier message the burst left alone is updated, with a reply, by a later change.
    stale = next(m for m in originals if not m.edits)
    keys = [str(row["RecordKey"]) for row in entered]
    now_posted = posted[keys.index(stale.metadata["event_payload"]["record_key"])]
    polling.data.pay_invoice("ABC", str(now_posted["RecordKey"]), Decimal("1.00"), polling.clock())
    polling.clock.advance(minutes=1)
    assert (await polling.poll(RecordType.AP_INVOICE)).changed == 1
    [again] = [m for m in polling.messages(AP_CHANNEL) if m.ts == stale.ts]
    assert again.edits == 1
    [reply] = polling.slack.thread_replies(AP_CHANNEL, stale.ts)
    assert "Balance" in reply.text


@pytest.mark.parametrize("between", [0, 1])
async def test_an_invoice_read_twice_in_one_poll_is_one_invoice_though_its_batches_overlap(
    polling, between
):
    """Sage posted an invoice while the agent read it: its entered row and its posted row (the
    same business key) come in batches one or two apart. A batch is planned while the one
    before it is still being written, and still knows the earlier batch's invoice."""
    await baseline(polling, RecordType.AP_INVOICE)
    polling.tuning = PollTuning(page_size=1, batch_size=1, burst_threshold=2)
    at = polling.clock()
    for n in range(4):
        polling.data.add_ap_invoice("ABC", at, vendor="01-AIRWAY", InvoiceNo=f"BULK-{n}")
    polling.data.add_ap_invoice(
        "ABC", at + timedelta(seconds=1), vendor="01-AIRWAY", InvoiceNo="TWICE"
    )
    for n in range(between):
        polling.data.add_ap_invoice(
            "ABC", at + timedelta(seconds=1.5), vendor="01-AIRWAY", InvoiceNo=f"BETWEEN-{n}"
        )
    polling.data.add_ap_invoice(
        "ABC", at + timedelta(seconds=2), posted=True, vendor="01-AIRWAY", InvoiceNo="TWICE"
    )
    polling.clock.advance(minutes=1)

    outcome = await polling.poll(RecordType.AP_INVOICE)

    assert (outcome.read, outcome.new, outcome.changed) == (6 + between, 5 + between, 1)
    digest, posted = sorted(records_in(polling, AP_CHANNEL), key=lambda m: "TWICE" in m.text)
    assert digest.metadata["event_payload"]["count"] == 5 + between
    assert "TWICE" in posted.text and "Posted" in rendered(posted)
