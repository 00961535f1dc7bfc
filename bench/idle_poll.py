"""The cost of one poll cycle with nothing new: every resource of one company, read over mTLS
from the simulated agent (seeded with a month of history), compared, nothing queued.

Measured after the first (baseline) poll, on the real clock: what a quiet hour costs, times
the number of polls in it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

from bench.rig import rig
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType

CYCLES = 30


@dataclass(frozen=True, slots=True)
class IdlePollFigures:
    cycles: int
    resources: int
    median_ms: float
    p95_ms: float
    per_resource_ms: float


async def _measure() -> IdlePollFigures:
    async with rig(parse_schedule("1m")) as bench:
        keys = [bench.key(record_type) for record_type in RecordType]
        for key in keys:
            outcome = await bench.service.poll(key)
            assert outcome.error is None, outcome.error
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
        cycles=CYCLES,
        resources=len(keys),
        median_ms=median,
        p95_ms=ordered[int(len(ordered) * 0.95) - 1],
        per_resource_ms=median / len(keys),
    )


def run() -> IdlePollFigures:
    return asyncio.run(_measure())


if __name__ == "__main__":
    print(run())


def section(figures: IdlePollFigures) -> str:
    per_hour = figures.median_ms * 60 / 1000  # one cycle a minute
    return "\n".join(
        [
            "## One poll cycle with nothing new",
            "",
            f"Every resource of one company ({figures.resources} polls: health check, a listing "
            "over mTLS from the simulated agent seeded with a month of history, the comparison "
            "and the bookkeeping transaction on SQLite), after the first poll; "
            f"{figures.cycles} cycles on the real clock (`bench/idle_poll.py`).",
            "",
            "| figure | value |",
            "| --- | --- |",
            f"| median cycle | {figures.median_ms:.0f} ms |",
            f"| 95th percentile cycle | {figures.p95_ms:.0f} ms |",
            f"| per resource (median) | {figures.per_resource_ms:.0f} ms |",
            f"| busy time per hour with every resource on a 1-minute schedule | {per_hour:.0f} s |",
        ]
    )
