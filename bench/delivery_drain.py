"""How close the delivery worker gets to Slack's pacing limit, and what it costs in CPU.

Queues `channels x per_channel` messages, drains them with one worker process against the
Slack stand-in with strict pacing (Slack's rate per channel, with the stand-in's default
tolerance for jitter), and reports the drain time against the ideal ((per_channel - 1)
intervals: the first message of each channel goes at once, each next one an interval later),
the worker's CPU time per message (measured inside the worker process), and how far ahead of
one per interval from a channel's first post any post arrived (the stand-in refuses more than
its tolerance).

`--latency` makes the stand-in answer every call that many milliseconds after it arrived (the
call takes effect on arrival), as a slow Slack does.

    python -m bench.delivery_drain [--channels 4] [--per-channel 10] [--pacing 1.0]
        [--latency 0] [--database-url sqlite:///...]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.blocks.messages import SlackMessage
from bolt_app.crypto import SecretBox, generate_key
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue
from bolt_app.delivery.slack import client_factory, open_session
from bolt_app.runtime.pipeline import build_pipeline
from bolt_app.storage.engine import create_engine, upgrade_database
from sage.records import RecordType
from slack_standin import SlackStandIn

TEAM_ID = "T0BENCH01"
TOKEN = "xoxb-bench-token"
utc_now = partial(datetime.now, UTC)


async def queue_messages(database_url: str, channels: list[str], per_channel: int) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        async with async_sessionmaker(engine)() as session, session.begin():
            for i in range(per_channel):
                for channel in channels:
                    text = f"invoice {i} for {channel}"
                    message = SlackMessage(
                        text=text,
                        blocks=({"type": "section", "text": {"type": "mrkdwn", "text": text}},),
                    )
                    await enqueue(
                        session,
                        OutboundMessage(
                            TEAM_ID,
                            channel,
                            DeliveryKind.POST,
                            message,
                            "ABC",
                            RecordType.AP_INVOICE,
                            f"{channel}-{i}",
                        ),
                        now=utc_now(),
                    )
    finally:
        await engine.dispose()


async def worker_drain(database_url: str, slack_url: str, pacing: float) -> dict:
    """The worker process's side: drain, timing wall and CPU around the drain alone."""
    engine = create_engine(database_url)

    async def token_for_team(team_id: str) -> str:
        return TOKEN

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    slack_session = open_session()
    worker = build_pipeline(
        sessions,
        SecretBox([generate_key()]),
        client_factory(base_url=slack_url, token_for_team=token_for_team, session=slack_session),
        worker_id="bench",
        now=utc_now,
        pacing_interval=timedelta(seconds=pacing),
    ).worker
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = await worker.drain()
        return {
            "sent": report.sent,
            "remaining": report.remaining,
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
        }
    finally:
        await slack_session.close()
        await engine.dispose()


async def bench(args: argparse.Namespace, database_url: str) -> dict:
    channels = [f"C0BENCH{n:03d}" for n in range(args.channels)]
    async with SlackStandIn(
        strict_pacing=True, pacing_interval=args.pacing, answer_latency=args.latency / 1000
    ) as slack:
        slack.add_workspace(TEAM_ID, "Bench", bot_token=TOKEN)
        for channel in channels:
            slack.add_channel(TEAM_ID, channel)
        await queue_messages(database_url, channels, args.per_channel)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.delivery_drain",
            "--worker",
            database_url,
            slack.api_url,
            "--pacing",
            str(args.pacing),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        result = json.loads(out)
        result["tolerance"] = slack.pacing_tolerance
        result["violations"] = [v.early_by for v in slack.pacing_violations]
        result["posted"] = sum(len(slack.posted_messages(c)) for c in channels)
        posts = {
            channel: [
                call.monotonic
                for call in slack.calls_to("chat.postMessage")
                if call.ok and call.params["channel"] == channel
            ]
            for channel in channels
        }
        result["gaps"] = [
            later - earlier
            for times in posts.values()
            for earlier, later in itertools.pairwise(times)
        ]
        result["ahead"] = max(
            (
                times[0] + k * args.pacing - t
                for times in posts.values()
                for k, t in enumerate(times)
            ),
            default=0.0,
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.delivery_drain")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--per-channel", type=int, default=10)
    parser.add_argument("--pacing", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.0, help="Slack's answer, in ms")
    parser.add_argument("--database-url")
    parser.add_argument("--worker", nargs=2, metavar=("DATABASE_URL", "SLACK_URL"))
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(asyncio.run(worker_drain(*args.worker, args.pacing))))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        result = asyncio.run(bench(args, url))
    total = args.channels * args.per_channel
    ideal = (args.per_channel - 1) * args.pacing
    print(
        f"delivery_drain: {total} messages to {args.channels} channels "
        f"({args.per_channel} each, one per {args.pacing:g} s), {url.split(':')[0]}, "
        f"Slack answering in {args.latency:g} ms, pacing tolerance {result['tolerance']:g} s"
    )
    print(
        f"  drain {result['wall']:.2f} s against an ideal {ideal:.2f} s "
        f"({result['wall'] / ideal - 1:+.1%})"
        if ideal
        else f"  drain {result['wall']:.2f} s"
    )
    print(f"  worker CPU {result['cpu']:.2f} s, {result['cpu'] / total * 1000:.1f} ms per message")
    if result["gaps"]:
        gaps = result["gaps"]
        print(
            f"  between two posts to a channel, as Slack received them: mean "
            f"{statistics.mean(gaps):.3f} s, min {min(gaps):.3f} s, max {max(gaps):.3f} s"
        )
    print(
        f"  furthest ahead of one per {args.pacing:g} s from a channel's first post: "
        f"{result['ahead'] * 1000:.1f} ms (tolerance {result['tolerance'] * 1000:g} ms)"
    )
    print(
        f"  posted {result['posted']} of {total}, pacing violations {len(result['violations'])}"
        + (
            f" (the least early {min(result['violations']) * 1000:.1f} ms before its slot)"
            if result["violations"]
            else ""
        )
        + f", left queued {result['remaining']}"
    )
    return 0 if result["posted"] == total and not result["violations"] else 1


if __name__ == "__main__":
    sys.exit(main())
