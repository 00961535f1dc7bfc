"""Slack messages for Sage records: pure functions from typed records to Block Kit.

Two rules hold for everything built here. Every piece of Sage text passes through `escape`
before it reaches a text object or the fallback `text`, so a vendor named `<!channel>` or
`<https://evil|click>` pings and links nobody (and mrkdwn is `verbatim`, so Slack does not
auto-link bare URLs or #channel names in it either). Every text is cut to its Block Kit limit by
`truncate` (never inside an `&amp;` entity, ending in an ellipsis), and no message has more
than 50 blocks, so a 10,000-character comment still posts instead of failing `invalid_blocks`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from bolt_app.blocks.kit import mrkdwn, section, within_text_budget
from bolt_app.blocks.limits import (
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_TEXT,
    MAX_URL,
)
from bolt_app.blocks.nouns import NOUNS
from bolt_app.blocks.text import ELLIPSIS, escape, format_date, format_money, truncate
from bolt_app.records.registry import describe, description_of
from sage.records import (
    AccountStatus,
    APInvoice,
    GLAccount,
    GLRegister,
    OrderStatus,
    OrderType,
    PurchaseOrder,
    RecordType,
)
from sage.resources import by_record_type

MAX_FALLBACK_TEXT = 3000  # notifications show a line or two; Slack's own cap is 40,000
MAX_DIGEST_ROWS = 40

DETAILS_ACTION_ID = "record_details"
OPEN_IN_SAGE_ACTION_ID = "record_open"  # a link button still sends an action the app must ack
METADATA_EVENT_TYPE = "sage_record"
DIGEST_EVENT_TYPE = "sage_digest"
CONNECTED_EVENT_TYPE = "sage_connected"

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
_ACCOUNT_STATUS = {
    AccountStatus.ACTIVE: "Active",
    AccountStatus.INACTIVE: "Inactive",
    AccountStatus.DELETED: "Deleted",
}

ChangeableRecord = APInvoice | PurchaseOrder | GLRegister | GLAccount


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message ready for chat.postMessage or chat.update: fallback text, blocks, metadata."""

    text: str
    blocks: tuple[dict[str, Any], ...]
    metadata: dict[str, Any] | None = None

    def as_chat_kwargs(self) -> dict[str, Any]:
        """`text`, `blocks` and `metadata` as slack_sdk takes them; the caller adds channel/ts."""
        kwargs: dict[str, Any] = {"text": self.text, "blocks": copy.deepcopy(list(self.blocks))}
        if self.metadata is not None:
            kwargs["metadata"] = copy.deepcopy(self.metadata)
        return kwargs


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Which record a Details button points at; travels as the button's JSON `value`."""

    company: str
    record_type: RecordType
    record_key: str

    def to_value(self) -> str:
        return json.dumps(
            {
                "company": self.company,
                "record_type": self.record_type.value,
                "record_key": self.record_key,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_value(cls, value: str) -> RecordRef:
        """Raises ValueError on anything but a value `to_value` made."""
        try:
            data = json.loads(value)
            return cls(
                str(data["company"]), RecordType(data["record_type"]), str(data["record_key"])
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"not a record reference: {value[:100]!r}") from error


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


# ---- block helpers ---------------------------------------------------------------------------


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(escape(text), limit), "emoji": True}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(text, MAX_HEADER_TEXT)}


def _field(label: str, value: str) -> dict[str, Any]:
    """A labelled field; `value` is raw Sage text or our own formatting, escaped here."""
    return mrkdwn(f"*{label}*\n{escape(value) or '—'}", MAX_FIELD_TEXT)


def _fields(fields: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "section", "fields": list(fields[:MAX_FIELDS])}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:MAX_CONTEXT_ELEMENTS]]}


def _record_link(record_url: str, ref: RecordRef) -> str:
    """The `record_url` template with URL-encoded placeholders; other braces are left alone."""
    values = {
        "{company}": ref.company,
        "{resource}": by_record_type(ref.record_type).path,
        "{record_key}": ref.record_key,
    }
    return re.sub(
        "|".join(re.escape(p) for p in values),
        lambda match: quote(values[match.group(0)], safe="", errors="replace"),
        record_url,
    )


def _actions(ref: RecordRef, record_url: str | None) -> list[dict[str, Any]]:
    """Details and Open in Sage buttons; a button whose value or URL would break a limit is left out."""
    buttons: list[dict[str, Any]] = []
    value = ref.to_value()
    if len(value) <= MAX_BUTTON_VALUE:
        buttons.append(
            {
                "type": "button",
                "action_id": DETAILS_ACTION_ID,
                "text": _plain("Details", MAX_BUTTON_TEXT),
                "value": value,
            }
        )
    if record_url:
        url = _record_link(record_url, ref)
        if len(url) <= MAX_URL:
            buttons.append(
                {
                    "type": "button",
                    "action_id": OPEN_IN_SAGE_ACTION_ID,
                    "text": _plain("Open in Sage", MAX_BUTTON_TEXT),
                    "url": url,
                }
            )
    return [{"type": "actions", "elements": buttons}] if buttons else []


def _record_metadata(ref: RecordRef) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "record_type": ref.record_type.value,
            "company": ref.company,
            "record_key": ref.record_key,
        },
    }


def _record_context(ref: RecordRef, *extra: str) -> dict[str, Any]:
    parts = [f"Company {escape(ref.company)}", f"Record key {escape(ref.record_key)}", *extra]
    return _context("  ·  ".join(parts))


def _message(
    text: str, blocks: Sequence[dict[str, Any]], metadata: dict[str, Any] | None
) -> SlackMessage:
    """Every builder makes a bounded number of blocks (a digest at most MAX_DIGEST_ROWS rows),
    and their text is held to Slack's total for one message."""
    assert len(blocks) <= MAX_MESSAGE_BLOCKS, len(blocks)
    return SlackMessage(
        truncate(text, MAX_FALLBACK_TEXT), tuple(within_text_budget(blocks)), metadata
    )


def _comment_block(comment: str) -> list[dict[str, Any]]:
    return [section(f"*Comment*\n{escape(comment)}")] if comment.strip() else []


def _stamped_by(user: str) -> tuple[str, ...]:
    return (f"By {escape(user)}",) if user else ()


# ---- records ---------------------------------------------------------------------------------


def ap_invoice_status(invoice: APInvoice) -> str:
    if invoice.is_paid:
        return "Paid"
    state = "Posted" if invoice.is_posted else "Entered"
    return f"{state}, on hold" if invoice.on_hold else state


def build_ap_invoice_message(invoice: APInvoice, *, record_url: str | None = None) -> SlackMessage:
    ref = RecordRef(invoice.company, RecordType.AP_INVOICE, invoice.record_key)
    vendor = f"{invoice.vendor_name} ({invoice.vendor_display})"
    fields = [
        _field("Vendor", vendor),
        _field("Invoice no.", invoice.invoice_no),
        _field("Amount", format_money(invoice.amount)),
        _field("Status", ap_invoice_status(invoice)),
        _field("Invoice date", format_date(invoice.invoice_date)),
        _field("Due date", format_date(invoice.due_date)),
    ]
    if invoice.balance is not None:
        fields.append(_field("Balance", format_money(invoice.balance)))
    if invoice.terms_code:
        fields.append(_field("Terms", invoice.terms_code))
    if invoice.purchase_order_no:
        fields.append(_field("PO no.", invoice.purchase_order_no))
    user = invoice.stamps.updated_by or invoice.stamps.created_by
    blocks = [
        _header(f"AP invoice {invoice.invoice_no} · {invoice.vendor_name}"),
        _fields(fields),
        *_comment_block(invoice.comment),
        *_actions(ref, record_url),
        _record_context(ref, invoice.source.value, *_stamped_by(user)),
    ]
    text = escape(
        f"AP invoice {invoice.invoice_no} from {vendor}: {format_money(invoice.amount)}, "
        f"due {format_date(invoice.due_date)} ({ap_invoice_status(invoice)})"
    )
    return _message(text, blocks, _record_metadata(ref))


def build_purchase_order_message(
    order: PurchaseOrder, *, record_url: str | None = None
) -> SlackMessage:
    ref = RecordRef(order.company, RecordType.PURCHASE_ORDER, order.record_key)
    vendor = f"{order.vendor_name} ({order.vendor_display})"
    status = _ORDER_STATUS[order.status]
    fields = [
        _field("Vendor", vendor),
        _field("PO no.", order.po_no),
        _field("Total", format_money(order.total)),
        _field("Lines", str(order.line_count)),
        _field("Order date", format_date(order.order_date)),
        _field("Required by", format_date(order.required_date)),
        _field("Warehouse", order.warehouse_code),
        _field("Status", status),
        _field("Order type", _ORDER_TYPE[order.order_type]),
    ]
    if order.ship_to_code:
        fields.append(_field("Ship to", order.ship_to_code))
    user = order.stamps.updated_by or order.stamps.created_by
    blocks = [
        _header(f"Purchase order {order.po_no} · {order.vendor_name}"),
        _fields(fields),
        *_comment_block(order.comment),
        *_actions(ref, record_url),
        _record_context(ref, *_stamped_by(user)),
    ]
    text = escape(
        f"Purchase order {order.po_no} to {vendor}: {format_money(order.total)}, "
        f"{_plural(order.line_count, 'line', 'lines')}, {status}"
    )
    return _message(text, blocks, _record_metadata(ref))


@dataclass(frozen=True, slots=True)
class _AccountActivity:
    account: str
    description: str
    debit: Decimal
    credit: Decimal

    @property
    def size(self) -> Decimal:
        return max(self.debit, self.credit)

    def line(self) -> str:
        sides = [
            f"{name} {format_money(amount)}"
            for name, amount in (("debit", self.debit), ("credit", self.credit))
            if amount
        ]
        return f"`{escape(self.account)}` {escape(self.description)}: {', '.join(sides) or format_money(Decimal(0))}"


def _largest_accounts(register: GLRegister, count: int = 5) -> list[_AccountActivity]:
    """The accounts with the most activity in the register, largest first."""
    totals: dict[str, _AccountActivity] = {}
    for line in register.lines:
        seen = totals.get(line.account)
        totals[line.account] = _AccountActivity(
            line.account,
            seen.description if seen else line.account_description,
            (seen.debit if seen else Decimal(0)) + line.debit,
            (seen.credit if seen else Decimal(0)) + line.credit,
        )
    return sorted(totals.values(), key=lambda a: (-a.size, a.account))[:count]


def build_gl_register_message(
    register: GLRegister, *, record_url: str | None = None, top_accounts: int = 5
) -> SlackMessage:
    ref = RecordRef(register.company, RecordType.GL_ENTRY, register.key)
    debit, credit = register.total_debit, register.total_credit
    blocks = [_header(f"GL register {register.key} posted")]
    if not register.is_balanced:
        blocks.append(
            section(
                f":warning: *Out of balance by {format_money(abs(debit - credit))}*: "
                f"debits {format_money(debit)}, credits {format_money(credit)}"
            )
        )
    blocks.append(
        _fields(
            [
                _field("Posting date", format_date(register.posting_date)),
                _field("Lines", str(len(register.lines))),
                _field("Total debits", format_money(debit)),
                _field("Total credits", format_money(credit)),
                _field("Source journal", register.source_journal),
                _field("Register no.", register.register_no),
            ]
        )
    )
    accounts = _largest_accounts(register, top_accounts)
    if accounts:
        blocks.append(section("*Largest accounts*\n" + "\n".join(a.line() for a in accounts)))
    blocks += [*_actions(ref, record_url), _record_context(ref)]
    balance = "balanced" if register.is_balanced else "OUT OF BALANCE"
    text = escape(
        f"GL register {register.key} posted {format_date(register.posting_date)}: "
        f"{_plural(len(register.lines), 'line', 'lines')}, debits {format_money(debit)}, "
        f"credits {format_money(credit)} ({balance})"
    )
    return _message(text, blocks, _record_metadata(ref))


def _account_changes(old: GLAccount, new: GLAccount) -> list[tuple[str, str, str]]:
    pairs = [
        ("Description", old.description, new.description),
        ("Status", _ACCOUNT_STATUS[old.status], _ACCOUNT_STATUS[new.status]),
        ("Account type", old.account_type, new.account_type),
        ("Account group", old.account_group, new.account_group),
    ]
    return [(label, before, after) for label, before, after in pairs if before != after]


def build_gl_account_message(
    old: GLAccount | None, new: GLAccount, *, record_url: str | None = None
) -> SlackMessage:
    """A new account, or what changed on an existing one (old → new)."""
    ref = RecordRef(new.company, RecordType.GL_ACCOUNT, new.record_key)
    user = new.stamps.updated_by or new.stamps.created_by
    if old is None:
        title = f"GL account {new.account} created"
        body = _fields(
            [
                _field("Account", new.account),
                _field("Description", new.description),
                _field("Status", _ACCOUNT_STATUS[new.status]),
                _field("Account type", new.account_type),
                _field("Account group", new.account_group),
                _field("Main account", new.main_account_code),
            ]
        )
        text = f"GL account {new.account} {new.description} created"
    else:
        changes = _account_changes(old, new)
        title = f"GL account {new.account} changed"
        lines = [
            f"*{label}*: {escape(before) or '—'} → {escape(after) or '—'}"
            for label, before, after in changes
        ]
        body = section("\n".join(lines) or "No visible change")
        text = f"GL account {new.account} changed: " + "; ".join(
            f"{label} {before} → {after}" for label, before, after in changes
        )
    blocks = [
        _header(title),
        body,
        *_actions(ref, record_url),
        _record_context(ref, *_stamped_by(user)),
    ]
    return _message(escape(text), blocks, _record_metadata(ref))


# ---- changes ---------------------------------------------------------------------------------


def _ap_changes(old: APInvoice, new: APInvoice) -> list[str]:
    changes = []
    if new.is_posted and not old.is_posted:
        changes.append("Posted")
    if new.on_hold != old.on_hold:
        changes.append("Put on hold" if new.on_hold else "Hold released")
    if new.is_paid and not old.is_paid:
        changes.append("Paid")
    elif old.balance is not None and new.balance is not None and new.balance != old.balance:
        changes.append(f"Balance {format_money(old.balance)} → {format_money(new.balance)}")
    if new.amount != old.amount:
        changes.append(f"Amount {format_money(old.amount)} → {format_money(new.amount)}")
    if new.due_date != old.due_date:
        changes.append(f"Due date {format_date(old.due_date)} → {format_date(new.due_date)}")
    return changes


def _po_changes(old: PurchaseOrder, new: PurchaseOrder) -> list[str]:
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


def _register_changes(old: GLRegister, new: GLRegister) -> list[str]:
    known = {line.record_key for line in old.lines}
    late = sum(1 for line in new.lines if line.record_key not in known)
    changes = [f"{_plural(late, 'late line', 'late lines')} added"] if late else []
    if (new.total_debit, new.total_credit) != (old.total_debit, old.total_credit):
        changes.append(
            f"Debits {format_money(new.total_debit)}, credits {format_money(new.total_credit)}"
        )
    if old.is_balanced and not new.is_balanced:
        changes.append("Now out of balance")
    elif new.is_balanced and not old.is_balanced:
        changes.append("Now balanced")
    return changes


def describe_change(old: ChangeableRecord, new: ChangeableRecord) -> str:
    """One line a person reads in the thread: "Posted", "Status: New → Open", ... (unescaped)."""
    if type(old) is not type(new):
        raise TypeError(f"cannot compare a {type(old).__name__} with a {type(new).__name__}")
    changes = _wording(new).changes(old, new)
    return "; ".join(changes) or "Details updated"


def _ref_of(record: ChangeableRecord) -> RecordRef:
    description = description_of(record)
    return RecordRef(record.company, description.record_type, description.record_key(record))


def build_change_reply(old: ChangeableRecord, new: ChangeableRecord) -> SlackMessage:
    """The one-line thread reply under the original message when a record changes."""
    line = escape(describe_change(old, new))
    return _message(line, [section(line)], _record_metadata(_ref_of(new)))


# ---- digest rows -----------------------------------------------------------------------------


def _ap_invoice_row(record: APInvoice) -> str:
    return (
        f"• *{escape(record.invoice_no)}* {escape(record.vendor_name)} "
        f"({escape(record.vendor_display)}): {format_money(record.amount)}, "
        f"due {format_date(record.due_date)}, {ap_invoice_status(record)}"
    )


def _purchase_order_row(record: PurchaseOrder) -> str:
    return (
        f"• *PO {escape(record.po_no)}* {escape(record.vendor_name)} "
        f"({escape(record.vendor_display)}): {format_money(record.total)}, "
        f"{_plural(record.line_count, 'line', 'lines')}, {_ORDER_STATUS[record.status]}"
    )


def _gl_register_row(record: GLRegister) -> str:
    warning = "" if record.is_balanced else " :warning: out of balance"
    return (
        f"• *{escape(record.key)}* {format_date(record.posting_date)}: "
        f"{_plural(len(record.lines), 'line', 'lines')}, "
        f"debits {format_money(record.total_debit)}{warning}"
    )


def _gl_account_row(record: GLAccount) -> str:
    return (
        f"• *{escape(record.account)}* {escape(record.description)} "
        f"({_ACCOUNT_STATUS[record.status]})"
    )


# ---- each record type's wording -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Wording:
    """How one record type reads: its full message, its change lines, its digest row."""

    message: Callable[[Any, Any, str | None], SlackMessage]  # (record, previous, record_url)
    changes: Callable[[Any, Any], list[str]]  # (old, new)
    digest_row: Callable[[Any], str]


def _gl_account_change_lines(old: GLAccount, new: GLAccount) -> list[str]:
    return [f"{label}: {b} → {a}" for label, b, a in _account_changes(old, new)]


_WORDINGS: dict[RecordType, _Wording] = {
    RecordType.AP_INVOICE: _Wording(
        lambda record, _, url: build_ap_invoice_message(record, record_url=url),
        _ap_changes,
        _ap_invoice_row,
    ),
    RecordType.PURCHASE_ORDER: _Wording(
        lambda record, _, url: build_purchase_order_message(record, record_url=url),
        _po_changes,
        _purchase_order_row,
    ),
    RecordType.GL_ENTRY: _Wording(
        lambda record, _, url: build_gl_register_message(record, record_url=url),
        _register_changes,
        _gl_register_row,
    ),
    RecordType.GL_ACCOUNT: _Wording(
        lambda record, previous, url: build_gl_account_message(
            previous if isinstance(previous, GLAccount) else None, record, record_url=url
        ),
        _gl_account_change_lines,
        _gl_account_row,
    ),
}


def _wording(record: ChangeableRecord) -> _Wording:
    return _WORDINGS[description_of(record).record_type]


def build_record_message(
    record: ChangeableRecord, *, previous: object | None = None, record_url: str | None = None
) -> SlackMessage:
    """The full message of one record; types that word a change themselves (GL accounts) show
    `previous` -> `record`."""
    return _wording(record).message(record, previous, record_url)


GONE_TEXT = "No longer in Sage 100"


def build_gone_reply(record: ChangeableRecord) -> SlackMessage:
    """The thread reply when a reconcile finds a record deleted or purged in Sage 100."""
    line = f"{GONE_TEXT}: deleted or purged (history, purge) since this was posted."
    return _message(line, [section(escape(line))], _record_metadata(_ref_of(record)))


# ---- digest and connection -------------------------------------------------------------------


def digest_row(record: ChangeableRecord) -> str:
    """One record's line in a digest."""
    return _wording(record).digest_row(record)


@dataclass(frozen=True, slots=True)
class DigestSummary:
    """What a digest says of a burst, kept as the burst streams past: how many, their total, the
    first `MAX_DIGEST_ROWS` rows and, for changes, each first row's change and the one change
    every record had (None when they differ)."""

    company: str
    count: int
    total: Decimal | None
    rows: tuple[str, ...]
    changes: tuple[str, ...] = ()
    same_change: str | None = None


def summarize(
    record_type: RecordType,
    records: Sequence[ChangeableRecord],
    changes: Sequence[str] | None = None,
    summary: DigestSummary | None = None,
) -> DigestSummary:
    """`summary` (a new one when None) with `records` added, each with its `describe_change`
    when the burst is of changes."""
    if summary is None:
        if not records:
            raise ValueError("a digest needs at least one record")
        summary = DigestSummary(
            records[0].company, 0, None, (), (), changes[0] if changes else None
        )
    amount = describe(record_type).amount
    total = summary.total
    if amount is not None:
        total = sum((amount(record) for record in records), total or Decimal(0))
    room = max(0, MAX_DIGEST_ROWS - len(summary.rows))
    same = summary.same_change
    if changes and same is not None and any(change != same for change in changes):
        same = None
    return DigestSummary(
        company=summary.company,
        count=summary.count + len(records),
        total=total,
        rows=(*summary.rows, *(digest_row(record) for record in records[:room])),
        changes=(*summary.changes, *(changes or ())[:room]),
        same_change=same,
    )


def _pack_rows(rows: Sequence[str], row_limit: int = 300) -> list[dict[str, Any]]:
    """Rows into as few sections as the 3000-character limit allows."""
    sections: list[dict[str, Any]] = []
    current: list[str] = []
    for row in (truncate(r, row_limit) for r in rows):
        if current and len("\n".join([*current, row])) > MAX_SECTION_TEXT:
            sections.append(section("\n".join(current)))
            current = []
        current.append(row)
    if current:
        sections.append(section("\n".join(current)))
    return sections


def build_digest_message(
    record_type: RecordType, summary: DigestSummary, limit: int = 10
) -> SlackMessage:
    """One message for a burst: count, total, the first `limit` rows, where to find the rest."""
    singular, plural = NOUNS[record_type]
    count = _plural(summary.count, f"new {singular}", f"new {plural}")
    return _digest(record_type, summary, count, summary.rows[: max(0, limit)])


# A bulk action in Sage that changed every record the same way, said as one verb.
_BULK_VERBS = {
    "Posted": "posted",
    "Paid": "paid",
    "Put on hold": "put on hold",
    "Hold released": "released from hold",
}


def build_change_digest_message(
    record_type: RecordType,
    summary: DigestSummary,
    *,
    left_as_posted: int = 0,
    limit: int = 10,
) -> SlackMessage:
    """One message for a burst of changes (`summarize` with each change): "312 AP invoices
    posted", their total, the first `limit` rows. `left_as_posted` earlier messages were not
    updated to save Slack calls; the digest says so, so nobody trusts their old state."""
    singular, plural = NOUNS[record_type]
    verb = _BULK_VERBS.get(summary.same_change or "")
    count = _plural(
        summary.count, f"{singular} {verb or 'changed'}", f"{plural} {verb or 'changed'}"
    )
    rows = [
        row + ("" if verb else f": {escape(change)}")
        for row, change in zip(summary.rows[: max(0, limit)], summary.changes, strict=False)
    ]
    note = None
    if left_as_posted:
        note = (
            f"{_plural(left_as_posted, 'earlier message', 'earlier messages')} about these "
            f"{'was' if left_as_posted == 1 else 'were'} not updated and still "
            f"{'shows' if left_as_posted == 1 else 'show'} the state before this change."
        )
    return _digest(record_type, summary, count, rows, note, changed=True)


def _digest(
    record_type: RecordType,
    summary: DigestSummary,
    count: str,
    rows: Sequence[str],
    note: str | None = None,
    *,
    changed: bool = False,
) -> SlackMessage:
    if not summary.count:
        raise ValueError("a digest needs at least one record")
    company = summary.company
    shown = rows[:MAX_DIGEST_ROWS]
    description = describe(record_type)
    total = summary.total
    summary_line = f"*{count}* in company {escape(company)}"
    if total is not None:
        summary_line += f", {description.amount_label} *{format_money(total)}*"
    blocks = [_header(count), section(summary_line), *_pack_rows(shown)]
    rest = summary.count - len(shown)
    if rest:
        blocks.append(
            _context(
                f"{ELLIPSIS}and {rest} more not listed here: find them in Sage 100, "
                f"company {escape(company)}."
            )
        )
    if note:
        blocks.append(_context(escape(note)))
    text = escape(f"{count} in company {company}") + (
        f", total {format_money(total)}" if total is not None else ""
    )
    metadata = {
        "event_type": DIGEST_EVENT_TYPE,
        "event_payload": {
            "record_type": record_type.value,
            "company": company,
            "count": summary.count,
            "changed": changed,
        },
    }
    return _message(text, blocks, metadata)


def build_connected_message(company: str, record_type: RecordType) -> SlackMessage:
    """The one short note a channel gets when polling starts, instead of a flood of history."""
    plural = NOUNS[record_type][1]
    line = (
        f"Connected to Sage 100 company *{escape(company)}*. New and changed {plural} "
        f"will be posted here as they happen."
    )
    metadata = {
        "event_type": CONNECTED_EVENT_TYPE,
        "event_payload": {"record_type": record_type.value, "company": company},
    }
    text = escape(f"Connected to Sage 100 company {company}: {plural} will be posted here.")
    return _message(text, [section(line)], metadata)


# ---- reading a message outside Slack ---------------------------------------------------------


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _readable(text_object: Mapping[str, Any]) -> str:
    text = _unescape(str(text_object.get("text", "")))
    if text_object.get("type") == "mrkdwn":
        return text.replace("*", "").replace("`", "")
    return text


def render_text(message: SlackMessage) -> str:
    """The message as a person reads it, for the terminal demo and logs."""
    lines: list[str] = []
    for block in message.blocks:
        kind = block["type"]
        if kind == "header":
            title = _readable(block["text"])
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if "text" in block:
                lines.append(_readable(block["text"]))
            for item in block.get("fields", ()):
                label, _, value = _readable(item).partition("\n")
                lines.append(f"{label}: {value}" if value else label)
        elif kind == "context":
            lines.append("  ".join(_readable(e) for e in block["elements"] if "text" in e))
        elif kind == "actions":
            buttons = [
                f"[{_readable(b['text'])}{' ' + b['url'] if 'url' in b else ''}]"
                for b in block["elements"]
            ]
            lines.append("  ".join(buttons))
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines) if lines else _unescape(message.text)


def block_kit_builder_url(message: SlackMessage) -> str:
    """A link that opens the blocks in Slack's Block Kit Builder, for a look at the real layout."""
    payload = json.dumps({"blocks": list(message.blocks)}, separators=(",", ":"))
    return "https://app.slack.com/block-kit-builder/#" + quote(payload, safe="")
