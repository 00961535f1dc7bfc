"""Small Block Kit element constructors and Slack's length limits, shared by every builder.

Record types are named by their description's `label` (`bolt_app.records.registry.describe`),
as /sage-status names them; Sage text is escaped, cut and formatted with `bolt_app.blockkit.text`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from bolt_app.blockkit.limits import (
    MAX_BUTTON_TEXT,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS_TEXT,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
)
from bolt_app.blockkit.text import ELLIPSIS, truncate

Block = dict[str, Any]


def text_length(blocks: Any) -> int:
    """The characters of every text object in `blocks`: Slack refuses a message whose blocks
    add up past `limits.MAX_MESSAGE_BLOCKS_TEXT` (`msg_blocks_too_long`)."""
    if isinstance(blocks, dict):
        own = blocks.get("text") if blocks.get("type") in ("plain_text", "mrkdwn") else None
        nested = sum(text_length(value) for value in blocks.values())
        return nested + (len(own) if isinstance(own, str) else 0)
    if isinstance(blocks, list | tuple):
        return sum(text_length(value) for value in blocks)
    return 0


def within_text_budget(
    blocks: Sequence[Block], budget: int = MAX_MESSAGE_BLOCKS_TEXT
) -> list[Block]:
    """A copy of `blocks` whose text adds up to at most `budget` characters.

    Only the longest texts are cut, all to one common length (with an ellipsis, never inside an
    entity), so a few huge Sage fields cannot push a message past Slack's total while every
    short field, label and button stays whole.
    """
    if text_length(blocks) <= budget:
        return list(blocks)  # the common case: no copy on the poll's hot path
    blocks = copy.deepcopy(list(blocks))
    texts = list(_text_objects(blocks))
    lengths = sorted(len(text["text"]) for text in texts)
    remaining, cap = budget, 0
    for position, length in enumerate(lengths):
        left = len(lengths) - position
        if length * left > remaining:
            cap = remaining // left
            break
        remaining -= length
    for text in texts:
        if len(text["text"]) > cap:
            text["text"] = truncate(text["text"], max(cap, len(ELLIPSIS)))
    return blocks


def _text_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") in ("plain_text", "mrkdwn") and isinstance(value.get("text"), str):
            yield value
        for nested in value.values():
            yield from _text_objects(nested)
    elif isinstance(value, list | tuple):
        for nested in value:
            yield from _text_objects(nested)


def plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """`verbatim`: Slack links no bare URL or #channel in Sage text; explicit `<...>` still work."""
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER_TEXT)}


def section(
    text: str, accessory: dict[str, Any] | None = None, block_id: str | None = None
) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = block_id
    return block


def fields_section(fields: list[tuple[str, str]]) -> Block:
    """A two-column section; Slack allows ten fields of 2000 characters each."""
    return {
        "type": "section",
        "fields": [
            mrkdwn(f"*{label}*\n{value}", MAX_FIELD_TEXT) for label, value in fields[:MAX_FIELDS]
        ],
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, value: str | None = None, style: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style is not None:
        element["style"] = style
    return element


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = True
) -> Block:
    """A modal input whose element answers under the same id, as `view.state.values` keys it."""
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": {**element, "action_id": block_id},
    }


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MAX_VIEW_TITLE),
        "close": plain(close, MAX_VIEW_TITLE),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
        "private_metadata": private_metadata,
    }
    if submit is not None:
        view["submit"] = plain(submit, MAX_VIEW_TITLE)
    return view


def slack_date(moment: datetime | None, missing: str = "never") -> str:
    """A Slack date token: each reader sees the moment in their own time zone."""
    if moment is None:
        return missing
    epoch = int(moment.timestamp())
    fallback = moment.isoformat(timespec="minutes")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"
