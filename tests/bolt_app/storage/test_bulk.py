"""Many rows upserted through the driver store what SQLAlchemy's own statements store; JSON
columns keep every value the json module takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.polling.tables import poll_bursts
from bolt_app.storage.bulk import CHUNK_ROWS, upsert_many
from bolt_app.storage.tables import workspaces

NOW = datetime(2026, 12, 1, 6, 30, 15, 250_000, tzinfo=ZoneInfo("America/Chicago"))
KEY = {"team_id": "T1", "company": "ABC", "record_type": "ap_invoice"}
SUMMARY = {"count": 3, "total": "1204330.10", "first": ["Café Ñ", None, True]}


async def _sessions(engine):
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(workspaces).values(team_id="T1", created_at=NOW, updated_at=NOW)
        )
    return sessions


async def _bursts(session) -> dict[str, tuple]:
    rows = await session.execute(
        sa.select(poll_bursts.c.channel_id, poll_bursts.c.summary, poll_bursts.c.updated_at)
    )
    return {channel: (summary, updated_at) for channel, summary, updated_at in rows}


async def test_rows_read_back_as_sqlalchemys_own_insert_writes_them(engine):
    sessions = await _sessions(engine)
    async with sessions.begin() as session:
        await session.execute(
            sa.insert(poll_bursts).values(
                **KEY, channel_id="C_OWN", kind="new", summary=SUMMARY, updated_at=NOW
            )
        )
        await upsert_many(
            session,
            poll_bursts,
            {**KEY, "kind": "new", "updated_at": NOW},
            [{"channel_id": "C_BULK", "summary": SUMMARY}],
            updated=("summary", "updated_at"),
        )
    async with sessions() as session:
        stored = await _bursts(session)
    assert stored["C_BULK"] == stored["C_OWN"] == (SUMMARY, NOW.astimezone(UTC))


async def test_a_conflict_updates_only_the_named_columns_across_chunks(engine):
    sessions = await _sessions(engine)
    count = CHUNK_ROWS * 2 + 500
    later = NOW + timedelta(hours=1)
    for summary, when, updated in (
        ({"n": 1}, NOW, ("summary", "updated_at")),
        ({"n": 2}, later, ("summary",)),
    ):
        async with sessions.begin() as session:
            await upsert_many(
                session,
                poll_bursts,
                {**KEY, "kind": "new", "updated_at": when},
                ({"channel_id": f"C{n:05d}", "summary": summary} for n in range(count)),
                updated=updated,
            )
    async with sessions() as session:
        stored = await _bursts(session)
    assert len(stored) == count
    assert stored["C02499"] == ({"n": 2}, NOW.astimezone(UTC))


async def test_a_column_left_out_is_refused_before_anything_is_written(engine):
    sessions = await _sessions(engine)
    async with sessions.begin() as session:
        with pytest.raises(ValueError, match="names each of its columns once"):
            await upsert_many(
                session,
                poll_bursts,
                {**KEY, "kind": "new"},
                [{"channel_id": "C1", "summary": {}}],
                updated=("summary",),
            )
        assert await _bursts(session) == {}


async def test_json_columns_keep_what_the_fast_encoder_refuses(engine):
    """orjson takes no integer past 64 bits: such a value is still stored, as the json
    module writes it."""
    sessions = await _sessions(engine)
    summaries = {"C_BIG": {"count": 10**30, "first": ["Café"]}, "C_PLAIN": SUMMARY}
    async with sessions.begin() as session:
        await upsert_many(
            session,
            poll_bursts,
            {**KEY, "kind": "new", "updated_at": NOW},
            [{"channel_id": channel, "summary": summary} for channel, summary in summaries.items()],
            updated=("summary",),
        )
    async with sessions() as session:
        stored = await _bursts(session)
    assert {channel: summary for channel, (summary, _) in stored.items()} == summaries
