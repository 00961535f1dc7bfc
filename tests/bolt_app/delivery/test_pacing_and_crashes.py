"""Pacing, crash recovery and scale-out, against the stand-in's recorded times (strict mode)."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bolt_app.delivery.tables import deliveries
from bolt_app.delivery.worker import DeliveryWorker
from tests.fixtures.delivery import outbound
from tests.fixtures.slack import BOT_TOKEN

ROOT = Path(__file__).resolve().parents[3]
RUNNER = "tests.bolt_app.delivery.worker_runner"
HANG_GUARD_SECONDS = 600
# The pacing these tests hold the worker to: Slack's 1 s scaled down, so the suite does not wait
# out 300 seconds of real pacing; the worker's own default stays 1 s (checked below).
TEST_PACING = 0.25


def successful_posts(standin) -> dict[str, list]:
    by_channel: dict[str, list] = defaultdict(list)
    for call in standin.calls_to("chat.postMessage"):
        if call.ok:
            by_channel[call.params["channel"]].append(call)
    return by_channel


def assert_paced(standin, interval: float) -> None:
    assert standin.pacing_violations == []
    for calls in successful_posts(standin).values():
        gaps = [b.monotonic - a.monotonic for a, b in zip(calls, calls[1:], strict=False)]
        assert all(gap >= interval for gap in gaps), min(gaps)


def assert_in_order(standin) -> None:
    for calls in successful_posts(standin).values():
        numbers = [int(c.params["text"].rsplit(" ", 1)[1]) for c in calls]
        assert numbers == sorted(numbers)


def posted_counts(standin) -> Counter:
    return Counter(c.params["text"] for calls in successful_posts(standin).values() for c in calls)


async def queue_spread(queue, *, channels: int, per_channel: int) -> list[str]:
    names = [f"C0PACE{n:04d}" for n in range(channels)]
    messages = [
        outbound(name, f"{name}-{i}", text=f"{name} {i}")
        for i in range(per_channel)
        for name in names
    ]
    await queue(*messages)
    return names


def test_the_worker_paces_one_message_per_second_per_channel_unless_told_otherwise():
    default = inspect.signature(DeliveryWorker).parameters["pacing_interval"].default
    assert default == timedelta(seconds=1)  # Slack's limit; the tests below scale it down


@pytest.mark.slow
async def test_forty_messages_to_four_channels_are_never_closer_than_the_pacing_interval(
    slack_standin, make_worker, queue
):
    slack_standin.strict_pacing = True
    slack_standin.pacing_interval = TEST_PACING
    names = await queue_spread(queue, channels=4, per_channel=10)
    for name in names:
        slack_standin.add_channel("T0123ABCD", name)

    report = await make_worker(pacing_interval=timedelta(seconds=TEST_PACING)).drain()

    assert report.sent == 40 and report.ok
    assert_paced(slack_standin, TEST_PACING)
    assert_in_order(slack_standin)
    assert set(posted_counts(slack_standin).values()) == {1}


async def run_worker(database_url: str, standin, worker_id: str, *, pacing: float, lease: float):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        RUNNER,
        database_url,
        standin.api_url,
        BOT_TOKEN,
        worker_id,
        "--pacing",
        str(pacing),
        "--lease",
        str(lease),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )


async def report_of(worker: asyncio.subprocess.Process) -> dict:
    """The worker's DrainReport; killed if it hangs (a guard against a stuck CI run, not a
    speed check: a drain here needs well under a minute even on a loaded machine)."""
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            out, _ = await worker.communicate()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    return json.loads(out)


@pytest.mark.slow
async def test_a_worker_killed_mid_drain_is_resumed_by_the_next_and_nothing_is_lost(
    database_url, slack_standin, queue, session_factory
):
    slack_standin.strict_pacing = True
    slack_standin.pacing_interval = 0.2
    names = await queue_spread(queue, channels=3, per_channel=10)
    for name in names:
        slack_standin.add_channel("T0123ABCD", name)

    first = await run_worker(database_url, slack_standin, "first", pacing=0.2, lease=1.0)
    try:
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            while sum(len(c) for c in successful_posts(slack_standin).values()) < 8:
                assert first.returncode is None, "the worker finished before it could be killed"
                await asyncio.sleep(0.005)
    finally:
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
        await first.wait()
    async with session_factory() as session:
        status = dict(
            (await session.execute(sa.select(deliveries.c.record_key, deliveries.c.status))).all()
        )
    in_flight = {key for key, value in status.items() if value == "sending"}
    before_restart = posted_counts(slack_standin)
    assert 8 <= sum(before_restart.values()) < 30

    second = await run_worker(database_url, slack_standin, "second", pacing=0.2, lease=1.0)

    assert (await report_of(second))["remaining"] == 0
    async with session_factory() as session:
        statuses = (await session.execute(sa.select(deliveries.c.status))).scalars().all()
    assert set(statuses) == {"sent"}
    counts = posted_counts(slack_standin)
    assert len(counts) == 30
    # The only possible duplicate: a message Slack accepted just before the kill.
    duplicated = {text for text, n in counts.items() if n > 1}
    assert all(n <= 2 for n in counts.values())
    assert {text.replace(" ", "-") for text in duplicated} <= in_flight
    assert_paced(slack_standin, 0.2)


@pytest.mark.slow
@pytest.mark.postgres
async def test_three_workers_on_postgresql_deliver_300_messages_once_each_paced(
    database_url, slack_standin, queue, session_factory
):
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out is a PostgreSQL feature; SQLite runs one worker process")
    slack_standin.strict_pacing = True
    slack_standin.pacing_interval = TEST_PACING
    names = await queue_spread(queue, channels=10, per_channel=30)
    for name in names:
        slack_standin.add_channel("T0123ABCD", name)

    workers = [
        await run_worker(database_url, slack_standin, f"worker-{n}", pacing=TEST_PACING, lease=10.0)
        for n in range(3)
    ]
    reports = [await report_of(w) for w in workers]

    assert sum(r["sent"] for r in reports) == 300
    assert all(r["remaining"] == 0 and r["dead"] == 0 for r in reports)
    counts = posted_counts(slack_standin)
    assert len(counts) == 300 and set(counts.values()) == {1}
    assert_paced(slack_standin, TEST_PACING)
    assert_in_order(slack_standin)
    async with session_factory() as session:
        statuses = (await session.execute(sa.select(deliveries.c.status))).scalars().all()
    assert Counter(statuses) == {"sent": 300}
