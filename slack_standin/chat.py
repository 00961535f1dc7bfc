"""chat.postMessage, chat.update and chat.postEphemeral, with Slack's checks and error names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slack_standin.blockkit import (
    MAX_BLOCKS_TEXT,
    MAX_MESSAGE_TEXT,
    blocks_text_length,
    validate_blocks,
)
from slack_standin.outcome import Outcome, missing_scope
from slack_standin.state import Channel, EphemeralMessage, SlackState, StoredMessage, Token


def post_message(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    channel = _checked_post(state, params, token)
    if isinstance(channel, Outcome):
        return channel
    thread_ts = params.get("thread_ts") or None
    if thread_ts is not None:
        parent = _stored(state, channel.id, str(thread_ts))
        if parent is None:
            return Outcome.fail("thread_not_found")
        thread_ts = parent.thread_ts or parent.ts  # a reply to a reply joins the thread
    blocks = params.get("blocks") or []
    message = StoredMessage(
        channel=channel.id,
        ts=state.next_ts(),
        text=str(params.get("text") or ""),
        blocks=tuple(blocks),
        metadata=params.get("metadata"),
        thread_ts=thread_ts,
        user=token.user_id,
        edits=0,
    )
    state.messages.setdefault(channel.id, []).append(message)
    return Outcome(
        {
            "channel": channel.id,
            "ts": message.ts,
            "message": _message_body(state, message, token.team_id),
        }
    )


def update(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    refused = missing_scope(token, "chat:write")
    if refused is not None:
        return refused
    channel = state.find_channel(token, params.get("channel"))
    if channel is None:
        return Outcome.fail("channel_not_found")
    current = _stored(state, channel.id, str(params.get("ts", "")))
    if current is None:
        return Outcome.fail("message_not_found")
    if current.user != token.user_id:
        return Outcome.fail("cant_update_message")
    if channel.is_archived:
        return Outcome.fail("is_archived")
    text = params.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return Outcome.fail("msg_too_long")
    if params.get("blocks") is not None:
        errors = validate_blocks(params["blocks"])
        if errors:
            return Outcome.fail(
                "invalid_blocks", errors=errors, response_metadata={"messages": errors}
            )
    updated = replace(
        current,
        text=str(text) if text is not None else current.text,
        blocks=tuple(params["blocks"]) if params.get("blocks") is not None else current.blocks,
        metadata=params.get("metadata", current.metadata),
        edits=current.edits + 1,
    )
    messages = state.messages[channel.id]
    messages[messages.index(current)] = updated
    return Outcome(
        {
            "channel": channel.id,
            "ts": updated.ts,
            "text": updated.text,
            "message": _message_body(state, updated, token.team_id),
        }
    )


def post_ephemeral(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    channel = _checked_post(state, params, token)
    if isinstance(channel, Outcome):
        return channel
    user = str(params.get("user", ""))
    if user not in state.users:
        return Outcome.fail("user_not_found")
    if user not in channel.members:
        return Outcome.fail("user_not_in_channel")
    message_ts = state.next_ts()
    state.ephemeral.append(
        EphemeralMessage(
            channel.id,
            user,
            str(params.get("text") or ""),
            tuple(params.get("blocks") or ()),
            message_ts,
        )
    )
    return Outcome({"message_ts": message_ts})


def _checked_post(state: SlackState, params: Mapping[str, Any], token: Token) -> Channel | Outcome:
    """Where a post or an ephemeral goes, or Slack's refusal: scope, then channel, then content."""
    refused = missing_scope(token, "chat:write")
    channel = _postable_channel(state, params, token) if refused is None else refused
    if isinstance(channel, Outcome):
        return channel
    refused = _content_error(params)
    return channel if refused is None else refused


def _content_error(params: Mapping[str, Any]) -> Outcome | None:
    text, blocks = params.get("text"), params.get("blocks")
    if not text and not blocks and not params.get("attachments"):
        return Outcome.fail("no_text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return Outcome.fail("msg_too_long")
    if blocks is not None:
        errors = validate_blocks(blocks)
        if errors:
            return Outcome.fail(
                "invalid_blocks", errors=errors, response_metadata={"messages": errors}
            )
        if blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
            return Outcome.fail("msg_blocks_too_long")
    metadata = params.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload"), dict)
    ):
        return Outcome.fail("invalid_metadata_format")
    return None


def _postable_channel(
    state: SlackState, params: Mapping[str, Any], token: Token
) -> Channel | Outcome:
    channel = state.find_channel(token, params.get("channel"))
    if channel is None:
        return Outcome.fail("channel_not_found")
    if channel.is_archived:
        return Outcome.fail("is_archived")
    if token.user_id not in channel.members and (
        channel.is_private or "chat:write.public" not in token.scopes
    ):
        return Outcome.fail("not_in_channel")
    return channel


def _stored(state: SlackState, channel_id: str, ts: str) -> StoredMessage | None:
    return next((m for m in state.messages.get(channel_id, ()) if m.ts == ts), None)


def _message_body(state: SlackState, message: StoredMessage, team_id: str) -> dict[str, Any]:
    workspace = state.workspaces[team_id]
    body: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "bot_id": workspace.bot_id,
        "app_id": state.app_id,
        "text": message.text,
        "blocks": list(message.blocks),
        "ts": message.ts,
        "team": team_id,
    }
    if message.thread_ts:
        body["thread_ts"] = message.thread_ts
    if message.metadata is not None:
        body["metadata"] = message.metadata
    return body
