"""Block Kit validation holds Slack's documented limits, exactly at and just beyond them."""

from slack_standin import validate_blocks
from tests.slack_standin.support import section


def test_validate_blocks_accepts_limits_and_refuses_beyond_them():
    fields = [{"type": "mrkdwn", "text": "f" * 2000}] * 10
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 75}, "action_id": "a"}
    good = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3000}, "fields": fields},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button]},
        {"type": "divider"},
    ]
    assert validate_blocks(good) == []
    assert validate_blocks([section("x")] * 50) == []
    too_many_fields = [{"type": "section", "fields": fields + fields[:1]}]
    long_button = {**button, "text": {"type": "plain_text", "text": "b" * 76}}
    assert validate_blocks(too_many_fields)
    assert validate_blocks([{"type": "actions", "elements": [long_button]}])
    assert validate_blocks(
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]
    )
    assert validate_blocks([section("")])
    assert validate_blocks("not a list")
