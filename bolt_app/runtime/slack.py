"""Putting the Slack side together from `Settings`: token sources, the Bolt app, the process.

slack_clients(settings, ...)      tokens and clients for any workspace (workers, check)
build_slack_app(settings, ...)    the Bolt app: OAuth installs, or bot tokens without OAuth
run_process(settings, ...)        `web` and `serve`: HTTP or Socket Mode, plus the
                                  scheduler and delivery worker for `serve`, until SIGTERM
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.delivery.slack import client_factory
from bolt_app.errors import ConfigError
from bolt_app.home.listeners import HomeServices
from bolt_app.metrics import Metrics
from bolt_app.polling.service import PollService
from bolt_app.runtime.pipeline import Pipeline, build_pipeline
from bolt_app.settings import Settings
from bolt_app.slack.app import SlackAppServices, build_app
from bolt_app.slack.installations import (
    EncryptedInstallationStore,
    OAuthConfig,
    SlackClients,
    build_state_store,
)
from bolt_app.slack.web import build_web_app, http_server, run_socket_mode

log = logging.getLogger(__name__)


def _oauth(settings: Settings, engine: AsyncEngine) -> OAuthConfig | None:
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        return None
    return OAuthConfig(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        state_store=build_state_store(engine),
    )


def slack_clients(
    settings: Settings,
    *,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
) -> SlackClients:
    """Where each workspace's token comes from; `token_for_team` is what workers post with."""
    oauth = _oauth(settings, engine)
    store = (
        None
        if oauth is None
        else EncryptedInstallationStore(client_id=oauth.client_id, engine=engine, box=box)
    )
    return SlackClients(
        api_url=settings.slack_api_url,
        sessions=sessions,
        box=box,
        installation_store=store,
        oauth=oauth,
        default_token=settings.slack_bot_token,
    )


def validate_slack_settings(settings: Settings) -> None:
    """Refuse, before anything starts, settings that cannot serve Slack."""
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET must be set to serve Slack's HTTP endpoints "
            "(or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    if (settings.slack_client_id is None) != (settings.slack_client_secret is None):
        raise ConfigError(
            "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs, or neither."
        )


def build_slack_app(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    clients: SlackClients,
    box: SecretBox,
    now: Callable[[], datetime],
) -> AsyncApp:
    validate_slack_settings(settings)
    return build_app(
        signing_secret=settings.slack_signing_secret or "",
        client=AsyncWebClient(base_url=settings.slack_api_url),
        services=SlackAppServices(
            sessions=sessions,
            now=now,
            installation_store=clients.installation_store,
            home=HomeServices(
                sessions=sessions,
                box=box,
                poller=PollService(sessions, box=box, now=now),
                now=now,
            ),
        ),
        oauth=clients.oauth,
        token_for_team=clients.token_for_team,
    )


class Background:
    """The worker role inside `serve`: polling's scheduler and the delivery worker."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._scheduler_task: asyncio.Task | None = None

    def scheduler_alive(self) -> bool:
        return self._scheduler_task is not None and not self._scheduler_task.done()

    async def run(self, stop: asyncio.Event) -> None:
        self._scheduler_task = asyncio.create_task(
            self._pipeline.scheduler.run(stop), name="scheduler"
        )
        await asyncio.gather(self._scheduler_task, self._pipeline.worker.run(stop))


async def run_process(
    settings: Settings,
    *,
    engine: AsyncEngine,
    box: SecretBox,
    now: Callable[[], datetime],
    with_background: bool,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    port: int | None = None,
) -> None:
    """`web` (with_background False) or `serve`: run until `stop` is set, then finish cleanly.

    HTTP always serves /healthz and /metrics; the Slack paths are served over HTTP unless
    SLACK_APP_TOKEN selects Socket Mode, where the OAuth install pages remain on HTTP.
    """
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    metrics = Metrics()
    clients = slack_clients(settings, engine=engine, sessions=sessions, box=box)
    bolt = build_slack_app(settings, sessions=sessions, clients=clients, box=box, now=now)
    background = (
        Background(
            build_pipeline(
                sessions,
                box,
                client_factory(
                    base_url=settings.slack_api_url, token_for_team=clients.token_for_team
                ),
                worker_id=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
                now=now,
                metrics=metrics,
                audit_retention=timedelta(days=settings.audit_retention_days),
            )
        )
        if with_background
        else None
    )
    socket_mode = settings.slack_app_token is not None
    server = http_server(
        build_web_app(
            bolt=bolt,
            engine=engine,
            metrics=metrics,
            scheduler_alive=None if background is None else background.scheduler_alive,
            events_over_http=not socket_mode,
        ),
        host=host,
        port=settings.port if port is None else port,
    )
    tasks = [asyncio.create_task(server.serve_until(stop), name="http")]
    if socket_mode:
        tasks.append(
            asyncio.create_task(
                run_socket_mode(
                    bolt,
                    app_token=settings.slack_app_token,
                    web_client=AsyncWebClient(base_url=settings.slack_api_url),
                    stop=stop,
                ),
                name="socket-mode",
            )
        )
    if background is not None:
        tasks.append(asyncio.create_task(background.run(stop), name="background"))
    log.info(
        "listening on %s port %d (%s)%s",
        host,
        server.port,
        "Socket Mode" if socket_mode else "HTTP",
        " with scheduler and delivery" if background else "",
    )
    try:
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (the platform stopping us) and SIGINT end the process gracefully."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
