"""What counts as waiting: due dates against today, paid and posted invoices, old New orders."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from bolt_app.polling.waiting import pending_groups
from bolt_app.workspace.reminders import ReminderSection
from sage.records import OrderStatus, RecordType
from tests.bolt_app.home.test_state import invoice, order

TODAY = date(2026, 11, 25)


def posted(number: str, amount: str, due: date, *, balance: str | None = None):
    unpaid = invoice(number, amount, posted=True)
    return replace(unpaid, due_date=due, balance=Decimal(balance or amount))


def test_overdue_and_due_soon_are_split_by_today_and_paid_invoices_drop_out():
    documents = {
        RecordType.AP_INVOICE: (
            posted("1", "100", date(2026, 11, 24), balance="40"),  # overdue, part paid
            posted("2", "999", date(2026, 11, 1), balance="0"),  # paid: not waiting
            posted("3", "200", TODAY),  # due today
            posted("4", "300", date(2026, 12, 2)),  # due on the horizon's last day
            posted("5", "400", date(2026, 12, 3)),  # beyond it
        ),
    }
    overdue, soon = pending_groups(
        documents, today=TODAY, include=(ReminderSection.DUE,), due_within_days=7
    )
    assert (overdue.title, overdue.count, overdue.total) == ("AP invoices overdue", 1, Decimal(40))
    assert (soon.title, soon.count, soon.total) == (
        "AP invoices due in the next 7 days",
        2,
        Decimal(500),
    )
    assert [item.since for item in soon.oldest] == [TODAY, date(2026, 12, 2)]
    assert soon.date_word == "due"


def test_new_orders_count_only_past_their_age_and_sections_come_in_message_order():
    old = order("0000184", OrderStatus.NEW)  # dated Nov 2
    opened = order("0000185", OrderStatus.OPEN)
    documents = {
        RecordType.AP_INVOICE: (invoice("9", "10", hold=True),),
        RecordType.PURCHASE_ORDER: (old, opened),
    }
    groups = pending_groups(
        documents,
        today=TODAY,
        include=(ReminderSection.NEW_ORDERS, ReminderSection.ON_HOLD),
        new_after_days=23,
    )
    assert [(g.title, g.count) for g in groups] == [
        ("AP invoices on hold", 1),
        ("Purchase orders still New after 23 days", 1),
    ]
    (later,) = pending_groups(
        documents, today=TODAY, include=(ReminderSection.NEW_ORDERS,), new_after_days=24
    )
    assert later.count == 0
