"""conversations.join and conversations.info: channels as the token's user sees them."""

from __future__ import annotations

from typing import Any

from slack_standin.outcome import Outcome, missing_scope
from slack_standin.state import Channel, SlackState, Token


def join(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    refused = missing_scope(token, "channels:join")
    if refused is not None:
        return refused
    channel = state.find_channel(token, params.get("channel"))
    if channel is None:
        return Outcome.fail("channel_not_found")
    if channel.is_private:
        return Outcome.fail("method_not_supported_for_channel_type")
    if channel.is_archived:
        return Outcome.fail("is_archived")
    extra: dict[str, Any] = {}
    if token.user_id in channel.members:
        extra = {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.add(token.user_id)
    return Outcome({"channel": _channel_body(channel, token), **extra})


def info(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    channel = state.find_channel(token, params.get("channel"))
    if channel is None:
        return Outcome.fail("channel_not_found")
    refused = missing_scope(token, "groups:read" if channel.is_private else "channels:read")
    if refused is not None:
        return refused
    return Outcome({"channel": _channel_body(channel, token)})


def _channel_body(channel: Channel, token: Token) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_private": channel.is_private,
        "is_archived": channel.is_archived,
        "is_general": False,
        "is_member": token.user_id in channel.members,
        "created": channel.created,
        "context_team_id": channel.team_id,
    }
