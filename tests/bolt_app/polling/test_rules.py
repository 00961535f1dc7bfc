from dataclasses import dataclass
from decimal import Decimal

import pytest

from bolt_app.blocks.messages import mention_text
from bolt_app.errors import ConfigError
from bolt_app.polling.bursts import collapse_bursts
from bolt_app.polling.routing import Destination, destinations
from bolt_app.workspace.rules import parse_rules
from sage.records import RecordType


@dataclass
class Invoice:
    amount: Decimal


def test_rules_add_channels_and_mentions():
    rules = parse_rules(
        [
            {"record_type": "ap_invoice", "min_amount": "10000", "mention": "S0FIN0001"},
            {"record_type": "ap_invoice", "min_amount": 50000, "channel": "C0BIG0001"},
        ]
    )
    small = destinations(RecordType.AP_INVOICE, Invoice(Decimal(10)), "C0AP00001", rules)
    assert small == [Destination("C0AP00001")]
    big = destinations(RecordType.AP_INVOICE, Invoice(Decimal(60000)), "C0AP00001", rules)
    assert big == [Destination("C0AP00001", ("S0FIN0001",)), Destination("C0BIG0001")]
    assert destinations(RecordType.GL_ACCOUNT, Invoice(Decimal(60000)), None, rules) == []


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"record_type": "invoice", "channel": "C0AP00001"}, "rules[1].record_type"),
        ({"record_type": "ap_invoice"}, "needs a channel"),
        ({"record_type": "ap_invoice", "mention": "<!channel>"}, "rules[1].mention"),
        ({"record_type": "ap_invoice", "channel": "#general"}, "rules[1].channel"),
        ({"record_type": "ap_invoice", "channel": "C0AP00001", "min_amount": "lots"}, "min_amount"),
        ({"record_type": "ap_invoice", "channel": "C0AP00001", "warehouse": "EST"}, "warehouse"),
        ({"record_type": "ap_invoice", "channel": "C0AP00001", "color": "red"}, "'color'"),
    ],
)
def test_bad_rules_name_the_field(rule, field):
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_rules([rule])


@pytest.mark.parametrize(
    "amount", ["1e40", "123456789012345678901234567890", "10000.001", 1e300, "-1e20"]
)
def test_a_rule_with_an_absurd_amount_is_refused(amount):
    rule = {"record_type": "ap_invoice", "channel": "C0AP00001", "min_amount": amount}
    with pytest.raises(ConfigError, match=r"min_amount must be an amount of at most 16 digits"):
        parse_rules([rule])


def test_a_rule_amount_up_to_what_a_ledger_holds_is_kept():
    for amount in ("9999999999999999.99", "-250.50", 10000, "1E+3"):
        rule = {"record_type": "ap_invoice", "channel": "C0AP00001", "min_amount": amount}
        [parsed] = parse_rules([rule])
        assert parsed.min_amount == Decimal(str(amount))


def test_mention_text_is_only_ever_a_user_group():
    assert mention_text("S0FIN0001") == "<!subteam^S0FIN0001>"
    with pytest.raises(ValueError):
        mention_text("S0>|<!channel")


def test_more_than_threshold_new_records_for_a_channel_become_a_digest():
    posts = [("C1", n) for n in range(21)] + [("C2", n) for n in range(3)]
    single, digests = collapse_bursts(posts, lambda p: p[0], threshold=20)
    assert single == [("C2", 0), ("C2", 1), ("C2", 2)]
    assert list(digests) == ["C1"] and len(digests["C1"]) == 21
