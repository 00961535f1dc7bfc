"""One process's background work: the poller, its scheduler, the delivery worker, housekeeping.

`build_pipeline` is the one place these are constructed (commands, the demo, the bench and the
tests' rigs all call it), so every process gets the same clock, worker id and metrics in each.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.delivery.policy import DeliveryPolicy
from bolt_app.delivery.slack import SlackClientFactory
from bolt_app.delivery.worker import DeliveryWorker, DrainReport
from bolt_app.metrics import Metrics
from bolt_app.polling.outcome import PollOutcome
from bolt_app.polling.reconcile import ReconcileOutcome, ReconcileService
from bolt_app.polling.reminders import ReminderService
from bolt_app.polling.scheduler import PollScheduler
from bolt_app.polling.service import PollService
from bolt_app.runtime.clock import utc_now
from bolt_app.runtime.housekeeping import Housekeeping
from bolt_app.settings import DEFAULT_AUDIT_RETENTION_DAYS


@dataclass(frozen=True, slots=True)
class Pipeline:
    service: PollService
    scheduler: PollScheduler
    worker: DeliveryWorker
    housekeeping: Housekeeping
    reconciler: ReconcileService

    async def poll_once(self, team_id: str | None = None) -> tuple[list[PollOutcome], DrainReport]:
        """Every configured resource polled now, then everything queued delivered."""
        outcomes = await self.service.poll_all(team_id)
        report = await self.worker.drain(team_id=team_id)
        await self.housekeeping.run_once()
        return outcomes, report

    async def reconcile_once(
        self, team_id: str | None = None
    ) -> tuple[list[ReconcileOutcome], DrainReport]:
        """Every reconciled resource compared with the agent's keys now, then delivered."""
        outcomes = await self.reconciler.reconcile_all(team_id)
        return outcomes, await self.worker.drain(team_id=team_id)

    async def run(self, stop: asyncio.Event, *, scheduler: bool = True) -> None:
        """Scheduler, delivery and housekeeping side by side until `stop`; in-flight work
        finishes first."""
        jobs = [self.worker.run(stop), self.housekeeping.run(stop)]
        if scheduler:
            jobs.append(self.scheduler.run(stop))
        await asyncio.gather(*jobs)


def build_pipeline(
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    slack_client_for_team: SlackClientFactory,
    *,
    worker_id: str,
    now: Callable[[], datetime] = utc_now,
    metrics: Metrics | None = None,
    audit_retention: timedelta | None = timedelta(days=DEFAULT_AUDIT_RETENTION_DAYS),
    rng: random.Random | None = None,
    pacing_interval: timedelta = timedelta(seconds=1),
    slack_refreshed_client_for_team: SlackClientFactory | None = None,
) -> Pipeline:
    service = PollService(sessions, box=box, now=now, owner=worker_id, metrics=metrics)
    reconciler = ReconcileService(sessions, box=box, polls=service, now=now, owner=worker_id)
    return Pipeline(
        service=service,
        reconciler=reconciler,
        scheduler=PollScheduler(
            service,
            sessions,
            now=now,
            reminders=ReminderService(sessions, now=now),
            reconciler=reconciler,
        ),
        worker=DeliveryWorker(
            sessions,
            slack_client_for_team,
            DeliveryPolicy(rng=rng or random.Random()),
            clock=now,
            worker_id=worker_id,
            metrics=metrics,
            pacing_interval=pacing_interval,
            refreshed_client_for_team=slack_refreshed_client_for_team,
        ),
        housekeeping=Housekeeping(
            sessions, clock=now, metrics=metrics, audit_retention=audit_retention
        ),
    )
