"""The Slack half of `ml-connector check`: the token, the workspace's state, each mapped channel.

Lines, in order: whether polling is paused (and why), whether the bot token works and belongs
to this workspace (auth.test), then for each routed channel whether the app can post there
(conversations.info). Slack problems never raise; each becomes a failed line saying what to do.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.errors import MLConnectorError
from sage.check import CheckResult
from sage.records import RecordType

TOKEN = "Slack token"
WORKSPACE = "Slack workspace"

_TOKEN_ADVICE = {
    "invalid_auth": "Slack does not know this token; reinstall the app or fix the bot token",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked (app uninstalled?); reinstall the app",
    "token_expired": "the rotating token expired and was not refreshed; reinstall the app",
    "account_inactive": "the workspace or the bot user was deactivated",
}
_CHANNEL_ADVICE = {
    "channel_not_found": "not found: a wrong ID, or a private channel the app was not invited "
    "to (/invite the app there)",
    "missing_scope": "the app lacks channels:read/groups:read; reinstall it from manifest.yml",
}


async def check_slack(
    client_for_token: Callable[[str], AsyncWebClient],
    token_for_team: Callable[[str], Awaitable[str]],
    *,
    team_id: str,
    channels: Mapping[RecordType, str],
    paused_reason: str | None,
    paused: bool,
) -> list[CheckResult]:
    results = [
        CheckResult(WORKSPACE, False, f"polling is paused ({paused_reason or 'no reason given'})")
        if paused
        else CheckResult(WORKSPACE, True, "polling is active")
    ]
    try:
        token = await token_for_team(team_id)
    except MLConnectorError as error:
        results.append(CheckResult(TOKEN, False, str(error)))
        return results + _not_tried(channels, "there is no usable token")
    client = client_for_token(token)
    try:
        identity = await client.auth_test()
    except SlackApiError as error:
        reason = error.response.get("error", "unknown_error")
        results.append(CheckResult(TOKEN, False, f"{reason}: {_TOKEN_ADVICE.get(reason, reason)}"))
        return results + _not_tried(channels, "the token failed")
    except (aiohttp.ClientError, TimeoutError) as error:
        results.append(CheckResult(TOKEN, False, _unreachable(client, error)))
        return results + _not_tried(channels, "Slack cannot be reached")
    if identity.get("team_id") != team_id:
        results.append(
            CheckResult(
                TOKEN,
                False,
                f"the token belongs to workspace {identity.get('team_id')}, not {team_id}",
            )
        )
        return results + _not_tried(channels, "the token is for another workspace")
    results.append(
        CheckResult(
            TOKEN, True, f"bot {identity.get('user')} in {identity.get('team')} ({team_id})"
        )
    )
    for record_type, channel_id in _in_order(channels):
        results.append(await _check_channel(client, record_type, channel_id))
    return results


async def _check_channel(
    client: AsyncWebClient, record_type: RecordType, channel_id: str
) -> CheckResult:
    name = f"Slack channel for {record_type} ({channel_id})"
    try:
        channel = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        reason = error.response.get("error", "unknown_error")
        return CheckResult(name, False, _CHANNEL_ADVICE.get(reason, reason))
    except (aiohttp.ClientError, TimeoutError) as error:
        return CheckResult(name, False, _unreachable(client, error))
    label = f"#{channel.get('name', channel_id)}"
    if channel.get("is_archived"):
        return CheckResult(name, False, f"{label} is archived; route {record_type} elsewhere")
    if channel.get("is_private") and not channel.get("is_member"):
        return CheckResult(name, False, f"{label} is private; /invite the app there")
    how = "the app is a member" if channel.get("is_member") else "public, posted to without joining"
    return CheckResult(name, True, f"{label}: {how}")


def _unreachable(client: AsyncWebClient, error: Exception) -> str:
    """Why Slack could not be reached, in one sentence (never the aiohttp exception's repr)."""
    host = urlsplit(client.base_url).hostname or client.base_url
    fix = "check the network, a proxy, or SLACK_API_URL"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"Slack cannot be reached: the host name {host} does not resolve; {fix}"
    if isinstance(error, aiohttp.ClientConnectorError):
        code = error.os_error.errno
        reason = os.strerror(code).lower() if code else "the connection failed"
        return f"Slack cannot be reached at {host} port {error.port}: {reason}; {fix}"
    if isinstance(error, TimeoutError):
        return f"Slack did not answer within {client.timeout} seconds; {fix}"
    return f"Slack cannot be reached at {host}: {error or type(error).__name__}; {fix}"


def _not_tried(channels: Mapping[RecordType, str], because: str) -> list[CheckResult]:
    return [
        CheckResult(
            f"Slack channel for {record_type} ({channel_id})", False, f"not tried: {because}"
        )
        for record_type, channel_id in _in_order(channels)
    ]


def _in_order(channels: Mapping[RecordType, str]) -> list[tuple[RecordType, str]]:
    return [
        (record_type, channels[record_type])
        for record_type in RecordType
        if record_type in channels
    ]
