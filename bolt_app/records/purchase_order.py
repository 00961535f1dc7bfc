"""Purchase orders: routed by warehouse, held while their lines have not arrived, and waiting
while still New."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bolt_app.blockkit.kit import Block, divider, fields_section, header, section
from bolt_app.blockkit.text import counted, escape, format_date, format_money
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
from bolt_app.records.wording import (
    comment_block,
    details_footer,
    field,
    fields,
    packed,
    quantity,
    stamped_by,
)
from sage.records import OrderStatus, OrderType, PurchaseOrder, RecordType

_ORDER_STATUS = {
    OrderStatus.NEW: "New",
    OrderStatus.OPEN: "Open",
    OrderStatus.BACK_ORDERED: "Back ordered",
    OrderStatus.CHANGE: "Change",
    OrderStatus.COMPLETE: "Complete",
}
_ORDER_TYPE = {
    OrderType.STANDARD: "Standard",
    OrderType.DROP_SHIP: "Drop ship",
    OrderType.MASTER: "Master",
    OrderType.REPEATING: "Repeating",
    OrderType.MATERIAL_REQUISITION: "Material requisition",
}


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


def purchase_order_message(order: PurchaseOrder, _previous: object) -> RecordMessage:
    vendor = f"{order.vendor_name} ({order.vendor_display})"
    status = _ORDER_STATUS[order.status]
    shown = [
        field("Vendor", vendor),
        field("PO no.", order.po_no),
        field("Total", format_money(order.total)),
        field("Lines", str(order.line_count)),
        field("Order date", format_date(order.order_date)),
        field("Required by", format_date(order.required_date)),
        field("Warehouse", order.warehouse_code),
        field("Status", status),
        field("Order type", _ORDER_TYPE[order.order_type]),
    ]
    if order.ship_to_code:
        shown.append(field("Ship to", order.ship_to_code))
    return RecordMessage(
        title=f"Purchase order {order.po_no} · {order.vendor_name}",
        body=[fields(shown), *comment_block(order.comment)],
        text=f"Purchase order {order.po_no} to {vendor}: {format_money(order.total)}, "
        f"{counted(order.line_count, 'line', 'lines')}, {status}",
        context=stamped_by(order.stamps),
    )


def purchase_order_changes(old: PurchaseOrder, new: PurchaseOrder) -> list[str]:
    changes = []
    if new.status != old.status:
        changes.append(f"Status: {_ORDER_STATUS[old.status]} → {_ORDER_STATUS[new.status]}")
    if new.line_count != old.line_count:
        changes.append(f"Lines {old.line_count} → {new.line_count}")
    if new.total != old.total:
        changes.append(f"Total {format_money(old.total)} → {format_money(new.total)}")
    if new.required_date != old.required_date:
        changes.append(
            f"Required by {format_date(old.required_date)} → {format_date(new.required_date)}"
        )
    return changes


def purchase_order_row(order: PurchaseOrder) -> str:
    return (
        f"• *PO {escape(order.po_no)}* {escape(order.vendor_name)} "
        f"({escape(order.vendor_display)}): {format_money(order.total)}, "
        f"{counted(order.line_count, 'line', 'lines')}, {_ORDER_STATUS[order.status]}"
    )


def purchase_order_details(order: PurchaseOrder) -> list[Block]:
    shown = [
        ("Vendor", f"{escape(order.vendor_name)} ({escape(order.vendor_display)})"),
        ("Status", order.status.name.replace("_", " ").title()),
        ("Order date", format_date(order.order_date)),
        ("Required", format_date(order.required_date)),
        ("Warehouse", escape(order.warehouse_code)),
        ("Type", order.order_type.name.replace("_", " ").title()),
        ("Total", format_money(order.total)),
        (
            "Tax / freight",
            f"{format_money(order.sales_tax_amount)} / {format_money(order.freight_amount)}",
        ),
        ("Lines", str(order.line_count)),
        ("Company", escape(order.company)),
    ]
    blocks: list[Block] = [header(f"Purchase order {order.po_no}"), fields_section(shown)]
    blocks += comment_block(order.comment)
    blocks.append(divider())
    rows = [
        f"`{escape(line.item_code)}` {escape(line.item_description)} · wh {escape(line.warehouse_code)}"
        f" · {quantity(line.quantity_ordered)} × {format_money(line.unit_cost)} = *{format_money(line.extension_amount)}*"
        for line in order.lines
    ]
    blocks += packed(rows, "lines") or [section("No lines.")]
    blocks.append(details_footer(order.company, order.record_key, order.stamps))
    return blocks


def purchase_orders_waiting(orders: Sequence[PurchaseOrder], ask: WaitingAsk) -> list[Waiting]:
    """Orders still New (after `new_after_days`, when the ask sets it)."""
    title = "Purchase orders still New"
    new = [o for o in orders if o.status is OrderStatus.NEW]
    if ask.new_after_days is not None:
        title += f" after {ask.new_after_days} days"
        cutoff = ask.today - timedelta(days=ask.new_after_days)
        new = [o for o in new if o.order_date is not None and o.order_date <= cutoff]
    items = [
        PendingItem(o.company, f"PO {o.po_no}, {o.vendor_display}", o.total, o.order_date)
        for o in new
    ]
    return [Waiting("new_orders", title, items)]


DESCRIPTION = RecordDescription(
    record_type=RecordType.PURCHASE_ORDER,
    record_class=PurchaseOrder,
    noun="purchase order",
    plural="purchase orders",
    default_schedule="15m",
    record_key=lambda order: order.record_key,
    message=purchase_order_message,
    change_lines=purchase_order_changes,
    digest_row=purchase_order_row,
    details=purchase_order_details,
    tracked_key=lambda order: order.record_key,
    tracked_fields=purchase_order_fields,
    amount=lambda order: order.total,
    # The order's own warehouse (its header), as Sage users speak of "an EST order".
    warehouses=lambda order: {order.warehouse_code.strip()},
    awaiting_lines=_awaiting_lines,
    waiting=purchase_orders_waiting,
    reconciled=True,
)
