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

NEXT_PO_STATUS = {"N": "O", "O": "B", "B": "X", "C": "O"}
REGISTER_SPREAD = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Change:
    """What one step did, for logs and tests."""

    kind: str
    company: str
    record_keys: tuple[str, ...]


@dataclass(slots=True)
class _PendingLine:
    due: datetime
    company: str
    row: Row


class Activity:
    """Generates business activity in `data`; kinds are listed in `KINDS`."""

    KINDS = (
        "invoice_entered",
        "invoices_posted",
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
        self.pending: list[_PendingLine] = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.step(self.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    def step(self, now: datetime, kind: str | None = None) -> list[Change]:
        """Write due GL lines, then do one change of `kind` (random when None)."""
        changes = self.flush(now)
        company = self.rng.choice(self.companies)
        kind = kind or self.rng.choices(self.KINDS, weights=(5, 2, 3, 3, 2, 1))[0]
        change = getattr(self, f"_{kind}")(company, now)
        if change is not None:
            changes.append(change)
        return changes

    def flush(self, now: datetime) -> list[Change]:
        """Store the register lines whose time has come, stamped with `now` (when written)."""
        due = [line for line in self.pending if line.due <= now]
        self.pending = [line for line in self.pending if line.due > now]
        for line in due:
            self.data.put(line.company, Resource.GL_POSTINGS, self.data.restamp(line.row, now))
        return [
            Change("gl_lines_written", line.company, (str(line.row["RecordKey"]),)) for line in due
        ]

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

    def _po_created(self, company: str, now: datetime) -> Change:
        row = self.data.add_purchase_order(company, now)
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
        status = NEXT_PO_STATUS[str(row["OrderStatus"])]
        if status == "B" and self.rng.random() < 0.5:
            status = "X"  # most orders arrive complete
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
        self.pending += [
            _PendingLine(now + step * index, company, row) for index, row in enumerate(rows)
        ]
        self.pending.sort(key=lambda line: line.due)
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
