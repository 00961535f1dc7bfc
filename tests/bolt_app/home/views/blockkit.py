"""Block Kit limits a view must keep, checked structurally (what Slack would reject)."""

from __future__ import annotations

from typing import Any

from slack_standin import MAX_VIEW_BLOCKS, validate_blocks


def walk_texts(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in {"plain_text", "mrkdwn"} and isinstance(node.get("text"), str):
            found.append(node)
        for value in node.values():
            found += walk_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += walk_texts(value)
    return found


def assert_within_limits(view: dict[str, Any]) -> None:
    """Our own limit checks, then the Slack stand-in's independent validator."""
    blocks = view["blocks"]
    assert validate_blocks(blocks, max_blocks=MAX_VIEW_BLOCKS) == []
    assert len(blocks) <= 100, f"{len(blocks)} blocks"
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    assert len(block_ids) == len(set(block_ids)), "duplicate block_id"
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            for item in block.get("fields", []):
                assert len(item["text"]) <= 2000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
    for text in walk_texts(view):
        assert text["text"], "empty text object"
    if view["type"] == "modal":
        assert len(view["title"]["text"]) <= 24
        assert len(view.get("private_metadata", "")) <= 3000
