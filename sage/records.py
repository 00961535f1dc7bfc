"""Typed Sage 100 records: what the rest of the product sees instead of raw agent rows.

Every record is frozen, amounts are Decimal and stamps are timezone-aware datetimes in the
Sage server's zone. Raw dicts from the agent are turned into these by the parsers in
`sage.parsing`, which is the only place that knows Sage's string formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class RecordType(StrEnum):
    """The record types a workspace routes to channels (docs/interface.md)."""

    AP_INVOICE = "ap_invoice"
    PURCHASE_ORDER = "purchase_order"
    GL_ENTRY = "gl_entry"  # a posted GL journal register, built from gl-postings lines
    GL_ACCOUNT = "gl_account"


@dataclass(frozen=True, slots=True)
class AuditStamps:
    """Sage's audit trio; `changed_at` is the stamp the agent sorts and filters by."""

    created_at: datetime | None
    created_by: str
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def changed_at(self) -> datetime | None:
        return self.updated_at or self.created_at


class APInvoiceSource(StrEnum):
    ENTERED = "AP_InvoiceHeader"
    POSTED = "AP_OpenInvoice"


@dataclass(frozen=True, slots=True)
class APInvoice:
    company: str
    record_key: str
    source: APInvoiceSource
    division_no: str
    vendor_no: str
    vendor_name: str
    invoice_no: str
    invoice_date: date | None
    due_date: date | None
    amount: Decimal
    balance: Decimal | None  # posted invoices only
    terms_code: str
    on_hold: bool
    purchase_order_no: str
    comment: str
    stamps: AuditStamps
    problems: tuple[str, ...] = ()  # fields read as received but not as they should be

    @property
    def vendor_display(self) -> str:
        """Vendors display as `01-AIRWAY` in Sage 100."""
        return f"{self.division_no}-{self.vendor_no}"

    @property
    def business_key(self) -> tuple[str, str, str]:
        """Stable across posting, unlike RecordKey (the invoice moves to AP_OpenInvoice)."""
        return (self.division_no, self.vendor_no, self.invoice_no)

    @property
    def is_posted(self) -> bool:
        return self.source is APInvoiceSource.POSTED

    @property
    def is_paid(self) -> bool:
        return self.is_posted and self.balance is not None and self.balance == 0


class OrderType(StrEnum):
    STANDARD = "S"
    DROP_SHIP = "D"
    MASTER = "M"
    REPEATING = "R"
    MATERIAL_REQUISITION = "X"


class OrderStatus(StrEnum):
    NEW = "N"
    OPEN = "O"
    BACK_ORDERED = "B"
    CHANGE = "C"
    COMPLETE = "X"


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    line_key: str
    item_code: str
    item_description: str
    warehouse_code: str
    quantity_ordered: Decimal
    unit_cost: Decimal
    extension_amount: Decimal


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    company: str
    record_key: str
    po_no: str
    order_date: date | None
    order_type: OrderType
    status: OrderStatus
    division_no: str
    vendor_no: str
    vendor_name: str
    warehouse_code: str
    ship_to_code: str
    required_date: date | None
    taxable_amount: Decimal
    non_taxable_amount: Decimal
    sales_tax_amount: Decimal
    freight_amount: Decimal
    comment: str
    lines: tuple[PurchaseOrderLine, ...]
    stamps: AuditStamps
    problems: tuple[str, ...] = ()  # fields read as received but not as they should be

    @property
    def vendor_display(self) -> str:
        return f"{self.division_no}-{self.vendor_no}"

    @property
    def total(self) -> Decimal:
        """Sage keeps no order total; this is the sum the agent contract defines."""
        return (
            self.taxable_amount
            + self.non_taxable_amount
            + self.sales_tax_amount
            + self.freight_amount
        )

    @property
    def line_count(self) -> int:
        return len(self.lines)


@dataclass(frozen=True, slots=True)
class GLPosting:
    """One posted ledger line (GL_DetailPosting); registers group these."""

    company: str
    record_key: str
    account_key: str
    account: str
    account_description: str
    posting_date: date | None
    source_journal: str
    register_no: str
    sequence_no: str
    comment: str
    debit: Decimal
    credit: Decimal
    batch_no: str
    source_module: str
    stamps: AuditStamps
    problems: tuple[str, ...] = ()  # fields read as received but not as they should be

    @property
    def register_key(self) -> tuple[str, str]:
        return (self.source_journal, self.register_no)


@dataclass(frozen=True, slots=True)
class GLRegister:
    """A posted journal register: every line of one (SourceJournal, JournalRegisterNo)."""

    company: str
    source_journal: str
    register_no: str
    lines: tuple[GLPosting, ...]

    @property
    def key(self) -> str:
        return f"{self.source_journal}-{self.register_no}"

    @property
    def posting_date(self) -> date | None:
        return min((line.posting_date for line in self.lines if line.posting_date), default=None)

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal(0))

    @property
    def is_balanced(self) -> bool:
        return self.total_debit == self.total_credit


class AccountStatus(StrEnum):
    ACTIVE = "A"
    INACTIVE = "I"
    DELETED = "D"


@dataclass(frozen=True, slots=True)
class GLAccount:
    company: str
    record_key: str
    account_key: str
    account: str
    raw_account: str
    description: str
    main_account_code: str
    account_type: str
    account_group: str
    status: AccountStatus
    stamps: AuditStamps
    problems: tuple[str, ...] = ()  # fields read as received but not as they should be


SageRecord = APInvoice | PurchaseOrder | GLPosting | GLAccount


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    """A row that could not be parsed: kept with its reason so nothing vanishes silently."""

    record_key: str | None
    reason: str
