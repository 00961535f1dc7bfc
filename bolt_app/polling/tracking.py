"""What a channel has been told about a record: its tracked key, the fields a message shows,
the version hash of those fields, and a one-line description of what changed between two versions.

A re-read record with the same version is silent; any difference in a shown field is news.
Amounts are kept as plain decimal strings so the stored snapshot compares exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sage.records import APInvoice, GLAccount, PurchaseOrder, RecordType

Fields = dict[str, str]


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Change:
    """How one tracked record compares with what was last recorded for one channel."""

    kind: ChangeKind
    key: str
    fields: Fields
    note: str = ""  # the one-line thread reply for CHANGED


def version_of(fields: Mapping[str, object]) -> str:
    """Stable across processes and Python versions: canonical JSON, SHA-256."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def classify(key: str, fields: Fields, previous: Fields | None, note_for) -> Change:
    """`note_for(old, new)` words the change; only called when the version differs."""
    if previous is None:
        return Change(ChangeKind.NEW, key, fields)
    if version_of(previous) == version_of(fields):
        return Change(ChangeKind.UNCHANGED, key, fields)
    return Change(ChangeKind.CHANGED, key, fields, note_for(previous, fields))


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


_LABELS = {
    "vendor": "Vendor",
    "vendor_name": "Vendor name",
    "invoice_no": "Invoice",
    "invoice_date": "Invoice date",
    "due_date": "Due date",
    "amount": "Amount",
    "balance": "Balance",
    "terms": "Terms",
    "purchase_order_no": "PO",
    "comment": "Comment",
    "po_no": "PO",
    "order_date": "Order date",
    "order_type": "Type",
    "status": "Status",
    "warehouse": "Warehouse",
    "required_date": "Required",
    "line_count": "Lines",
    "total": "Total",
    "account": "Account",
    "description": "Description",
    "account_type": "Type",
    "account_group": "Group",
}
_NOTE_VALUE_LIMIT = 60


def _shorten(value: str) -> str:
    value = " ".join(value.split())
    if len(value) <= _NOTE_VALUE_LIMIT:
        return value or "(blank)"
    return value[: _NOTE_VALUE_LIMIT - 1] + "…"


def changed_fields(old: Fields, new: Fields, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """'Label: old → new' for every shown field that differs, in display order."""
    return [
        f"{_LABELS.get(name, name)}: {_shorten(old.get(name, ''))} → {_shorten(value)}"
        for name, value in new.items()
        if name not in skip and old.get(name, "") != value
    ]


def ap_invoice_note(old: Fields, new: Fields) -> str:
    """Posting, holds and payment are what AP asks about, so they are said in words first."""
    events = []
    if old.get("status") != new["status"] and new["status"] == "posted":
        events.append("Posted")
    if old.get("on_hold") != new["on_hold"]:
        events.append("Put on hold" if new["on_hold"] == "yes" else "Hold released")
    if old.get("paid") != new["paid"] and new["paid"] == "yes":
        events.append("Paid in full")
    skip = {"status", "on_hold", "paid"}
    if events and events != ["Put on hold"] and events != ["Hold released"]:
        skip.add("balance")  # posting sets it, payment zeroes it: already said in words
    details = changed_fields(old, new, skip=frozenset(skip))
    return "; ".join(events + details) or "Updated"


def purchase_order_note(old: Fields, new: Fields) -> str:
    return "; ".join(changed_fields(old, new)) or "Updated"


def gl_account_note(old: Fields, new: Fields) -> str:
    return "; ".join(changed_fields(old, new)) or "Updated"


NOTE_FOR = {
    RecordType.AP_INVOICE: ap_invoice_note,
    RecordType.PURCHASE_ORDER: purchase_order_note,
    RecordType.GL_ACCOUNT: gl_account_note,
}
