"""The agent client's parsing of change pages: JSON answer -> checked page of typed records.

Rows from the simulated agent's record factory (AP invoices, as on the wire: JSON pages with
company, resource and next_page_token) are listed through the product's `AgentClient`
over an in-memory transport, so the figure is the client's own work per record: decoding each
answer, checking the page, parsing every row (its fields, stamps and flags) and the page's
last stamp, with no network or TLS in it. Best of a few runs, at the page sizes a poller may
ask for (the contract allows 1 to 1,000).

    python -m bench.page_parse [--records 20000] [--page-size 200 --page-size 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from sage.client import AgentClient
from sage.connection import AuthMode, ConnectionSettings
from sage.resources import by_path
from sage.simulator.data import SimulatorData

ZONE = ZoneInfo("America/Chicago")
COMPANY = "ABC"
RESOURCE = "ap-invoices"
RECORDS = 20_000
PAGE_SIZES = (200, 1000)
RUNS = 3


@dataclass(frozen=True, slots=True)
class ParseFigures:
    page_size: int
    records: int
    seconds: float  # the best run

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds

    @property
    def microseconds_per_record(self) -> float:
        return self.seconds / self.records * 1e6


def encoded_pages(rows: list[dict], page_size: int) -> list[bytes]:
    pages = []
    for start in range(0, len(rows), page_size):
        more = start + page_size < len(rows)
        body = {
            "company": COMPANY,
            "resource": RESOURCE,
            "records": rows[start : start + page_size],
            "next_page_token": str(len(pages) + 1) if more else None,
        }
        pages.append(json.dumps(body).encode())
    return pages


async def _list_all(pages: list[bytes]) -> int:
    def answer(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("page_token", "0"))
        return httpx.Response(200, content=pages[index])

    settings = ConnectionSettings(
        agent_url="https://agent.bench",
        companies=(COMPANY,),
        auth=AuthMode.API_KEY,
        timezone=ZONE,
        api_key="bench",
    )
    page_size = len(json.loads(pages[0])["records"])
    read = 0
    async with AgentClient(settings, transport=httpx.MockTransport(answer)) as client:
        async for page in client.list_changes(by_path(RESOURCE), COMPANY, None, page_size):
            read += len(page.records) + len(page.skipped)
    return read


def measure(rows: list[dict], page_size: int) -> ParseFigures:
    pages = encoded_pages(rows, page_size)
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        read = asyncio.run(_list_all(pages))
        best = min(best, time.perf_counter() - started)
        assert read == len(rows), (read, len(rows))
    return ParseFigures(page_size, len(rows), best)


def run(records: int = RECORDS, page_sizes: tuple[int, ...] = PAGE_SIZES) -> list[ParseFigures]:
    data = SimulatorData([COMPANY], rng=random.Random(42), timezone=ZONE)
    rows = data.add_many(COMPANY, RESOURCE, records, start=datetime.now(UTC) - timedelta(days=1))
    return [measure(rows, page_size) for page_size in page_sizes]


def section(figures: list[ParseFigures]) -> str:
    lines = [
        "## The agent client's parsing of change pages",
        "",
        f"`python -m bench.page_parse`: {figures[0].records:,} simulated AP invoices listed "
        "through `AgentClient.list_changes` over an in-memory transport (JSON decoding, the "
        f"page's checks, every row parsed), best of {RUNS} runs.",
        "",
        "| page size | records/s | µs per record |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {item.page_size:,} | {item.records_per_second:,.0f} "
        f"| {item.microseconds_per_record:.0f} |"
        for item in figures
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_parse")
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--page-size", type=int, action="append", help="page sizes to run")
    args = parser.parse_args(argv)
    print(section(run(args.records, tuple(args.page_size or PAGE_SIZES))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
