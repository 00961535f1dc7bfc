"""Which builder of `bolt_app.blocks.messages` shows a record type, plus routing-rule mentions.

Mentions are added here, not by the builders, because they come from routing rules, not from
Sage: only validated user-group IDs become `<!subteam^ID>`; no Sage text can ping anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bolt_app.blocks.kit import context
from bolt_app.blocks.limits import MAX_MESSAGE_BLOCKS
from bolt_app.blocks.messages import (
    GONE_TEXT,
    SlackMessage,
    build_ap_invoice_message,
    build_gl_account_message,
    build_gl_register_message,
    build_purchase_order_message,
)
from bolt_app.blocks.text import escape, mention_text, truncate
from sage.records import APInvoice, GLAccount, GLRegister, PurchaseOrder


def record_message(
    record: APInvoice | PurchaseOrder | GLRegister | GLAccount,
    *,
    previous: object | None = None,
    record_url: str | None = None,
    mentions: Sequence[str] = (),
) -> SlackMessage:
    """The full message of one record; GL accounts show `previous` -> `record` when changed."""
    match record:
        case APInvoice():
            message = build_ap_invoice_message(record, record_url=record_url)
        case PurchaseOrder():
            message = build_purchase_order_message(record, record_url=record_url)
        case GLRegister():
            message = build_gl_register_message(record, record_url=record_url)
        case GLAccount():
            old = previous if isinstance(previous, GLAccount) else None
            message = build_gl_account_message(old, record, record_url=record_url)
    return with_mentions(with_problems(message, _problems(record)), mentions)


def _problems(record: APInvoice | PurchaseOrder | GLRegister | GLAccount) -> tuple[str, ...]:
    """What could not be read of the record, or of any line of a register."""
    if isinstance(record, GLRegister):
        return tuple(problem for line in record.lines for problem in line.problems)
    return record.problems


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


def gone_message(
    record: APInvoice | PurchaseOrder | GLRegister | GLAccount, *, record_url: str | None = None
) -> SlackMessage:
    """A record's message as last shown, marked on top as gone from Sage 100."""
    message = record_message(record, record_url=record_url)
    mark = context(f":wastebasket: *{GONE_TEXT}*")
    return replace(
        message,
        text=f"{GONE_TEXT}: {message.text}",
        blocks=(mark, *message.blocks[: MAX_MESSAGE_BLOCKS - 1]),
    )


def with_mentions(message: SlackMessage, group_ids: Sequence[str]) -> SlackMessage:
    """The user groups pinged first, in the fallback text (notifications) and on top."""
    if not group_ids:
        return message
    line = " ".join(mention_text(group) for group in group_ids)
    blocks = message.blocks
    if len(blocks) < MAX_MESSAGE_BLOCKS:
        blocks = ({"type": "section", "text": {"type": "mrkdwn", "text": line}}, *blocks)
    return replace(message, text=f"{line} {message.text}", blocks=blocks)
