"""The reminder message: what a finance channel reads at 08:00."""

from datetime import date
from decimal import Decimal

from bolt_app.blocks.reminders import PendingGroup, PendingItem, build_reminder_message
from slack_standin import validate_blocks

TODAY = date(2026, 11, 25)


def test_each_waiting_group_shows_count_total_and_oldest_and_empty_ones_are_left_out():
    late = PendingItem("ABC", "01-AIRWAY invoice 10045", Decimal("1250"), date(2026, 11, 1))
    message = build_reminder_message(
        [
            PendingGroup("AP invoices overdue", 4, Decimal("5000.5"), (late,) * 4, "due"),
            PendingGroup("AP invoices on hold", 0, Decimal(0), ()),
        ],
        today=TODAY,
    )
    shown = [block["text"]["text"] for block in message.blocks if "text" in block]
    assert shown[0] == "Waiting in Sage 100 · Nov 25, 2026"
    assert shown[1].splitlines() == [
        "*AP invoices overdue*: 4, $5,000.50",
        *["• ABC 01-AIRWAY invoice 10045, $1,250.00, due Nov 1, 2026"] * 3,
    ]
    assert not any("on hold" in text for text in shown)
    assert message.text == "Waiting in Sage 100: AP invoices overdue: 4, $5,000.50."
    assert message.metadata["event_payload"] == {
        "date": "2026-11-25",
        "groups": {"AP invoices overdue": 4},
    }
    assert validate_blocks(list(message.blocks)) == []


def test_nothing_waiting_says_so_and_sage_text_cannot_ping():
    assert "Nothing is waiting." in str(build_reminder_message([], today=TODAY).blocks)
    evil = PendingItem("ABC", "<!channel> vendor", Decimal(1), None)
    message = build_reminder_message(
        [PendingGroup("AP invoices on hold", 1, Decimal(1), (evil,))], today=TODAY
    )
    assert "<!channel>" not in str(message.blocks)
    assert "&lt;!channel&gt; vendor, $1.00, since undated" in str(message.blocks)
