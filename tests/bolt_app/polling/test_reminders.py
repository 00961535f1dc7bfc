"""Scheduled reminders end to end: simulator -> poller -> seen records -> reminder job ->
outbox -> delivery worker -> Slack stand-in, on the harness's fake clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from bolt_app.blockkit.text import format_money
from bolt_app.blocks.reminders import REMINDER_EVENT_TYPE
from bolt_app.polling.reminders import ReminderOutcome, ReminderService
from bolt_app.polling.scheduler import PollScheduler, trigger_for
from bolt_app.storage.audit import list_audit_events
from bolt_app.workspace.reminders import Reminder, ReminderSection
from bolt_app.workspace.schedule import CronSchedule
from sage.records import RecordType
from tests.fixtures.polling import SAGE_ZONE
from tests.fixtures.slack import AP_CHANNEL, PO_CHANNEL, TEAM_ID

WEEKDAYS_AT_EIGHT = CronSchedule("0 8 * * 1-5")
WEDNESDAY_EIGHT = datetime(2026, 11, 25, 8, 0, tzinfo=SAGE_ZONE)  # the harness starts Tuesday


def reminders_in(polling, channel: str):
    return [
        m
        for m in polling.top_level(channel)
        if (m.metadata or {}).get("event_type") == REMINDER_EVENT_TYPE
    ]


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def what_sage_holds(polling, today: date, *, due_within: int, new_after: int):
    """(count, total) per reminder line, straight from the simulator's rows: the oracle."""
    lines: dict[str, list[Decimal]] = {
        "AP invoices overdue": [],
        f"AP invoices due in the next {due_within} days": [],
        "AP invoices entered, not posted": [],
        "AP invoices on hold": [],
        f"Purchase orders still New after {new_after} days": [],
    }
    for row in polling.data.rows("ABC", "ap-invoices"):
        posted = row["SourceTable"] == "AP_OpenInvoice"
        owed = Decimal(row["Balance"] if posted else row["InvoiceAmt"])
        if posted and owed == 0:
            continue
        due = _day(row["InvoiceDueDate"])
        if due < today:
            lines["AP invoices overdue"].append(owed)
        elif due <= today + timedelta(days=due_within):
            lines[f"AP invoices due in the next {due_within} days"].append(owed)
        if not posted:
            lines["AP invoices entered, not posted"].append(Decimal(row["InvoiceAmt"]))
        if row["HoldPayment"] == "Y":
            lines["AP invoices on hold"].append(owed)
    cutoff = today - timedelta(days=new_after)
    for row in polling.data.rows("ABC", "purchase-orders"):
        if row["OrderStatus"] == "N" and _day(row["PurchaseOrderDate"]) <= cutoff:
            lines[f"Purchase orders still New after {new_after} days"].append(row_total(row))
    return {title: (len(amounts), sum(amounts, Decimal(0))) for title, amounts in lines.items()}


def row_total(row) -> Decimal:
    """The agent contract's order total: lines plus freight and tax."""
    lines = sum((Decimal(line["ExtensionAmt"]) for line in row["Lines"]), Decimal(0))
    return lines + Decimal(row.get("FreightAmt") or 0) + Decimal(row.get("SalesTaxAmt") or 0)


async def seen_everything(polling) -> None:
    """The first connection replays the simulator's whole history, so every record is seen."""
    await polling.apply(backfill_days=366)
    for record_type in (RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER):
        await polling.poll(record_type)


def scheduler_for(polling) -> PollScheduler:
    return PollScheduler(
        polling.service(),
        polling.sessions,
        now=polling.clock,
        reminders=ReminderService(polling.sessions, now=polling.clock),
    )


async def fire(scheduler: PollScheduler, job_id: str) -> None:
    """What APScheduler does at the job's time: call it."""
    job = scheduler._scheduler.get_job(job_id)
    await job.func(*job.args)


async def test_a_reminder_goes_out_at_its_time_with_what_sage_has_waiting(polling):
    polling.data.add_ap_invoice(
        "ABC", polling.clock(), posted=True, InvoiceNo="LATE-1", InvoiceAmt="1250.00",
        Balance="1250.00", InvoiceDueDate="20261101", HoldPayment="N",
    )  # fmt: skip
    polling.clock.advance(minutes=1)
    await seen_everything(polling)
    await polling.apply(reminders=(Reminder(AP_CHANNEL, WEEKDAYS_AT_EIGHT),))
    scheduler = scheduler_for(polling)
    await scheduler.reconcile()
    job_id = f"reminder:{TEAM_ID}:{AP_CHANNEL}"
    spec = scheduler.specs[job_id]
    trigger = trigger_for(spec.schedule, spec.zone)
    assert trigger.get_next_fire_time(None, polling.clock()) == WEDNESDAY_EIGHT
    assert reminders_in(polling, AP_CHANNEL) == []

    polling.clock.now = WEDNESDAY_EIGHT + timedelta(seconds=2)  # the job starts a little late
    await fire(scheduler, job_id)
    assert (await polling.worker.drain(team_id=TEAM_ID)).ok

    [reminder] = reminders_in(polling, AP_CHANNEL)
    expected = what_sage_holds(polling, WEDNESDAY_EIGHT.date(), due_within=7, new_after=7)
    assert expected["AP invoices overdue"][0] >= 1  # LATE-1 at least
    shown = "\n".join(block["text"]["text"] for block in reminder.blocks if "text" in block)
    for title, (count, total) in expected.items():
        if count:
            assert f"*{title}*: {count}, {format_money(total)}" in shown
        else:
            assert title not in shown
    assert "LATE-1" in shown and "Nov 25, 2026" in shown
    payload = reminder.metadata["event_payload"]
    assert payload["groups"] == {title: n for title, (n, _) in expected.items() if n}

    # A second worker firing the same schedule, and a re-applied file, post nothing more.
    await polling.apply(reminders=(Reminder(AP_CHANNEL, WEEKDAYS_AT_EIGHT),))
    second = ReminderService(polling.sessions, now=polling.clock)
    assert await second.send(TEAM_ID, AP_CHANNEL, due=WEDNESDAY_EIGHT) is (
        ReminderOutcome.ALREADY_SENT
    )
    assert (await polling.worker.drain(team_id=TEAM_ID)).ok
    assert len(reminders_in(polling, AP_CHANNEL)) == 1

    async with polling.sessions() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    [queued] = [e for e in events if e.kind == "reminder.queued"]
    assert queued.details["channel_id"] == AP_CHANNEL
    assert any(e.kind == "delivery.attempt" and "reminder:" in e.summary for e in events)


async def test_nothing_is_posted_when_nothing_waits_unless_always(polling):
    await seen_everything(polling)
    new_orders = [r for r in polling.data.rows("ABC", "purchase-orders") if r["OrderStatus"] == "N"]
    assert new_orders
    for row in new_orders:  # the buyers cleared their backlog
        polling.data.set_po_status("ABC", row["RecordKey"], "O", polling.clock())
    polling.clock.advance(minutes=1)
    await polling.poll(RecordType.PURCHASE_ORDER)
    orders_only = Reminder(PO_CHANNEL, WEEKDAYS_AT_EIGHT, include=(ReminderSection.NEW_ORDERS,))
    await polling.apply(reminders=(orders_only,))
    service = ReminderService(polling.sessions, now=polling.clock)
    polling.clock.now = WEDNESDAY_EIGHT

    assert await service.send(TEAM_ID, PO_CHANNEL, due=WEDNESDAY_EIGHT) is (
        ReminderOutcome.NOTHING_WAITING
    )
    assert (await polling.worker.drain(team_id=TEAM_ID)).ok
    assert reminders_in(polling, PO_CHANNEL) == []
    async with polling.sessions() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert not [e for e in events if e.kind == "reminder.queued"]

    thursday = WEDNESDAY_EIGHT + timedelta(days=1)
    polling.clock.now = thursday
    await polling.apply(
        reminders=(
            Reminder(
                PO_CHANNEL, WEEKDAYS_AT_EIGHT, include=(ReminderSection.NEW_ORDERS,), always=True
            ),
        )
    )
    assert await service.send(TEAM_ID, PO_CHANNEL, due=thursday) is ReminderOutcome.QUEUED
    assert (await polling.worker.drain(team_id=TEAM_ID)).ok
    [posted] = reminders_in(polling, PO_CHANNEL)
    assert "Nothing is waiting." in str(posted.blocks)


async def test_a_paused_workspace_or_a_removed_reminder_posts_nothing(polling):
    await seen_everything(polling)
    service = ReminderService(polling.sessions, now=polling.clock)
    assert await service.send(TEAM_ID, AP_CHANNEL, due=WEDNESDAY_EIGHT) is (
        ReminderOutcome.NOT_CONFIGURED
    )
    await polling.apply(reminders=(Reminder(AP_CHANNEL, WEEKDAYS_AT_EIGHT, always=True),))
    scheduler = scheduler_for(polling)
    await scheduler.reconcile()
    assert f"reminder:{TEAM_ID}:{AP_CHANNEL}" in scheduler.specs
    await polling.apply(reminders=())
    await scheduler.reconcile()
    assert f"reminder:{TEAM_ID}:{AP_CHANNEL}" not in scheduler.specs
