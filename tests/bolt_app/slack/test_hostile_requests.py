"""Hostile requests to /slack/events: oversized, unsigned, stale or malformed bodies are refused
with 413/401/400 before Bolt parses them, and neither the body nor a pasted key is logged."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest

from bolt_app.slack.web import MAX_BODY_BYTES
from tests.fixtures.slack import ADMIN_USER, TEAM_ID
from tests.fixtures.slack_app import sign_request

PASTED_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAzS3cr3t\n-----END RSA PRIVATE KEY-----"
)
PASTED_API_KEY = "sk-agent-7f3c9a1e5b2d"


async def raw_post(port: int, head: str, body_part: bytes) -> tuple[int, int]:
    """Send `head` and `body_part` only; the status line and how many body bytes were sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + body_part)
        await writer.drain()
        async with asyncio.timeout(5):
            status_line = await reader.readline()
        return int(status_line.split()[1]), len(body_part)
    finally:
        writer.close()


async def test_a_50_mb_unsigned_body_is_refused_without_being_read_or_logged(
    slack_app_server, caplog
):
    caplog.set_level(logging.DEBUG)
    declared = 50 * 1024 * 1024
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    status, sent = await raw_post(slack_app_server.server.port, head, b'{"a":"' + b"x" * 65_536)
    assert status == 413
    assert sent < declared // 100
    assert "xxxxxxxx" not in caplog.text
    assert all(len(record.getMessage()) < 1_000 for record in caplog.records)


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(slack_app_server):
    async def chunks():
        for _ in range(3):
            yield b"x" * (MAX_BODY_BYTES // 2)

    response = await slack_app_server.http.post(
        f"{slack_app_server.url}/slack/events",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


def stale_admin_submission() -> bytes:
    values = {
        "agent_url": {"agent_url": {"type": "url_text_input", "value": "https://sage01:8443"}},
        "api_key": {"api_key": {"type": "plain_text_input", "value": PASTED_API_KEY}},
        "client_key": {"client_key": {"type": "plain_text_input", "value": PASTED_KEY}},
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": ADMIN_USER},
        "view": {"id": "V0SUBMIT", "callback_id": "connection", "state": {"values": values}},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_the_log_of_a_stale_admin_submission_holds_no_key(slack_app_server, caplog):
    caplog.set_level(logging.DEBUG)
    body = stale_admin_submission()
    response = await slack_app_server.http.post(
        f"{slack_app_server.url}/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **sign_request(body, timestamp=int(time.time()) - 10 * 60),
        },
    )
    assert response.status_code == 401
    assert "signature" in caplog.text
    for secret in ("MIIEpAIBAAKCAQEAzS3cr3t", PASTED_API_KEY, "PRIVATE+KEY", "sk-agent"):
        assert secret not in caplog.text
    assert slack_app_server.standin.calls == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": ', "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b'["a", "list"]', "application/json"),
    ],
)
async def test_a_signed_malformed_body_gets_400_not_500(slack_app_server, body, content_type):
    response = await slack_app_server.post_signed(body, content_type=content_type)
    assert response.status_code == 400
    assert "Traceback" not in response.text


async def test_unsigned_garbage_gets_401_not_500(slack_app_server):
    response = await slack_app_server.http.post(
        f"{slack_app_server.url}/slack/events",
        content=b"{{{ not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401


async def test_an_oauth_page_with_a_body_is_refused(slack_app_server):
    response = await slack_app_server.http.request(
        "GET", f"{slack_app_server.url}/slack/install", content=b"x" * 10
    )
    assert response.status_code == 413
