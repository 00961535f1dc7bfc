from datetime import UTC, date, datetime
from decimal import Decimal

from bolt_app.home.views.details import (
    build_details_loading_modal,
    build_details_modal,
    build_details_unreachable_modal,
)
from sage.records import (
    APInvoice,
    APInvoiceSource,
    AuditStamps,
    GLPosting,
    GLRegister,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    PurchaseOrderLine,
    RecordType,
)
from tests.bolt_app.home.views.blockkit import assert_within_limits

STAMPS = AuditStamps(datetime(2026, 11, 26, 9, 30, tzinfo=UTC), "0000000001")


def purchase_order(lines: int) -> PurchaseOrder:
    return PurchaseOrder(
        company="ABC",
        record_key="PO184",
        po_no="0000184",
        order_date=date(2026, 11, 20),
        order_type=OrderType.STANDARD,
        status=OrderStatus.NEW,
        division_no="01",
        vendor_no="AIRWAY",
        vendor_name="Airway Supply <!here>",
        warehouse_code="EST",
        ship_to_code="",
        required_date=None,
        taxable_amount=Decimal("100.00"),
        non_taxable_amount=Decimal("20.00"),
        sales_tax_amount=Decimal("8.25"),
        freight_amount=Decimal("5"),
        comment="x" * 10_000,
        lines=tuple(
            PurchaseOrderLine(
                line_key=f"{n:06d}",
                item_code=f"ITEM-{n}",
                item_description="Copy paper, 10 reams " * 3,
                warehouse_code="EST",
                quantity_ordered=Decimal("2.000"),
                unit_cost=Decimal("12.50"),
                extension_amount=Decimal("25.00"),
            )
            for n in range(lines)
        ),
        stamps=STAMPS,
    )


def test_po_details_show_every_line():
    view = build_details_modal(purchase_order(3))
    assert_within_limits(view)
    text = str(view)
    for n in range(3):
        assert f"`ITEM-{n}`" in text
    assert "2 × $12.50 = *$25.00*" in text
    assert "$133.25" in text  # the order total Sage does not keep
    assert "<!here>" not in text


def test_a_huge_po_still_fits_and_says_what_was_left_out():
    view = build_details_modal(purchase_order(900))
    assert_within_limits(view)
    assert "…and 300 more lines, not shown here." in str(view)


def test_gl_register_details_show_lines_and_balance():
    def line(n: int, debit: str, credit: str) -> GLPosting:
        return GLPosting(
            "ABC", f"G{n}", "K", f"400-0{n}-00", "Sales", date(2026, 11, 26), "GJ", "000123",
            str(n), "", Decimal(debit), Decimal(credit), "00001", "G/L", STAMPS,
        )  # fmt: skip

    register = GLRegister("ABC", "GJ", "000123", (line(1, "50", "0"), line(2, "0", "40")))
    text = str(build_details_modal(register))
    assert "GL register GJ-000123" in text
    assert "`400-01-00`" in text and "`400-02-00`" in text
    assert "does not balance" in text


def test_ap_invoice_details():
    invoice = APInvoice(
        "ABC", "INV1", APInvoiceSource.ENTERED, "01", "AIRWAY", "Airway", "10045",
        date(2026, 11, 1), date(2026, 12, 1), Decimal("1250"), None, "30", True, "", "", STAMPS,
    )  # fmt: skip
    view = build_details_modal(invoice)
    assert_within_limits(view)
    assert "Entered, not posted, on hold" in str(view)
    assert "$1,250.00" in str(view)


def test_loading_and_unreachable_variants():
    loading = build_details_loading_modal(RecordType.PURCHASE_ORDER, "PO184")
    assert "Fetching `PO184` (purchase orders)" in str(loading)
    down = build_details_unreachable_modal(
        RecordType.PURCHASE_ORDER, "PO184", "the agent did not answer within 10 seconds"
    )
    assert_within_limits(down)
    assert "could not be reached" in str(down)
    assert "did not answer within 10 seconds" in str(down)


def mrkdwn_objects(node):
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node
        for value in node.values():
            yield from mrkdwn_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_objects(item)


def test_details_send_sage_text_verbatim_so_urls_and_channels_stay_unlinked():
    view = build_details_modal(purchase_order(2))
    texts = list(mrkdwn_objects(view))
    assert texts and all(text.get("verbatim") is True for text in texts)
