"""Signed Slack requests dispatched through a real Bolt AsyncApp, as Slack would send them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from itertools import count
from typing import Any
from urllib.parse import quote

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "home-tests-signing-secret"
_ids = count(1)


async def dispatch(app: AsyncApp, payload: dict[str, Any]) -> BoltResponse:
    """Events go as JSON, interactions as a form field `payload`, both signed like Slack."""
    if payload.get("type") == "event_callback":
        body, content_type = json.dumps(payload), "application/json"
    else:
        body = "payload=" + quote(json.dumps(payload))
        content_type = "application/x-www-form-urlencoded"
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    headers = {
        "content-type": [content_type],
        "x-slack-request-timestamp": [timestamp],
        "x-slack-signature": [signature],
    }
    return await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))


def home_opened(team_id: str, user_id: str) -> dict[str, Any]:
    n = next(_ids)
    return {
        "type": "event_callback",
        "team_id": team_id,
        "api_app_id": "A0HOME001",
        "event_id": f"Ev{n:08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0HOME001",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }


def block_action(
    team_id: str,
    user_id: str,
    action: dict[str, Any],
    *,
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "standin"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0HOME001",
        "trigger_id": f"{next(_ids)}.1.trigger",
        "actions": [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}],
    }
    if view is not None:
        payload["view"] = view
    if message is not None:
        payload["message"] = message
        payload["channel"] = {"id": message.get("channel", "C0PO00001")}
        payload["container"] = {"type": "message", "message_ts": message.get("ts", "1.000")}
    return payload


def view_submission(
    team_id: str, user_id: str, callback_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "standin"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0HOME001",
        "trigger_id": f"{next(_ids)}.1.trigger",
        "view": {
            "id": f"V{next(_ids):08d}",
            "type": "modal",
            "callback_id": callback_id,
            "team_id": team_id,
            "state": {"values": values},
        },
    }


def text_values(**fields: str) -> dict[str, Any]:
    """`state.values` for plain text inputs whose block id and action id are the field name."""
    return {
        name: {name: {"type": "plain_text_input", "value": value}} for name, value in fields.items()
    }


WAIT_LIMIT = 10.0  # a hung listener fails the test instead of hanging the suite


async def until(condition: Callable[[], Any]) -> Any:
    """Work after ack() runs in a background task; wait for what it leaves behind."""
    async with asyncio.timeout(WAIT_LIMIT):
        while not (result := condition()):  # noqa: ASYNC110 (the stand-in has no event to await)
            await asyncio.sleep(0.01)
    return result
