"""What a channel has been told about a record: its tracked key, the fields a message shows,
and the version hash of those fields.

A re-read record with the same version is silent; any difference in a shown field is news.
Amounts are kept as plain decimal strings so versions compare exactly. Wording a change is the
message builders' job (`bolt_app.blocks.messages.describe_change`), from the old and new records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sage.records import APInvoice, GLAccount, PurchaseOrder

Fields = dict[str, str]


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


def version_of(fields: Mapping[str, object]) -> str:
    """Stable across processes and Python versions: canonical JSON, SHA-256."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def classify(version: str, previous_version: str | None) -> ChangeKind:
    if previous_version is None:
        return ChangeKind.NEW
    return ChangeKind.UNCHANGED if version == previous_version else ChangeKind.CHANGED


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def ap_invoice_key(invoice: APInvoice) -> str:
    """The business key: an invoice keeps it when posting moves it to AP_OpenInvoice."""
    return "/".join(invoice.business_key)


def ap_invoice_fields(invoice: APInvoice) -> Fields:
    return {
        "vendor": invoice.vendor_display,
        "vendor_name": invoice.vendor_name,
        "invoice_no": invoice.invoice_no,
        "invoice_date": _date(invoice.invoice_date),
        "due_date": _date(invoice.due_date),
        "amount": _amount(invoice.amount),
        "balance": _amount(invoice.balance),
        "status": "posted" if invoice.is_posted else "entered",
        "on_hold": "yes" if invoice.on_hold else "no",
        "paid": "yes" if invoice.is_paid else "no",
        "terms": invoice.terms_code,
        "purchase_order_no": invoice.purchase_order_no,
        "comment": invoice.comment,
    }


def purchase_order_fields(order: PurchaseOrder) -> Fields:
    return {
        "po_no": order.po_no,
        "vendor": order.vendor_display,
        "vendor_name": order.vendor_name,
        "order_date": _date(order.order_date),
        "order_type": order.order_type.name.replace("_", " ").lower(),
        "status": order.status.name.replace("_", " ").lower(),
        "warehouse": order.warehouse_code,
        "required_date": _date(order.required_date),
        "line_count": str(order.line_count),
        "total": _amount(order.total),
        "comment": order.comment,
    }


def gl_account_fields(account: GLAccount) -> Fields:
    return {
        "account": account.account,
        "description": account.description,
        "status": account.status.name.lower(),
        "account_type": account.account_type,
        "account_group": account.account_group,
    }
