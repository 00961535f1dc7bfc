"""The cost of one poll cycle with nothing new: every resource of one company, read over mTLS
from the simulated agent (seeded with a month of history), compared, nothing queued.

Measured after the first (baseline) poll, on the real clock: what a quiet hour costs, times
the number of polls in it. Measured again with `seen` records remembered for the company's AP
invoices (inserted directly, in one statement): an idle poll must not cost more for them.

    python -m bench.idle_poll [--seen 1000,1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.rig import CHANNEL, COMPANY, TEAM, Rig, rig
from bolt_app.polling.tables import seen_records
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType

CYCLES = 30
SEEN = (1_000, 1_000_000)


@dataclass(frozen=True, slots=True)
class IdlePollFigures:
    seen: int
    cycles: int
    resources: int
    median_ms: float
    p95_ms: float
    per_resource_ms: float


async def seed_seen(bench: Rig, count: int) -> None:
    """`count` AP invoices the channel was told about, none of which the agent lists now."""
    numbers = sa.select(sa.literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.n + 1).where(numbers.c.n < count))
    now = sa.literal(datetime.now(UTC), seen_records.c.changed_at.type)
    rows = sa.select(
        sa.literal(TEAM).label("team_id"),
        sa.literal(COMPANY).label("company"),
        sa.literal(RecordType.AP_INVOICE.value).label("record_type"),
        (sa.literal("SEEN") + sa.cast(numbers.c.n, sa.String)).label("record_key"),
        sa.literal(CHANNEL).label("channel_id"),
        sa.literal("0" * 64).label("version"),
        sa.literal({"InvoiceNo": "SEEN"}, seen_records.c.snapshot.type).label("snapshot"),
        now.label("first_seen_at"),
        now.label("changed_at"),
    ).select_from(numbers)
    columns = [column.name for column in rows.selected_columns]
    async with bench.sessions.begin() as session:
        await session.execute(sa.insert(seen_records).from_select(columns, rows))


async def _measure(seen: int) -> IdlePollFigures:
    async with rig(parse_schedule("1m")) as bench:
        keys = [bench.key(record_type) for record_type in RecordType]
        for key in keys:
            outcome = await bench.service.poll(key)
            assert outcome.error is None, outcome.error
        await seed_seen(bench, seen)
        samples = []
        for _ in range(CYCLES):
            started = time.perf_counter()
            for key in keys:
                outcome = await bench.service.poll(key)  # due = now: later each time
                assert outcome.ran and outcome.error is None and outcome.queued == 0, outcome
            samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    median = statistics.median(ordered)
    return IdlePollFigures(
        seen=seen,
        cycles=CYCLES,
        resources=len(keys),
        median_ms=median,
        p95_ms=ordered[int(len(ordered) * 0.95) - 1],
        per_resource_ms=median / len(keys),
    )


def run(seen: tuple[int, ...] = SEEN) -> list[IdlePollFigures]:
    return [asyncio.run(_measure(count)) for count in seen]


def section(figures: list[IdlePollFigures]) -> str:
    first = figures[0]
    rows = [
        f"| {f.seen:,} | {f.median_ms:.0f} ms | {f.p95_ms:.0f} ms | {f.per_resource_ms:.0f} ms "
        f"| {f.median_ms * 60 / 1000:.0f} s |"  # one cycle a minute
        for f in figures
    ]
    return "\n".join(
        [
            "## One poll cycle with nothing new",
            "",
            f"Every resource of one company ({first.resources} polls: health check, a listing "
            "over mTLS from the simulated agent seeded with a month of history, the comparison "
            "and the bookkeeping transaction on SQLite), after the first poll, with that many "
            "AP invoices already seen; "
            f"{first.cycles} cycles on the real clock (`bench/idle_poll.py`).",
            "",
            "| seen records | median cycle | 95th percentile | per resource (median) "
            "| busy time per hour, every resource on a 1-minute schedule |",
            "| ---: | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.idle_poll")
    parser.add_argument("--seen", default=",".join(map(str, SEEN)), help="comma-separated")
    args = parser.parse_args(argv)
    print(section(run(tuple(int(count) for count in args.seen.split(",")))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
