"""HTTP: Bolt's Starlette adapter at Slack's paths, plus /healthz and /metrics, under uvicorn.

    POST /slack/events          events, slash commands, interactivity (signature-verified)
    GET  /slack/install         OAuth start (multi-workspace installs only)
    GET  /slack/oauth_redirect  OAuth finish: stores the installation, opens the App Home
    GET  /healthz               200 when the database answers and the scheduler (if any) runs;
                                "scheduler" is reported only by a process that runs one
    GET  /metrics               Prometheus text

Socket Mode (`SLACK_APP_TOKEN`) replaces the Slack paths with an outbound websocket; the same
listeners run either way.

Before Bolt sees a request to /slack/events, `SlackRequestGate` refuses a body over
`MAX_BODY_BYTES` (413, without reading it), an unsigned or stale one (401) and a signed one that
is not a Slack payload (400), and logs none of them: Bolt would log a refused body whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import (
    AsyncSlackRequestHandler,
    to_async_bolt_request,
    to_starlette_response,
)
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
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

# Slack's own payloads (events, commands, interactions, view submissions) stay far below this.
MAX_BODY_BYTES = 1024 * 1024


class _BodyTooLarge(Exception):
    pass


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused as soon as it is known to exceed `limit`: from Content-Length before
    reading anything, else while streaming, so an oversized body is never held whole."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        raise _BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class SlackRequestGate:
    """/slack/events: size limit, signature, payload shape, then Bolt (which verifies again)."""

    def __init__(self, bolt: AsyncApp, signing_secret: str) -> None:
        self._bolt = bolt
        self._verifier = SignatureVerifier(signing_secret)

    async def handle(self, request: Request) -> Response:
        try:
            body = await read_limited_body(request)
        except _BodyTooLarge:
            log.warning("refused a Slack request body over %d bytes (413)", MAX_BODY_BYTES)
            return Response("Request body too large", status_code=413)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("refused a Slack request whose body is not UTF-8 (400)")
            return Response("Malformed request body", status_code=400)
        if not self._verifier.is_valid(
            body,
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
        ):
            log.info("refused a Slack request with a missing, wrong or stale signature (401)")
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = to_async_bolt_request(request, body)
        # Not JSON, a form whose payload is not JSON, or JSON that is not an object (Bolt's
        # request then fails reading its fields).
        except (ValueError, AttributeError):
            log.warning("refused a signed Slack request whose body is not a Slack payload (400)")
            return Response("Malformed request body", status_code=400)
        return to_starlette_response(await self._bolt.async_dispatch(bolt_request))


def build_web_app(
    *,
    bolt: AsyncApp | None,
    engine: AsyncEngine,
    signing_secret: str = "",
    metrics: Metrics,
    refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    scheduler_alive: Callable[[], bool] | None = None,
    events_over_http: bool = True,
) -> Starlette:
    """The ASGI app; `signing_secret` verifies /slack/events. `scheduler_alive` None means this
    process runs no scheduler (the `web` role). In Socket Mode (`events_over_http` False) events never come over HTTP, so
    /slack/events is not served; the OAuth install pages still are."""

    async def healthz(request: Request) -> Response:
        health = await check_health(
            engine, scheduler_alive=None if scheduler_alive is None else scheduler_alive()
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

        async def oauth_page(request: Request) -> Response:
            # A browser's GET has no body; Bolt's adapter would read any body sent whole.
            if request.headers.get("content-length", "0") != "0" or (
                "transfer-encoding" in request.headers
            ):
                return Response("Request body too large", status_code=413)
            return await handler.handle(request)

        routes += [
            Route("/slack/install", oauth_page, methods=["GET"]),
            Route("/slack/oauth_redirect", oauth_page, methods=["GET"]),
        ]
        if events_over_http:
            events = SlackRequestGate(bolt, signing_secret)
            routes.append(Route("/slack/events", events.handle, methods=["POST"]))
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
