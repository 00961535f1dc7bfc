"""The outbox API and the claim/lease rules, without Slack (the clock is passed in)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bolt_app.delivery.outbox import (
    DeliveryKind,
    DeliveryStatus,
    QueueCounts,
    enqueue,
    queue_counts,
    queue_depth,
)
from bolt_app.delivery.policy import Action, Decision
from bolt_app.delivery.store import (
    Claim,
    NotReady,
    active_channels,
    claim_next,
    drain_outcome,
    latest_deliveries,
    settle_claim,
)
from bolt_app.delivery.tables import deliveries
from bolt_app.delivery.transitions import settle
from bolt_app.storage.audit import list_audit_events
from tests.fixtures.database import sqlite_plan, statements_sent
from tests.fixtures.delivery import outbound, utc_now
from tests.fixtures.slack import AP_CHANNEL, PO_CHANNEL, TEAM_ID

LEASE = timedelta(seconds=30)
SECOND = timedelta(seconds=1)


async def claim(session_factory, channel, *, worker, now, ahead=timedelta(0)):
    async with session_factory() as session, session.begin():
        return await claim_next(
            session, TEAM_ID, channel, worker_id=worker, now=now, lease=LEASE, ahead=ahead
        )


async def finish(session_factory, claimed, decision, *, worker, now):
    async with session_factory() as session, session.begin():
        return await settle_claim(
            session,
            claimed,
            settle(decision, requested_at=now, answered_at=now, interval=SECOND),
            worker_id=worker,
            now=now,
            slack_ts="1.000100",
        )


def test_an_update_or_reply_needs_the_post_it_belongs_to():
    with pytest.raises(ValueError, match="parent_delivery_id"):
        outbound(AP_CHANNEL, "k", kind=DeliveryKind.UPDATE)
    with pytest.raises(ValueError, match="parent_delivery_id"):
        outbound(AP_CHANNEL, "k", parent=1)


async def test_enqueue_writes_in_the_callers_transaction(session_factory, workspace_row):
    async with session_factory() as session, session.begin():
        delivery_id = await enqueue(session, outbound(AP_CHANNEL, "inv-1"), now=utc_now())
        await session.rollback()
    async with session_factory() as session:
        assert (await queue_counts(session, TEAM_ID)) == QueueCounts(pending=0, dead=0)
        assert (
            await session.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id))
        ).first() is None


async def test_queue_counts_show_what_is_on_its_way_and_what_is_dead(session_factory, queue):
    first, second, _ = await queue(
        outbound(AP_CHANNEL, "a"), outbound(AP_CHANNEL, "b"), outbound(PO_CHANNEL, "c")
    )
    now = utc_now()
    claimed = await claim(session_factory, AP_CHANNEL, worker="w", now=now)
    await finish(
        session_factory, claimed, Decision(Action.DEAD, "is_archived"), worker="w", now=now
    )

    async with session_factory() as session:
        assert await queue_counts(session, TEAM_ID) == QueueCounts(pending=2, dead=1)
        assert await queue_counts(session, "T0THER") == QueueCounts(pending=0, dead=0)


async def test_one_message_per_channel_in_flight_and_the_channel_clock_is_kept(
    session_factory, queue
):
    first, second = await queue(outbound(AP_CHANNEL, "a"), outbound(AP_CHANNEL, "b"))
    now = utc_now()
    a = await claim(session_factory, AP_CHANNEL, worker="w1", now=now)
    assert isinstance(a, Claim) and a.id == first
    busy = await claim(session_factory, AP_CHANNEL, worker="w2", now=now)
    assert isinstance(busy, NotReady) and busy.retry_at is not None

    assert await finish(session_factory, a, Decision(Action.SENT), worker="w1", now=now)
    too_soon = await claim(session_factory, AP_CHANNEL, worker="w2", now=now + SECOND / 2)
    assert too_soon == NotReady(now + SECOND)
    ahead = await claim(
        session_factory, AP_CHANNEL, worker="w2", now=now + SECOND / 2, ahead=SECOND / 2
    )
    assert isinstance(ahead, Claim) and ahead.id == second and ahead.send_at == now + SECOND


async def test_an_expired_lease_is_taken_over_and_the_late_answer_is_not_kept(
    session_factory, queue
):
    (only,) = await queue(outbound(AP_CHANNEL, "a"))
    now = utc_now()
    crashed = await claim(session_factory, AP_CHANNEL, worker="w1", now=now)
    assert isinstance(
        await claim(session_factory, AP_CHANNEL, worker="w2", now=now + LEASE / 2), NotReady
    )

    later = now + LEASE + SECOND
    taken = await claim(session_factory, AP_CHANNEL, worker="w2", now=later)
    assert isinstance(taken, Claim) and taken.id == only and taken.attempts == 1
    assert not await finish(session_factory, crashed, Decision(Action.SENT), worker="w1", now=later)
    assert await finish(session_factory, taken, Decision(Action.SENT), worker="w2", now=later)

    async with session_factory() as session:
        row = (await session.execute(sa.select(deliveries))).mappings().one()
    assert (row["status"], row["slack_ts"], row["leased_by"]) == ("sent", "1.000100", None)
    async with session_factory() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert [(e.actor, e.details["outcome"]) for e in events] == [
        ("w2", "lease_expired"),
        ("w1", "sent (lease lost)"),
        ("w2", "sent"),
    ]


async def test_a_failed_head_holds_back_the_rest_of_its_channel_only(session_factory, queue):
    first, second, other = await queue(
        outbound(AP_CHANNEL, "a"), outbound(AP_CHANNEL, "b"), outbound(PO_CHANNEL, "c")
    )
    now = utc_now()
    a = await claim(session_factory, AP_CHANNEL, worker="w", now=now)
    retry = Decision(Action.RETRY, "internal_error", timedelta(seconds=10))
    await finish(session_factory, a, retry, worker="w", now=now)

    assert await claim(session_factory, AP_CHANNEL, worker="w", now=now + 2 * SECOND) == NotReady(
        now + timedelta(seconds=10)
    )
    c = await claim(session_factory, PO_CHANNEL, worker="w", now=now + 2 * SECOND)
    assert isinstance(c, Claim) and c.id == other
    again = await claim(session_factory, AP_CHANNEL, worker="w", now=now + timedelta(seconds=10))
    assert isinstance(again, Claim) and again.id == first and again.attempts == 1


async def test_the_idle_worker_the_gauges_and_status_never_read_the_sent_rows(
    engine, session_factory, queue
):
    """A month of sent messages must not slow the loops that run while nothing is queued: on
    SQLite, each of their queries looks rows up by status or in the index of unsent rows."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plans compared are SQLite's; PostgreSQL's depend on its statistics")
    [sent, _] = await queue(outbound(AP_CHANNEL, "a"), outbound(AP_CHANNEL, "b"))
    async with session_factory() as session, session.begin():
        await session.execute(
            sa.update(deliveries).where(deliveries.c.id == sent).values(status="sent")
        )
    with statements_sent(engine, "SELECT") as statements:
        async with session_factory() as session, session.begin():
            await active_channels(session)
            await queue_depth(session)
            await queue_counts(session, TEAM_ID)
            await drain_outcome(session, team_id=TEAM_ID, since=utc_now())
            await latest_deliveries(session, TEAM_ID, DeliveryStatus.DEAD, 10)
            await claim_next(
                session, TEAM_ID, AP_CHANNEL, worker_id="w", now=utc_now(), lease=LEASE
            )
    for statement, parameters in statements:
        for step in await sqlite_plan(engine, statement, parameters):
            if " deliveries" in step:
                assert "ix_deliveries_live" in step or "(status=?" in step, (statement, step)
