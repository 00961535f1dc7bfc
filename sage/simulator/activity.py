"""Life in the simulated Sage company while the simulator runs.

Each `step(now)` does one plausible thing (an invoice entered, a batch posted, a PO received,
an account edited...) and writes any GL lines that are due: registers post their lines over
about a minute, so a poll can catch one half written. `run` calls `step` every `interval`
seconds until its stop event is set. Clock and RNG are injected; `step` alone is what unit
tests drive.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sage.simulator.data import Row, SimulatorData
from sage.simulator.formats import Resource

# new -> open -> back-ordered, complete or changed; a change order reopens
NEXT_PO_STATUS = {"N": ("O",), "O": ("B", "X", "X", "C"), "B": ("X",), "C": ("O",)}
REGISTER_SPREAD = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Change:
    """What one step did, for logs and tests."""

    kind: str
    company: str
    record_keys: tuple[str, ...]


@dataclass(slots=True)
class _PendingWrite:
    """A row the agent will see later: a register line still posting, or PO lines not yet read.

    A new GL line gets the stamp of when it is written; PO lines catching up with their
    header leave the stamp alone, which is what makes them hard to poll.
    """

    due: datetime
    company: str
    resource: Resource
    row: Row


class Activity:
    """Generates business activity in `data`; kinds are listed in `KINDS`."""

    KINDS = (
        "invoice_entered",
        "invoices_posted",
        "invoice_paid",
        "po_created",
        "po_status",
        "gl_register",
        "account_edited",
    )

    def __init__(
        self,
        data: SimulatorData,
        *,
        rng: random.Random,
        clock: Callable[[], datetime],
        interval: float = 5.0,
        companies: tuple[str, ...] | None = None,
    ) -> None:
        self.data = data
        self.rng = rng
        self.clock = clock
        self.interval = interval
        self.companies = companies or data.companies
        self.pending: list[_PendingWrite] = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.step(self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    def step(self, now: datetime, kind: str | None = None) -> list[Change]:
        """Do the writes that are due, then one change of `kind` (random when None)."""
        changes = self.flush(now)
        company = self.rng.choice(self.companies)
        kind = kind or self.rng.choices(self.KINDS, weights=(5, 2, 2, 3, 3, 2, 1))[0]
        change = getattr(self, f"_{kind}")(company, now)
        if change is not None:
            changes.append(change)
        return changes

    def flush(self, now: datetime) -> list[Change]:
        """Store what is due: GL lines stamped `now`, PO lines under their header's stamp."""
        due = [write for write in self.pending if write.due <= now]
        self.pending = [write for write in self.pending if write.due > now]
        changes = []
        for write in due:
            key = str(write.row["RecordKey"])
            if write.resource is Resource.GL_POSTINGS:
                self.data.put(write.company, write.resource, self.data.restamp(write.row, now))
                changes.append(Change("gl_line_written", write.company, (key,)))
            elif self.data.get(write.company, write.resource, key) is not None:
                lines = {"Lines": write.row["Lines"]}
                self.data.update(write.company, write.resource, key, lines, at=None)
                changes.append(Change("po_lines_read", write.company, (key,)))
        return changes

    def _later(self, write: _PendingWrite) -> None:
        self.pending.append(write)
        self.pending.sort(key=lambda pending: pending.due)

    def _entered(self, company: str) -> list[Row]:
        return [
            row
            for row in self.data.rows(company, Resource.AP_INVOICES)
            if row["SourceTable"] == "AP_InvoiceHeader"
        ]

    def _invoice_entered(self, company: str, now: datetime) -> Change:
        row = self.data.add_ap_invoice(company, now)
        return Change("invoice_entered", company, (str(row["RecordKey"]),))

    def _invoices_posted(self, company: str, now: datetime) -> Change | None:
        """Post every entered invoice in one batch, with its AP register."""
        entered = self._entered(company)
        if not entered:
            return self._invoice_entered(company, now)
        posted = [self.data.post_invoice(company, str(row["RecordKey"]), now) for row in entered]
        entries = [
            (
                self.data.factory.find_vendor(
                    company, str(row["APDivisionNo"]), str(row["VendorNo"])
                ).expense_account,
                Decimal(str(row["InvoiceAmt"])),
            )
            for row in posted
        ]
        self._post_register(company, now, "AP", entries)
        return Change("invoices_posted", company, tuple(str(row["RecordKey"]) for row in posted))

    def _invoice_paid(self, company: str, now: datetime) -> Change | None:
        """A check run pays one open invoice in full."""
        unpaid = [
            row
            for row in self.data.rows(company, Resource.AP_INVOICES)
            if row["SourceTable"] == "AP_OpenInvoice" and Decimal(str(row["Balance"])) > 0
        ]
        if not unpaid:
            return self._invoices_posted(company, now)
        row = self.rng.choice(unpaid)
        key = str(row["RecordKey"])
        self.data.pay_invoice(company, key, Decimal(str(row["Balance"])), now)
        return Change("invoice_paid", company, (key,))

    def _po_created(self, company: str, now: datetime) -> Change:
        """A new PO; now and then its header is readable a few seconds before its lines."""
        row = self.data.add_purchase_order(company, now)
        if self.rng.random() < 0.3:
            self.data.put(company, Resource.PURCHASE_ORDERS, row | {"Lines": []})
            later = now + timedelta(seconds=self.rng.randint(2, 10))
            self._later(_PendingWrite(later, company, Resource.PURCHASE_ORDERS, row))
        return Change("po_created", company, (str(row["RecordKey"]),))

    def _po_status(self, company: str, now: datetime) -> Change | None:
        open_orders = [
            row
            for row in self.data.rows(company, Resource.PURCHASE_ORDERS)
            if row["OrderStatus"] in NEXT_PO_STATUS
        ]
        if not open_orders:
            return self._po_created(company, now)
        row = self.rng.choice(open_orders)
        status = self.rng.choice(NEXT_PO_STATUS[str(row["OrderStatus"])])
        self.data.set_po_status(company, str(row["RecordKey"]), status, now)
        if status == "X":
            total = Decimal(str(row["TaxableAmt"])) + Decimal(str(row["NonTaxableAmt"]))
            self._post_register(company, now, "PO", [("130-00-00", total)])
        return Change("po_status", company, (str(row["RecordKey"]),))

    def _gl_register(self, company: str, now: datetime) -> Change:
        rows = self._post_register(company, now, "GJ", None)
        return Change("gl_register", company, tuple(str(row["RecordKey"]) for row in rows))

    def _post_register(
        self,
        company: str,
        now: datetime,
        journal: str,
        entries: list[tuple[str, Decimal]] | None,
    ) -> list[Row]:
        """Queue a register's lines to be written over about a minute from `now`."""
        rows = self.data.build_gl_register(
            company,
            now,
            journal=journal,
            lines=self.rng.randint(2, 8),
            spread=REGISTER_SPREAD,
            entries=entries,
        )
        step = REGISTER_SPREAD / max(len(rows) - 1, 1)
        for index, row in enumerate(rows):
            self._later(_PendingWrite(now + step * index, company, Resource.GL_POSTINGS, row))
        return rows

    def _account_edited(self, company: str, now: datetime) -> Change:
        accounts = self.data.rows(company, Resource.GL_ACCOUNTS)
        row = self.rng.choice(accounts)
        if self.rng.random() < 0.6:
            description = str(row["AccountDesc"]).rstrip()
            suffix = " (old)"
            new = (
                description[: -len(suffix)]
                if description.endswith(suffix)
                else description + suffix
            )
            updated = self.data.edit_account(company, str(row["RecordKey"]), now, description=new)
        else:
            status = "I" if row["Status"] == "A" else "A"
            updated = self.data.edit_account(company, str(row["RecordKey"]), now, status=status)
        return Change("account_edited", company, (str(updated["RecordKey"]),))
