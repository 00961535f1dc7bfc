"""One declarative description per agent resource, and every SQL statement the agent sends.

A `Reader` names the Sage table(s) a resource is read from, the columns it serves, its audit
trio or six, the lookups that fill in names Sage keeps elsewhere, and child rows. The
statements are built here and only here, inside the ProvideX ODBC 4.10 grammar: plain SELECTs
with `?` parameters, WHERE on dates (never on a TimeCreated/TimeUpdated string), no ORDER BY
(the agent sorts by change stamp in Python: DateUpdated is no key, so the driver scans anyway),
no JOIN, UNION, LIMIT or functions beyond COUNT(*). `statements()` lists every one, for the
grammar checker in the test suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sage.agent import layout
from sage.agent.layout import AUDIT_SIX, CREATED_TRIO, Column, Kind, Table


@dataclass(frozen=True, slots=True)
class Source:
    """One table a resource's records come from."""

    table: Table
    columns: tuple[str, ...]  # served, in the contract's order, besides RecordKey and audit
    tag: str = ""  # RecordKey prefix telling the tables of one resource apart
    constants: Mapping[str, str] = field(default_factory=dict)  # e.g. SourceTable


@dataclass(frozen=True, slots=True)
class Lookup:
    """Fields read from another table by its key: `on` are this row's columns, in key order."""

    table: Table
    on: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Children:
    """Rows of a detail table served as a list under `field`, sorted by `order`."""

    field: str
    table: Table
    on: tuple[str, ...]
    columns: tuple[str, ...]
    order: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reader:
    resource: str  # the agent API's path segment
    sources: tuple[Source, ...]
    audit: tuple[Column, ...]
    lookups: tuple[Lookup, ...] = ()
    children: Children | None = None

    @property
    def has_updated(self) -> bool:
        return any(column.name == "DateUpdated" for column in self.audit)

    def selected(self, source: Source) -> tuple[str, ...]:
        """The columns scanned from a source: key, served, audit and join columns, once each."""
        names = [*source.table.key, *source.columns, *(c.name for c in self.audit)]
        for lookup in self.lookups:
            names += lookup.on
        if self.children is not None:
            names += self.children.on
        return tuple(dict.fromkeys(name for name in names if name not in source.constants))

    def scan_statement(self, source: Source, *, since: bool) -> str:
        """Every row of a source, or (since) those whose stamp dates may be on/after `?`."""
        sql = select(source.table, self.selected(source))
        if since:
            dates = ["DateUpdated", "DateCreated"] if self.has_updated else ["DateCreated"]
            sql += " WHERE " + " OR ".join(f"{name} >= ?" for name in dates)
        return sql

    def key_statement(self, source: Source) -> str:
        return select(source.table, self.selected(source), where=source.table.key)

    def statements(self) -> list[str]:
        """Every statement this reader can send."""
        out: list[str] = []
        for source in self.sources:
            out += [
                self.scan_statement(source, since=False),
                self.scan_statement(source, since=True),
                self.key_statement(source),
                count_statement(source.table),
                *(probe_statement(source.table, (name,)) for name in self.selected(source)),
            ]
        for lookup in self.lookups:
            out.append(lookup_statement(lookup))
            out += [probe_statement(lookup.table, (name,)) for name in lookup.fields]
        if self.children is not None:
            out.append(children_statement(self.children))
            out += [probe_statement(self.children.table, (n,)) for n in self.children.columns]
        return out


def select(table: Table, columns: tuple[str, ...], *, where: tuple[str, ...] = ()) -> str:
    sql = f"SELECT {', '.join(columns)} FROM {table.name}"
    if where:
        sql += " WHERE " + " AND ".join(f"{name} = ?" for name in where)
    return sql


def lookup_statement(lookup: Lookup) -> str:
    return select(lookup.table, lookup.fields, where=lookup.table.key)


def children_statement(children: Children) -> str:
    columns = tuple(dict.fromkeys((*children.table.key, *children.columns)))
    return select(children.table, columns, where=children.on)


def count_statement(table: Table) -> str:
    return f"SELECT COUNT(*) FROM {table.name}"


def probe_statement(table: Table, columns: tuple[str, ...]) -> str:
    """Reads nothing (no key is blank) but fails if a column is missing: `agent check`."""
    return select(table, columns, where=table.key[:1])


# --- the four resources -----------------------------------------------------------------------

_INVOICE = (
    "APDivisionNo",
    "VendorNo",
    "InvoiceNo",
    "InvoiceDate",
    "InvoiceDueDate",
    "InvoiceAmt",
    "TermsCode",
    "HoldPayment",
    "PurchaseOrderNo",
    "Comment",
)
_VENDOR_NAME = Lookup(layout.AP_VENDOR, ("APDivisionNo", "VendorNo"), ("VendorName",))

AP_INVOICES = Reader(
    "ap-invoices",
    (
        Source(layout.AP_INVOICE_HEADER, _INVOICE, "H", {"SourceTable": "AP_InvoiceHeader"}),
        Source(
            layout.AP_OPEN_INVOICE,
            (*_INVOICE, "Balance"),
            "O",
            {"SourceTable": "AP_OpenInvoice"},
        ),
    ),
    AUDIT_SIX,
    lookups=(_VENDOR_NAME,),
)
PURCHASE_ORDERS = Reader(
    "purchase-orders",
    (
        Source(
            layout.PO_HEADER,
            tuple(c.name for c in layout.PO_HEADER.columns if c not in AUDIT_SIX),
        ),
    ),
    AUDIT_SIX,
    children=Children(
        "Lines",
        layout.PO_DETAIL,
        ("PurchaseOrderNo",),
        (
            "LineKey",
            "LineSeqNo",
            "ItemCode",
            "ItemCodeDesc",
            "WarehouseCode",
            "QuantityOrdered",
            "UnitCost",
            "ExtensionAmt",
        ),
        ("LineSeqNo", "LineKey"),
    ),
)
GL_POSTINGS = Reader(
    "gl-postings",
    (
        Source(
            layout.GL_DETAIL_POSTING,
            tuple(c.name for c in layout.GL_DETAIL_POSTING.columns if c not in CREATED_TRIO),
        ),
    ),
    CREATED_TRIO,
    lookups=(Lookup(layout.GL_ACCOUNT, ("AccountKey",), ("Account", "AccountDesc")),),
)
GL_ACCOUNTS = Reader(
    "gl-accounts",
    (
        Source(
            layout.GL_ACCOUNT,
            tuple(c.name for c in layout.GL_ACCOUNT.columns if c not in AUDIT_SIX),
        ),
    ),
    AUDIT_SIX,
)

READERS: Mapping[str, Reader] = {
    reader.resource: reader for reader in (AP_INVOICES, PURCHASE_ORDERS, GL_POSTINGS, GL_ACCOUNTS)
}


def all_statements() -> list[str]:
    return [statement for reader in READERS.values() for statement in reader.statements()]


# --- RecordKey ---------------------------------------------------------------------------------


def key_template(source: Source) -> str:
    """RecordKey as a format string over the key's values in key order: the tag, then each
    column padded to its Sage width (what a scan fills in for every row)."""
    tag = source.tag.replace("{", "{{").replace("}", "}}")
    widths = (source.table.column(name).length for name in source.table.key)
    return tag + "".join(f"{{:<{width}}}" for width in widths)


def record_key(source: Source, values: Mapping[str, str]) -> str:
    """The tag and the primary key's columns at their Sage widths: stable, opaque, unique."""
    return key_template(source).format(*(values[name] for name in source.table.key))


def split_key(reader: Reader, key: str) -> tuple[Source, dict[str, str]] | None:
    """The source and primary-key values a RecordKey names; None if it names none."""
    for source in reader.sources:
        if source.tag and not key.startswith(source.tag):
            continue
        rest = key[len(source.tag) :]
        widths = [source.table.column(name).length for name in source.table.key]
        if len(rest) != sum(widths):
            continue
        values, start = {}, 0
        for name, width in zip(source.table.key, widths, strict=True):
            values[name] = rest[start : start + width].rstrip(" ")
            start += width
        return source, values
    return None


def is_date(table: Table, name: str) -> bool:
    return table.column(name).kind is Kind.DATE
