"""Housekeeping keeps the tables that every visitor or message adds to from growing forever."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bolt_app.delivery.outbox import DeliveryKind, enqueue
from bolt_app.delivery.store import PRUNE_SPAN, prune_sent_deliveries
from bolt_app.delivery.tables import deliveries
from bolt_app.runtime.housekeeping import Housekeeping
from bolt_app.storage.tables import slack_oauth_states
from tests.fixtures.database import sqlite_plan, statements_sent
from tests.fixtures.delivery import outbound, utc_now
from tests.fixtures.slack import AP_CHANNEL

RETENTION = timedelta(days=90)


def housekeeping(sessions, *, later: timedelta, span: int = PRUNE_SPAN) -> Housekeeping:
    return Housekeeping(
        sessions,
        clock=lambda: utc_now() + later,
        metrics=None,
        audit_retention=RETENTION,
        prune_span=span,
    )


async def oauth_states(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(sa.select(sa.func.count()).select_from(slack_oauth_states))


async def test_oauth_states_of_unfinished_installs_expire_after_slacks_ten_minutes(
    slack_app_server,
):
    for _ in range(3):  # anyone may open the install page; each visit stores a state
        page = await slack_app_server.http.get(f"{slack_app_server.url}/slack/install")
        assert page.status_code == 200
    sessions = slack_app_server.sessions
    assert await oauth_states(sessions) == 3

    await housekeeping(sessions, later=timedelta(minutes=9)).run_once()
    assert await oauth_states(sessions) == 3  # still inside Slack's window: an install may finish
    await housekeeping(sessions, later=timedelta(minutes=11)).run_once()
    assert await oauth_states(sessions) == 0

    # An install begun now still completes.
    assert (await slack_app_server.install(code="code-after")).status_code == 302


@pytest.mark.parametrize("span", [1, 3, PRUNE_SPAN])  # ids a prune transaction looks at
async def test_sent_messages_past_the_retention_go_unless_a_record_can_still_change_them(
    slack_standin, make_worker, queue, session_factory, span
):
    async def add(*messages):
        ids = await queue(*messages)
        await make_worker().drain()
        return ids

    (kept_post,) = await add(outbound(AP_CHANNEL, "K1"))
    update, reply = await add(
        outbound(AP_CHANNEL, "K1", kind=DeliveryKind.UPDATE, parent=kept_post),
        outbound(AP_CHANNEL, "K1", kind=DeliveryKind.REPLY, parent=kept_post),
    )
    (replaced,) = await add(outbound(AP_CHANNEL, "K2"))
    (newest,) = await add(outbound(AP_CHANNEL, "K2"))
    (waited_on,) = await add(outbound(AP_CHANNEL, "K3"))
    await add(outbound(AP_CHANNEL, "K3"))
    async with session_factory.begin() as session:  # queued, not sent yet
        waiting = await enqueue(
            session,
            outbound(AP_CHANNEL, "K3", kind=DeliveryKind.REPLY, parent=waited_on),
            now=utc_now(),
        )

    await housekeeping(session_factory, later=timedelta(days=89), span=span).run_once()
    async with session_factory() as session:
        assert len((await session.execute(sa.select(deliveries.c.id))).all()) == 8

    await housekeeping(session_factory, later=timedelta(days=91), span=span).run_once()
    async with session_factory() as session:
        left = set((await session.execute(sa.select(deliveries.c.id))).scalars())
    assert {update, reply, replaced}.isdisjoint(left)
    assert {kept_post, newest, waited_on, waiting} <= left


async def test_a_prune_stops_between_spans_once_the_process_is_stopping(
    slack_standin, make_worker, queue, session_factory
):
    first = await queue(outbound(AP_CHANNEL, "K1"))
    await queue(outbound(AP_CHANNEL, "K1"), outbound(AP_CHANNEL, "K1"))
    await make_worker().drain()
    stopping = asyncio.Event()
    stopping.set()

    await housekeeping(session_factory, later=timedelta(days=91), span=1).run_once(stopping)
    async with session_factory() as session:
        assert len((await session.execute(sa.select(deliveries.c.id))).all()) == 3

    await housekeeping(session_factory, later=timedelta(days=91), span=1).run_once()
    async with session_factory() as session:
        left = list((await session.execute(sa.select(deliveries.c.id))).scalars())
    assert len(left) == 1 and left[0] not in first  # only the record's newest post is kept


async def test_each_span_of_the_prune_reads_only_its_own_ids(engine, session_factory):
    """A prune's work must not grow with the table: on SQLite, each span's statement reads its
    ids off the primary key and looks every other row up by an index (a scan, or a sort of
    every sent row, per span made a million-row prune take hours)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plans compared are SQLite's; PostgreSQL's depend on its statistics")
    with statements_sent(engine, "DELETE") as statements:
        async with session_factory.begin() as session:
            await prune_sent_deliveries(session, before=utc_now(), ids=range(1, 1001))
    [(statement, parameters)] = statements
    steps = await sqlite_plan(engine, statement, parameters)
    assert any("PRIMARY KEY (rowid>? AND rowid<?)" in step for step in steps), steps
    for step in steps:
        assert not step.startswith("SCAN") and "TEMP B-TREE" not in step, steps
