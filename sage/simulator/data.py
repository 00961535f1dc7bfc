"""The simulated agent's records: an in-memory store of raw rows per company and resource.

Tests and the activity generator change data through this API; the web app only reads it.
Mutations take the moment they happen (`at`, an aware datetime) and stamp rows in the Sage
server's zone. A lock makes it safe to mutate from a test thread while the server runs in
another.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sage.simulator.catalog import ACCOUNTS, Account, Vendor
from sage.simulator.factory import RecordFactory, business_moment
from sage.simulator.formats import Resource, Stamp, change_stamp, money, sage_stamp

DEFAULT_TIMEZONE = ZoneInfo("America/Chicago")

Row = dict[str, object]
Position = tuple[str, Decimal, str]
"""Where a listing stands: (stamp date, stamp hours, RecordKey) of the last record served."""


def _copy(row: Row) -> Row:
    """Rows are flat strings plus PO `Lines` (a list of flat dicts): copy just that deep."""
    return {
        name: [dict(line) for line in value] if isinstance(value, list) else value
        for name, value in row.items()
    }


def sort_key(row: Row) -> Position:
    day, hours = change_stamp(row)
    return day, hours, str(row["RecordKey"])


@dataclass(frozen=True, slots=True)
class SeedSizes:
    """How much history `SimulatorData.seeded` writes for one company."""

    ap_invoices: int = 40
    purchase_orders: int = 20
    gl_registers: int = 10
    days_back: int = 30


SEED_SIZES = {
    "ABC": SeedSizes(),
    "TST": SeedSizes(ap_invoices=5, purchase_orders=3, gl_registers=2),
}


class SimulatorData:
    """Rows per (company, resource), keyed by RecordKey, plus ways to change them."""

    def __init__(
        self,
        companies: Iterable[str] = ("ABC", "TST"),
        *,
        rng: random.Random | None = None,
        timezone: ZoneInfo = DEFAULT_TIMEZONE,
    ) -> None:
        self.companies = tuple(companies)
        self.timezone = timezone
        self.factory = RecordFactory(rng or random.Random(0))
        self._lock = threading.RLock()
        self._tables: dict[tuple[str, Resource], dict[str, Row]] = {
            (company, resource): {} for company in self.companies for resource in Resource
        }
        self._order: dict[tuple[str, Resource], list[Position]] = {}

    def __getstate__(self) -> dict[str, object]:
        """Picklable without its lock, so `ml-connector demo` keeps its company between runs."""
        with self._lock:
            return {name: value for name, value in vars(self).items() if name != "_lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        vars(self).update(state)
        self._lock = threading.RLock()

    @classmethod
    def seeded(
        cls,
        now: datetime,
        *,
        rng: random.Random,
        timezone: ZoneInfo = DEFAULT_TIMEZONE,
        sizes: Mapping[str, SeedSizes] = SEED_SIZES,
    ) -> SimulatorData:
        """ABC and TST with a month of history before `now`; same rng seed, same rows."""
        data = cls(sizes.keys(), rng=rng, timezone=timezone)
        for company, size in sizes.items():
            data.seed_history(company, now, size)
        return data

    # --- reading -------------------------------------------------------------------------

    def local(self, at: datetime) -> datetime:
        """`at` on the Sage server's wall clock; naive datetimes are refused, not guessed."""
        if at.tzinfo is None:
            raise ValueError("simulator times must be timezone-aware")
        return at.astimezone(self.timezone)

    def _table(self, company: str, resource: Resource | str) -> dict[str, Row]:
        return self._tables[(company, Resource(resource))]

    def _changed(self, company: str, resource: Resource | str) -> None:
        self._order.pop((company, Resource(resource)), None)

    def _ordered(self, company: str, resource: Resource | str) -> list[Position]:
        """Listing order of a table, kept until the table changes."""
        name = (company, Resource(resource))
        if name not in self._order:
            self._order[name] = sorted(sort_key(row) for row in self._tables[name].values())
        return self._order[name]

    def get(self, company: str, resource: Resource | str, record_key: str) -> Row | None:
        with self._lock:
            row = self._table(company, resource).get(record_key)
            return _copy(row) if row is not None else None

    def rows(self, company: str, resource: Resource | str) -> list[Row]:
        """Every row, in listing order (change stamp, RecordKey)."""
        with self._lock:
            rows = [_copy(row) for row in self._table(company, resource).values()]
        return sorted(rows, key=sort_key)

    def changes(
        self,
        company: str,
        resource: Resource | str,
        *,
        since: Stamp | None,
        after: Position | None,
        limit: int,
    ) -> tuple[list[Row], bool]:
        """Up to `limit` rows at or after `since` and strictly after `after`; and whether more."""
        with self._lock:
            order = self._ordered(company, resource)
            start = bisect.bisect_left(order, (*since, "")) if since is not None else 0
            if after is not None:
                start = max(start, bisect.bisect_right(order, after))
            window = order[start : start + limit + 1]
            table = self._table(company, resource)
            rows = [_copy(table[key]) for _, _, key in window[:limit]]
        return rows, len(window) > limit

    def keys_after(
        self, company: str, resource: Resource | str, after: str, *, limit: int
    ) -> tuple[list[Row], bool]:
        """Up to `limit` rows with a RecordKey after `after`, by RecordKey (the keys listing);
        and whether more."""
        with self._lock:
            table = self._table(company, resource)
            window = sorted(key for key in table if key > after)[: limit + 1]
            rows = [_copy(table[key]) for key in window[:limit]]
        return rows, len(window) > limit

    # --- writing -------------------------------------------------------------------------

    def put(self, company: str, resource: Resource | str, row: Row) -> Row:
        """Store a row as given (malformed rows too); it replaces any with the same RecordKey."""
        with self._lock:
            self._table(company, resource)[str(row["RecordKey"])] = _copy(row)
            self._changed(company, resource)
        return row

    def remove(self, company: str, resource: Resource | str, record_key: str) -> None:
        """Deletes leave no trace, as in Sage: the row just stops being listed."""
        with self._lock:
            self._table(company, resource).pop(record_key, None)
            self._changed(company, resource)

    def update(
        self,
        company: str,
        resource: Resource | str,
        record_key: str,
        changes: Mapping[str, object],
        *,
        at: datetime | None,
        user: str | None = None,
    ) -> Row:
        """Change fields of a row; `at=None` is a Visual Integrator import: no new stamp."""
        with self._lock:
            row = self._table(company, resource)[record_key]
            row.update(_copy(dict(changes)))
            if at is not None:
                row.update(self.factory.updated(self.local(at), user))
            self._changed(company, resource)
            return _copy(row)

    def restamp(self, row: Row, at: datetime) -> Row:
        """Make `at` the row's change stamp, as if first written then (updated pair blank)."""
        day, clock = sage_stamp(self.local(at), self.factory.time_style())
        row.update({"DateCreated": day, "TimeCreated": clock})
        if "DateUpdated" in row:
            row.update(
                {"DateUpdated": self.factory.empty_date(), "TimeUpdated": "", "UserUpdatedKey": ""}
            )
        return row

    # --- realistic changes (tests and the activity generator) ----------------------------

    def _vendor(self, company: str, vendor: str | None) -> Vendor | None:
        """`"01-AIRWAY"` -> that vendor of the company's catalogue; None -> a random one."""
        if vendor is None:
            return None
        division, _, number = vendor.partition("-")
        return self.factory.find_vendor(company, division, number)

    def add_ap_invoice(
        self,
        company: str,
        at: datetime,
        *,
        posted: bool = False,
        vendor: str | None = None,
        **fields: object,
    ) -> Row:
        """A new invoice entered (AP_InvoiceHeader) or already posted (AP_OpenInvoice).

        `fields` override values as stored (keep InvoiceAmt and Balance in step yourself).
        """
        row = self.factory.ap_invoice(
            company, self.local(at), posted=posted, vendor=self._vendor(company, vendor)
        )
        with self._lock:
            orders = [
                str(order["PurchaseOrderNo"])
                for order in self._table(company, Resource.PURCHASE_ORDERS).values()
                if order.get("VendorNo") == row["VendorNo"]
            ]
        if orders and self.factory.rng.random() < 0.4:
            row["PurchaseOrderNo"] = self.factory.rng.choice(sorted(orders))
        row.update(fields)
        return self.put(company, Resource.AP_INVOICES, row)

    def post_invoice(self, company: str, record_key: str, at: datetime) -> Row:
        """Post an entered invoice: its header row goes, an AP_OpenInvoice row with a new key comes."""
        with self._lock:
            entered = self._table(company, Resource.AP_INVOICES).pop(record_key)
            self._changed(company, Resource.AP_INVOICES)
            if entered["SourceTable"] != "AP_InvoiceHeader":
                self._table(company, Resource.AP_INVOICES)[record_key] = entered
                raise ValueError(f"{record_key!r} is already posted")
            posted = self.factory.posted_invoice(company, entered, self.local(at))
            return self.put(company, Resource.AP_INVOICES, posted)

    def pay_invoice(self, company: str, record_key: str, amount: Decimal, at: datetime) -> Row:
        row = self.get(company, Resource.AP_INVOICES, record_key)
        if row is None or "Balance" not in row:
            raise ValueError(f"{record_key!r} is not a posted invoice")
        balance = max(Decimal(str(row["Balance"])) - amount, Decimal(0))
        return self.update(
            company, Resource.AP_INVOICES, record_key, {"Balance": money(balance)}, at=at
        )

    def add_purchase_order(
        self, company: str, at: datetime, *, vendor: str | None = None, **fields: object
    ) -> Row:
        row = self.factory.purchase_order(
            company, self.local(at), vendor=self._vendor(company, vendor)
        )
        row.update(fields)
        return self.put(company, Resource.PURCHASE_ORDERS, row)

    def set_po_status(self, company: str, po_no: str, status: str, at: datetime) -> Row:
        return self.update(company, Resource.PURCHASE_ORDERS, po_no, {"OrderStatus": status}, at=at)

    def build_gl_register(
        self,
        company: str,
        at: datetime,
        *,
        journal: str = "GJ",
        lines: int = 4,
        spread: timedelta = timedelta(0),
        entries: list[tuple[str, Decimal]] | None = None,
    ) -> list[Row]:
        """A balanced register's lines, not yet stored (put them one by one to post slowly)."""
        return list(
            self.factory.gl_register(
                company,
                self.local(at),
                journal=journal,
                lines=lines,
                spread=spread,
                entries=entries,
            )
        )

    def add_gl_register(
        self,
        company: str,
        at: datetime,
        *,
        journal: str = "GJ",
        lines: int = 4,
        spread: timedelta = timedelta(0),
    ) -> list[Row]:
        rows = self.build_gl_register(company, at, journal=journal, lines=lines, spread=spread)
        for row in rows:
            self.put(company, Resource.GL_POSTINGS, row)
        return rows

    def add_gl_accounts(self, company: str, at: datetime) -> list[Row]:
        """The company's whole chart of accounts, created at `at`."""
        local = self.local(at)
        rows = [self.factory.gl_account(company, account, local) for account in ACCOUNTS[company]]
        for row in rows:
            self.put(company, Resource.GL_ACCOUNTS, row)
        return rows

    def edit_account(
        self,
        company: str,
        account_key: str,
        at: datetime,
        *,
        description: str | None = None,
        status: str | None = None,
    ) -> Row:
        changes = {"AccountDesc": description, "Status": status}
        return self.update(
            company,
            Resource.GL_ACCOUNTS,
            account_key,
            {name: value for name, value in changes.items() if value is not None},
            at=at,
        )

    def add_many(
        self,
        company: str,
        resource: Resource | str,
        count: int,
        *,
        start: datetime,
        per_stamp: int = 1,
        step: timedelta = timedelta(seconds=1),
    ) -> list[Row]:
        """`count` new rows, `per_stamp` of them sharing each stamp, stamps `step` apart."""
        resource = Resource(resource)
        rows: list[Row] = []
        while len(rows) < count:
            remaining = count - len(rows)
            if resource is Resource.AP_INVOICES:
                rows.append(self.factory.ap_invoice(company, self.local(start)))
            elif resource is Resource.PURCHASE_ORDERS:
                rows.append(self.factory.purchase_order(company, self.local(start)))
            elif resource is Resource.GL_POSTINGS:
                size = remaining if remaining <= 3 else self.factory.rng.randint(2, 5)
                size = size + 1 if remaining - size == 1 else size
                rows += self.factory.gl_register(company, self.local(start), lines=max(size, 2))
            else:
                rows.append(self._extra_account(company, len(rows), start))
        rows = rows[:count]
        for index, row in enumerate(rows):
            self.restamp(row, start + step * (index // per_stamp))
            self.put(company, resource, row)
        return rows

    def _extra_account(self, company: str, index: int, at: datetime) -> Row:
        """Sub-accounts beyond the standard chart, for bulk tests of gl-accounts."""
        main = self.factory.rng.choice(ACCOUNTS[company])
        number = len(self._table(company, Resource.GL_ACCOUNTS)) + index + 1
        account = Account(
            f"{main.account[:3]}-{number // 100 % 100:02d}-{number % 100:02d}",
            f"{main.description} {number}",
            main.account_type,
            main.group,
        )
        row = self.factory.gl_account(company, account, self.local(at))
        row["RecordKey"] = row["AccountKey"] = f"{900_000_000 + number:09d}"
        return row

    def seed_history(self, company: str, now: datetime, size: SeedSizes) -> None:
        """A month of plausible activity before `now`."""
        rng = self.factory.rng
        local_now = self.local(now)
        opened = local_now - timedelta(days=400)
        for row in self.add_gl_accounts(company, opened):
            if rng.random() < 0.3:
                row["TimeCreated"] = ""  # rows from old releases carry no time
                self.put(company, Resource.GL_ACCOUNTS, row)
        moments = sorted(
            business_moment(rng, local_now, size.days_back)
            for _ in range(size.ap_invoices + size.purchase_orders + size.gl_registers)
        )
        kinds = (
            ["invoice"] * size.ap_invoices
            + ["po"] * size.purchase_orders
            + ["register"] * size.gl_registers
        )
        rng.shuffle(kinds)
        for moment, kind in zip(moments, kinds, strict=True):
            if kind == "invoice":
                age = local_now - moment
                self.add_ap_invoice(company, moment, posted=age > timedelta(days=3))
            elif kind == "po":
                po = self.add_purchase_order(company, moment)
                status = rng.choices("NOBX", weights=(2, 5, 1, 2))[0]
                if status != "N":
                    later = min(moment + timedelta(hours=rng.randint(1, 48)), local_now)
                    self.set_po_status(company, str(po["PurchaseOrderNo"]), status, later)
            else:
                journal = rng.choice(("GJ", "GJ", "AP", "PO"))
                self.add_gl_register(
                    company,
                    moment,
                    journal=journal,
                    lines=rng.randint(2, 8),
                    spread=timedelta(seconds=rng.randint(5, 60)),
                )
