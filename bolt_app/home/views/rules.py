"""The routing rules modal: every rule with a Remove button, and a form to add one.

The Home shows only a summary of the rules; this modal lists them all (capped so that the
list and the form stay within a modal's 100 blocks) and adds one rule per submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bolt_app.blockkit.kit import (
    Block,
    button,
    context,
    divider,
    input_block,
    modal,
    plain,
    section,
)
from bolt_app.home.views.home import describe_rule
from bolt_app.records.registry import describe
from bolt_app.workspace.rules import RoutingRule
from sage.records import RecordType

RULES_CALLBACK_ID = "home_rules"
ACTION_REMOVE_RULE = "remove_rule"
MAX_RULES_LISTED = 85  # + header, divider, five inputs and two notes <= 100 blocks

RULE_RECORD_TYPE = "rule_record_type"
RULE_CHANNEL = "rule_channel"
RULE_WAREHOUSE = "rule_warehouse"
RULE_MIN_AMOUNT = "rule_min_amount"
RULE_MENTION = "rule_mention"
# The workspace file's field names, so a rule parses exactly as `[[rules]]` does.
RULE_FIELDS = {
    RULE_RECORD_TYPE: "record_type",
    RULE_CHANNEL: "channel",
    RULE_WAREHOUSE: "warehouse",
    RULE_MIN_AMOUNT: "min_amount",
    RULE_MENTION: "mention",
}


def build_rules_modal(rules: Sequence[RoutingRule]) -> dict[str, Any]:
    blocks: list[Block] = []
    for position, rule in enumerate(rules[:MAX_RULES_LISTED]):
        blocks.append(
            section(
                f"{position + 1}. {describe_rule(rule)}",
                accessory=button("Remove", ACTION_REMOVE_RULE, str(position), style="danger"),
            )
        )
    if len(rules) > MAX_RULES_LISTED:
        blocks.append(
            context(
                f"…and {len(rules) - MAX_RULES_LISTED} more, kept as they are; remove some to see them."
            )
        )
    if not rules:
        blocks.append(section("No routing rules yet."))
    blocks += [
        divider(),
        section("*Add a rule*: records that match also go to the channel, or mention a group."),
        input_block(
            RULE_RECORD_TYPE,
            "Record type",
            {
                "type": "static_select",
                "options": [
                    {"text": plain(describe(rt).label), "value": rt.value} for rt in RecordType
                ],
            },
        ),
        input_block(RULE_CHANNEL, "Also post to", {"type": "conversations_select"}),
        input_block(RULE_WAREHOUSE, "Warehouse (purchase orders)", {"type": "plain_text_input"}),
        input_block(RULE_MIN_AMOUNT, "Minimum amount", {"type": "plain_text_input"}),
        input_block(RULE_MENTION, "Mention user group ID (S…)", {"type": "plain_text_input"}),
    ]
    return modal(
        "Routing rules", blocks, callback_id=RULES_CALLBACK_ID, submit="Add rule", close="Done"
    )


def read_rule_form(values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The filled-in fields, keyed as in the workspace file's `[[rules]]`; empty when none."""
    found = {}
    for block_id, name in RULE_FIELDS.items():
        element = values.get(block_id, {}).get(block_id) or {}
        value = (
            (element.get("selected_option") or {}).get("value")
            or element.get("selected_conversation")
            or element.get("value")
            or ""
        )
        if str(value).strip():
            found[name] = str(value).strip()
    return found
