"""What is waiting in Sage 100, as typed groups, and the scheduled reminder message built from them.

The same `PendingGroup`s feed the App Home's "Pending in Sage 100" panel (`pending_lines` is the
text of one group in both places) and a channel's reminder (`build_reminder_message`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bolt_app.blockkit.kit import Block, context, header, section, within_text_budget
from bolt_app.blockkit.text import escape, format_date, format_money
from bolt_app.blocks.messages import SlackMessage
from bolt_app.records.description import PendingItem

REMINDER_EVENT_TYPE = "sage_reminder"
MAX_PENDING_OLDEST = 3


@dataclass(frozen=True, slots=True)
class PendingGroup:
    """Documents waiting in Sage: how many, for how much, and the oldest few."""

    title: str
    count: int
    total: Decimal
    oldest: tuple[PendingItem, ...]
    date_word: str = "since"  # how `since` reads: "since Nov 3, 2026" or "due Nov 3, 2026"


def pending_lines(group: PendingGroup) -> list[str]:
    """The group's headline, then one bullet for each of its oldest few documents."""
    lines = [f"*{escape(group.title)}*: {group.count}, {format_money(group.total)}"]
    for item in group.oldest[:MAX_PENDING_OLDEST]:
        when = format_date(item.since) if item.since else "undated"
        lines.append(
            f"• {escape(item.company)} {escape(item.label)}, {format_money(item.amount)},"
            f" {group.date_word} {when}"
        )
    return lines


def build_reminder_message(groups: Sequence[PendingGroup], *, today: date) -> SlackMessage:
    """One message: every group with something waiting; "nothing is waiting" when none has."""
    waiting = [group for group in groups if group.count]
    blocks: list[Block] = [header(f"Waiting in Sage 100 · {format_date(today)}")]
    blocks += [section("\n".join(pending_lines(group))) for group in waiting]
    if not waiting:
        blocks.append(section("Nothing is waiting."))
    blocks.append(context("From the records the connector has seen."))
    summary = "; ".join(
        f"{group.title}: {group.count}, {format_money(group.total)}" for group in waiting
    )
    text = escape(f"Waiting in Sage 100: {summary or 'nothing'}.")
    metadata = {
        "event_type": REMINDER_EVENT_TYPE,
        "event_payload": {
            "date": today.isoformat(),
            "groups": {group.title: group.count for group in waiting},
        },
    }
    return SlackMessage(text, tuple(within_text_budget(blocks)), metadata)
