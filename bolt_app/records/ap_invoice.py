"""AP invoices: tracked by their business key, which survives posting; wait when due, unposted
or on hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from bolt_app.blockkit.kit import Block, fields_section, header
from bolt_app.blockkit.text import escape, format_date, format_money
from bolt_app.records.description import (
    Fields,
    PendingItem,
    RecordDescription,
    RecordMessage,
    Waiting,
    WaitingAsk,
    tracked_amount,
    tracked_date,
)
from bolt_app.records.wording import comment_block, details_footer, field, fields, stamped_by
from sage.records import APInvoice, RecordType


def ap_invoice_key(invoice: APInvoice) -> str:
    """The business key: an invoice keeps it when posting moves it to AP_OpenInvoice."""
    return "/".join(invoice.business_key)


def ap_invoice_fields(invoice: APInvoice) -> Fields:
    return {
        "vendor": invoice.vendor_display,
        "vendor_name": invoice.vendor_name,
        "invoice_no": invoice.invoice_no,
        "invoice_date": tracked_date(invoice.invoice_date),
        "due_date": tracked_date(invoice.due_date),
        "amount": tracked_amount(invoice.amount),
        "balance": tracked_amount(invoice.balance),
        "status": "posted" if invoice.is_posted else "entered",
        "on_hold": "yes" if invoice.on_hold else "no",
        "paid": "yes" if invoice.is_paid else "no",
        "terms": invoice.terms_code,
        "purchase_order_no": invoice.purchase_order_no,
        "comment": invoice.comment,
    }


def ap_invoice_status(invoice: APInvoice) -> str:
    if invoice.is_paid:
        return "Paid"
    state = "Posted" if invoice.is_posted else "Entered"
    return f"{state}, on hold" if invoice.on_hold else state


def ap_invoice_message(invoice: APInvoice, _previous: object) -> RecordMessage:
    vendor = f"{invoice.vendor_name} ({invoice.vendor_display})"
    shown = [
        field("Vendor", vendor),
        field("Invoice no.", invoice.invoice_no),
        field("Amount", format_money(invoice.amount)),
        field("Status", ap_invoice_status(invoice)),
        field("Invoice date", format_date(invoice.invoice_date)),
        field("Due date", format_date(invoice.due_date)),
    ]
    if invoice.balance is not None:
        shown.append(field("Balance", format_money(invoice.balance)))
    if invoice.terms_code:
        shown.append(field("Terms", invoice.terms_code))
    if invoice.purchase_order_no:
        shown.append(field("PO no.", invoice.purchase_order_no))
    return RecordMessage(
        title=f"AP invoice {invoice.invoice_no} · {invoice.vendor_name}",
        body=[fields(shown), *comment_block(invoice.comment)],
        text=f"AP invoice {invoice.invoice_no} from {vendor}: {format_money(invoice.amount)}, "
        f"due {format_date(invoice.due_date)} ({ap_invoice_status(invoice)})",
        context=(invoice.source.value, *stamped_by(invoice.stamps)),
    )


def ap_invoice_changes(old: APInvoice, new: APInvoice) -> list[str]:
    changes = []
    if new.is_posted and not old.is_posted:
        changes.append("Posted")
    if new.on_hold != old.on_hold:
        changes.append("Put on hold" if new.on_hold else "Hold released")
    if new.is_paid and not old.is_paid:
        changes.append("Paid")
    elif old.balance is not None and new.balance is not None and new.balance != old.balance:
        changes.append(f"Balance {format_money(old.balance)} → {format_money(new.balance)}")
    if new.amount != old.amount:
        changes.append(f"Amount {format_money(old.amount)} → {format_money(new.amount)}")
    if new.due_date != old.due_date:
        changes.append(f"Due date {format_date(old.due_date)} → {format_date(new.due_date)}")
    return changes


def ap_invoice_row(invoice: APInvoice) -> str:
    return (
        f"• *{escape(invoice.invoice_no)}* {escape(invoice.vendor_name)} "
        f"({escape(invoice.vendor_display)}): {format_money(invoice.amount)}, "
        f"due {format_date(invoice.due_date)}, {ap_invoice_status(invoice)}"
    )


def ap_invoice_details(invoice: APInvoice) -> list[Block]:
    state = "Posted" if invoice.is_posted else "Entered, not posted"
    if invoice.on_hold:
        state += ", on hold"
    if invoice.is_paid:
        state += ", paid"
    shown = [
        ("Vendor", f"{escape(invoice.vendor_name)} ({escape(invoice.vendor_display)})"),
        ("Invoice", escape(invoice.invoice_no)),
        ("Amount", format_money(invoice.amount)),
        ("Balance", format_money(invoice.balance) if invoice.balance is not None else "n/a"),
        ("Invoice date", format_date(invoice.invoice_date)),
        ("Due date", format_date(invoice.due_date)),
        ("Status", state),
        ("Terms", escape(invoice.terms_code) or "none"),
        ("PO", escape(invoice.purchase_order_no) or "none"),
        ("Company", escape(invoice.company)),
    ]
    blocks = [header(f"AP invoice {invoice.invoice_no}"), fields_section(shown)]
    blocks += comment_block(invoice.comment)
    blocks.append(details_footer(invoice.company, invoice.record_key, invoice.stamps))
    return blocks


def _owed(invoice: APInvoice) -> Decimal:
    return invoice.balance if invoice.balance is not None else invoice.amount


def _pending(invoice: APInvoice, since: date | None, amount: Decimal) -> PendingItem:
    return PendingItem(
        invoice.company, f"{invoice.vendor_display} invoice {invoice.invoice_no}", amount, since
    )


def ap_invoices_waiting(invoices: Sequence[APInvoice], ask: WaitingAsk) -> list[Waiting]:
    """Overdue and due soon (by what is still owed), entered but not posted, and on hold."""
    unpaid = [i for i in invoices if not i.is_paid]
    dated = [(i, i.due_date) for i in unpaid if i.due_date is not None]
    horizon = ask.today + timedelta(days=ask.due_within_days)
    return [
        Waiting(
            "due",
            "AP invoices overdue",
            [_pending(i, due, _owed(i)) for i, due in dated if due < ask.today],
            date_word="due",
        ),
        Waiting(
            "due",
            f"AP invoices due in the next {ask.due_within_days} days",
            [_pending(i, due, _owed(i)) for i, due in dated if ask.today <= due <= horizon],
            date_word="due",
        ),
        Waiting(
            "unposted",
            "AP invoices entered, not posted",
            [_pending(i, i.invoice_date, i.amount) for i in invoices if not i.is_posted],
        ),
        Waiting(
            "on_hold",
            "AP invoices on hold",
            [_pending(i, i.invoice_date, _owed(i)) for i in unpaid if i.on_hold],
        ),
    ]


DESCRIPTION = RecordDescription(
    record_type=RecordType.AP_INVOICE,
    record_class=APInvoice,
    noun="AP invoice",
    plural="AP invoices",
    default_schedule="15m",
    record_key=lambda invoice: invoice.record_key,
    message=ap_invoice_message,
    change_lines=ap_invoice_changes,
    digest_row=ap_invoice_row,
    details=ap_invoice_details,
    tracked_key=ap_invoice_key,
    tracked_fields=ap_invoice_fields,
    amount=lambda invoice: invoice.amount,
    waiting=ap_invoices_waiting,
    reconciled=True,
    tracked_by_record_key=False,
)
