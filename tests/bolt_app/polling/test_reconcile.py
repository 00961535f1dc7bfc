"""Reconciling against the agent's `keys` listing: silent imports, deletes, postings, 1.0 agents."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bolt_app.polling.reconcile import ReconcileService
from bolt_app.polling.store import PollKey
from bolt_app.storage.audit import list_audit_events
from sage.client import AgentClient, AgentHealth
from sage.records import RecordType
from tests.bolt_app.polling.test_pipeline import baseline, records_in, rendered
from tests.fixtures.slack import AP_CHANNEL, PO_CHANNEL, TEAM_ID


@pytest.fixture
def keyed(polling):
    """The polling harness; its simulator is the project's agent, API 1.1 with `keys`."""
    return polling


class OldAgentClient(AgentClient):
    """What a 1.0 agent's health says: no api_version, no capabilities."""

    async def health(self) -> AgentHealth:
        health = await super().health()
        return replace(health, api_version="1.0", capabilities=frozenset())


def reconciler(harness, page_size: int = 1000, **seams) -> ReconcileService:
    return ReconcileService(
        harness.sessions,
        box=harness.box,
        polls=harness.service(),
        now=harness.clock,
        owner="test-reconcile",
        page_size=page_size,
        **seams,
    )


async def reconcile(harness, record_type: RecordType, *, page_size: int = 1000):
    outcome = await reconciler(harness, page_size).reconcile(PollKey(TEAM_ID, "ABC", record_type))
    assert outcome.error is None, outcome.error
    report = await harness.worker.drain(team_id=TEAM_ID)
    assert report.ok, report
    return outcome


async def posted_order(harness):
    """A purchase order the channel was told about, after a first reconcile pass."""
    await baseline(harness, RecordType.PURCHASE_ORDER)
    order = harness.data.add_purchase_order("ABC", harness.clock(), OrderStatus="N")
    harness.clock.advance(minutes=1)
    assert (await harness.poll(RecordType.PURCHASE_ORDER)).new == 1
    first = await reconcile(harness, RecordType.PURCHASE_ORDER, page_size=7)
    assert first.first and first.changed == first.gone == 0
    return order


async def test_a_silent_import_is_announced_once_in_place_with_one_reply(keyed):
    order = await posted_order(keyed)
    key = str(order["RecordKey"])
    keyed.clock.advance(hours=1)  # a later order moves the cursor past the lookback
    keyed.data.add_purchase_order("ABC", keyed.clock())
    keyed.clock.advance(minutes=1)
    assert (await keyed.poll(RecordType.PURCHASE_ORDER)).new == 1
    keyed.data.update("ABC", "purchase-orders", key, {"OrderStatus": "O"}, at=None)  # VI import
    keyed.clock.advance(minutes=15)
    assert (await keyed.poll(RecordType.PURCHASE_ORDER)).changed == 0  # the stamp did not move

    outcome = await reconcile(keyed, RecordType.PURCHASE_ORDER, page_size=7)
    assert (outcome.changed, outcome.gone) == (1, 0)
    original = next(m for m in records_in(keyed, PO_CHANNEL) if key in rendered(m))
    assert original.edits == 1 and "Open" in rendered(original)
    [reply] = keyed.slack.thread_replies(PO_CHANNEL, original.ts)
    assert "Open" in reply.text

    again = await reconcile(keyed, RecordType.PURCHASE_ORDER, page_size=7)
    keyed.clock.advance(minutes=15)
    assert (await keyed.poll(RecordType.PURCHASE_ORDER)).changed == 0
    assert again.changed == 0
    assert len(keyed.slack.thread_replies(PO_CHANNEL, original.ts)) == 1


async def test_a_deleted_record_is_marked_no_longer_in_sage_once(keyed):
    order = await posted_order(keyed)
    keyed.data.remove("ABC", "purchase-orders", str(order["RecordKey"]))

    outcome = await reconcile(keyed, RecordType.PURCHASE_ORDER, page_size=7)
    assert (outcome.changed, outcome.gone) == (0, 1)
    [original] = records_in(keyed, PO_CHANNEL)
    assert original.edits == 1 and "No longer in Sage 100" in rendered(original)
    assert str(order["PurchaseOrderNo"]) in rendered(original)  # still says which order
    [reply] = keyed.slack.thread_replies(PO_CHANNEL, original.ts)
    assert "No longer in Sage 100" in reply.text

    assert (await reconcile(keyed, RecordType.PURCHASE_ORDER)).gone == 0
    assert len(keyed.slack.thread_replies(PO_CHANNEL, original.ts)) == 1
    async with keyed.sessions() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert any("1 no longer in Sage 100" in event.summary for event in events)


async def test_an_entered_invoice_posted_is_a_posting_not_a_delete(keyed):
    await baseline(keyed, RecordType.AP_INVOICE)
    invoice = keyed.data.add_ap_invoice("ABC", keyed.clock(), HoldPayment="N")
    keyed.clock.advance(minutes=1)
    assert (await keyed.poll(RecordType.AP_INVOICE)).new == 1
    assert (await reconcile(keyed, RecordType.AP_INVOICE)).first

    keyed.data.post_invoice("ABC", str(invoice["RecordKey"]), keyed.clock())
    outcome = await reconcile(keyed, RecordType.AP_INVOICE)  # before the poller sees it
    assert (outcome.changed, outcome.gone, outcome.posted) == (1, 0, 1)
    [original] = records_in(keyed, AP_CHANNEL)
    assert "Posted" in rendered(original) and "No longer" not in rendered(original)
    [reply] = keyed.slack.thread_replies(AP_CHANNEL, original.ts)
    assert "Posted" in reply.text

    keyed.clock.advance(minutes=15)
    assert (await keyed.poll(RecordType.AP_INVOICE)).changed == 0  # announced once
    assert (await reconcile(keyed, RecordType.AP_INVOICE)).gone == 0


async def test_an_invoice_deleted_before_posting_is_marked_gone(keyed):
    await baseline(keyed, RecordType.AP_INVOICE)
    invoice = keyed.data.add_ap_invoice("ABC", keyed.clock())
    keyed.clock.advance(minutes=1)
    await keyed.poll(RecordType.AP_INVOICE)
    await reconcile(keyed, RecordType.AP_INVOICE)
    keyed.data.remove("ABC", "ap-invoices", str(invoice["RecordKey"]))
    assert (await reconcile(keyed, RecordType.AP_INVOICE)).gone == 1
    [original] = records_in(keyed, AP_CHANNEL)
    assert "No longer in Sage 100" in rendered(original)


async def test_a_1_0_agent_leaves_reconcile_off_and_says_why(polling):
    old = reconciler(polling, agent_client_for=OldAgentClient)
    outcome = await old.reconcile(PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE))
    assert outcome.error is None and outcome.off is not None
    assert "no keys listing" in outcome.off and "API 1.0" in outcome.off
    assert outcome.off.endswith(".") and ". " not in outcome.off  # one sentence
    assert polling.messages(AP_CHANNEL) == []
