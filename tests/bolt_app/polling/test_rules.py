from dataclasses import dataclass
from decimal import Decimal

import pytest

from bolt_app.errors import ConfigError
from bolt_app.polling.messages import mention_text
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


def test_mention_text_is_only_ever_a_user_group():
    assert mention_text("S0FIN0001") == "<!subteam^S0FIN0001>"
    with pytest.raises(ValueError):
        mention_text("S0>|<!channel")
