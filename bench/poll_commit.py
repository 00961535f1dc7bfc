"""One poll of 10,000 new AP invoices, then one of the same invoices all posted in Sage (a bulk
posting), through the product's `PollService` against the simulated agent (mTLS), on SQLite
(and PostgreSQL with `--postgres URL`, an admin URL on which a scratch database is created).

What it measures, per poll: wall time, the statements sent to the database, the longest write
transaction (first INSERT/UPDATE/DELETE to commit: on SQLite, how long the write lock is held
and other writers wait), the longest the event loop went without running a 10 ms ticker (what
`serve` would take to acknowledge a Slack request), and what a seen record weighs (the snapshot
column), and the process's peak resident memory (`ru_maxrss`: the simulated agent serves from
the same process, so its share is in it too) before the polls and after. Nothing is delivered:
the outbox is the end.

    python -m bench.poll_commit [--records N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from bench.rig import COMPANY, Rig, ShiftedClock, rig, scratch_postgres
from bolt_app.polling.tables import seen_records
from bolt_app.workspace.schedule import parse_schedule
from mlc_common.heap import settle_start_up
from sage.records import RecordType

RECORDS = 10_000
PER_STAMP = 50
TICK = 0.01


@dataclass(frozen=True, slots=True)
class PollFigures:
    label: str
    records: int
    seconds: float
    statements: int
    longest_write: float
    longest_stall: float
    longest_full_gc: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds


@dataclass(frozen=True, slots=True)
class PollCommitFigures:
    database: str
    polls: tuple[PollFigures, ...]
    snapshot_bytes: float
    rss_before: int  # bytes, peak resident set before the measured polls
    rss_new: int  # bytes, peak resident set after the poll of new records
    rss_peak: int  # bytes, peak resident set at the end

    @property
    def bytes_per_record(self) -> float:
        return (self.rss_peak - self.rss_before) / max(self.polls[0].records, 1)


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class _Watch:
    """Statements and write-transaction lengths on the engine, event-loop stalls by a ticker."""

    def __init__(self, rig_: Rig) -> None:
        self.statements = 0
        self.longest_write = 0.0
        self.longest_stall = 0.0
        self.longest_full_gc = 0.0
        self._gc_started = 0.0
        self._writing: dict[int, float] = {}
        gc.callbacks.append(self._collection)
        engine = rig_.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _statement(self, connection: object, cursor: object, statement: str, *args: object) -> None:
        self.statements += 1
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self._writing.setdefault(id(connection), time.perf_counter())

    def _end(self, connection: object) -> None:
        started = self._writing.pop(id(connection), None)
        if started is not None:
            self.longest_write = max(self.longest_write, time.perf_counter() - started)

    async def ticker(self, stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            self.longest_stall = max(self.longest_stall, now - last - TICK)
            last = now

    def _collection(self, phase: str, info: dict[str, int]) -> None:
        """A full collection walks every object of the process (the simulated agent's scan
        and the bench's rows too): how much of a stall it explains."""
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.longest_full_gc = max(self.longest_full_gc, time.perf_counter() - self._gc_started)

    def reset(self) -> None:
        self.statements, self.longest_write, self.longest_stall = 0, 0.0, 0.0
        self.longest_full_gc = 0.0


async def _poll(bench: Rig, watch: _Watch, label: str, records: int) -> PollFigures:
    watch.reset()
    stop = asyncio.Event()
    ticker = asyncio.create_task(watch.ticker(stop))
    started = time.perf_counter()
    outcome = await bench.service.poll(bench.key(RecordType.AP_INVOICE))
    seconds = time.perf_counter() - started
    stop.set()
    await ticker
    assert outcome.error is None, outcome.error
    assert outcome.read == records and outcome.new + outcome.changed > 0, outcome
    return PollFigures(
        label,
        records,
        seconds,
        watch.statements,
        watch.longest_write,
        watch.longest_stall,
        watch.longest_full_gc,
    )


async def _measure(records: int, database_url: str | None) -> PollCommitFigures:
    clock = ShiftedClock(datetime.now(UTC))
    async with rig(
        parse_schedule("1m"), clock=clock, database_url=database_url, agent_in_thread=True
    ) as bench:
        watch = _Watch(bench)
        outcome = await bench.service.poll(bench.key(RecordType.AP_INVOICE))  # the baseline
        assert outcome.error is None, outcome.error
        data = bench.simulator.data
        rows = data.add_many(COMPANY, "ap-invoices", records, start=clock(), per_stamp=PER_STAMP)
        clock.jump_to(clock() + timedelta(seconds=records // PER_STAMP + 120))
        # As `serve` and `worker` settle the collector once started (mlc_common.heap), so a
        # full collection walks only what the poll makes; the bench's own rows (no connector
        # holds them) freeze with it.
        settle_start_up()
        rss_before = _peak_rss()
        entered = await _poll(bench, watch, "new", records)
        rss_new = _peak_rss()
        for row in rows:
            data.post_invoice(COMPANY, str(row["RecordKey"]), clock())
        clock.jump_to(clock() + timedelta(minutes=3))
        posted = await _poll(bench, watch, "all posted", records)
        async with bench.sessions() as session:
            weight = await session.scalar(
                sa.select(sa.func.avg(sa.func.length(sa.cast(seen_records.c.snapshot, sa.Text))))
            )
    database = "sqlite" if database_url is None else "postgresql"
    return PollCommitFigures(
        database, (entered, posted), float(weight or 0), rss_before, rss_new, _peak_rss()
    )


async def _run(records: int, postgres: str | None) -> PollCommitFigures:
    if postgres is None:
        return await _measure(records, None)
    async with scratch_postgres(postgres) as url:
        return await _measure(records, url)


def run(records: int = RECORDS, postgres: str | None = None) -> PollCommitFigures:
    return asyncio.run(_run(records, postgres))


def section(figures: PollCommitFigures) -> str:
    lines = [
        "## One poll of many new invoices, then of a bulk posting",
        "",
        f"`bench/poll_commit.py` on {figures.database}: `PollService.poll` against the simulated "
        "agent (mTLS), the outbox the end. Longest stall: the longest the event loop went "
        "without running a 10 ms ticker.",
        "",
        "| poll | records | wall | records/s | statements | longest transaction | longest stall "
        "| longest full GC |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for poll in figures.polls:
        lines.append(
            f"| {poll.label} | {poll.records:,} | {poll.seconds:.1f} s "
            f"| {poll.records_per_second:,.0f} | {poll.statements:,} "
            f"| {poll.longest_write:.2f} s | {poll.longest_stall * 1000:.0f} ms "
            f"| {poll.longest_full_gc * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"A seen record's snapshot: {figures.snapshot_bytes:,.0f} bytes on average.",
        f"Peak RSS: {figures.rss_before / 2**20:,.0f} MiB before the polls, "
        f"{figures.rss_new / 2**20:,.0f} MiB after the new poll, "
        f"{figures.rss_peak / 2**20:,.0f} MiB at the end "
        f"({figures.bytes_per_record:,.0f} bytes per record of growth).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poll_commit")
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--postgres", help="an admin URL; a scratch database is made on it")
    arguments = parser.parse_args(argv)
    print(section(run(arguments.records, arguments.postgres)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
