"""Typed sample records shared by the builder and change-tracking tests; tweak with `**changes`."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sage.records import (
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    PurchaseOrderLine,
)

STAMPS = AuditStamps(datetime(2026, 11, 26, 9, 30, tzinfo=UTC), "jsmith")


def ap_invoice(**changes) -> APInvoice:
    invoice = APInvoice(
        company="ABC",
        record_key="01AIRWAY1001",
        source=APInvoiceSource.ENTERED,
        division_no="01",
        vendor_no="AIRWAY",
        vendor_name="Airway Freight Systems",
        invoice_no="INV-1001",
        invoice_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        amount=Decimal("1250.00"),
        balance=None,
        terms_code="30",
        on_hold=False,
        purchase_order_no="0000123",
        comment="Freight for November",
        stamps=STAMPS,
    )
    return replace(invoice, **changes)


def po_line(n: int, amount: str = "100.00") -> PurchaseOrderLine:
    return PurchaseOrderLine(
        f"{n:06d}", f"ITEM-{n}", "Widget", "000", Decimal(1), Decimal(amount), Decimal(amount)
    )


def purchase_order(**changes) -> PurchaseOrder:
    order = PurchaseOrder(
        company="ABC",
        record_key="0000123",
        po_no="0000123",
        order_date=date(2026, 11, 25),
        order_type=OrderType.STANDARD,
        status=OrderStatus.NEW,
        division_no="01",
        vendor_no="CONTINE",
        vendor_name="Continental Supply",
        warehouse_code="EST",
        ship_to_code="",
        required_date=date(2026, 12, 5),
        taxable_amount=Decimal("1000.00"),
        non_taxable_amount=Decimal("200.00"),
        sales_tax_amount=Decimal("82.50"),
        freight_amount=Decimal("17.50"),
        comment="",
        lines=(po_line(1), po_line(2), po_line(3)),
        stamps=STAMPS,
    )
    return replace(order, **changes)
