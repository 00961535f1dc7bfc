"""The agent's change listing on a big company: idle (nothing new), and a burst of new invoices.

Builds a Sage-layout SQLite company with 200,000 AP invoices (AP_OpenInvoice) and 1,000,000
GL posting lines (GL_DetailPosting) stamped over the past year, then lists changes since now
for each resource, once through the standard library's sqlite3 and once through pyodbc +
unixODBC + the SQLite ODBC driver (where installed). Each listing runs in its own process so
its peak memory (max RSS, interpreter included) is its own. A change query is a scan of the
file (DateUpdated is no key), so "rows scanned" is the table's size.

The burst: a second company with 100,000 AP invoices entered in AP_InvoiceHeader over the
last seconds, listed since the start of the day as a poll after them lists it: the first
page (the agent scans and sorts every row before it can answer it) and the whole listing,
in pages of 500 encoded as the server encodes them; wall and CPU seconds, in-process (no
HTTP or TLS).

    python -m bench.agent_listing [--invoices 200000] [--postings 1000000] [--entered 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sage.agent import layout

GOAL_SECONDS, GOAL_MB = 2.0, 100
ENTERED_PAGE = 500  # what `poll` asks for


@dataclass(frozen=True, slots=True)
class Listing:
    driver: str
    resource: str
    rows: int
    seconds: float
    peak_mb: float
    served: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class EnteredListing:
    driver: str
    records: int
    first_seconds: float
    first_cpu: float
    whole_seconds: float
    whole_cpu: float
    peak_mb: float


@dataclass(frozen=True, slots=True)
class AgentListingFigures:
    invoices: int
    postings: int
    build_seconds: float
    listings: tuple[Listing, ...]
    entered: tuple[EnteredListing, ...]
    odbc_missing: str | None


def _stamp(rng: random.Random, start: date) -> tuple[str, str]:
    day = start + timedelta(days=rng.randrange(365))
    return day.isoformat(), f"{rng.uniform(7, 18):.5f}"


def build(path: Path, invoices: int, postings: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = date.today() - timedelta(days=400)
    connection = sqlite3.connect(path)
    layout.create_tables(connection)
    vendors = [("01", f"V{n:05d}", f"Vendor {n}") for n in range(500)]
    layout.write_rows(
        connection,
        layout.AP_VENDOR,
        [dict(zip(("APDivisionNo", "VendorNo", "VendorName"), v, strict=True)) for v in vendors],
    )

    def invoice_rows():
        for n in range(invoices):
            division, vendor, _ = vendors[n % len(vendors)]
            day, clock = _stamp(rng, start)
            amount = f"{rng.randint(100, 900_000) / 100:.2f}"
            yield (
                division, vendor, f"{n:010d}", "000001", day, day, "01", "N", "", "", "00001",
                amount, amount, day, clock, "0000000001", None, None, None,
            )  # fmt: skip

    def posting_rows():
        for n in range(postings):
            day, clock = _stamp(rng, start)
            amount = f"{rng.randint(100, 900_000) / 100:.2f}"
            yield (
                f"{n % 300:09d}", day, "GJ", f"{n // 50:06d}", f"{n % 50:014d}", "Monthly rent",
                amount, "0", "00001", "GL", day, clock, "0000000001",
            )  # fmt: skip

    accounts = [
        {"AccountKey": f"{n:09d}", "Account": f"{n:03d}-00-00", "AccountDesc": f"Account {n}"}
        for n in range(300)
    ]
    layout.write_rows(connection, layout.GL_ACCOUNT, accounts)
    layout.write_tuples(connection, layout.AP_OPEN_INVOICE, invoice_rows())
    layout.write_tuples(connection, layout.GL_DETAIL_POSTING, posting_rows())
    connection.commit()
    connection.close()


def build_entered(path: Path, invoices: int) -> None:
    """A company of 500 vendors and `invoices` AP invoices just entered, as Sage writes one:
    DateCreated/TimeCreated over the last five seconds, the updated trio blank."""
    connection = sqlite3.connect(path)
    layout.create_tables(connection)
    layout.write_rows(
        connection,
        layout.AP_VENDOR,
        [{"APDivisionNo": "01", "VendorNo": f"V{n:05d}", "VendorName": f"Vendor {n}"}
         for n in range(500)],
    )  # fmt: skip
    start = datetime.now() - timedelta(seconds=5)
    step = timedelta(seconds=5) / invoices

    def rows():
        for n in range(invoices):
            stamp = start + step * n
            day = stamp.date().isoformat()
            clock = (stamp - datetime.combine(stamp.date(), datetime.min.time())) / timedelta(
                hours=1
            )
            yield (
                "01", f"V{n % 500:05d}", f"{n:010d}", "000001", day, day, "01", "N", "",
                f"Bench invoice {n}", "00001", f"{(n * 7919) % 900_000 / 100 + 1:.2f}", day,
                f"{clock:.5f}", "0000000001", None, "", "",
            )  # fmt: skip

    layout.write_tuples(connection, layout.AP_INVOICE_HEADER, rows())
    connection.commit()
    connection.close()


def _company(driver: str, path: Path):
    from sage.agent.connection import OdbcConnector, SqliteConnector
    from sage.agent.service import CompanyReader

    if driver == "pyodbc":
        connector = OdbcConnector(
            f"Driver={{SQLite3}};Database={path};NoCreat=1", label="companies.BIG.odbc"
        )
    else:
        connector = SqliteConnector(path, label="companies.BIG.sqlite")
    return CompanyReader("BIG", connector)


def measure(driver: str, resource_name: str, path: Path) -> dict[str, float | int]:
    """One idle listing in this process (run as a child by `run`)."""
    from sage.agent.readers import READERS
    from sage.agent.service import parse_since

    company = _company(driver, path)
    reader = READERS[resource_name]
    rows = sum(company.count(source.table) for source in reader.sources)
    now = datetime.now()
    since = parse_since(f"{now:%Y%m%d}", f"{now.hour + now.minute / 60:.5f}")
    started = time.perf_counter()
    page = company.changes(reader, since, None, 200)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": rows,
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
        "served": len(page.records),
    }


def measure_entered(driver: str, path: Path) -> dict[str, float | int]:
    """The listing of the entered invoices since the start of today, in this process: every
    page, each encoded as the agent's server encodes its answer (run as a child by `run`)."""
    from sage.agent.readers import AP_INVOICES
    from sage.agent.server import JSONAnswer
    from sage.agent.service import parse_since

    company = _company(driver, path)
    company.connect()
    since = parse_since(f"{datetime.now():%Y%m%d}", "0")

    def page_of(token: str | None):
        page = company.changes(AP_INVOICES, since, token, ENTERED_PAGE)
        body = {"company": "BIG", "resource": "ap-invoices", "records": page.records,
                "next_page_token": page.next_page_token}  # fmt: skip
        JSONAnswer(body)
        return page

    started, cpu = time.perf_counter(), time.process_time()
    page = page_of(None)
    first_seconds, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    records = len(page.records)
    while page.next_page_token:
        page = page_of(page.next_page_token)
        records += len(page.records)
    return {
        "records": records,
        "first_seconds": first_seconds,
        "first_cpu": first_cpu,
        "whole_seconds": time.perf_counter() - started,
        "whole_cpu": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-m", "bench.agent_listing", *args],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output)


def _odbc_missing() -> str | None:
    try:
        import pyodbc
    except ImportError:
        return "pyodbc is not installed"
    return None if "SQLite3" in pyodbc.drivers() else "no SQLite3 ODBC driver"


def run(
    invoices: int = 200_000, postings: int = 1_000_000, entered: int = 100_000
) -> AgentListingFigures:
    missing = _odbc_missing()
    drivers = ("sqlite3",) if missing else ("sqlite3", "pyodbc")
    with tempfile.TemporaryDirectory(prefix="mlc-bench-agent-") as directory:
        path = Path(directory) / "BIG.db"
        started = time.perf_counter()
        build(path, invoices, postings)
        build_seconds = time.perf_counter() - started
        listings = [
            Listing(driver, resource_name, **_child("--measure", driver, resource_name, str(path)))
            for driver in drivers
            for resource_name in ("ap-invoices", "gl-postings")
        ]
        burst = Path(directory) / "ENTERED.db"
        build_entered(burst, entered)
        entered_listings = tuple(
            EnteredListing(driver, **_child("--measure-entered", driver, str(burst)))
            for driver in drivers
        )
    return AgentListingFigures(
        invoices, postings, build_seconds, tuple(listings), entered_listings, missing
    )


def section(figures: AgentListingFigures) -> str:
    lines = [
        "## The agent's idle change listing on a big company",
        "",
        f"A Sage-layout SQLite company with {figures.invoices:,} AP invoices and "
        f"{figures.postings:,} GL posting lines (built in {figures.build_seconds:.0f} s); one "
        "change listing since now (nothing new) per resource, each in its own process "
        "(`python -m bench.agent_listing`). Rows scanned is the table's size: a change query "
        "scans the file. Peak memory is the process's max RSS, interpreter included. "
        f"Goal: the GL listing through sqlite3 within {GOAL_SECONDS:g} s and {GOAL_MB} MB.",
        "",
        "| driver | resource | rows scanned | seconds | rows scanned/s | peak memory | records |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in figures.listings:
        lines.append(
            f"| {item.driver} | {item.resource} | {item.rows:,} | {item.seconds:.2f} | "
            f"{item.rate:,.0f} | {item.peak_mb:.0f} MB | {item.served} |"
        )
    lines += [
        "",
        f"A burst of new invoices: {figures.entered[0].records:,} entered in AP_InvoiceHeader "
        "over five seconds, listed since the start of the day in pages of "
        f"{ENTERED_PAGE}, each encoded as the server encodes it (in-process: no HTTP or TLS). "
        "The first page waits for the scan and sort of every row; the whole listing serves "
        "them all.",
        "",
        "| driver | records | first page | first page CPU | whole listing | whole listing CPU "
        "| records/s | peak memory |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in figures.entered:
        lines.append(
            f"| {item.driver} | {item.records:,} | {item.first_seconds:.2f} s "
            f"| {item.first_cpu:.2f} s | {item.whole_seconds:.2f} s | {item.whole_cpu:.2f} s "
            f"| {item.records / item.whole_seconds:,.0f} | {item.peak_mb:.0f} MB |"
        )
    if figures.odbc_missing:
        lines += ["", f"pyodbc not measured: {figures.odbc_missing}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--entered", type=int, default=100_000)
    parser.add_argument("--measure", nargs=3, metavar=("DRIVER", "RESOURCE", "PATH"))
    parser.add_argument("--measure-entered", nargs=2, metavar=("DRIVER", "PATH"))
    args = parser.parse_args(argv)
    if args.measure:
        driver, resource_name, path = args.measure
        print(json.dumps(measure(driver, resource_name, Path(path))))
        return 0
    if args.measure_entered:
        driver, path = args.measure_entered
        print(json.dumps(measure_entered(driver, Path(path))))
        return 0
    print(section(run(args.invoices, args.postings, args.entered)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
