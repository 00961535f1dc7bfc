"""HTTP: Bolt's Starlette adapter at Slack's paths, plus /healthz and /metrics, under uvicorn.

    POST /slack/events          events, slash commands, interactivity (signature-verified)
    GET  /slack/install         OAuth start (multi-workspace installs only)
    GET  /slack/oauth_redirect  OAuth finish: stores the installation, opens the App Home
    GET  /healthz               200 when the database answers and the scheduler (if any) runs
    GET  /metrics               Prometheus text

Socket Mode (`SLACK_APP_TOKEN`) replaces the Slack paths with an outbound websocket; the same
listeners run either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bolt_app.metrics import Metrics
from bolt_app.metrics import healthz as check_health
from mlc_common.serving import EmbeddedServer

log = logging.getLogger(__name__)


def build_web_app(
    *,
    bolt: AsyncApp | None,
    engine: AsyncEngine,
    metrics: Metrics,
    refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    events_over_http: bool = True,
) -> Starlette:
    """The ASGI app. `scheduler_alive` None means this process runs no scheduler (the `web`
    role). In Socket Mode (`events_over_http` False) events never come over HTTP, so
    /slack/events is not served; the OAuth install pages still are."""

    async def healthz(request: Request) -> Response:
        health = await check_health(
            engine, scheduler_alive=True if scheduler_alive is None else scheduler_alive()
        )
        return JSONResponse(health.as_dict(), status_code=200 if health.ok else 503)

    async def metrics_text(request: Request) -> Response:
        # The gauges mirror the database, so every worker's queue and polls show here too.
        if refresh_metrics is not None:
            try:
                await refresh_metrics()
            except (SQLAlchemyError, OSError):
                log.warning("metrics: the database is unreachable; serving counters only")
        body, content_type = metrics.render()
        return Response(body, headers={"Content-Type": content_type})

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
    ]
    if bolt is not None:
        handler = AsyncSlackRequestHandler(bolt)

        async def slack(request: Request) -> Response:
            return await handler.handle(request)

        routes += [
            Route("/slack/install", slack, methods=["GET"]),
            Route("/slack/oauth_redirect", slack, methods=["GET"]),
        ]
        if events_over_http:
            routes.append(Route("/slack/events", slack, methods=["POST"]))
    return Starlette(routes=routes)


def http_server(app: Starlette, *, host: str, port: int) -> EmbeddedServer:
    """uvicorn serving `app` on a socket bound now, so port 0 works and the port is known."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    return EmbeddedServer(config, host=host, port=port)


async def run_socket_mode(
    bolt: AsyncApp, *, app_token: str, web_client: AsyncWebClient, stop: asyncio.Event
) -> None:
    """Receive events and commands over Slack's websocket until `stop` is set."""
    handler = AsyncSocketModeHandler(bolt, app_token=app_token, web_client=web_client)
    await handler.connect_async()
    try:
        await stop.wait()
    finally:
        await handler.close_async()
