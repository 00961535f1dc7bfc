"""`agent check`: per company, one pass/fail line per thing an IT admin can fix on the server.

Lines, in order: the connection (driver found, 32/64-bit, location, login, company), each
table the readers use with its columns (audit columns named) and row count, then one timed
scan per resource, the scan an idle poll costs. A line that depends on a failed one says it
was not tried. Nothing is raised for a Sage problem: each becomes a failed line whose sentence
comes from the connector.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sage.agent.errors import AgentReadError
from sage.agent.layout import Table
from sage.agent.readers import READERS, Reader
from sage.agent.service import AgentService, CompanyReader
from sage.check import CheckResult

AUDIT_NAMES = (
    "DateCreated",
    "TimeCreated",
    "UserCreatedKey",
    "DateUpdated",
    "TimeUpdated",
    "UserUpdatedKey",
)


def tables_read(readers: Iterable[Reader]) -> dict[str, tuple[Table, tuple[str, ...]]]:
    """Every table the readers touch, with every column they read from it."""
    found: dict[str, tuple[Table, list[str]]] = {}

    def add(table: Table, columns: Iterable[str]) -> None:
        entry = found.setdefault(table.name, (table, []))
        entry[1].extend(name for name in columns if name not in entry[1])

    for reader in readers:
        for source in reader.sources:
            add(source.table, reader.selected(source))
        for lookup in reader.lookups:
            add(lookup.table, (*lookup.table.key, *lookup.fields))
        if reader.children is not None:
            add(reader.children.table, (*reader.children.table.key, *reader.children.columns))
    return {name: (table, tuple(columns)) for name, (table, columns) in found.items()}


def check_company(company: CompanyReader, today: date) -> list[CheckResult]:
    code = company.code
    results: list[CheckResult] = []
    connection = f"{code} connection"
    try:
        company.connect()
    except AgentReadError as error:
        results.append(CheckResult(connection, False, str(error)))
        return results + [
            CheckResult(f"{code} tables and scans", False, f"not tried: {connection} failed")
        ]
    results.append(
        CheckResult(connection, True, f"driver found, logged in ({company.connector.label})")
    )

    usable = True
    for name, (table, columns) in tables_read(READERS.values()).items():
        line = f"{code} table {name}"
        try:
            missing = company.missing_columns(table, columns)
            if len(missing) == len(columns):
                results.append(
                    CheckResult(
                        line,
                        False,
                        f"not found: is {company.connector.label} a Sage 100 company's data?",
                    )
                )
                usable = False
                continue
            if missing:
                results.append(CheckResult(line, False, f"lacks column(s) {', '.join(missing)}"))
                usable = False
                continue
            rows = company.count(table)
        except AgentReadError as error:
            results.append(CheckResult(line, False, str(error)))
            usable = False
            continue
        audit = [c for c in AUDIT_NAMES if c in columns]
        detail = f"{rows:,} row{'s' * (rows != 1)}"
        if audit:
            detail += f"; audit columns {', '.join(audit)} present"
        results.append(CheckResult(line, True, detail))

    for reader in READERS.values():
        line = f"{code} scan {reader.resource}"
        if not usable:
            results.append(CheckResult(line, False, "not tried: a table or column is missing"))
            continue
        try:
            rows = sum(company.count(source.table) for source in reader.sources)
            served, seconds = company.idle_scan(reader, today)
        except AgentReadError as error:
            results.append(CheckResult(line, False, str(error)))
            continue
        rate = f", {rows / seconds:,.0f} rows/s" if seconds > 0 else ""
        results.append(
            CheckResult(
                line,
                True,
                f"{rows:,} rows scanned in {seconds:.2f} s{rate}; {served:,} changed today",
            )
        )
    return results


def check_agent_file(service: AgentService, today: date) -> list[CheckResult]:
    results: list[CheckResult] = []
    for company in service.companies.values():
        results += check_company(company, today)
    return results
