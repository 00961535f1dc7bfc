"""Purchase orders: routed by warehouse, and held while their lines have not arrived."""

from __future__ import annotations

from bolt_app.records.description import Fields, RecordDescription, tracked_amount, tracked_date
from sage.records import PurchaseOrder, RecordType


def purchase_order_fields(order: PurchaseOrder) -> Fields:
    return {
        "po_no": order.po_no,
        "vendor": order.vendor_display,
        "vendor_name": order.vendor_name,
        "order_date": tracked_date(order.order_date),
        "order_type": order.order_type.name.replace("_", " ").lower(),
        "status": order.status.name.replace("_", " ").lower(),
        "warehouse": order.warehouse_code,
        "required_date": tracked_date(order.required_date),
        "line_count": str(order.line_count),
        "total": tracked_amount(order.total),
        "comment": order.comment,
    }


def _awaiting_lines(order: PurchaseOrder) -> bool:
    """Read with a total but no lines yet: the agent can serve a header before its lines."""
    return order.line_count == 0 and order.total != 0


DESCRIPTION = RecordDescription(
    record_type=RecordType.PURCHASE_ORDER,
    record_class=PurchaseOrder,
    noun="purchase order",
    plural="purchase orders",
    default_schedule="15m",
    record_key=lambda order: order.record_key,
    tracked_key=lambda order: order.record_key,
    tracked_fields=purchase_order_fields,
    amount=lambda order: order.total,
    # The order's own warehouse (its header), as Sage users speak of "an EST order".
    warehouses=lambda order: {order.warehouse_code.strip()},
    awaiting_lines=_awaiting_lines,
)
