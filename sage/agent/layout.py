"""Sage 100's tables as the agent reads them: real table and column names, key columns, types.

The same layout is what Sage's ProvideX ODBC driver shows on Standard/Advanced and what the
`dbo` schema holds on Premium. `create_tables` and `write_rows` lay a SQLite file out the same
way, so the agent, its tests, the demo and the benchmarks read a file that looks like Sage
through the very SQL they would send to Sage. Widths and scales follow Sage's file layouts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"  # fixed-width string (Sage pads, the driver may strip)
    DATE = "date"  # an ODBC DATE; NULL or 1753-01-01 when empty
    TIME = "time"  # decimal hours kept as a string ("13.50833"): never compared in SQL
    AMOUNT = "amount"  # a DECIMAL(precision, scale)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    length: int  # characters for text, digits (precision) for amounts
    scale: int = 0

    def sql_type(self) -> str:
        if self.kind is Kind.DATE:
            return "DATE"
        if self.kind is Kind.AMOUNT:
            return f"DECIMAL({self.length},{self.scale})"
        return f"VARCHAR({self.length})"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # KPRIMARY, in order

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def create_statement(self) -> str:
        columns = ", ".join(f"{c.name} {c.sql_type()}" for c in self.columns)
        return f"CREATE TABLE {self.name} ({columns}, PRIMARY KEY ({', '.join(self.key)}))"


def _text(name: str, length: int) -> Column:
    return Column(name, Kind.TEXT, length)


def _date(name: str) -> Column:
    return Column(name, Kind.DATE, 8)


def _amount(name: str, precision: int = 12, scale: int = 2) -> Column:
    return Column(name, Kind.AMOUNT, precision, scale)


CREATED_TRIO = (
    _date("DateCreated"),
    Column("TimeCreated", Kind.TIME, 8),
    _text("UserCreatedKey", 10),
)
UPDATED_TRIO = (
    _date("DateUpdated"),
    Column("TimeUpdated", Kind.TIME, 8),
    _text("UserUpdatedKey", 10),
)
AUDIT_SIX = CREATED_TRIO + UPDATED_TRIO

_INVOICE_COLUMNS = (
    _text("APDivisionNo", 2),
    _text("VendorNo", 7),
    _text("InvoiceNo", 10),
    _text("HeaderSeqNo", 6),
    _date("InvoiceDate"),
    _date("InvoiceDueDate"),
    _text("TermsCode", 2),
    _text("HoldPayment", 1),
    _text("PurchaseOrderNo", 7),
    _text("Comment", 30),
    _text("BatchNo", 5),
    _amount("InvoiceAmt"),
)
_INVOICE_KEY = ("APDivisionNo", "VendorNo", "InvoiceNo", "HeaderSeqNo")

AP_VENDOR = Table(
    "AP_Vendor",
    (_text("APDivisionNo", 2), _text("VendorNo", 7), _text("VendorName", 30), *AUDIT_SIX),
    ("APDivisionNo", "VendorNo"),
)
AP_INVOICE_HEADER = Table("AP_InvoiceHeader", (*_INVOICE_COLUMNS, *AUDIT_SIX), _INVOICE_KEY)
AP_OPEN_INVOICE = Table(
    "AP_OpenInvoice", (*_INVOICE_COLUMNS, _amount("Balance"), *AUDIT_SIX), _INVOICE_KEY
)
PO_HEADER = Table(
    "PO_PurchaseOrderHeader",
    (
        _text("PurchaseOrderNo", 7),
        _date("PurchaseOrderDate"),
        _text("OrderType", 1),
        _text("OrderStatus", 1),
        _text("APDivisionNo", 2),
        _text("VendorNo", 7),
        _text("PurchaseName", 30),
        _text("WarehouseCode", 3),
        _text("ShipToCode", 4),
        _date("RequiredExpireDate"),
        _amount("TaxableAmt"),
        _amount("NonTaxableAmt"),
        _amount("SalesTaxAmt"),
        _amount("FreightAmt"),
        _text("Comment", 30),
        *AUDIT_SIX,
    ),
    ("PurchaseOrderNo",),
)
PO_DETAIL = Table(
    "PO_PurchaseOrderDetail",
    (
        _text("PurchaseOrderNo", 7),
        _text("LineKey", 6),
        _text("LineSeqNo", 14),
        _text("ItemCode", 30),
        _text("ItemCodeDesc", 30),
        _text("WarehouseCode", 3),
        _amount("QuantityOrdered", 16, 2),
        _amount("UnitCost", 16, 4),
        _amount("ExtensionAmt"),
    ),
    ("PurchaseOrderNo", "LineKey"),
)
GL_ACCOUNT = Table(
    "GL_Account",
    (
        _text("AccountKey", 9),
        _text("Account", 41),
        _text("RawAccount", 41),
        _text("AccountDesc", 50),
        _text("MainAccountCode", 9),
        _text("AccountType", 2),
        _text("AccountGroup", 30),
        _text("Status", 1),
        *AUDIT_SIX,
    ),
    ("AccountKey",),
)
GL_DETAIL_POSTING = Table(
    "GL_DetailPosting",
    (
        _text("AccountKey", 9),
        _date("PostingDate"),
        _text("SourceJournal", 2),
        _text("JournalRegisterNo", 6),
        _text("SequenceNo", 14),
        _text("PostingComment", 2048),
        _amount("DebitAmount", 16),
        _amount("CreditAmount", 16),
        _text("BatchNo", 5),
        _text("SourceModule", 2),
        *CREATED_TRIO,
    ),
    ("AccountKey", "PostingDate", "SourceJournal", "JournalRegisterNo", "SequenceNo"),
)

TABLES: tuple[Table, ...] = (
    AP_VENDOR,
    AP_INVOICE_HEADER,
    AP_OPEN_INVOICE,
    PO_HEADER,
    PO_DETAIL,
    GL_ACCOUNT,
    GL_DETAIL_POSTING,
)


def create_tables(connection: sqlite3.Connection, tables: Iterable[Table] = TABLES) -> None:
    for table in tables:
        connection.execute(table.create_statement())


def stored_value(column: Column, value: object) -> object:
    """A value as SQLite stores it for this column: dates as ISO text (NULL when empty; the
    contract's "YYYYMMDD" spelling is accepted too), amounts as decimal text."""
    if value is None:
        return None
    if column.kind is Kind.DATE:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        if text == "":
            return None
        if len(text) == 8 and text.isdigit():
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
        return text
    if column.kind is Kind.AMOUNT:
        return str(value) if isinstance(value, Decimal) else value
    return value


def write_rows(
    connection: sqlite3.Connection,
    table: Table,
    rows: Iterable[Mapping[str, object]],
    *,
    conflict: str = "ABORT",
) -> int:
    """Insert rows (column name -> value; missing columns are NULL); returns how many.
    `conflict` is SQLite's resolution for a row whose primary key exists (REPLACE, IGNORE)."""
    columns = table.columns
    statement = (
        f"INSERT OR {conflict} INTO {table.name} ({', '.join(table.names)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    values = [tuple(stored_value(c, row.get(c.name)) for c in columns) for row in rows]
    connection.executemany(statement, values)
    return len(values)


def write_tuples(connection: sqlite3.Connection, table: Table, rows: Iterable[Sequence]) -> None:
    """Insert rows already in column order and stored form (bulk data for benchmarks)."""
    placeholders = ", ".join("?" * len(table.columns))
    connection.executemany(f"INSERT INTO {table.name} VALUES ({placeholders})", rows)


# --- contract rows -> Sage tables (the test company, the demo) ---------------------------------

AP_INVOICE_TABLES = {"AP_InvoiceHeader": AP_INVOICE_HEADER, "AP_OpenInvoice": AP_OPEN_INVOICE}


def sage_rows(resource: str, row: Mapping[str, object]) -> list[tuple[Table, dict[str, object]]]:
    """The Sage table rows one agent-API row was read from (its inverse, for test data).

    An AP invoice also gives its vendor's AP_Vendor row and keeps the last six characters of
    its RecordKey as HeaderSeqNo when they are digits; a purchase order gives its lines, with
    LineSeqNo numbered in order where a row lacks it; a GL posting loses Account and
    AccountDesc, which live in GL_Account.
    """
    values = {name: value for name, value in row.items() if name not in ("RecordKey", "Lines")}
    if resource == "ap-invoices":
        table = AP_INVOICE_TABLES[str(row["SourceTable"])]
        tail = str(row.get("RecordKey", ""))[-6:]
        values["HeaderSeqNo"] = tail if tail.isdigit() else "000000"
        vendor = {
            "APDivisionNo": row["APDivisionNo"],
            "VendorNo": row["VendorNo"],
            "VendorName": row.get("VendorName", ""),
        }
        return [(AP_VENDOR, vendor), (table, values)]
    if resource == "purchase-orders":
        lines = row.get("Lines") or []
        details = [
            {
                "PurchaseOrderNo": row["PurchaseOrderNo"],
                "LineSeqNo": f"{index:014d}",
                **line,
            }
            for index, line in enumerate(lines, start=1)  # type: ignore[arg-type]
        ]
        return [(PO_HEADER, values), *((PO_DETAIL, line) for line in details)]
    if resource == "gl-postings":
        values.pop("Account", None)
        values.pop("AccountDesc", None)
        return [(GL_DETAIL_POSTING, values)]
    if resource == "gl-accounts":
        return [(GL_ACCOUNT, values)]
    raise KeyError(f"unknown agent resource {resource!r}")


def write_company(
    connection: sqlite3.Connection, rows: Mapping[str, Iterable[Mapping[str, object]]]
) -> dict[str, int]:
    """Create every table and write agent-API rows (by resource) as Sage keeps them; returns
    the row count per table. A vendor (or any row) written twice keeps its first version."""
    create_tables(connection)
    by_table: dict[str, dict[tuple, dict[str, object]]] = {t.name: {} for t in TABLES}
    tables = {table.name: table for table in TABLES}
    for resource, resource_rows in rows.items():
        for row in resource_rows:
            for table, values in sage_rows(resource, row):
                key = tuple(values.get(name) for name in table.key)
                by_table[table.name].setdefault(key, values)
    counts = {
        name: write_rows(connection, tables[name], table_rows.values())
        for name, table_rows in by_table.items()
    }
    connection.commit()
    return counts
