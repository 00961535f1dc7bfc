"""The "Details" modal: one whole record as the agent has it now, lines included.

Three states share one callback id: loading (opened at once, inside Slack's 3-second trigger
window), the record (pushed with `views.update` once the agent answered), and unreachable
(the agent failed; the message says why in the agent client's own words). Long documents are
packed several lines to a section and capped, so a 900-line PO still fits Block Kit's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bolt_app.blocks.kit import (
    MAX_VIEW_BLOCKS,
    Block,
    context,
    divider,
    fields_section,
    header,
    modal,
    section,
)
from bolt_app.blocks.nouns import RECORD_TYPE_LABELS
from bolt_app.blocks.text import escape, format_date, format_money
from sage.records import (
    APInvoice,
    AuditStamps,
    GLAccount,
    GLRegister,
    PurchaseOrder,
    RecordType,
)

DETAILS_CALLBACK_ID = "record_details_modal"
LINES_PER_SECTION = 10
MAX_LINE_SECTIONS = 60  # 600 lines shown; the header blocks take the rest of the 100

DetailRecord = APInvoice | PurchaseOrder | GLRegister | GLAccount


def build_details_loading_modal(record_type: RecordType, record_key: str) -> dict[str, Any]:
    label = RECORD_TYPE_LABELS[record_type]
    return modal(
        "Details",
        [
            section(
                f":hourglass_flowing_sand: Fetching `{escape(record_key)}` ({label.lower()}) "
                "from the Sage 100 agent…"
            )
        ],
        callback_id=DETAILS_CALLBACK_ID,
    )


def build_details_unreachable_modal(
    record_type: RecordType, record_key: str, reason: str
) -> dict[str, Any]:
    label = RECORD_TYPE_LABELS[record_type]
    return modal(
        "Details",
        [
            section(
                f":warning: *The Sage 100 agent could not be reached* for `{escape(record_key)}`"
                f" ({label.lower()}).\n{escape(reason)}"
            ),
            context("The message in the channel still shows what was last seen. Try again later."),
        ],
        callback_id=DETAILS_CALLBACK_ID,
    )


def build_details_modal(record: DetailRecord) -> dict[str, Any]:
    match record:
        case APInvoice():
            blocks = _ap_invoice(record)
        case PurchaseOrder():
            blocks = _purchase_order(record)
        case GLRegister():
            blocks = _gl_register(record)
        case GLAccount():
            blocks = _gl_account(record)
    return modal("Details", blocks[:MAX_VIEW_BLOCKS], callback_id=DETAILS_CALLBACK_ID)


def _ap_invoice(invoice: APInvoice) -> list[Block]:
    state = "Posted" if invoice.is_posted else "Entered, not posted"
    if invoice.on_hold:
        state += ", on hold"
    if invoice.is_paid:
        state += ", paid"
    fields = [
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
    blocks = [header(f"AP invoice {invoice.invoice_no}"), fields_section(fields)]
    if invoice.comment:
        blocks.append(section(f"*Comment*\n{escape(invoice.comment)}"))
    blocks.append(_footer(invoice.company, invoice.record_key, invoice.stamps))
    return blocks


def _purchase_order(order: PurchaseOrder) -> list[Block]:
    fields = [
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
    blocks: list[Block] = [header(f"Purchase order {order.po_no}"), fields_section(fields)]
    if order.comment:
        blocks.append(section(f"*Comment*\n{escape(order.comment)}"))
    blocks.append(divider())
    rows = [
        f"`{escape(line.item_code)}` {escape(line.item_description)} · wh {escape(line.warehouse_code)}"
        f" · {_qty(line.quantity_ordered)} × {format_money(line.unit_cost)} = *{format_money(line.extension_amount)}*"
        for line in order.lines
    ]
    blocks += _packed(rows, "lines") or [section("No lines.")]
    blocks.append(_footer(order.company, order.record_key, order.stamps))
    return blocks


def _gl_register(register: GLRegister) -> list[Block]:
    balance = (
        ":white_check_mark: balanced" if register.is_balanced else ":warning: *does not balance*"
    )
    fields = [
        ("Posting date", format_date(register.posting_date)),
        ("Lines", str(len(register.lines))),
        ("Debits", format_money(register.total_debit)),
        ("Credits", format_money(register.total_credit)),
        ("Balance", balance),
        ("Company", escape(register.company)),
    ]
    blocks: list[Block] = [
        header(f"GL register {register.key}"),
        fields_section(fields),
        divider(),
    ]
    rows = [
        f"`{escape(line.account)}` {escape(line.account_description)}"
        f" · Dr {format_money(line.debit)} · Cr {format_money(line.credit)}"
        + (f" · {escape(line.comment)}" if line.comment else "")
        for line in register.lines
    ]
    blocks += _packed(rows, "lines") or [section("No lines.")]
    blocks.append(
        context(f"Register `{escape(register.key)}` · company {escape(register.company)}")
    )
    return blocks


def _gl_account(account: GLAccount) -> list[Block]:
    fields = [
        ("Account", escape(account.account)),
        ("Description", escape(account.description)),
        ("Status", account.status.name.title()),
        ("Type", escape(account.account_type)),
        ("Group", escape(account.account_group)),
        ("Main account", escape(account.main_account_code)),
    ]
    return [
        header(f"GL account {account.account}"),
        fields_section(fields),
        _footer(account.company, account.record_key, account.stamps),
    ]


def _packed(rows: Sequence[str], noun: str) -> list[Block]:
    """Rows packed LINES_PER_SECTION to a section, capped, with a count of what was left out."""
    blocks: list[Block] = []
    for start in range(0, len(rows), LINES_PER_SECTION):
        if len(blocks) == MAX_LINE_SECTIONS:
            shown = start
            blocks.append(context(f"…and {len(rows) - shown} more {noun}, not shown here."))
            break
        chunk = rows[start : start + LINES_PER_SECTION]
        blocks.append(section("\n".join(f"{start + i + 1}. {row}" for i, row in enumerate(chunk))))
    return blocks


def _footer(company: str, record_key: str, stamps: AuditStamps) -> Block:
    changed = stamps.changed_at
    when = changed.isoformat(timespec="minutes") if changed else "unknown"
    who = stamps.updated_by or stamps.created_by
    return context(
        f"Company {escape(company)} · record key `{escape(record_key)}` · last changed {when}"
        + (f" by user {escape(who)}" if who else "")
    )


def _qty(value: Any) -> str:
    return f"{value.normalize():f}"
