"""Socket Mode: the same app and listeners over a websocket, against a stand-in Slack gateway.

The gateway answers `apps.connections.open` with a ws:// URL on loopback, says hello, sends a
/sage-status envelope and records the app's acknowledgement, as Slack's does.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.slack.web import run_socket_mode
from tests.fixtures.slack import ADMIN_USER, TEAM_ID

APP_TOKEN = "xapp-1-A0STANDIN1-1234-socketmodetoken"


class SocketModeGateway:
    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.opened_with: list[str] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def connections_open(self, request: web.Request) -> web.Response:
        self.opened_with.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        await websocket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        for envelope in self.envelopes:
            await websocket.send_str(json.dumps(envelope))
        async for message in websocket:
            if message.type == WSMsgType.TEXT:
                await self.acks.put(json.loads(message.data))
        return websocket

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"


def status_command_envelope(response_url: str) -> dict[str, Any]:
    return {
        "envelope_id": "envelope-status-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "team_id": TEAM_ID,
            "channel_id": "C0AP00001",
            "user_id": ADMIN_USER,
            "command": "/sage-status",
            "text": "",
            "api_app_id": "A0STANDIN1",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        },
    }


@pytest.fixture
async def gateway(response_urls) -> AsyncIterator[SocketModeGateway]:
    gateway = SocketModeGateway([status_command_envelope(response_urls.url("socket"))])
    app = web.Application()
    app.router.add_post("/api/apps.connections.open", gateway.connections_open)
    app.router.add_get("/link", gateway.link)
    gateway.runner = web.AppRunner(app)
    await gateway.runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    gateway.port = sock.getsockname()[1]
    await web.SockSite(gateway.runner, sock).start()
    try:
        yield gateway
    finally:
        await gateway.runner.cleanup()


async def test_socket_mode_runs_the_same_listeners_and_acks_over_the_websocket(
    slack_app_server, gateway, response_urls
):
    await slack_app_server.install(code="code-socket")
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_socket_mode(
            slack_app_server.bolt,
            app_token=APP_TOKEN,
            web_client=AsyncWebClient(base_url=gateway.api_url),
            stop=stop,
        )
    )
    try:
        async with asyncio.timeout(5):
            ack = await gateway.acks.get()
            (reply,) = await response_urls.wait_for(1)
    finally:
        stop.set()
        await running
    assert gateway.opened_with == [f"Bearer {APP_TOKEN}"]
    assert ack["envelope_id"] == "envelope-status-1"
    assert reply["response_type"] == "ephemeral"
