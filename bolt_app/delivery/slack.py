"""The Slack side of delivery: one Web API call -> a `SlackAnswer`, never an exception.

This is the one boundary where slack_sdk and aiohttp errors are read; everything after it
(the retry policy, the worker) sees only `SlackAnswer`. The client comes from an injected
`SlackClientFactory` so tests point it at the Slack stand-in and production at slack.com.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.delivery.outbox import DeliveryKind
from bolt_app.delivery.policy import SlackAnswer

SlackClientFactory = Callable[[str], Awaitable[AsyncWebClient]]
"""team_id -> a client holding that workspace's bot token."""

PLAIN_TEXT_LIMIT = 4000


def open_session(*, timeout: float = 15) -> aiohttp.ClientSession:
    """One session for all of a process's Slack calls, so connections stay open between calls
    (not a TCP and TLS handshake per message); the caller closes it. Made in a running loop."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


def client_factory(
    *,
    base_url: str,
    token_for_team: Callable[[str], Awaitable[str]],
    timeout: int = 15,
    session: aiohttp.ClientSession | None = None,
) -> SlackClientFactory:
    """A factory of clients at `base_url` with the SDK's own retries off: the policy owns them.

    Without `session`, each call opens (and closes) its own."""

    async def for_team(team_id: str) -> AsyncWebClient:
        token = await token_for_team(team_id)
        return AsyncWebClient(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry_handlers=[],
            session=session,
        )

    return for_team


async def send(
    client: AsyncWebClient,
    *,
    kind: DeliveryKind,
    channel_id: str,
    payload: Mapping[str, Any],
    parent_ts: str | None,
    plain_text: bool,
) -> SlackAnswer:
    """chat.postMessage for a POST or REPLY (threaded under `parent_ts`), chat.update for UPDATE."""
    body = _plain(payload) if plain_text else _chat_fields(payload)
    if kind is DeliveryKind.UPDATE:
        if plain_text:
            body["blocks"] = []
        return await _call(client.chat_update(channel=channel_id, ts=parent_ts, **body))
    if kind is DeliveryKind.REPLY:
        body["thread_ts"] = parent_ts
    return await _call(client.chat_postMessage(channel=channel_id, **body))


async def join(client: AsyncWebClient, channel_id: str) -> SlackAnswer:
    return await _call(client.conversations_join(channel=channel_id))


async def _call(request: Awaitable[Any]) -> SlackAnswer:
    try:
        response = await request
    except SlackApiError as error:
        return _answer_from_error(error)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        return SlackAnswer(ok=False, error="timeout")
    except aiohttp.ClientError:
        return SlackAnswer(ok=False, error="connection_error")
    return SlackAnswer(ok=True, http_status=response.status_code, ts=_ts(response.data))


def _answer_from_error(error: SlackApiError) -> SlackAnswer:
    response = error.response
    data = response.data if isinstance(response.data, dict) else {}
    return SlackAnswer(
        ok=False,
        error=str(data.get("error") or ""),
        http_status=response.status_code,
        retry_after=retry_after(error),
    )


def retry_after(error: SlackApiError) -> float | None:
    """The seconds a 429 asks to wait (`Retry-After`), or None when it says nothing usable."""
    return _seconds(_header(error.response.headers or {}, "Retry-After"))


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _seconds(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _ts(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    return str(data.get("ts") or data.get("message", {}).get("ts") or "")


def _chat_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The stored message without anything that addresses it (the worker supplies those)."""
    return {k: v for k, v in payload.items() if k not in ("channel", "ts", "thread_ts")}


def _plain(payload: Mapping[str, Any]) -> dict[str, Any]:
    text = str(payload.get("text") or "")
    if len(text) > PLAIN_TEXT_LIMIT:
        text = text[: PLAIN_TEXT_LIMIT - 1] + "…"
    return {"text": text}
