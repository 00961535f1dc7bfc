"""Builds realistic raw agent rows (dicts of Sage-formatted strings) from an injected RNG.

Rows come out exactly as the agent would serve them; the store (`data.py`) only keeps and
sorts them. Numbering (invoice, PO, register, account keys) is per company and continues from
whatever the factory issued before, so the same seed gives the same rows.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sage.agent.readers import AP_INVOICES, GL_POSTINGS, record_key
from sage.simulator.catalog import (
    ACCOUNTS,
    AP,
    CASH,
    COMMENTS,
    INVENTORY,
    ITEMS,
    JOURNAL_COMMENTS,
    PO_CLEARING,
    TERMS,
    USERS,
    VENDORS,
    Account,
    Vendor,
)
from sage.simulator.formats import TimeStyle, money, sage_date, sage_stamp

TAX_RATE = Decimal("0.0825")
COMMENT_WIDTH = 30  # AP_InvoiceHeader.Comment and PO_PurchaseOrderHeader.Comment
_ENTERED, _POSTED = AP_INVOICES.sources
(_POSTING,) = GL_POSTINGS.sources


class RecordFactory:
    """Realistic rows for one set of companies; every random choice goes through `rng`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._counters: dict[tuple[str, str], int] = defaultdict(int)

    def _next(self, company: str, series: str, start: int) -> int:
        key = (company, series)
        self._counters[key] = max(self._counters[key] + 1, start)
        return self._counters[key]

    # --- shared pieces -------------------------------------------------------------------

    def time_style(self) -> TimeStyle:
        roll = self.rng.random()
        if roll < 0.8:
            return TimeStyle.PADDED
        return TimeStyle.PLAIN if roll < 0.95 else TimeStyle.TRIMMED

    def empty_date(self) -> str:
        """An empty date as the agent serves it: ProvideX gives NULL (EnforceNullDate=1) and
        SQL Server 1753-01-01, and the agent spells both ""."""
        return ""

    def created(self, local: datetime, *, with_updated: bool = True) -> dict[str, str]:
        """The audit fields of a row first written at `local` (Sage server wall clock)."""
        day, clock = sage_stamp(local, self.time_style())
        user = self.rng.choice(USERS)
        fields = {"DateCreated": day, "TimeCreated": clock, "UserCreatedKey": user}
        if with_updated:
            # Some editions stamp the updated trio on insert, others leave it blank.
            if self.rng.random() < 0.5:
                fields |= {"DateUpdated": day, "TimeUpdated": clock, "UserUpdatedKey": user}
            else:
                fields |= {
                    "DateUpdated": self.empty_date(),
                    "TimeUpdated": "",
                    "UserUpdatedKey": "",
                }
        return fields

    def updated(self, local: datetime, user: str | None = None) -> dict[str, str]:
        day, clock = sage_stamp(local, self.time_style())
        return {
            "DateUpdated": day,
            "TimeUpdated": clock,
            "UserUpdatedKey": user or self.rng.choice(USERS),
        }

    def text(self, value: str) -> str:
        """Sage pads some strings to the column width; keep that habit now and then."""
        return value + " " * self.rng.choice((0, 0, 0, 1, 3, 8)) if value else value

    def comment(self) -> str:
        return self.text(self.rng.choice(COMMENTS)[:COMMENT_WIDTH])

    def vendor(self, company: str) -> Vendor:
        return self.rng.choice(VENDORS[company])

    def find_vendor(self, company: str, division: str, number: str) -> Vendor:
        for vendor in VENDORS[company]:
            if (vendor.division, vendor.number) == (division, number):
                return vendor
        raise KeyError(f"no vendor {division}-{number} in {company}")

    def account(self, company: str, account: str) -> Account:
        for candidate in ACCOUNTS[company]:
            if candidate.account == account:
                return candidate
        return ACCOUNTS[company][0]

    # --- AP invoices ---------------------------------------------------------------------

    def invoice_no(self, company: str, vendor: Vendor) -> str:
        number = self._next(company, "invoice", 10_000)
        style = self.rng.random()
        if style < 0.6:
            return str(number)
        if style < 0.85:
            return f"INV-{number}"
        return f"{vendor.number[:2]}/{number % 100:02d}/{number % 10_000:04d}"

    def ap_invoice(
        self, company: str, local: datetime, *, posted: bool = False, vendor: Vendor | None = None
    ) -> dict[str, str]:
        vendor = vendor or self.vendor(company)
        low, high = vendor.typical
        amount = Decimal(self.rng.randint(low * 100, high * 100)) / 100
        if self.rng.random() < 0.05:
            amount = -amount  # a credit memo
        invoice_date = local.date() - timedelta(days=self.rng.randint(0, 10))
        invoice_no = self.invoice_no(company, vendor)
        row = {
            "SourceTable": "AP_InvoiceHeader",
            "APDivisionNo": vendor.division,
            "VendorNo": vendor.number,
            "VendorName": vendor.name,  # AP_Vendor's, as the agent looks it up
            "InvoiceNo": invoice_no,
            "InvoiceDate": sage_date(invoice_date),
            "InvoiceDueDate": sage_date(invoice_date + timedelta(days=TERMS[vendor.terms])),
            "InvoiceAmt": money(amount),
            "TermsCode": vendor.terms,
            "HoldPayment": "Y" if self.rng.random() < 0.05 else "N",
            "PurchaseOrderNo": "",
            "Comment": self.comment(),
        }
        row["RecordKey"] = invoice_key(_ENTERED, row, f"{self._next(company, 'header-seq', 1):06d}")
        row |= self.created(local)
        return self.posted_invoice(company, row, local) if posted else row

    def posted_invoice(self, company: str, entered: dict[str, str], local: datetime) -> dict:
        """The AP_OpenInvoice row an entered invoice becomes when its batch posts."""
        row = {k: v for k, v in entered.items() if not k.startswith(("Date", "Time", "User"))}
        row["SourceTable"] = "AP_OpenInvoice"
        # AP_OpenInvoice keeps the header's primary key: only the table tag changes.
        row["RecordKey"] = invoice_key(_POSTED, row, str(entered["RecordKey"])[-6:])
        row["Balance"] = row["InvoiceAmt"]
        row |= self.created(local)
        return row

    # --- purchase orders -----------------------------------------------------------------

    def purchase_order(
        self, company: str, local: datetime, *, vendor: Vendor | None = None
    ) -> dict[str, object]:
        vendor = vendor or self.vendor(company)
        number = self._next(company, "po", 150 if company == "ABC" else 1)
        warehouse = "000" if self.rng.random() < 0.7 else "EST"
        lines = []
        taxable = non_taxable = Decimal(0)
        for index, item in enumerate(self.rng.sample(ITEMS, self.rng.randint(1, 6)), start=1):
            quantity = Decimal(self.rng.choice((1, 2, 4, 5, 10, 12, 24, 48, 100, 250)))
            if item.code.startswith("/"):
                quantity = Decimal(self.rng.randint(1, 8))
            extension = (quantity * item.unit_cost).quantize(Decimal("0.01"))
            if item.taxable:
                taxable += extension
            else:
                non_taxable += extension
            lines.append(
                {
                    "LineKey": f"{index:06d}",
                    "LineSeqNo": f"{index:014d}",
                    "ItemCode": item.code,
                    "ItemCodeDesc": self.text(item.description),
                    "WarehouseCode": warehouse,
                    "QuantityOrdered": f"{quantity:.2f}",
                    "UnitCost": f"{item.unit_cost:.4f}",
                    "ExtensionAmt": money(extension),
                }
            )
        order_date = local.date()
        freight = Decimal(self.rng.choice((0, 0, 0, 2500, 4850, 12000))) / 100
        row: dict[str, object] = {
            "RecordKey": f"{number:07d}",
            "PurchaseOrderNo": f"{number:07d}",
            "PurchaseOrderDate": sage_date(order_date),
            "OrderType": self.rng.choices("SDMRX", weights=(80, 8, 4, 5, 3))[0],
            "OrderStatus": "N",
            "APDivisionNo": vendor.division,
            "VendorNo": vendor.number,
            "PurchaseName": self.text(vendor.name),
            "WarehouseCode": warehouse,
            "ShipToCode": self.rng.choice(("", "", "MAIN", "DCK2")),
            "RequiredExpireDate": sage_date(order_date + timedelta(days=self.rng.randint(5, 21))),
            "TaxableAmt": money(taxable),
            "NonTaxableAmt": money(non_taxable),
            "SalesTaxAmt": money(taxable * TAX_RATE),
            "FreightAmt": money(freight),
            "Comment": self.comment(),
            "Lines": lines,
        }
        row |= self.created(local)
        return row

    # --- GL ------------------------------------------------------------------------------

    def gl_register(
        self,
        company: str,
        local: datetime,
        *,
        journal: str = "GJ",
        lines: int = 4,
        spread: timedelta = timedelta(0),
        entries: list[tuple[str, Decimal]] | None = None,
    ) -> list[dict[str, str]]:
        """A balanced register: debit lines, then one credit line for their total.

        `entries` (account, debit amount) fixes the debit side, e.g. from posted invoices.
        Line stamps are spread evenly over `spread`, as when a batch takes a while to post.
        """
        if lines < 2 and entries is None:
            raise ValueError("a register has at least two lines")
        register_no = f"{self._next(company, 'register-' + journal, 100):06d}"
        batch_no = f"{self._next(company, 'batch', 1):05d}"
        module = {"AP": "AP", "PO": "PO"}.get(journal, "GL")
        credit_account = {"AP": AP, "PO": PO_CLEARING}.get(journal, CASH)
        expense = [a for a in ACCOUNTS[company] if a.group in ("EXPENSES", "COST OF SALES")]
        if entries is None:
            entries = []
            for _ in range(lines - 1):
                target = INVENTORY if journal == "PO" else self.rng.choice(expense).account
                entries.append((target, Decimal(self.rng.randint(2_500, 950_000)) / 100))
        comment = self.rng.choice(JOURNAL_COMMENTS.get(journal, ("Journal entry",)))
        total = sum((amount for _, amount in entries), Decimal(0))
        sides = [(account, amount, Decimal(0)) for account, amount in entries]
        sides.append((credit_account, Decimal(0), total))
        rows = []
        posting_date = local.date()
        for index, (account_no, debit, credit) in enumerate(sides, start=1):
            account = self.account(company, account_no)
            at = local + spread * (index - 1) / max(len(sides) - 1, 1)
            row = {
                "AccountKey": self.account_key(company, account),
                "Account": account.account,
                "AccountDesc": account.description,  # GL_Account's, as the agent looks it up
                "PostingDate": sage_date(posting_date),
                "SourceJournal": journal,
                "JournalRegisterNo": register_no,
                "SequenceNo": f"{index:014d}",
                "PostingComment": self.text(comment),
                "DebitAmount": money(debit),
                "CreditAmount": money(credit),
                "BatchNo": batch_no,
                "SourceModule": module,
            }
            row["RecordKey"] = record_key(
                _POSTING, {name: str(row[name]) for name in _POSTING.table.key}
            )
            row |= self.created(at, with_updated=False)
            rows.append(row)
        return rows

    @staticmethod
    def account_key(company: str, account: Account) -> str:
        """Sage's internal 9-character key; stable per account so postings can join to it."""
        index = ACCOUNTS[company].index(account) if account in ACCOUNTS[company] else 900
        return f"{index + 1:09d}"

    def gl_account(self, company: str, account: Account, local: datetime) -> dict[str, str]:
        row = {
            "RecordKey": self.account_key(company, account),
            "AccountKey": self.account_key(company, account),
            "Account": account.account,
            "RawAccount": account.account.replace("-", ""),
            "AccountDesc": self.text(account.description),
            "MainAccountCode": account.account[:3],
            "AccountType": account.account_type,
            "AccountGroup": account.group,
            "Status": "A",
        }
        row |= self.created(local)
        return row


def invoice_key(source, row: dict[str, str], header_seq: str) -> str:
    """The agent's RecordKey for an invoice: the table tag and its primary key."""
    return record_key(
        source,
        {
            "APDivisionNo": row["APDivisionNo"],
            "VendorNo": row["VendorNo"],
            "InvoiceNo": row["InvoiceNo"],
            "HeaderSeqNo": header_seq,
        },
    )


def business_moment(rng: random.Random, now_local: datetime, days_back: int) -> datetime:
    """A plausible office-hours moment within the last `days_back` days, never after now."""
    for _ in range(20):
        day: date = now_local.date() - timedelta(days=rng.randint(0, days_back))
        moment = now_local.replace(
            year=day.year,
            month=day.month,
            day=day.day,
            hour=rng.randint(7, 17),
            minute=rng.randint(0, 59),
            second=rng.randint(0, 59),
            microsecond=0,
        )
        if moment < now_local:
            return moment
    return now_local.replace(microsecond=0) - timedelta(hours=1)
