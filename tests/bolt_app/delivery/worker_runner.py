"""A delivery worker in its own process, for the crash and scale-out tests (test-only).

    python -m tests.bolt_app.delivery.worker_runner DATABASE_URL SLACK_API_URL TOKEN WORKER_ID
        [--pacing SECONDS] [--lease SECONDS]

Drains the outbox against the given Slack base URL and prints the DrainReport as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.delivery.policy import DeliveryPolicy
from bolt_app.delivery.slack import client_factory, open_session
from bolt_app.delivery.worker import DeliveryWorker
from bolt_app.storage.engine import create_engine


async def drain(args: argparse.Namespace) -> dict:
    engine = create_engine(args.database_url)
    clock = partial(datetime.now, UTC)
    slack_session = open_session(timeout=5)

    async def token_for_team(team_id: str) -> str:
        return args.token

    worker = DeliveryWorker(
        async_sessionmaker(engine, expire_on_commit=False),
        client_factory(
            base_url=args.slack_url, token_for_team=token_for_team, timeout=5, session=slack_session
        ),
        DeliveryPolicy(rng=random.Random(), base_delay=timedelta(milliseconds=200)),
        clock=clock,
        worker_id=args.worker_id,
        pacing_interval=timedelta(seconds=args.pacing),
        lease=timedelta(seconds=args.lease),
    )
    try:
        report = await worker.drain(max_wait=timedelta(seconds=args.lease + 5))
    finally:
        await slack_session.close()
        await engine.dispose()
    return {"sent": report.sent, "dead": len(report.dead), "remaining": report.remaining}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("slack_url")
    parser.add_argument("token")
    parser.add_argument("worker_id")
    parser.add_argument("--pacing", type=float, default=1.0)
    parser.add_argument("--lease", type=float, default=10.0)
    print(json.dumps(asyncio.run(drain(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
