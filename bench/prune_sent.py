"""The daily prune of sent messages once a big history has passed the audit retention.

N posts (one record each, `CHANNELS` channels) were sent 120 days ago; a newer post replaced
every second one, and every fourth has a sent update under it, all past the 90-day
retention. `Housekeeping.run_once` (its first run prunes) deletes the updates and the
replaced posts and keeps each record's newest post. Timed: its wall time, and the longest
transaction it held (on SQLite, how long every other writer, a poll or a delivery, waits
for the write lock meanwhile). SQLite by default; PostgreSQL with `--postgres URL`.

    python -m bench.prune_sent [--sent 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.rig import scratch_postgres
from bench.worker_idle import seed_sent
from bolt_app.delivery.tables import deliveries
from bolt_app.runtime.housekeeping import Housekeeping
from bolt_app.storage.engine import create_engine, upgrade_database

SENT = 100_000
RETENTION = timedelta(days=90)
AGE = timedelta(days=120)
_COPIED = (
    "team_id, channel_id, status, payload, company, record_type, record_key, attempts, "
    "next_attempt_at, slack_ts, created_at, updated_at, sent_at"
)


@dataclass(frozen=True, slots=True)
class PruneFigures:
    database: str
    rows: int
    deleted: int
    seconds: float
    transactions: int
    longest_transaction: float


async def _history(engine, posts: int, now: datetime) -> int:
    """The posts, their updates and the newer posts that replace half of them; rows made."""
    await seed_sent(engine, posts, now, age=AGE)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            f"INSERT INTO deliveries (kind, parent_delivery_id, {_COPIED}) "
            f"SELECT 'update', id, {_COPIED} FROM deliveries WHERE id % 4 = 0"
        )
        await connection.exec_driver_sql(
            f"INSERT INTO deliveries (kind, {_COPIED}) "
            f"SELECT 'post', {_COPIED} FROM deliveries WHERE kind = 'post' AND id % 2 = 0"
        )
        return await connection.scalar(sa.select(sa.func.count()).select_from(deliveries))


async def measure(database_url: str, posts: int) -> PruneFigures:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        await upgrade_database(engine)
        rows = await _history(engine, posts, now)
        spans: list[float] = []
        began: dict[int, float] = {}

        def begin(connection) -> None:
            began[id(connection)] = time.perf_counter()

        def end(connection) -> None:
            if (start := began.pop(id(connection), None)) is not None:
                spans.append(time.perf_counter() - start)

        event.listen(engine.sync_engine, "begin", begin)
        event.listen(engine.sync_engine, "commit", end)
        housekeeping = Housekeeping(
            async_sessionmaker(engine), clock=lambda: now, metrics=None, audit_retention=RETENTION
        )
        started = time.perf_counter()
        await housekeeping.run_once()
        seconds = time.perf_counter() - started
        event.remove(engine.sync_engine, "begin", begin)
        event.remove(engine.sync_engine, "commit", end)
        async with engine.connect() as connection:
            left = await connection.scalar(sa.select(sa.func.count()).select_from(deliveries))
    finally:
        await engine.dispose()
    expected = posts // 4 + posts // 2
    if rows - left != expected:
        raise RuntimeError(f"the prune deleted {rows - left} rows, not {expected}")
    return PruneFigures(
        engine.dialect.name, rows, rows - left, seconds, len(spans), max(spans, default=0)
    )


async def _run(posts: int, postgres: str | None) -> PruneFigures:
    if postgres is not None:
        async with scratch_postgres(postgres) as url:
            return await measure(url, posts)
    with tempfile.TemporaryDirectory() as directory:
        return await measure(f"sqlite:///{Path(directory) / 'bench.db'}", posts)


def run(posts: int = SENT, postgres: str | None = None) -> PruneFigures:
    return asyncio.run(_run(posts, postgres))


def section(figures: PruneFigures) -> str:
    return "\n".join(
        [
            "## The daily prune of sent messages past the retention",
            "",
            "`python -m bench.prune_sent [--sent N] [--postgres URL]`: a history of sent posts "
            "(one record each), a newer post replacing every second one and a sent update under "
            "every fourth, all 120 days old; the first `Housekeeping.run_once` with a 90-day "
            "retention deletes the updates and the replaced posts. The longest transaction is "
            "how long, on SQLite, every other writer waits for the write lock meanwhile.",
            "",
            "| database | rows | deleted | wall | transactions | longest transaction |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| {figures.database} | {figures.rows:,} | {figures.deleted:,} "
            f"| {figures.seconds:.2f} s | {figures.transactions:,} "
            f"| {figures.longest_transaction * 1000:.0f} ms |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prune_sent")
    parser.add_argument("--sent", type=int, default=SENT, help="posts sent 120 days ago")
    parser.add_argument("--postgres", help="an admin URL; a scratch database is made on it")
    args = parser.parse_args(argv)
    print(section(run(args.sent, args.postgres)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
