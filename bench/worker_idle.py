"""What the delivery worker and housekeeping cost while nothing is queued, with 0 and 1,000,000
sent messages kept (a month of a busy workspace, all within the audit retention).

The real `DeliveryWorker.run` loop (one look for channels with work every 500 ms) runs for a
few seconds; its CPU time (the process's, the database driver's thread included) is divided by
the statements it sent, one per iteration when idle. `Housekeeping.run_once` (the /metrics
gauges, expired OAuth states) is timed alone, its first run (which also prunes, as a process's
first run does) apart. SQLite by default; PostgreSQL with `--postgres URL`, an admin URL on
which a scratch database is made (its server's CPU is not counted, the wall time shows it).

    python -m bench.worker_idle [--sent 0,1000000] [--seconds 10] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.rig import scratch_postgres
from bolt_app.crypto import SecretBox, generate_key
from bolt_app.delivery.slack import client_factory
from bolt_app.delivery.tables import deliveries
from bolt_app.metrics import Metrics
from bolt_app.runtime.pipeline import build_pipeline
from bolt_app.storage.engine import create_engine, upgrade_database
from sage.records import RecordType

TEAM = "T0BENCH001"
CHANNELS = 20
SEEDED_OVER = timedelta(days=30)
HOUSEKEEPING_RUNS = 10


@dataclass(frozen=True, slots=True)
class IdleFigures:
    database: str
    sent: int
    iterations: int
    worker_cpu_ms: float  # per idle iteration
    worker_busy_ms: float  # wall per iteration beyond the 500 ms wait
    first_housekeeping_ms: float  # wall, with the daily prune
    housekeeping_cpu_ms: float  # median of the later runs
    housekeeping_ms: float  # wall, median of the later runs


async def seed_sent(
    engine: AsyncEngine, count: int, now: datetime, *, age: timedelta = SEEDED_OVER
) -> None:
    """`count` posts sent `age` ago to `CHANNELS` channels, one record each, in one INSERT ...
    SELECT over a counting CTE (the database makes the rows, not Python)."""
    if not count:
        return
    numbers = sa.select(sa.literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.n + 1).where(numbers.c.n < count))
    n = numbers.c.n

    def moment(offset: timedelta) -> sa.ColumnElement[datetime]:
        return sa.literal(now - offset, deliveries.c.sent_at.type)

    channel = sa.literal("C0IDLE") + sa.cast(n % CHANNELS, sa.String)
    rows = sa.select(
        sa.literal(TEAM).label("team_id"),
        channel.label("channel_id"),
        sa.literal("post").label("kind"),
        sa.literal("sent").label("status"),
        sa.literal({"text": "an invoice"}, deliveries.c.payload.type).label("payload"),
        sa.literal("ABC").label("company"),
        sa.literal(RecordType.AP_INVOICE.value).label("record_type"),
        sa.cast(n, sa.String).label("record_key"),
        sa.literal(0).label("attempts"),
        moment(age).label("next_attempt_at"),
        sa.literal("1700000000.000100").label("slack_ts"),
        moment(age).label("created_at"),
        moment(age).label("updated_at"),
        moment(age).label("sent_at"),
    ).select_from(numbers)
    columns = [column.name for column in rows.selected_columns]
    async with engine.begin() as connection:
        await connection.execute(sa.insert(deliveries).from_select(columns, rows))


async def measure(database_url: str, sent: int, seconds: float) -> IdleFigures:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        await upgrade_database(engine)
        await seed_sent(engine, sent, now)
        sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def no_token(team_id: str) -> str:
            raise AssertionError("an idle worker sends nothing")

        pipeline = build_pipeline(
            sessions,
            SecretBox([generate_key()]),
            client_factory(base_url="http://127.0.0.1:9/api/", token_for_team=no_token),
            worker_id="bench",
            metrics=Metrics(),
        )
        statements = 0

        def count(*args: object) -> None:
            nonlocal statements
            statements += 1

        started = time.perf_counter()
        await pipeline.housekeeping.run_once()
        first_housekeeping = time.perf_counter() - started
        walls, cpus = [], []
        for _ in range(HOUSEKEEPING_RUNS):
            wall, cpu = time.perf_counter(), time.process_time()
            await pipeline.housekeeping.run_once()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        stop = asyncio.Event()
        wall, cpu = time.perf_counter(), time.process_time()
        running = asyncio.create_task(pipeline.worker.run(stop))
        await asyncio.sleep(seconds)
        stop.set()
        await running
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    finally:
        await engine.dispose()
    iterations = max(statements, 1)
    return IdleFigures(
        database=engine.dialect.name,
        sent=sent,
        iterations=statements,
        worker_cpu_ms=cpu / iterations * 1000,
        worker_busy_ms=max(wall / iterations - 0.5, 0) * 1000,
        first_housekeeping_ms=first_housekeeping * 1000,
        housekeeping_cpu_ms=statistics.median(cpus) * 1000,
        housekeeping_ms=statistics.median(walls) * 1000,
    )


async def _run(sent: list[int], seconds: float, postgres: str | None) -> list[IdleFigures]:
    figures = []
    for count in sent:
        if postgres is None:
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{Path(directory) / 'bench.db'}"
                figures.append(await measure(url, count, seconds))
        else:
            async with scratch_postgres(postgres) as url:
                figures.append(await measure(url, count, seconds))
    return figures


def report(figures: list[IdleFigures]) -> str:
    lines = [
        f"worker_idle: {figures[0].database}, nothing queued, sent messages kept as listed",
        "| sent kept | worker CPU per iteration | worker wall beyond the wait | "
        "housekeeping CPU | housekeeping wall | first housekeeping (prunes) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {f.sent:,} | {f.worker_cpu_ms:.1f} ms ({f.iterations} iterations) | "
        f"{f.worker_busy_ms:.1f} ms | {f.housekeeping_cpu_ms:.1f} ms | "
        f"{f.housekeeping_ms:.1f} ms | {f.first_housekeeping_ms:.0f} ms |"
        for f in figures
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.worker_idle")
    parser.add_argument("--sent", default="0,1000000", help="comma-separated counts of sent rows")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the worker idles")
    parser.add_argument("--postgres", help="an admin URL; a scratch database is made on it")
    args = parser.parse_args(argv)
    sent = [int(count) for count in args.sent.split(",")]
    print(report(asyncio.run(_run(sent, args.seconds, args.postgres))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
