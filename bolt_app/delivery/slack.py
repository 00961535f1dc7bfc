"""The Slack side of delivery: one Web API call -> a `SlackAnswer`, never an exception.

This is the one boundary where slack_sdk and aiohttp errors are read; everything after it
(the retry policy, the worker) sees only `SlackAnswer`. The client comes from an injected
`SlackClientFactory` so tests point it at the Slack stand-in and production at slack.com.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.delivery.outbox import DeliveryKind
from bolt_app.delivery.policy import SlackAnswer

SlackClientFactory = Callable[[str], Awaitable[AsyncWebClient]]
"""team_id -> a client holding that workspace's bot token."""

PLAIN_TEXT_LIMIT = 4000


class WireStamp:
    """When the last request of a stamped block had been handed to the socket in full."""

    at: datetime | None = None


class WireClock:
    """Stamps when each request to Slack has left this process, for the channel's pacing.

    aiohttp tells a session's trace configs about a request's headers and body chunks just
    before it writes them; the stamp is taken in a callback scheduled from there, which the
    event loop runs only once the writing code has yielded, so after those bytes went to the
    socket. The requests a block makes run in its task (or a task copied from its context),
    which is how a stamp finds its block.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._current: ContextVar[WireStamp | None] = ContextVar("wire_stamp", default=None)

    @contextlib.contextmanager
    def stamping(self) -> Iterator[WireStamp]:
        """The stamp of the requests made inside the block (None if none was written)."""
        stamp = WireStamp()
        token = self._current.set(stamp)
        try:
            yield stamp
        finally:
            self._current.reset(token)

    def trace_config(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()
        config.on_request_headers_sent.append(self._written)
        config.on_request_chunk_sent.append(self._written)
        return config

    async def _written(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        stamp = self._current.get()
        if stamp is not None:
            asyncio.get_running_loop().call_soon(self._mark, stamp)

    def _mark(self, stamp: WireStamp) -> None:
        stamp.at = self._clock()


def open_session(wire: WireClock, *, timeout: float = 15) -> aiohttp.ClientSession:
    """One session for all of a process's Slack calls: connections kept open between calls
    (no TCP and TLS handshake per message), and each request's wire time stamped by `wire`.
    The caller closes it."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), trace_configs=[wire.trace_config()]
    )


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
