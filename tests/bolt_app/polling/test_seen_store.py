"""Seen versions are written in batches: one upsert statement per 1,000 rows, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.polling.store import (
    PollKey,
    SeenRecord,
    SeenUpdate,
    load_seen,
    remember_skipped,
    save_seen,
    skipped_rows_of,
)
from bolt_app.polling.tables import seen_records
from bolt_app.storage.tables import workspaces
from sage.records import RecordType, SkippedRecord

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = PollKey("T1", "ABC", RecordType.AP_INVOICE)


def updates(version: str, count: int) -> list[SeenUpdate]:
    return [
        SeenUpdate(f"K{n:05d}", "C1", SeenRecord(version, {"record": {"n": n}}, n or None))
        for n in range(count)
    ]


async def test_twenty_five_hundred_seen_rows_take_three_statements_and_keep_first_seen(engine):
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(workspaces).values(team_id="T1", created_at=NOW, updated_at=NOW)
        )
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SEEN_RECORDS"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with sessions.begin() as session:
            await save_seen(session, KEY, updates("v1", 2500), now=NOW)
        later = NOW + timedelta(hours=1)
        async with sessions.begin() as session:
            await save_seen(session, KEY, updates("v2", 2500)[:1500], now=later)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 3 + 2

    async with sessions() as session:
        seen = await load_seen(session, KEY, [u.record_key for u in updates("", 2500)])
        first_seen = dict(
            (await session.execute(sa.select(seen_records.c.record_key, seen_records.c.first_seen_at))).all()
        )  # fmt: skip
    assert len(seen) == 2500
    assert seen[("K00007", "C1")] == SeenRecord("v2", {"record": {"n": 7}}, 7)
    assert seen[("K02000", "C1")].version == "v1"
    assert first_seen["K00007"] == NOW


async def test_a_row_listed_earlier_in_the_poll_or_before_it_goes_once_it_reads_cleanly(engine):
    """A poll's later batches know what is listed without reading it again: a key a batch
    skipped, or one an earlier poll listed, is dropped by whichever batch reads it cleanly."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(workspaces).values(team_id="T1", created_at=NOW, updated_at=NOW)
        )
        await remember_skipped(
            session, KEY, [SkippedRecord("OLD", "InvoiceAmt is not a string")], [], now=NOW
        )
    batches = [
        ([SkippedRecord("K1", "RecordKey is 300 characters"), SkippedRecord(None, "no key")], []),
        ([SkippedRecord(None, "not an object")], ["K1"]),
        ([], ["OLD"]),
    ]
    so_far = None
    for skipped, read in batches:
        async with sessions.begin() as session:
            so_far = await remember_skipped(session, KEY, skipped, read, now=NOW, before=so_far)
    async with sessions() as session:
        listed = await skipped_rows_of(session, "T1")
    assert [(row.record_key, row.reason) for row in listed["ABC", "ap_invoice"]] == [
        ("", "2 rows, first: no key")
    ]
