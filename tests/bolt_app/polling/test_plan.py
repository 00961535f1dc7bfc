"""The poll plan as data: records and seen rows in, messages, seen rows, bursts and cursor out."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bolt_app.blocks.messages import DIGEST_EVENT_TYPE
from bolt_app.delivery.outbox import DeliveryKind
from bolt_app.polling.plan import (
    BurstSummary,
    PlanContext,
    PlanState,
    PollPlan,
    Posted,
    plan_batch,
    plan_finish,
    plan_leftovers,
)
from bolt_app.polling.store import PollKey, SeenRecord
from bolt_app.polling.tracking import ChangeKind
from bolt_app.polling.window import PollWindow
from bolt_app.records.registry import describe
from bolt_app.workspace.rules import RoutingRule
from sage.records import APInvoiceSource, AuditStamps, GLPosting, RecordType
from tests.bolt_app.sample_records import ap_invoice, purchase_order

ZONE = ZoneInfo("America/Chicago")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=ZONE)
CURSOR = T0 - timedelta(minutes=1)
WINDOW = PollWindow(
    since=CURSOR - timedelta(minutes=10), signpost=T0 + timedelta(hours=1), baseline=False
)
AP = "C0AP"
BIG = "C0BIG"


def context(record_type: RecordType = RecordType.AP_INVOICE, **changes) -> PlanContext:
    plan_context = PlanContext(
        key=PollKey("T0123ABCD", "ABC", record_type),
        description=describe(record_type),
        window=WINDOW,
        zone=ZONE,
        default_channel=AP,
        burst_threshold=3,
        burst_updates=2,
    )
    return replace(plan_context, **changes)


def invoice(n: int, amount: str = "100.00", **changes):
    stamps = AuditStamps(T0 + timedelta(seconds=n), "jsmith")
    return replace(
        ap_invoice(),
        record_key=f"01AIRWAY{n:04d}",
        invoice_no=f"INV-{n}",
        amount=Decimal(amount),
        stamps=stamps,
        **changes,
    )


def poll(plan_context: PlanContext, *batches, seen=None) -> tuple[list[PollPlan], PollPlan]:
    """Each batch's plan, and the finishing plan."""
    state = PlanState(cursor=CURSOR)
    plans = []
    for batch in batches:
        plan, state = plan_batch(plan_context, state, batch, seen or {})
        plans.append(plan)
    return plans, plan_finish(plan_context, state)


def seen_as_told(plan_context: PlanContext, records, delivery_ids=None) -> dict:
    """What each channel keeps after a poll of `records` posted them with these delivery ids."""
    _, finish = poll(replace(plan_context, burst_threshold=10_000), records)
    ids = iter(delivery_ids or range(1, 10_000))
    return {
        (s.record_key, s.channel): SeenRecord(s.version, s.snapshot, next(ids)) for s in finish.seen
    }


def kinds(plan: PollPlan) -> list[tuple[DeliveryKind, str, object]]:
    return [(m.kind, m.channel, m.parent) for m in plan.messages]


def test_a_new_invoice_waits_for_the_end_and_its_seen_row_names_its_post():
    new, old = invoice(1), invoice(5)
    seen = seen_as_told(context(), [old])
    [batch], finish = poll(context(), [new, old], seen=seen)
    assert batch.messages == () and batch.seen == ()
    assert batch.cursor == new.stamps.changed_at  # held: the cursor does not pass it
    assert (batch.counts.new, batch.counts.unchanged) == (1, 1)
    [post] = finish.messages
    assert (post.kind, post.channel, post.announces) == (DeliveryKind.POST, AP, True)
    assert "INV-1" in post.message.text
    [row] = finish.seen
    assert row.delivery == Posted(row.record_key, AP)
    assert finish.cursor == old.stamps.changed_at


def test_an_unchanged_invoice_is_silent_and_moves_the_cursor():
    old = invoice(2)
    [batch], finish = poll(context(), [old], seen=seen_as_told(context(), [old]))
    assert batch.messages == finish.messages == () and batch.seen == finish.seen == ()
    assert batch.counts.unchanged == 1 and batch.cursor == old.stamps.changed_at


def test_a_change_updates_the_earlier_message_and_replies():
    before = invoice(3)
    after = replace(before, source=APInvoiceSource.POSTED, balance=before.amount)
    seen = seen_as_told(context(), [before], [7])
    [batch], finish = poll(context(), [after], seen=seen)
    assert batch.counts.changed == 1
    assert kinds(finish) == [(DeliveryKind.UPDATE, AP, 7), (DeliveryKind.REPLY, AP, 7)]
    assert "Posted" in finish.messages[1].message.text
    [row] = finish.seen
    assert row.delivery == 7


def test_a_rule_routes_a_big_invoice_to_a_second_channel_with_its_mention():
    rule = RoutingRule(
        RecordType.AP_INVOICE, channel=BIG, min_amount=Decimal(1000), mention="S0FIN0001"
    )
    _, finish = poll(context(rules=(rule,)), [invoice(1, "5000.00"), invoice(2, "10.00")])
    posts = [
        (m.channel, m.message.text.startswith("<!subteam^S0FIN0001>")) for m in finish.messages
    ]
    assert sorted(posts) == [(AP, False), (AP, False), (BIG, True)]
    assert {row.channel for row in finish.seen if row.record_key.endswith("INV-1")} == {AP, BIG}


def test_a_baseline_remembers_without_posting_and_leaves_the_cursor_at_the_signpost():
    baseline = replace(WINDOW, baseline=True)
    [batch], finish = poll(context(window=baseline, first=True), [invoice(1), invoice(2)])
    assert batch.messages == () and batch.cursor is None
    assert [row.delivery for row in batch.seen] == [None, None]
    assert (batch.counts.new, batch.counts.unchanged) == (0, 2)
    assert [m.record_key for m in finish.messages] == ["connected"]
    assert finish.cursor == baseline.signpost


def test_a_burst_over_two_batches_becomes_one_digest_of_the_whole_burst():
    rule = RoutingRule(RecordType.AP_INVOICE, min_amount=Decimal(1000), mention="S0FIN0001")
    first = [invoice(1, "10.00"), invoice(2, "20.00"), invoice(3, "30.00")]
    second = [invoice(4, "4000.00"), invoice(5, "50.00")]
    [one, two], finish = poll(context(rules=(rule,)), first, second)
    assert one.seen == () and one.bursts == () and one.cursor == first[0].stamps.changed_at
    assert len(two.seen) == 5 and all(row.delivery is None for row in two.seen)
    [burst] = two.bursts
    assert (burst.digest.count, burst.digest.total) == (5, Decimal("4110.00"))
    assert "INV-1" in burst.digest.rows[0] and "INV-5" in burst.digest.rows[4]
    assert two.cursor == second[-1].stamps.changed_at  # nothing held any more
    [digest] = finish.messages
    assert digest.message.metadata["event_type"] == DIGEST_EVENT_TYPE
    assert digest.message.text.startswith("<!subteam^S0FIN0001> 5 new AP invoices in company ABC")
    assert "$4,110.00" in digest.message.text
    assert finish.bursts_done == ((AP, ChangeKind.NEW),) and finish.seen == ()


def test_a_change_burst_updates_only_the_newest_parents():
    before = [invoice(n) for n in range(1, 6)]
    after = [replace(i, source=APInvoiceSource.POSTED, balance=i.amount) for i in before]
    seen = seen_as_told(context(), before, [11, 15, 12, 14, 13])
    [batch], finish = poll(context(), after, seen=seen)
    assert {row.delivery for row in batch.seen} == {11, 12, 13, 14, 15}  # still updatable later
    assert kinds(finish) == [
        (DeliveryKind.POST, AP, None),
        (DeliveryKind.UPDATE, AP, 14),
        (DeliveryKind.UPDATE, AP, 15),
    ]
    digest = finish.messages[0].message
    assert digest.text.startswith("5 AP invoices posted in company ABC")
    assert "3 earlier messages about these were not updated" in str(digest.blocks)


def test_an_order_without_its_lines_yet_waits_and_holds_the_cursor():
    young = T0 + timedelta(minutes=59)
    order = purchase_order(lines=(), stamps=AuditStamps(young, "jsmith"))
    plan_context = context(RecordType.PURCHASE_ORDER)
    [batch], finish = poll(plan_context, [order])
    assert batch.counts.waiting == 1 and finish.messages == ()
    assert finish.cursor is not None and finish.cursor <= young


def line(n: int, register: str, debit: str, credit: str, at: datetime) -> GLPosting:
    return GLPosting(
        "ABC",
        f"{n:08d}",
        "400000000",
        "400-00-00",
        "Sales",
        at.date(),
        "GJ",
        register,
        f"{n:06d}",
        "",
        Decimal(debit),
        Decimal(credit),
        "",
        "G/L",
        AuditStamps(at, "jsmith"),
    )


def test_a_register_posts_once_it_balances_and_one_still_written_holds_the_cursor():
    settled = [line(1, "000001", "50.00", "0", T0), line(2, "000001", "0", "50.00", T0)]
    writing = [
        line(3, "000002", "10.00", "0", T0 + timedelta(minutes=1)),
        line(4, "000002", "0", "10.00", WINDOW.signpost + timedelta(seconds=5)),
    ]
    [batch], finish = poll(context(RecordType.GL_ENTRY), settled + writing)
    assert batch.counts.waiting == 2
    [post] = finish.messages
    assert post.record_key == "GJ-000001"
    assert finish.cursor == T0  # the settled register's lines, short of the one still written


def test_a_crashed_polls_burst_is_announced_from_its_stored_summary():
    [_, two], _ = poll(context(), [invoice(1), invoice(2), invoice(3)], [invoice(4)])
    [burst] = two.bursts
    stored = BurstSummary.from_json(AP, ChangeKind.NEW, burst.as_json())
    assert stored == burst
    plan = plan_leftovers(context(), [stored])
    [digest] = plan.messages
    assert digest.message.text.startswith("4 new AP invoices")
    assert plan.bursts_done == ((AP, ChangeKind.NEW),)
