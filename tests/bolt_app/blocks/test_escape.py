"""Sage text shows as typed in mrkdwn: no ping, link, bold, italics, strikethrough or code."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bolt_app.blockkit.text import escape
from bolt_app.blocks.messages import build_record_message
from tests.bolt_app.sample_records import ap_invoice
from tests.fixtures.slack import AP_CHANNEL

# What could open or close formatting in Slack's mrkdwn: *, _ or ~ at a word's edge, any backtick.
FORMATTING = re.compile(r"(?<![^\W_])[*_~]|[*_~](?![^\W_])|`")


def test_formatting_characters_become_look_alikes_at_a_words_edge():
    assert escape("*Acme* _Supply_ ~Co~ `x`") == "∗Acme∗ ˍSupplyˍ ∼Co∼ ˋxˋ"
    assert escape("~$58.5k & <!channel>") == "∼$58.5k &amp; &lt;!channel&gt;"


def test_a_character_inside_a_word_is_kept_as_typed():
    assert escape("INV_1001 channel_not_found 2*3") == "INV_1001 channel_not_found 2*3"


@given(st.text(alphabet=st.sampled_from("*_~`ab1 \n.,;-(") | st.characters(), max_size=200))
def test_escaped_text_can_open_no_formatting(text):
    assert FORMATTING.search(escape(text)) is None


async def test_a_vendor_named_in_mrkdwn_reaches_slack_as_typed(slack_standin, slack_client):
    invoice = ap_invoice(vendor_name="*Acme* _Supply_ ~Co~ `x`", comment="net ~30_ days")
    message = build_record_message(invoice)
    await slack_client.chat_postMessage(
        channel=AP_CHANNEL, text=message.text, blocks=list(message.blocks)
    )
    (posted,) = slack_standin.posted_messages(AP_CHANNEL)
    shown = "\n".join(
        field["text"] for block in posted.blocks for field in block.get("fields", ())
    ) + "\n".join(block["text"]["text"] for block in posted.blocks if "text" in block)
    assert "∗Acme∗ ˍSupplyˍ ∼Co∼ ˋxˋ" in shown and "net ∼30ˍ days" in shown
    for value in ("*Acme*", "_Supply_", "~Co~", "`x`", "~30_"):
        assert value not in shown
