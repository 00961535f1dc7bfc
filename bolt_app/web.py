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
import contextlib
import socket
from collections.abc import Callable, Iterator

import sqlalchemy as sa
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
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

HEALTH_TIMEOUT_SECONDS = 5.0


def build_web_app(
    *,
    bolt: AsyncApp | None,
    engine: AsyncEngine,
    registry: CollectorRegistry,
    scheduler_alive: Callable[[], bool] | None = None,
) -> Starlette:
    """The ASGI app. `bolt` None (Socket Mode) serves only /healthz and /metrics;
    `scheduler_alive` None means this process runs no scheduler (the `web` role)."""

    async def healthz(request: Request) -> Response:
        checks = {"database": "ok", "scheduler": "not in this process"}
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            checks["database"] = "unreachable"
        if scheduler_alive is not None:
            checks["scheduler"] = "ok" if scheduler_alive() else "stopped"
        healthy = checks["database"] == "ok" and checks["scheduler"] != "stopped"
        return JSONResponse(
            {"status": "ok" if healthy else "failing", **checks},
            status_code=200 if healthy else 503,
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    if bolt is not None:
        handler = AsyncSlackRequestHandler(bolt)

        async def slack(request: Request) -> Response:
            return await handler.handle(request)

        routes += [
            Route("/slack/events", slack, methods=["POST"]),
            Route("/slack/install", slack, methods=["GET"]),
            Route("/slack/oauth_redirect", slack, methods=["GET"]),
        ]
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Signals belong to the process (its stop event), not to uvicorn."""
        yield


class HttpServer:
    """uvicorn serving one ASGI app on a socket bound here, so port 0 works."""

    def __init__(self, app, *, host: str, port: int) -> None:
        self._socket = socket.create_server((host, port), reuse_port=False)
        self.port: int = self._socket.getsockname()[1]
        self._server = _Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
        )
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Finish in-flight requests, then close."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()


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
