"""Block Kit as Slack checks it: `invalid_blocks` reasons for messages and views.

Slack's documented limits are kept here independently of the message builders, so the stand-in
is an oracle for them rather than an echo.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MARKDOWN_BLOCK_TEXT = 12_000
# Slack refuses a message whose blocks' text adds up past about 12,000 characters with
# `msg_blocks_too_long` (its cutoff is undocumented and counts block containers too, so the
# stand-in holds the documented 12,000 characters of text).
MAX_BLOCKS_TEXT = 12_000


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Slack's `invalid_blocks` reasons for a payload, as `[ERROR] ... [json-pointer:...]` lines."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        errors.extend(_block_errors(block, f"/blocks/{index}"))
    return errors


def blocks_text_length(blocks: Any) -> int:
    """The characters of every text object's text in `blocks`, nested ones included."""
    if isinstance(blocks, dict):
        own = blocks.get("text") if blocks.get("type") in ("plain_text", "mrkdwn") else None
        nested = sum(blocks_text_length(value) for value in blocks.values())
        return nested + (len(own) if isinstance(own, str) else 0)
    if isinstance(blocks, list | tuple):
        return sum(blocks_text_length(value) for value in blocks)
    return 0


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _text_errors(
    obj: Any, pointer: str, limit: int, *, plain_only: bool = False, required: bool = True
) -> list[str]:
    if obj is None:
        return [_err("missing required field: text", pointer)] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [_err("must be a text object", pointer)]
    if plain_only and obj["type"] != "plain_text":
        return [_err("must be a plain_text object", pointer)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", f"{pointer}/text")]
    if len(text) > limit:
        return [_err(f"must be less than {limit + 1} characters", f"{pointer}/text")]
    return []


def _str_errors(value: Any, pointer: str, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str) or len(value) > limit:
        return [_err(f"must be a string of at most {limit} characters", pointer)]
    return []


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [_err("must be an element object", pointer)]
    errors = _str_errors(element.get("action_id"), f"{pointer}/action_id", MAX_ID)
    if element["type"] == "button":
        errors += _text_errors(
            element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_only=True
        )
        errors += _str_errors(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE)
        errors += _str_errors(element.get("url"), f"{pointer}/url", MAX_URL)
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(_err("must be primary or danger", f"{pointer}/style"))
    elif element["type"] == "image":
        errors += _str_errors(element.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if not element.get("alt_text"):
            errors.append(_err("missing required field: alt_text", pointer))
    return errors


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [_err("must be an object", pointer)]
    errors = _str_errors(block.get("block_id"), f"{pointer}/block_id", MAX_ID)
    kind = block.get("type")
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            errors.append(_err("must provide either text or fields", pointer))
        errors += _text_errors(text, f"{pointer}/text", MAX_SECTION_TEXT, required=False)
        if fields is not None:
            if not isinstance(fields, list) or not fields or len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    _err(f"must have 1 to {MAX_SECTION_FIELDS} items", f"{pointer}/fields")
                )
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
        if block.get("accessory") is not None:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        errors += _text_errors(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True
        )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
            return errors + [
                _err(f"must have 1 to {MAX_CONTEXT_ELEMENTS} items", f"{pointer}/elements")
            ]
        for i, element in enumerate(elements):
            sub = f"{pointer}/elements/{i}"
            if isinstance(element, dict) and element.get("type") == "image":
                errors += _element_errors(element, sub)
            else:
                errors += _text_errors(element, sub, MAX_SECTION_TEXT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            return errors + [
                _err(f"must have 1 to {MAX_ACTIONS_ELEMENTS} items", f"{pointer}/elements")
            ]
        for i, element in enumerate(elements):
            errors += _element_errors(element, f"{pointer}/elements/{i}")
    elif kind == "image":
        errors += _str_errors(block.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if not block.get("alt_text"):
            errors.append(_err("missing required field: alt_text", pointer))
    elif kind == "input":
        errors += _text_errors(
            block.get("label"), f"{pointer}/label", MAX_FIELD_TEXT, plain_only=True
        )
        errors += _element_errors(block.get("element"), f"{pointer}/element")
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text or len(text) > MAX_MARKDOWN_BLOCK_TEXT:
            errors.append(_err("must be 1 to 12000 characters", f"{pointer}/text"))
    elif kind == "rich_text":
        if not isinstance(block.get("elements"), list):
            errors.append(_err("must be an array", f"{pointer}/elements"))
    elif kind != "divider":
        errors.append(_err(f"unsupported block type {kind!r}", f"{pointer}/type"))
    return errors


def view_errors(view: Any) -> list[str]:
    """The reasons views.publish/open/push/update answer `invalid_arguments` for a view."""
    if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
        return ["[ERROR] must be a view of type home or modal [json-pointer:/view/type]"]
    errors = validate_blocks(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
    errors += _str_errors(
        view.get("private_metadata"), "/view/private_metadata", MAX_PRIVATE_METADATA
    )
    errors += _str_errors(view.get("callback_id"), "/view/callback_id", MAX_ID)
    errors += _str_errors(view.get("external_id"), "/view/external_id", MAX_ID)
    if view["type"] == "modal":
        errors += _text_errors(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            errors += _text_errors(
                view.get(key), f"/view/{key}", MAX_VIEW_TITLE, plain_only=True, required=False
            )
    return errors
