from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bolt_app.polling.codec import from_json, to_json
from bolt_app.polling.tracking import (
    ChangeKind,
    ap_invoice_fields,
    ap_invoice_key,
    classify,
    purchase_order_fields,
    version_of,
)
from sage.records import (
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    PurchaseOrderLine,
)

ZONE = ZoneInfo("America/Chicago")
STAMPS = AuditStamps(datetime(2026, 11, 26, 9, 0, tzinfo=ZONE), "0000000001")
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
ORDER = PurchaseOrder(
    company="ABC", record_key="P1", po_no="0000184", order_date=date(2026, 11, 25),
    order_type=OrderType.STANDARD, status=OrderStatus.NEW, division_no="01", vendor_no="AIRWAY",
    vendor_name="Airway", warehouse_code="000", ship_to_code="", required_date=None,
    taxable_amount=Decimal("100.10"), non_taxable_amount=Decimal(0), sales_tax_amount=Decimal(0),
    freight_amount=Decimal(0), comment="",
    lines=(PurchaseOrderLine("1", "HOSE", "Hose", "000", Decimal(2), Decimal("50.05"), Decimal("100.10")),),
    stamps=STAMPS,
)  # fmt: skip


def test_version_ignores_key_order_and_sees_every_value():
    assert version_of({"a": "1", "b": "2"}) == version_of({"b": "2", "a": "1"})
    assert version_of({"a": "1"}) != version_of({"a": "1 "})


def test_invoice_keeps_its_key_when_posted_under_a_new_record_key():
    posted = replace(INVOICE, record_key="O9", source=APInvoiceSource.POSTED, balance=Decimal(1))
    assert ap_invoice_key(INVOICE) == ap_invoice_key(posted) == "01/AIRWAY/INV-1"


def test_re_read_is_unchanged_a_shown_field_change_is_a_change():
    version = version_of(ap_invoice_fields(INVOICE))
    assert classify(version, None) is ChangeKind.NEW
    reread = version_of(ap_invoice_fields(replace(INVOICE, record_key="other")))
    assert classify(reread, version) is ChangeKind.UNCHANGED
    held = version_of(ap_invoice_fields(replace(INVOICE, on_hold=True)))
    assert classify(held, version) is ChangeKind.CHANGED
    status = version_of(purchase_order_fields(replace(ORDER, status=OrderStatus.OPEN)))
    assert classify(status, version_of(purchase_order_fields(ORDER))) is ChangeKind.CHANGED


def test_records_survive_the_json_round_trip():
    for record in (INVOICE, ORDER, replace(INVOICE, balance=Decimal("0.00"))):
        assert from_json(type(record), to_json(record), ZONE) == record
