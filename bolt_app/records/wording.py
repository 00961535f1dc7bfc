"""The pieces record types word their messages and Details blocks with, so they read alike.

A message's fields escape their value and show an empty one as "—"; a Details modal's fields
are given escaped values and its long lists of lines are packed and capped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bolt_app.blockkit.kit import Block, context, mrkdwn, section
from bolt_app.blockkit.limits import MAX_FIELD_TEXT, MAX_FIELDS
from bolt_app.blockkit.text import escape
from sage.records import AuditStamps

LINES_PER_SECTION = 10
MAX_LINE_SECTIONS = 60  # 600 lines shown; the header blocks take the rest of the 100


def field(label: str, value: str) -> Block:
    """A labelled field; `value` is raw Sage text or our own formatting, escaped here."""
    return mrkdwn(f"*{label}*\n{escape(value) or '—'}", MAX_FIELD_TEXT)


def fields(items: Sequence[Block]) -> Block:
    return {"type": "section", "fields": list(items[:MAX_FIELDS])}


def comment_block(comment: str) -> list[Block]:
    return [section(f"*Comment*\n{escape(comment)}")] if comment.strip() else []


def stamped_by(stamps: AuditStamps) -> tuple[str, ...]:
    """Who last changed the record, for the message's context line."""
    user = stamps.updated_by or stamps.created_by
    return (f"By {escape(user)}",) if user else ()


def packed(rows: Sequence[str], noun: str) -> list[Block]:
    """Rows packed LINES_PER_SECTION to a section, capped, with a count of what was left out."""
    blocks: list[Block] = []
    for start in range(0, len(rows), LINES_PER_SECTION):
        if len(blocks) == MAX_LINE_SECTIONS:
            shown = start
            blocks.append(context(f"…and {len(rows) - shown} more {noun}, not shown here."))
            break
        chunk = rows[start : start + LINES_PER_SECTION]
        blocks.append(section("\n".join(f"{start + i + 1}. {row}" for i, row in enumerate(chunk))))
    return blocks


def details_footer(company: str, record_key: str, stamps: AuditStamps) -> Block:
    changed = stamps.changed_at
    when = changed.isoformat(timespec="minutes") if changed else "unknown"
    who = stamps.updated_by or stamps.created_by
    return context(
        f"Company {escape(company)} · record key `{escape(record_key)}` · last changed {when}"
        + (f" by user {escape(who)}" if who else "")
    )


def quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"
