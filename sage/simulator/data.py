"""The simulated agent's company files: Sage 100's own tables in SQLite, one file per company.

Tests and the activity generator change data through this API in the contract's terms (agent
rows); each change is written as Sage writes it, into the tables `sage.agent.layout` describes
(an invoice row into AP_InvoiceHeader or AP_OpenInvoice and its vendor into AP_Vendor, a PO
into its header and detail lines, ...). Everything read back, by the server and by `get` and
`rows`, goes through the agent's own readers (`sage.agent.service.CompanyReader`), so the
simulator answers exactly what the real agent would answer over the same tables.

Mutations take the moment they happen (`at`, an aware datetime) and stamp rows in the Sage
server's zone. The files are in WAL mode, so the agent's read-only connection reads while a
test thread or the activity writes; a lock serialises the writers.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sage.agent import layout
from sage.agent.connection import SqliteConnector
from sage.agent.readers import AP_INVOICES, READERS, split_key
from sage.agent.service import CompanyReader
from sage.simulator.catalog import ACCOUNTS, Account, Vendor
from sage.simulator.factory import RecordFactory, business_moment, invoice_key
from sage.simulator.formats import Resource, money, sage_stamp

DEFAULT_TIMEZONE = ZoneInfo("America/Chicago")
_ALL = 2**31  # one page holding every row: `rows` reads a whole table at once

Row = dict[str, object]


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


def _open_company(path: Path) -> sqlite3.Connection:
    """The writer's connection: WAL, so the agent's read-only connection never waits for it."""
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")  # invented data: speed over durability
    return connection


def _image(connection: sqlite3.Connection) -> bytes:
    """The database as bytes, marked rollback-journal (file format bytes 18-19) so it can be
    deserialized in memory: an image marked WAL cannot be opened without its -wal file."""
    image = bytearray(connection.serialize())
    image[18:20] = b"\x01\x01"
    return bytes(image)


class SimulatorData:
    """One Sage-layout SQLite file per company, and ways to change them as Sage would."""

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
        self._open({})

    def _open(self, images: Mapping[str, bytes]) -> None:
        """Create the company files in a fresh folder, empty or from `images` (serialised)."""
        self._lock = threading.RLock()
        self._folder = tempfile.TemporaryDirectory(prefix="mlc-simulated-sage-")
        self._connections: dict[str, sqlite3.Connection] = {}
        self._readers: dict[str, CompanyReader] = {}
        for company in self.companies:
            path = self.path(company)
            connection = _open_company(path)
            if company in images:
                image = sqlite3.connect(":memory:")
                image.deserialize(images[company])
                image.backup(connection)
                image.close()
            if company not in images:
                layout.create_tables(connection)
            self._connections[company] = connection
            self._readers[company] = self.reader(company, cache_seconds=0)

    def path(self, company: str) -> Path:
        """The company's Sage-layout SQLite file (what the agent's SqliteConnector opens)."""
        return Path(self._folder.name) / f"{company}.sqlite"

    def reader(self, company: str, *, cache_seconds: float) -> CompanyReader:
        """The real agent's reader over this company's file."""
        connector = SqliteConnector(self.path(company), label=f"simulated company {company}")
        return CompanyReader(company, connector, cache_seconds=cache_seconds)

    def __getstate__(self) -> dict[str, object]:
        """The companies' tables as bytes, so `ml-connector demo` keeps its company between
        runs."""
        with self._lock:
            images = {c: _image(conn) for c, conn in self._connections.items()}
            kept = ("companies", "timezone", "factory")
            return {name: getattr(self, name) for name in kept} | {"images": images}

    def __setstate__(self, state: dict[str, object]) -> None:
        images = state.pop("images")
        vars(self).update(state)
        self._open(images)  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            for reader in self._readers.values():
                reader.close()
            for connection in self._connections.values():
                connection.close()
            self._folder.cleanup()

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

    # --- reading (through the agent's readers) -------------------------------------------

    def local(self, at: datetime) -> datetime:
        """`at` on the Sage server's wall clock; naive datetimes are refused, not guessed."""
        if at.tzinfo is None:
            raise ValueError("simulator times must be timezone-aware")
        return at.astimezone(self.timezone)

    def get(self, company: str, resource: Resource | str, record_key: str) -> Row | None:
        """The record as the agent serves it, or None."""
        return self._readers[company].record(READERS[Resource(resource)], record_key)

    def rows(self, company: str, resource: Resource | str) -> list[Row]:
        """Every record as the agent serves it, in listing order (change stamp, RecordKey)."""
        page = self._readers[company].changes(READERS[Resource(resource)], None, None, _ALL)
        return page.records

    def _count(self, company: str, table: layout.Table) -> int:
        with self._lock:
            sql = f"SELECT COUNT(*) FROM {table.name}"
            return int(self._connections[company].execute(sql).fetchone()[0])

    # --- writing (Sage's tables) ---------------------------------------------------------

    def _write(self, connection: sqlite3.Connection, resource: Resource, row: Row) -> None:
        """Write one agent row's table rows, replacing those with the same primary key."""
        if resource is Resource.PURCHASE_ORDERS:
            connection.execute(
                f"DELETE FROM {layout.PO_DETAIL.name} WHERE PurchaseOrderNo = ?",
                (row["PurchaseOrderNo"],),
            )
        for table, values in layout.sage_rows(resource, row):
            # A vendor is AP_Vendor's: an invoice row does not rename it.
            conflict = "IGNORE" if table is layout.AP_VENDOR else "REPLACE"
            layout.write_rows(connection, table, [values], conflict=conflict)

    def _delete(self, connection: sqlite3.Connection, resource: Resource, key: str) -> bool:
        found = split_key(READERS[resource], key)
        if found is None:
            return False
        source, values = found
        table = source.table
        where = " AND ".join(f"{name} = ?" for name in table.key)
        params = [layout.stored_value(table.column(n), values[n]) for n in table.key]
        deleted = connection.execute(f"DELETE FROM {table.name} WHERE {where}", params).rowcount
        if resource is Resource.PURCHASE_ORDERS:
            connection.execute(f"DELETE FROM {layout.PO_DETAIL.name} WHERE {where}", params)
        return deleted > 0

    def put(self, company: str, resource: Resource | str, row: Row) -> Row:
        """Store a row (values as the contract spells them) into its Sage tables; it replaces
        any with the same RecordKey."""
        with self._lock, self._connections[company] as connection:
            self._write(connection, Resource(resource), row)
        return row

    def remove(self, company: str, resource: Resource | str, record_key: str) -> None:
        """Deletes leave no trace, as in Sage: the row just stops being listed."""
        with self._lock, self._connections[company] as connection:
            self._delete(connection, Resource(resource), record_key)

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
        """Change fields of a row in its table, as a Sage workstation edits it (DateUpdated,
        TimeUpdated and UserUpdatedKey move); `at=None` is a Visual Integrator import: no new
        stamp. A PO's `Lines` replace its detail rows. Returns the record as now served."""
        resource = Resource(resource)
        found = split_key(READERS[resource], record_key)
        if found is None:
            raise KeyError(record_key)
        source, key = found
        table = source.table
        values = dict(changes)
        if at is not None:
            values |= self.factory.updated(self.local(at), user)
        lines = values.pop("Lines", None)
        names = [name for name in values if name in table.names]
        where = " AND ".join(f"{name} = ?" for name in table.key)
        params = [layout.stored_value(table.column(n), key[n]) for n in table.key]
        with self._lock, self._connections[company] as connection:
            if names:
                assignments = ", ".join(f"{name} = ?" for name in names)
                stored = [layout.stored_value(table.column(n), values[n]) for n in names]
                sql = f"UPDATE {table.name} SET {assignments} WHERE {where}"
                if connection.execute(sql, stored + params).rowcount == 0:
                    raise KeyError(record_key)
            if lines is not None:
                order = {"PurchaseOrderNo": key["PurchaseOrderNo"], "Lines": lines}
                connection.execute(f"DELETE FROM {layout.PO_DETAIL.name} WHERE {where}", params)
                for detail, line in layout.sage_rows(resource, order)[1:]:
                    layout.write_rows(connection, detail, [line])
        row = self.get(company, resource, record_key)
        if row is None:
            raise KeyError(record_key)
        return row

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
                str(number)
                for (number,) in self._connections[company].execute(
                    f"SELECT PurchaseOrderNo FROM {layout.PO_HEADER.name} "
                    "WHERE APDivisionNo = ? AND VendorNo = ?",
                    (row["APDivisionNo"], row["VendorNo"]),
                )
            ]
        if orders and self.factory.rng.random() < 0.4:
            row["PurchaseOrderNo"] = self.factory.rng.choice(sorted(orders))
        row.update(fields)
        # The agent's RecordKey is the table's primary key: fields may have changed it.
        source = AP_INVOICES.sources[row["SourceTable"] == "AP_OpenInvoice"]
        row["RecordKey"] = invoice_key(source, row, str(row["RecordKey"])[-6:])
        return self.put(company, Resource.AP_INVOICES, row)

    def post_invoice(self, company: str, record_key: str, at: datetime) -> Row:
        """Post an entered invoice: its header row goes, an AP_OpenInvoice row with a new key comes."""
        with self._lock:
            entered = self.get(company, Resource.AP_INVOICES, record_key)
            if entered is None:
                raise KeyError(record_key)
            if entered["SourceTable"] != "AP_InvoiceHeader":
                raise ValueError(f"{record_key!r} is already posted")
            posted = self.factory.posted_invoice(company, entered, self.local(at))
            with self._connections[company] as connection:
                self._delete(connection, Resource.AP_INVOICES, record_key)
                self._write(connection, Resource.AP_INVOICES, posted)
            return posted

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
        number = self._count(company, layout.GL_ACCOUNT) + index + 1
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
