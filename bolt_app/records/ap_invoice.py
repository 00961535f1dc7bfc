"""AP invoices: tracked by their business key, which survives posting."""

from __future__ import annotations

from bolt_app.records.description import Fields, RecordDescription, tracked_amount, tracked_date
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


DESCRIPTION = RecordDescription(
    record_type=RecordType.AP_INVOICE,
    record_class=APInvoice,
    noun="AP invoice",
    plural="AP invoices",
    default_schedule="15m",
    record_key=lambda invoice: invoice.record_key,
    tracked_key=ap_invoice_key,
    tracked_fields=ap_invoice_fields,
    amount=lambda invoice: invoice.amount,
)
