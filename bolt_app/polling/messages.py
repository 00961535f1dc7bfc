"""A record's message as a channel gets it: what did not read, and routing-rule mentions.

Mentions are added here, not by the builders, because they come from routing rules, not from
Sage: only validated user-group IDs become `<!subteam^ID>`; no Sage text can ping anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bolt_app.blockkit.kit import context
from bolt_app.blockkit.limits import MAX_MESSAGE_BLOCKS
from bolt_app.blockkit.text import escape, truncate
from bolt_app.blocks.messages import GONE_TEXT, SlackMessage, build_record_message
from bolt_app.records.registry import description_of
from bolt_app.workspace.values import USER_GROUP_ID


def record_message(
    record: object,
    *,
    previous: object | None = None,
    record_url: str | None = None,
    mentions: Sequence[str] = (),
) -> SlackMessage:
    """The full message of one record, with what did not read and the rules' mentions."""
    message = build_record_message(record, previous=previous, record_url=record_url)
    problems = description_of(record).problems(record)
    return with_mentions(with_problems(message, problems), mentions)


def with_problems(message: SlackMessage, problems: Sequence[str]) -> SlackMessage:
    """Fields read as received but not as they should be, said under the record, so nobody
    takes a broken value for Sage's own."""
    if not problems:
        return message
    line = truncate("Some fields could not be read: " + "; ".join(problems) + ".", 2900)
    blocks = message.blocks
    if len(blocks) < MAX_MESSAGE_BLOCKS:
        blocks = (*blocks, context(f":warning: {escape(line)}"))
    return replace(message, blocks=blocks)


def gone_message(record: object, *, record_url: str | None = None) -> SlackMessage:
    """A record's message as last shown, marked on top as gone from Sage 100."""
    message = record_message(record, record_url=record_url)
    mark = context(f":wastebasket: *{GONE_TEXT}*")
    return replace(
        message,
        text=f"{GONE_TEXT}: {message.text}",
        blocks=(mark, *message.blocks[: MAX_MESSAGE_BLOCKS - 1]),
    )


def mention_text(group_id: str) -> str:
    """Slack's user-group mention; the ID was validated when the rule was parsed."""
    if not USER_GROUP_ID.match(group_id):
        raise ValueError(f"not a user group ID: {group_id!r}")
    return f"<!subteam^{group_id}>"


def with_mentions(message: SlackMessage, group_ids: Sequence[str]) -> SlackMessage:
    """The user groups pinged first, in the fallback text (notifications) and on top."""
    if not group_ids:
        return message
    line = " ".join(mention_text(group) for group in group_ids)
    blocks = message.blocks
    if len(blocks) < MAX_MESSAGE_BLOCKS:
        blocks = ({"type": "section", "text": {"type": "mrkdwn", "text": line}}, *blocks)
    return replace(message, text=f"{line} {message.text}", blocks=blocks)
