"""From a record appearing in the simulated agent to its message at the Slack stand-in, with a
one-minute schedule.

The scheduled wait is skipped on a shifted clock (waiting real minutes would make the benchmark
slow, and the wait is pure arithmetic); the servers, TLS, database and HTTP are real. For each sample an AP
invoice is entered at a random moment; the clock jumps to the first scheduled poll that may
announce it (the product's own trigger, after the 30 s settle lag), where the poll and the
delivery run for real, timed by the wall clock. Latency = scheduled wait + real work.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.rig import CHANNEL, COMPANY, ZONE, ShiftedClock, rig
from bolt_app.polling.scheduler import trigger_for
from bolt_app.polling.window import DEFAULT_SETTLE_LAG
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType

SAMPLES = 30
SCHEDULE = "1m"


@dataclass(frozen=True, slots=True)
class LatencyFigures:
    samples: int
    schedule: str
    settle_lag_s: float
    mean_s: float
    p50_s: float
    max_s: float
    work_median_ms: float  # poll + delivery until the stand-in holds the message, real time
    work_max_ms: float


async def _measure() -> LatencyFigures:
    rng = random.Random(3)
    clock = ShiftedClock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    schedule = parse_schedule(SCHEDULE)
    trigger = trigger_for(schedule, ZONE)
    key_type = RecordType.AP_INVOICE
    latencies: list[float] = []
    work: list[float] = []
    async with rig(schedule, clock=clock) as bench:
        key = bench.key(key_type)
        baseline = await bench.service.poll(key)
        assert baseline.error is None, baseline.error
        await bench.worker.drain(team_id=key.team_id)
        for _ in range(SAMPLES):
            clock.jump_to(clock() + timedelta(seconds=rng.uniform(0, 60)))
            appeared = clock()
            bench.simulator.data.add_ap_invoice(COMPANY, appeared)
            before = len(bench.slack.posted_messages(CHANNEL))
            due = trigger.get_next_fire_time(None, appeared + DEFAULT_SETTLE_LAG)
            clock.jump_to(due)
            started = time.perf_counter()
            outcome = await bench.service.poll(key, due=due)
            drain = asyncio.create_task(bench.worker.drain(team_id=key.team_id))
            async with asyncio.timeout(30):  # until the stand-in holds it, not the drain's end
                await bench.slack.wait_for_messages(CHANNEL, before + 1)
            elapsed = time.perf_counter() - started
            report = await drain
            assert outcome.error is None and outcome.new == 1, outcome
            assert report.sent == 1 and len(bench.slack.posted_messages(CHANNEL)) == before + 1
            work.append(elapsed * 1000)
            latencies.append((due - appeared).total_seconds() + elapsed)
    return LatencyFigures(
        samples=SAMPLES,
        schedule=SCHEDULE,
        settle_lag_s=DEFAULT_SETTLE_LAG.total_seconds(),
        mean_s=statistics.fmean(latencies),
        p50_s=statistics.median(latencies),
        max_s=max(latencies),
        work_median_ms=statistics.median(work),
        work_max_ms=max(work),
    )


def run() -> LatencyFigures:
    return asyncio.run(_measure())


if __name__ == "__main__":
    print(run())


def section(figures: LatencyFigures) -> str:
    return "\n".join(
        [
            "## From a record in the agent to its message in Slack",
            "",
            f"{figures.samples} AP invoices entered at random moments, schedule "
            f"`{figures.schedule}`, settle lag {figures.settle_lag_s:.0f} s (a record is "
            "announced only once the agent's clock is that far past it). The wait for the "
            "scheduled poll is skipped on a shifted clock; the simulated agent (mTLS), the poller, SQLite, the delivery worker and "
            "the Slack stand-in are real (`bench/latency.py`). Expected from the arithmetic: "
            "settle lag + on average half the interval, at most lag + interval, plus the work.",
            "",
            "| figure | value |",
            "| --- | --- |",
            f"| mean latency | {figures.mean_s:.1f} s |",
            f"| median latency | {figures.p50_s:.1f} s |",
            f"| worst latency | {figures.max_s:.1f} s |",
            f"| poll + delivery work, median | {figures.work_median_ms:.0f} ms |",
            f"| poll + delivery work, worst | {figures.work_max_ms:.0f} ms |",
        ]
    )
