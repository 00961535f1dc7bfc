from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bolt_app.polling.tracking import (
    ChangeKind,
    ap_invoice_fields,
    ap_invoice_key,
    ap_invoice_note,
    classify,
    gl_account_fields,
    gl_account_note,
    purchase_order_fields,
    purchase_order_note,
    version_of,
)
from sage.records import (
    AccountStatus,
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    GLAccount,
    OrderStatus,
    OrderType,
    PurchaseOrder,
)

STAMPS = AuditStamps(datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("America/Chicago")), "0000000001")
INVOICE = APInvoice(
    company="ABC",
    record_key="H1",
    source=APInvoiceSource.ENTERED,
    division_no="01",
    vendor_no="AIRWAY",
    vendor_name="Airway Supply",
    invoice_no="INV-1",
    invoice_date=date(2026, 11, 20),
    due_date=date(2026, 12, 20),
    amount=Decimal("1250.00"),
    balance=None,
    terms_code="01",
    on_hold=False,
    purchase_order_no="",
    comment="",
    stamps=STAMPS,
)


def test_version_ignores_key_order_and_sees_every_value():
    assert version_of({"a": "1", "b": "2"}) == version_of({"b": "2", "a": "1"})
    assert version_of({"a": "1"}) != version_of({"a": "1 "})


def test_invoice_keeps_its_key_when_posted_under_a_new_record_key():
    posted = replace(
        INVOICE, record_key="O9", source=APInvoiceSource.POSTED, balance=Decimal("1250")
    )
    assert ap_invoice_key(INVOICE) == ap_invoice_key(posted) == "01/AIRWAY/INV-1"


def test_re_read_is_unchanged_new_is_new():
    fields = ap_invoice_fields(INVOICE)
    assert classify("k", fields, None, ap_invoice_note).kind is ChangeKind.NEW
    again = classify(
        "k", ap_invoice_fields(replace(INVOICE, record_key="other")), fields, ap_invoice_note
    )
    assert again.kind is ChangeKind.UNCHANGED


def test_posting_holding_and_paying_are_said_in_words():
    entered = ap_invoice_fields(INVOICE)
    posted = replace(INVOICE, source=APInvoiceSource.POSTED, balance=Decimal("1250.00"))
    change = classify("k", ap_invoice_fields(posted), entered, ap_invoice_note)
    assert change.kind is ChangeKind.CHANGED
    assert change.note == "Posted"
    held = ap_invoice_note(
        ap_invoice_fields(posted), ap_invoice_fields(replace(posted, on_hold=True))
    )
    assert held == "Put on hold"
    paid = ap_invoice_note(
        ap_invoice_fields(posted), ap_invoice_fields(replace(posted, balance=Decimal(0)))
    )
    assert paid == "Paid in full"
    partly = ap_invoice_note(
        ap_invoice_fields(posted), ap_invoice_fields(replace(posted, balance=Decimal(250)))
    )
    assert partly == "Balance: 1250.00 → 250.00"


def test_purchase_order_status_change_old_to_new():
    order = PurchaseOrder(
        company="ABC", record_key="P1", po_no="0000184", order_date=date(2026, 11, 25),
        order_type=OrderType.STANDARD, status=OrderStatus.NEW, division_no="01", vendor_no="AIRWAY",
        vendor_name="Airway", warehouse_code="000", ship_to_code="", required_date=None,
        taxable_amount=Decimal(100), non_taxable_amount=Decimal(0), sales_tax_amount=Decimal(0),
        freight_amount=Decimal(0), comment="", lines=(), stamps=STAMPS,
    )  # fmt: skip
    note = purchase_order_note(
        purchase_order_fields(order), purchase_order_fields(replace(order, status=OrderStatus.OPEN))
    )
    assert note == "Status: new → open"


def test_gl_account_change_shortens_long_text():
    account = GLAccount(
        company="ABC", record_key="A1", account_key="400010000", account="400-01-00",
        raw_account="4000100", description="Sales", main_account_code="400", account_type="03",
        account_group="", status=AccountStatus.ACTIVE, stamps=STAMPS,
    )  # fmt: skip
    renamed = replace(account, description="x" * 500, status=AccountStatus.INACTIVE)
    note = gl_account_note(gl_account_fields(account), gl_account_fields(renamed))
    assert note.startswith("Description: Sales → xxx")
    assert note.endswith("; Status: active → inactive")
    assert len(note) < 200
