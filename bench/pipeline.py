"""Parse + detect + format + queue throughput on 100,000 simulated agent rows, and peak memory.

The rows are what the simulated agent serves (its record factory), JSON-encoded in pages as
on the wire. Each stage runs the product's own code, in the order one poll runs it:

    parse   json.loads of each page + sage.resources parse_row -> typed records
    detect  the version hash of the shown fields, compared with a seen-version map
            (GL lines grouped into registers and merged first)
    format  the Block Kit message of every new record (no digest: the worst case)
    queue   enqueue_many() of every message into a SQLite outbox, one multi-row INSERT and one
            transaction per 1,000

A second pass of parse, detect and format runs under tracemalloc for the peak (tracemalloc slows
Python down, so the timed pass runs without it; the queue stage streams to SQLite and is left
out of the memory figure).
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue_many
from bolt_app.polling.messages import record_message
from bolt_app.polling.registers import merge_register, register_key, split_registers
from bolt_app.polling.tracking import classify, version_of
from bolt_app.polling.window import PollWindow
from bolt_app.records.registry import DESCRIPTIONS
from bolt_app.storage.engine import create_engine, upgrade_database
from sage.records import GLPosting, RecordType
from sage.resources import by_record_type
from sage.simulator.data import SimulatorData
from sage.simulator.formats import Resource

ZONE = ZoneInfo("America/Chicago")
COMPANY = "ABC"
MIX = {  # records per resource, 100,000 in all
    Resource.AP_INVOICES: 40_000,
    Resource.PURCHASE_ORDERS: 30_000,
    Resource.GL_POSTINGS: 20_000,
    Resource.GL_ACCOUNTS: 10_000,
}
RECORD_TYPE = {
    Resource.AP_INVOICES: RecordType.AP_INVOICE,
    Resource.PURCHASE_ORDERS: RecordType.PURCHASE_ORDER,
    Resource.GL_POSTINGS: RecordType.GL_ENTRY,
    Resource.GL_ACCOUNTS: RecordType.GL_ACCOUNT,
}
PAGE = 200
QUEUE_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class PipelineFigures:
    records: int
    messages: int
    seconds: dict[str, float]  # per stage
    peak_bytes: int

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def records_per_second(self) -> float:
        return self.records / self.total_seconds


def simulated_pages(now: datetime) -> dict[Resource, list[str]]:
    data = SimulatorData([COMPANY], rng=random.Random(42), timezone=ZONE)
    pages: dict[Resource, list[str]] = {}
    for resource, count in MIX.items():
        rows = data.add_many(COMPANY, resource, count, start=now - timedelta(days=1))
        pages[resource] = [
            json.dumps({"records": rows[i : i + PAGE]}) for i in range(0, len(rows), PAGE)
        ]
    return pages


def parse(pages: dict[Resource, list[str]]) -> dict[RecordType, list]:
    records: dict[RecordType, list] = {}
    for resource, texts in pages.items():
        record_type = RECORD_TYPE[resource]
        parser = by_record_type(record_type)
        out = records.setdefault(record_type, [])
        for text in texts:
            for row in json.loads(text)["records"]:
                out.append(parser.parse_row(row, COMPANY, ZONE))
    return records


def detect(records: dict[RecordType, list], now: datetime) -> list:
    """Every record that is news (all are, against an empty seen map)."""
    seen: dict[str, str] = {}
    news: list = []

    def judge(key: str, version: str, record: object) -> None:
        if classify(version, seen.get(key)).value != "unchanged":
            news.append(record)
        seen[key] = version

    for description in DESCRIPTIONS:
        if description.tracked_key is None or description.tracked_fields is None:
            continue  # registers are judged from their lines below
        for record in records[description.record_type]:
            fields = description.tracked_fields(record)
            judge(description.tracked_key(record), version_of(fields), record)
    lines = [line for line in records[RecordType.GL_ENTRY] if isinstance(line, GLPosting)]
    window = PollWindow(since=None, signpost=now + timedelta(days=1), baseline=False)
    for key, group in split_registers(lines, window).settled:
        state = merge_register(COMPANY, key, None, group, ZONE)
        judge(register_key(key), state.version, state.register)
    return news


def format_messages(news: list) -> list:
    return [record_message(record) for record in news]


async def queue(messages: list, database_url: str, now: datetime) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        for start in range(0, len(messages), QUEUE_BATCH):
            batch = [
                OutboundMessage(
                    team_id="T0BENCH001",
                    channel_id="C0BENCH001",
                    kind=DeliveryKind.POST,
                    message=message,
                    company=COMPANY,
                    record_type=RecordType.AP_INVOICE,
                    record_key=str(start + index),
                )
                for index, message in enumerate(messages[start : start + QUEUE_BATCH])
            ]
            async with sessions.begin() as session:
                await enqueue_many(session, batch, now=now)
    finally:
        await engine.dispose()


def _timed(seconds: dict[str, float], stage: str, work, *args):
    started = time.perf_counter()
    result = work(*args)
    seconds[stage] = time.perf_counter() - started
    return result


def run() -> PipelineFigures:
    now = datetime.now(UTC)
    pages = simulated_pages(now)
    seconds: dict[str, float] = {}
    records = _timed(seconds, "parse", parse, pages)
    news = _timed(seconds, "detect", detect, records, now)
    messages = _timed(seconds, "format", format_messages, news)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'outbox.db'}"
        _timed(seconds, "queue", asyncio.run, queue(messages, url, now))
    count, message_count = sum(len(v) for v in records.values()), len(messages)
    del records, news, messages
    tracemalloc.start()
    try:
        format_messages(detect(parse(pages), now))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return PipelineFigures(count, message_count, seconds, peak)


def section(figures: PipelineFigures) -> str:
    rows = [
        f"| {stage} | {seconds:.1f} s | {figures.records / seconds:,.0f} records/s |"
        for stage, seconds in figures.seconds.items()
        if stage != "queue"
    ]
    queue_seconds = figures.seconds["queue"]
    rows.append(
        f"| queue | {queue_seconds:.1f} s | {figures.messages / queue_seconds:,.0f} messages/s "
        "(multi-row INSERTs of 1,000) |"
    )
    return "\n".join(
        [
            "## Parse, detect, format, queue: 100,000 records",
            "",
            f"{figures.records:,} rows from the simulated agent's record factory "
            f"({', '.join(f'{count:,} {resource}' for resource, count in MIX.items())}), "
            f"JSON pages of {PAGE}, through the product's parser, change detection, Block Kit "
            f"builders and outbox (SQLite, {QUEUE_BATCH:,} per transaction): "
            f"{figures.messages:,} messages (GL lines become one message per register; no "
            "digests, the worst case). `bench/pipeline.py`.",
            "",
            "| stage | time | throughput |",
            "| --- | --- | --- |",
            *rows,
            f"| **all** | **{figures.total_seconds:.1f} s** | "
            f"**{figures.records_per_second:,.0f} records/s** |",
            "",
            "Peak traced Python memory (tracemalloc, a second pass of parse, detect and format "
            "over the same rows): "
            f"{figures.peak_bytes / 2**20:,.0f} MiB. Every stage holds all 100,000 records at "
            "once here, as one poll does with the records of its window.",
        ]
    )
