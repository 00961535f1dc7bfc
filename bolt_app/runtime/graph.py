"""One process's object graph, built once from `Settings`: the composition root of every command.

    async with open_runtime(settings, role="worker") as runtime:
        runtime.pipeline.service    the poller (with this process's metrics and worker id)
        runtime.pipeline.worker     the delivery worker
        runtime.slack               where each workspace's token comes from

Every part gets the same clock, worker id and `Metrics`, and the delivery's Slack calls share
one aiohttp session, open while the runtime is; nothing below this package builds a
service, worker or Slack client for itself. The Bolt app and the App Home are built over a
runtime by `runtime.bolt`, in the processes that serve Slack only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.delivery.slack import client_factory, open_session
from bolt_app.metrics import Metrics
from bolt_app.runtime.clock import new_worker_id, utc_now
from bolt_app.runtime.database import open_box, open_database
from bolt_app.runtime.pipeline import Pipeline, build_pipeline
from bolt_app.runtime.slack import slack_clients
from bolt_app.settings import Settings
from bolt_app.slack.installations import SlackClients


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    now: Callable[[], datetime]
    worker_id: str
    metrics: Metrics
    slack: SlackClients
    pipeline: Pipeline


def build_runtime(
    settings: Settings,
    *,
    engine: AsyncEngine,
    box: SecretBox,
    role: str,
    now: Callable[[], datetime] = utc_now,
    slack_session: aiohttp.ClientSession | None = None,
) -> Runtime:
    """`slack_session` carries the delivery's Slack calls; without it each call opens its own."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    metrics = Metrics()
    worker_id = new_worker_id(role)
    slack = slack_clients(settings, engine=engine, sessions=sessions, box=box)
    pipeline = build_pipeline(
        sessions,
        box,
        client_factory(
            base_url=settings.slack_api_url,
            token_for_team=slack.token_for_team,
            session=slack_session,
        ),
        worker_id=worker_id,
        now=now,
        metrics=metrics,
        audit_retention=timedelta(days=settings.audit_retention_days),
        slack_refreshed_client_for_team=client_factory(
            base_url=settings.slack_api_url,
            token_for_team=slack.refreshed_token_for_team,
            session=slack_session,
        ),
    )
    return Runtime(settings, engine, sessions, box, now, worker_id, metrics, slack, pipeline)


@asynccontextmanager
async def open_runtime(settings: Settings, *, role: str) -> AsyncIterator[Runtime]:
    """The upgraded database, the SecretBox and the graph over them; disposed on exit."""
    async with open_database(settings) as engine:
        async with AsyncSession(engine) as session, session.begin():
            box = await open_box(session, settings)
        async with open_session() as slack_session:
            yield build_runtime(
                settings,
                engine=engine,
                box=box,
                role=role,
                slack_session=slack_session,
            )
