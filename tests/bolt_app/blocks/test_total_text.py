"""Every message builder's blocks add up to at most Slack's total text (msg_blocks_too_long).

Sage fields are filled to 5,000 characters each, past any Sage 100 column, so the builders'
shared budget (`kit.within_text_budget`) is what keeps each message within 12,000 characters.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from bolt_app.blockkit.kit import header, section, within_text_budget
from bolt_app.blocks.messages import (
    build_change_reply,
    build_connected_message,
    build_digest_message,
    build_record_message,
    summarize,
)
from bolt_app.blocks.reminders import PendingGroup, PendingItem, build_reminder_message
from sage.records import RecordType
from slack_standin import MAX_BLOCKS_TEXT, blocks_text_length
from tests.bolt_app.blocks.test_messages import gl_account, posting, register
from tests.bolt_app.sample_records import ap_invoice, purchase_order

LONG = "x" * 5_000
URL = "https://erp.example/{company}/{resource}/{record_key}"


def long_text(record):
    """Every plain text field of the record (enums and codes with meaning kept) at 5,000."""
    return dataclasses.replace(
        record,
        **{
            f.name: LONG for f in dataclasses.fields(record) if type(getattr(record, f.name)) is str
        },
    )


BUILDERS = {
    "ap invoice": lambda: build_record_message(long_text(ap_invoice()), record_url=URL),
    "purchase order": lambda: build_record_message(long_text(purchase_order()), record_url=URL),
    "new gl account": lambda: build_record_message(long_text(gl_account())),
    "changed gl account": lambda: build_record_message(
        long_text(gl_account()), previous=gl_account()
    ),
    "gl register of 200 lines": lambda: build_record_message(
        register(*(posting(n, "6100-00-00", LONG, debit="1") for n in range(1, 201)))
    ),
    "change reply": lambda: build_change_reply(ap_invoice(), long_text(ap_invoice())),
    "connected": lambda: build_connected_message(LONG, RecordType.GL_ENTRY),
    "reminder of long items": lambda: build_reminder_message(
        [
            PendingGroup(
                f"Waiting group {n}",
                50,
                Decimal(1),
                (PendingItem("ABC", LONG, Decimal(1), None),) * 50,
            )
            for n in range(6)
        ],
        today=date(2026, 11, 25),
    ),
    "digest of long rows": lambda: build_digest_message(
        RecordType.AP_INVOICE,
        summarize(RecordType.AP_INVOICE, [long_text(ap_invoice())] * 60),
        limit=100,
    ),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_a_builders_blocks_stay_within_slacks_total_text(build):
    assert blocks_text_length(build().blocks) <= MAX_BLOCKS_TEXT


def test_only_the_longest_texts_are_cut_and_short_ones_stay_whole():
    blocks = [
        header("AP invoice 1001"),
        section("*Vendor*\nAirway Freight"),
        section("*Comment*\n" + "y" * 20_000),
        section("*Memo*\n" + "z" * 9_000),
    ]
    fitted = within_text_budget(blocks, 12_000)
    assert blocks_text_length(fitted) <= 12_000
    assert fitted[0] == blocks[0] and fitted[1] == blocks[1]
    comment, memo = fitted[2]["text"]["text"], fitted[3]["text"]["text"]
    assert comment.startswith("*Comment*\nyyy") and comment.endswith("…")
    assert memo.startswith("*Memo*\nzzz") and memo.endswith("…")
    assert abs(len(comment) - len(memo)) <= 1  # both cut to one common length
    assert within_text_budget(blocks[:2], 12_000) == blocks[:2]
