"""Wiring one process's poller, scheduler and delivery worker (`poll --once`, `worker`, `serve`).

The Slack client factory is an argument; the commands build it from
`bolt_app.runtime.slack.slack_clients(...).token_for_team` (OAuth installations with token
rotation, else the workspace file's bot token, else SLACK_BOT_TOKEN).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.delivery.policy import RetryPolicy
from bolt_app.delivery.slack import SlackClientFactory
from bolt_app.delivery.worker import DeliveryWorker, DrainReport
from bolt_app.metrics import Metrics
from bolt_app.polling.scheduler import PollScheduler
from bolt_app.polling.service import PollOutcome, PollService
from bolt_app.settings import DEFAULT_AUDIT_RETENTION_DAYS

TokenForTeam = Callable[[str], Awaitable[str]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Pipeline:
    service: PollService
    scheduler: PollScheduler
    worker: DeliveryWorker

    async def poll_once(self, team_id: str | None = None) -> tuple[list[PollOutcome], DrainReport]:
        """Every configured resource polled now, then everything queued delivered."""
        outcomes = await self.service.poll_all(team_id)
        return outcomes, await self.worker.drain(team_id=team_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Scheduler and delivery side by side until `stop`; in-flight work finishes first."""
        await asyncio.gather(self.scheduler.run(stop), self.worker.run(stop))


def build_pipeline(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    slack_client_for_team: SlackClientFactory,
    *,
    worker_id: str,
    now: Callable[[], datetime] = utc_now,
    metrics: Metrics | None = None,
    audit_retention: timedelta = timedelta(days=DEFAULT_AUDIT_RETENTION_DAYS),
) -> Pipeline:
    service = PollService(sessions, box=box, now=now, owner=worker_id, metrics=metrics)
    return Pipeline(
        service=service,
        scheduler=PollScheduler(service, sessions, now=now),
        worker=DeliveryWorker(
            sessions,
            slack_client_for_team,
            RetryPolicy(rng=random.Random()),
            clock=now,
            worker_id=worker_id,
            metrics=metrics,
            audit_retention=audit_retention,
        ),
    )
