"""Slack messages for Sage records: pure functions from typed records to Block Kit.

Each record type words its own message, change lines and digest row (`RecordDescription` in
its `bolt_app.records` module); these builders frame them the same way for every type:
header, buttons, context line, metadata, digests' counts and totals.

Two rules hold for everything built here. Every piece of Sage text passes through `escape`
before it reaches a text object or the fallback `text`, so a vendor named `<!channel>` or
`<https://evil|click>` pings and links nobody (and mrkdwn is `verbatim`, so Slack does not
auto-link bare URLs or #channel names in it either). Every text is cut to its Block Kit limit by
`truncate` (never inside an `&amp;` entity, ending in an ellipsis), and no message has more
than 50 blocks, so a 10,000-character comment still posts instead of failing `invalid_blocks`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from bolt_app.blockkit.kit import mrkdwn, section, within_text_budget
from bolt_app.blockkit.limits import (
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MAX_URL,
)
from bolt_app.blockkit.text import ELLIPSIS, counted, escape, format_money, truncate
from bolt_app.records.registry import describe, description_of
from sage.records import RecordType
from sage.resources import by_record_type

MAX_FALLBACK_TEXT = 3000  # notifications show a line or two; Slack's own cap is 40,000
MAX_DIGEST_ROWS = 40

DETAILS_ACTION_ID = "record_details"
OPEN_IN_SAGE_ACTION_ID = "record_open"  # a link button still sends an action the app must ack
METADATA_EVENT_TYPE = "sage_record"
DIGEST_EVENT_TYPE = "sage_digest"
CONNECTED_EVENT_TYPE = "sage_connected"

ChangeableRecord = Any  # a record of any type in `bolt_app.records.registry`


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message ready for chat.postMessage or chat.update: fallback text, blocks, metadata."""

    text: str
    blocks: tuple[dict[str, Any], ...]
    metadata: dict[str, Any] | None = None

    def as_chat_kwargs(self) -> dict[str, Any]:
        """`text`, `blocks` and `metadata` as slack_sdk takes them; the caller adds channel/ts."""
        kwargs: dict[str, Any] = {"text": self.text, "blocks": copy.deepcopy(list(self.blocks))}
        if self.metadata is not None:
            kwargs["metadata"] = copy.deepcopy(self.metadata)
        return kwargs


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Which record a Details button points at; travels as the button's JSON `value`."""

    company: str
    record_type: RecordType
    record_key: str

    def to_value(self) -> str:
        return json.dumps(
            {
                "company": self.company,
                "record_type": self.record_type.value,
                "record_key": self.record_key,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_value(cls, value: str) -> RecordRef:
        """Raises ValueError on anything but a value `to_value` made."""
        try:
            data = json.loads(value)
            return cls(
                str(data["company"]), RecordType(data["record_type"]), str(data["record_key"])
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"not a record reference: {value[:100]!r}") from error


# ---- block helpers ---------------------------------------------------------------------------


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(escape(text), limit), "emoji": True}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(text, MAX_HEADER_TEXT)}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]]}


def _record_link(record_url: str, ref: RecordRef) -> str:
    """The `record_url` template with URL-encoded placeholders; other braces are left alone."""
    values = {
        "{company}": ref.company,
        "{resource}": by_record_type(ref.record_type).path,
        "{record_key}": ref.record_key,
    }
    return re.sub(
        "|".join(re.escape(p) for p in values),
        lambda match: quote(values[match.group(0)], safe="", errors="replace"),
        record_url,
    )


def _actions(ref: RecordRef, record_url: str | None) -> list[dict[str, Any]]:
    """Details and Open in Sage buttons; a button whose value or URL would break a limit is left out."""
    buttons: list[dict[str, Any]] = []
    value = ref.to_value()
    if len(value) <= MAX_BUTTON_VALUE:
        buttons.append(
            {
                "type": "button",
                "action_id": DETAILS_ACTION_ID,
                "text": _plain("Details", MAX_BUTTON_TEXT),
                "value": value,
            }
        )
    if record_url:
        url = _record_link(record_url, ref)
        if len(url) <= MAX_URL:
            buttons.append(
                {
                    "type": "button",
                    "action_id": OPEN_IN_SAGE_ACTION_ID,
                    "text": _plain("Open in Sage", MAX_BUTTON_TEXT),
                    "url": url,
                }
            )
    return [{"type": "actions", "elements": buttons}] if buttons else []


def _record_metadata(ref: RecordRef) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "record_type": ref.record_type.value,
            "company": ref.company,
            "record_key": ref.record_key,
        },
    }


def _record_context(ref: RecordRef, *extra: str) -> dict[str, Any]:
    parts = [f"Company {escape(ref.company)}", f"Record key {escape(ref.record_key)}", *extra]
    return _context("  ·  ".join(parts))


def _message(
    text: str, blocks: Sequence[dict[str, Any]], metadata: dict[str, Any] | None
) -> SlackMessage:
    """Every builder makes a bounded number of blocks (a digest at most MAX_DIGEST_ROWS rows),
    and their text is held to Slack's total for one message."""
    assert len(blocks) <= MAX_MESSAGE_BLOCKS, len(blocks)
    return SlackMessage(
        truncate(text, MAX_FALLBACK_TEXT), tuple(within_text_budget(blocks)), metadata
    )


# ---- changes ---------------------------------------------------------------------------------


def describe_change(old: ChangeableRecord, new: ChangeableRecord) -> str:
    """One line a person reads in the thread: "Posted", "Status: New → Open", ... (unescaped)."""
    if type(old) is not type(new):
        raise TypeError(f"cannot compare a {type(old).__name__} with a {type(new).__name__}")
    changes = description_of(new).change_lines(old, new)
    return "; ".join(changes) or "Details updated"


def _ref_of(record: ChangeableRecord) -> RecordRef:
    description = description_of(record)
    return RecordRef(record.company, description.record_type, description.record_key(record))


def build_change_reply(old: ChangeableRecord, new: ChangeableRecord) -> SlackMessage:
    """The one-line thread reply under the original message when a record changes."""
    line = escape(describe_change(old, new))
    return _message(line, [section(line)], _record_metadata(_ref_of(new)))


# ---- one record ------------------------------------------------------------------------------


def build_record_message(
    record: ChangeableRecord, *, previous: object | None = None, record_url: str | None = None
) -> SlackMessage:
    """The full message of one record, as its type words it under a header, with its buttons
    and context line; types that word a change themselves (GL accounts) show `previous` ->
    `record`."""
    ref = _ref_of(record)
    wording = description_of(record).message(record, previous)
    blocks = [
        _header(wording.title),
        *wording.body,
        *_actions(ref, record_url),
        _record_context(ref, *wording.context),
    ]
    return _message(escape(wording.text), blocks, _record_metadata(ref))


GONE_TEXT = "No longer in Sage 100"


def build_gone_reply(record: ChangeableRecord) -> SlackMessage:
    """The thread reply when a reconcile finds a record deleted or purged in Sage 100."""
    line = f"{GONE_TEXT}: deleted or purged (history, purge) since this was posted."
    return _message(line, [section(escape(line))], _record_metadata(_ref_of(record)))


# ---- digest and connection -------------------------------------------------------------------


def digest_row(record: ChangeableRecord) -> str:
    """One record's line in a digest."""
    return description_of(record).digest_row(record)


@dataclass(frozen=True, slots=True)
class DigestSummary:
    """What a digest says of a burst, kept as the burst streams past: how many, their total, the
    first `MAX_DIGEST_ROWS` rows and, for changes, each first row's change and the one change
    every record had (None when they differ)."""

    company: str
    count: int
    total: Decimal | None
    rows: tuple[str, ...]
    changes: tuple[str, ...] = ()
    same_change: str | None = None


def summarize(
    record_type: RecordType,
    records: Sequence[ChangeableRecord],
    changes: Sequence[str] | None = None,
    summary: DigestSummary | None = None,
) -> DigestSummary:
    """`summary` (a new one when None) with `records` added, each with its `describe_change`
    when the burst is of changes."""
    if summary is None:
        if not records:
            raise ValueError("a digest needs at least one record")
        summary = DigestSummary(
            records[0].company, 0, None, (), (), changes[0] if changes else None
        )
    amount = describe(record_type).amount
    total = summary.total
    if amount is not None:
        total = sum((amount(record) for record in records), total or Decimal(0))
    room = max(0, MAX_DIGEST_ROWS - len(summary.rows))
    same = summary.same_change
    if changes and same is not None and any(change != same for change in changes):
        same = None
    return DigestSummary(
        company=summary.company,
        count=summary.count + len(records),
        total=total,
        rows=(*summary.rows, *(digest_row(record) for record in records[:room])),
        changes=(*summary.changes, *(changes or ())[:room]),
        same_change=same,
    )


def _pack_rows(rows: Sequence[str], row_limit: int = 300) -> list[dict[str, Any]]:
    """Rows into as few sections as the 3000-character limit allows."""
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    for row in (truncate(r, row_limit) for r in rows):
        if current and len("\n".join([*current, row])) > MAX_SECTION_TEXT:
            sections.append(section("\n".join(current)))
            current = []
        current.append(row)
    if current:
        sections.append(section("\n".join(current)))
    return sections


def build_digest_message(
    record_type: RecordType, summary: DigestSummary, limit: int = 10
) -> SlackMessage:
    """One message for a burst: count, total, the first `limit` rows, where to find the rest."""
    description = describe(record_type)
    singular, plural = description.noun, description.plural
    count = counted(summary.count, f"new {singular}", f"new {plural}")
    return _digest(record_type, summary, count, summary.rows[: max(0, limit)])


# A bulk action in Sage that changed every record the same way, said as one verb.
_BULK_VERBS = {
    "Posted": "posted",
    "Paid": "paid",
    "Put on hold": "put on hold",
    "Hold released": "released from hold",
}


def build_change_digest_message(
    record_type: RecordType,
    summary: DigestSummary,
    *,
    left_as_posted: int = 0,
    limit: int = 10,
) -> SlackMessage:
    """One message for a burst of changes (`summarize` with each change): "312 AP invoices
    posted", their total, the first `limit` rows. `left_as_posted` earlier messages were not
    updated to save Slack calls; the digest says so, so nobody trusts their old state."""
    description = describe(record_type)
    singular, plural = description.noun, description.plural
    verb = _BULK_VERBS.get(summary.same_change or "")
    count = counted(
        summary.count, f"{singular} {verb or 'changed'}", f"{plural} {verb or 'changed'}"
    )
    rows = [
        row + ("" if verb else f": {escape(change)}")
        for row, change in zip(summary.rows[: max(0, limit)], summary.changes, strict=False)
    ]
    note = None
    if left_as_posted:
        note = (
            f"{counted(left_as_posted, 'earlier message', 'earlier messages')} about these "
            f"{'was' if left_as_posted == 1 else 'were'} not updated and still "
            f"{'shows' if left_as_posted == 1 else 'show'} the state before this change."
        )
    return _digest(record_type, summary, count, rows, note, changed=True)


def _digest(
    record_type: RecordType,
    summary: DigestSummary,
    count: str,
    rows: Sequence[str],
    note: str | None = None,
    *,
    changed: bool = False,
) -> SlackMessage:
    if not summary.count:
        raise ValueError("a digest needs at least one record")
    company = summary.company
    shown = rows[:MAX_DIGEST_ROWS]
    description = describe(record_type)
    total = summary.total
    summary_line = f"*{count}* in company {escape(company)}"
    if total is not None:
        summary_line += f", {description.amount_label} *{format_money(total)}*"
    blocks = [_header(count), section(summary_line), *_pack_rows(shown)]
    rest = summary.count - len(shown)
    if rest:
        blocks.append(
            _context(
                f"{ELLIPSIS}and {rest} more not listed here: find them in Sage 100, "
                f"company {escape(company)}."
            )
        )
    if note:
        blocks.append(_context(escape(note)))
    text = escape(f"{count} in company {company}") + (
        f", total {format_money(total)}" if total is not None else ""
    )
    metadata = {
        "event_type": DIGEST_EVENT_TYPE,
        "event_payload": {
            "record_type": record_type.value,
            "company": company,
            "count": summary.count,
            "changed": changed,
        },
    }
    return _message(text, blocks, metadata)


def build_connected_message(company: str, record_type: RecordType) -> SlackMessage:
    """The one short note a channel gets when polling starts, instead of a flood of history."""
    plural = describe(record_type).plural
    line = (
        f"Connected to Sage 100 company *{escape(company)}*. New and changed {plural} "
        f"will be posted here as they happen."
    )
    metadata = {
        "event_type": CONNECTED_EVENT_TYPE,
        "event_payload": {"record_type": record_type.value, "company": company},
    }
    text = escape(f"Connected to Sage 100 company {company}: {plural} will be posted here.")
    return _message(text, [section(line)], metadata)


# ---- reading a message outside Slack ---------------------------------------------------------


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _readable(text_object: Mapping[str, Any]) -> str:
    text = _unescape(str(text_object.get("text", "")))
    if text_object.get("type") == "mrkdwn":
        return text.replace("*", "").replace("`", "")
    return text


def render_text(message: SlackMessage) -> str:
    """The message as a person reads it, for the terminal demo and logs."""
    lines: list[str] = []
    for block in message.blocks:
        kind = block["type"]
        if kind == "header":
            title = _readable(block["text"])
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if "text" in block:
                lines.append(_readable(block["text"]))
            for item in block.get("fields", ()):
                label, _, value = _readable(item).partition("\n")
                lines.append(f"{label}: {value}" if value else label)
        elif kind == "context":
            lines.append("  ".join(_readable(e) for e in block["elements"] if "text" in e))
        elif kind == "actions":
            buttons = [
                f"[{_readable(b['text'])}{' ' + b['url'] if 'url' in b else ''}]"
                for b in block["elements"]
            ]
            lines.append("  ".join(buttons))
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines) if lines else _unescape(message.text)


def block_kit_builder_url(message: SlackMessage) -> str:
    """A link that opens the blocks in Slack's Block Kit Builder, for a look at the real layout."""
    payload = json.dumps({"blocks": list(message.blocks)}, separators=(",", ":"))
    return "https://app.slack.com/block-kit-builder/#" + quote(payload, safe="")
