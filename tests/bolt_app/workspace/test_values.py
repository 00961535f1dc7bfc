"""The workspace file refuses what the App Home refuses, with the same validators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bolt_app.errors import ConfigError
from bolt_app.workspace.rules import parse_rules


def po_rule(**fields) -> list[dict]:
    return [{"record_type": "purchase_order", "channel": "C0PO00001", **fields}]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"min_amount": "1e309"}, "rules[1].min_amount must be below 10,000,000,000,000,000"),
        ({"min_amount": "NaN"}, "rules[1].min_amount must be a number"),
        ({"min_amount": True}, "rules[1].min_amount must be a number"),
        ({"warehouse": "W" * 10_240}, "rules[1].warehouse 'WWWWWWWWWWWWWWWWWWWW…' is not a Sage"),
        ({"warehouse": "est"}, "is not a Sage warehouse code"),
    ],
)
def test_a_rule_value_past_what_sage_holds_is_refused_in_the_file(fields, words):
    with pytest.raises(ConfigError) as caught:
        parse_rules(po_rule(**fields))
    assert words in str(caught.value)
    assert len(str(caught.value)) < 300


def test_a_rule_within_sage_limits_is_kept_exact():
    (rule,) = parse_rules(po_rule(min_amount="9999999999999999.99", warehouse="EST"))
    assert rule.min_amount == Decimal("9999999999999999.99") and rule.warehouse == "EST"
