"""A new record type is one module and its registry line: here an equipment rental, described
below as its module would be, goes through the generic message, change, digest, Details, rule
and waiting code without any other change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pytest

from bolt_app.blockkit.kit import Block, fields_section, header
from bolt_app.blockkit.text import escape, format_date, format_money
from bolt_app.blocks.messages import (
    build_change_digest_message,
    build_change_reply,
    build_digest_message,
    build_record_message,
    describe_change,
    render_text,
    summarize,
)
from bolt_app.blocks.reminders import build_reminder_message
from bolt_app.home.state import PENDING_SECTIONS
from bolt_app.home.views.details import build_details_loading_modal, build_details_modal
from bolt_app.polling.messages import record_message
from bolt_app.polling.routing import Destination, destinations
from bolt_app.polling.waiting import pending_groups
from bolt_app.records import registry
from bolt_app.records.description import (
    PendingItem,
    RecordDescription,
    RecordMessage,
    Waiting,
    WaitingAsk,
)
from bolt_app.records.wording import details_footer, field, fields, stamped_by
from bolt_app.workspace.reminders import ReminderSection
from bolt_app.workspace.rules import RoutingRule
from sage.records import AuditStamps
from slack_standin import validate_blocks
from slack_standin.blockkit import view_errors
from tests.bolt_app.sample_records import STAMPS

# ---- what the new module would hold ----------------------------------------------------------


class ToyType(StrEnum):  # the Sage side adds its member to RecordType
    RENTAL = "equipment-rentals"


@dataclass(frozen=True, slots=True)
class Rental:  # the Sage side adds the record class
    company: str
    record_key: str
    rental_no: str
    customer: str
    warehouse: str
    amount: Decimal
    due_back: date
    returned: bool
    stamps: AuditStamps
    problems: tuple[str, ...] = ()


def rental_message(rental: Rental, _previous: object) -> RecordMessage:
    return RecordMessage(
        title=f"Rental {rental.rental_no} · {rental.customer}",
        body=[
            fields(
                [
                    field("Customer", rental.customer),
                    field("Amount", format_money(rental.amount)),
                    field("Due back", format_date(rental.due_back)),
                ]
            )
        ],
        text=f"Rental {rental.rental_no} to {rental.customer}: {format_money(rental.amount)}",
        context=stamped_by(rental.stamps),
    )


def rental_changes(old: Rental, new: Rental) -> list[str]:
    return ["Returned"] if new.returned and not old.returned else []


def rental_row(rental: Rental) -> str:
    return (
        f"• *{escape(rental.rental_no)}* {escape(rental.customer)}: {format_money(rental.amount)}"
    )


def rental_details(rental: Rental) -> list[Block]:
    shown = [("Customer", escape(rental.customer)), ("Warehouse", escape(rental.warehouse))]
    return [
        header(f"Rental {rental.rental_no}"),
        fields_section(shown),
        details_footer(rental.company, rental.record_key, rental.stamps),
    ]


def rentals_waiting(rentals: Sequence[Rental], ask: WaitingAsk) -> list[Waiting]:
    late = [r for r in rentals if not r.returned and r.due_back < ask.today]
    items = [PendingItem(r.company, f"rental {r.rental_no}", r.amount, r.due_back) for r in late]
    return [Waiting("unposted", "Rentals not checked in", items, date_word="due")]


DESCRIPTION = RecordDescription(
    record_type=ToyType.RENTAL,  # type: ignore[arg-type]
    record_class=Rental,
    noun="rental",
    plural="rentals",
    default_schedule="15m",
    record_key=lambda rental: rental.record_key,
    message=rental_message,
    change_lines=rental_changes,
    digest_row=rental_row,
    details=rental_details,
    tracked_key=lambda rental: rental.record_key,
    amount=lambda rental: rental.amount,
    warehouses=lambda rental: {rental.warehouse},
    waiting=rentals_waiting,
)

# ---- the registry line -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """What adding `rental.DESCRIPTION` to `registry.DESCRIPTIONS` does."""
    monkeypatch.setattr(registry, "DESCRIPTIONS", (*registry.DESCRIPTIONS, DESCRIPTION))
    monkeypatch.setattr(registry, "_BY_TYPE", {**registry._BY_TYPE, ToyType.RENTAL: DESCRIPTION})
    monkeypatch.setattr(registry, "_BY_CLASS", {**registry._BY_CLASS, Rental: DESCRIPTION})


def rental(number: str = "R-1001", **changes) -> Rental:
    made = Rental(
        "ABC", f"RK{number}", number, "Acme <Builders>", "EST", Decimal("480.00"),
        date(2026, 11, 20), False, STAMPS,
    )  # fmt: skip
    return replace(made, **changes)


# ---- the generic code, unchanged -------------------------------------------------------------


def test_its_message_has_the_header_buttons_context_and_metadata_every_type_has():
    message = build_record_message(rental())
    assert validate_blocks(list(message.blocks)) == []
    shown = render_text(message)
    assert shown.splitlines()[0] == "Rental R-1001 · Acme <Builders>"
    assert "Customer: Acme <Builders>" in shown and "Amount: $480.00" in shown
    assert "[Details]" in shown
    assert "Company ABC  ·  Record key RKR-1001  ·  By jsmith" in shown
    assert message.text == "Rental R-1001 to Acme &lt;Builders&gt;: $480.00"
    details = message.blocks[-2]["elements"][0]["value"]
    assert json.loads(details)["record_type"] == "equipment-rentals"
    assert message.metadata["event_payload"]["record_type"] == "equipment-rentals"


def test_the_channel_gets_it_with_its_problems_and_the_rules_mentions():
    message = record_message(
        rental(problems=("Amount 1e99 is too large",)), mentions=("S0FIN0001",)
    )
    assert message.text.startswith("<!subteam^S0FIN0001> Rental R-1001")
    assert "Some fields could not be read: Amount 1e99 is too large." in render_text(message)


def test_its_changes_read_in_a_thread_reply_and_a_change_digest():
    old, new = rental(), rental(returned=True)
    assert describe_change(old, new) == "Returned"
    assert build_change_reply(old, new).text == "Returned"
    assert describe_change(old, old) == "Details updated"
    digest = build_change_digest_message(
        ToyType.RENTAL, summarize(ToyType.RENTAL, [new, new], ["Returned", "Returned"])
    )
    assert digest.text == "2 rentals changed in company ABC, total $960.00"
    assert "• *R-1001* Acme &lt;Builders&gt;: $480.00: Returned" in digest.blocks[2]["text"]["text"]


def test_a_burst_of_new_ones_is_one_digest_with_its_rows_and_total():
    rentals = [rental("R-1"), rental("R-2"), rental("R-3")]
    digest = build_digest_message(ToyType.RENTAL, summarize(ToyType.RENTAL, rentals), 2)
    shown = render_text(digest)
    assert digest.text == "3 new rentals in company ABC, total $1,440.00"
    assert "• R-1 Acme <Builders>: $480.00\n• R-2 Acme <Builders>: $480.00" in shown
    assert "and 1 more not listed here" in shown


def test_the_details_modal_shows_its_blocks():
    view = build_details_modal(rental())
    assert view_errors(view) == []
    assert view["blocks"][0]["text"]["text"] == "Rental R-1001"
    assert "last changed 2026-11-26T09:30+00:00 by user jsmith" in str(view["blocks"][-1])
    loading = build_details_loading_modal(ToyType.RENTAL, "RKR-1001")
    assert "(rentals)" in loading["blocks"][0]["text"]["text"]


def test_rules_route_it_by_its_amount_and_warehouse():
    big_in_est = RoutingRule(ToyType.RENTAL, "C0BIG0001", warehouse="EST", min_amount=Decimal(400))
    elsewhere = RoutingRule(ToyType.RENTAL, "C0WEST001", warehouse="WST")
    rules = (big_in_est, elsewhere)
    assert destinations(ToyType.RENTAL, rental(), "C0RENT001", rules) == [
        Destination("C0RENT001"),
        Destination("C0BIG0001"),
    ]
    small = rental(amount=Decimal(100))
    assert destinations(ToyType.RENTAL, small, "C0RENT001", rules) == [Destination("C0RENT001")]


def test_what_of_it_waits_shows_in_the_home_panel_and_a_reminder():
    today = date(2026, 11, 25)
    documents = {ToyType.RENTAL: (rental("R-1"), rental("R-2", returned=True))}
    (group,) = pending_groups(documents, today=today, include=PENDING_SECTIONS)
    assert (group.title, group.count, group.total) == ("Rentals not checked in", 1, Decimal(480))
    assert pending_groups(documents, today=today, include=(ReminderSection.ON_HOLD,)) == ()
    reminder = build_reminder_message([group], today=today)
    assert "• ABC rental R-1, $480.00, due Nov 20, 2026" in render_text(reminder)
