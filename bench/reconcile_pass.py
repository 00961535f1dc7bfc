"""A reconcile pass over a big company: every AP invoice key compared with what was seen.

Builds a Sage-layout SQLite company of N AP invoices (AP_OpenInvoice, as `bench.agent_listing`
does), serves it with the real agent (`ml-connector agent serve`, mTLS, its own process), and
runs the product's `ReconcileService` in another process on a fresh SQLite database: a first
pass (it lists every key and, for AP invoices, every record once to learn business keys), then
a Visual Integrator import changes 100 invoices without moving their stamps and 100 are
deleted, and a second pass finds them. Peak memory is each process's high-water RSS (VmHWM,
interpreter included); run at two sizes, the connector's should not grow with the company.

    python -m bench.reconcile_pass [--records 200000 --records 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.agent_listing import build
from bench.rig import agent_file, free_port
from mlc_common.certs import write_pki

COMPANY = "BIG"
TEAM = "T0BENCH001"
CHANNEL = "C0BENCH001"
EDITED = 100  # invoices changed by an import, and as many deleted, between the passes
SIZES = (20_000, 200_000)
# The agent stamps in the OS local time; the benchmark's machine runs on UTC (TZ is set for
# the agent's process so it does).
AGENT_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class PassFigures:
    label: str
    keys: int
    seconds: float
    changed: int
    gone: int

    @property
    def keys_per_second(self) -> float:
        return self.keys / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class ReconcileFigures:
    records: int
    build_seconds: float
    passes: tuple[PassFigures, ...]
    connector_peak_mb: float
    agent_peak_mb: float


def _peak_mb(pid: int | str = "self") -> float:
    """The process's high-water resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc: the peak memory is read on Linux only")


def _wait_until_listening(port: int, agent: subprocess.Popen, pki) -> None:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    for _ in range(600):
        if agent.poll() is not None:
            raise RuntimeError(f"the agent stopped: {agent.stderr.read() if agent.stderr else ''}")
        try:
            httpx.get(f"https://localhost:{port}/v1/health", verify=context)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the agent did not start listening within a minute")


def measure_size(records: int) -> ReconcileFigures:
    """Build, serve, reconcile twice in a child process; the agent's peak read before it stops."""
    with tempfile.TemporaryDirectory(prefix="mlc-bench-reconcile-") as folder:
        directory = Path(folder)
        company = directory / f"{COMPANY}.db"
        started = time.perf_counter()
        build(company, records, 0)
        build_seconds = time.perf_counter() - started
        pki = write_pki(directory / "pki")
        port = free_port()
        agent = subprocess.Popen(
            [sys.executable, "-m", "bolt_app", "agent", "serve", "--config",
             str(agent_file(directory, COMPANY, company, port))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "TZ": "UTC"},
        )  # fmt: skip
        try:
            _wait_until_listening(port, agent, pki)
            output = subprocess.run(
                [sys.executable, "-m", "bench.reconcile_pass", "--connector", str(port),
                 str(directory), str(records)],
                check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            agent_peak = _peak_mb(agent.pid)
        finally:
            agent.send_signal(signal.SIGINT)
            try:
                agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                agent.kill()
    result = json.loads(output)
    passes = tuple(PassFigures(**figures) for figures in result["passes"])
    return ReconcileFigures(records, build_seconds, passes, result["peak_mb"], agent_peak)


def _edit_company(path: Path, records: int) -> None:
    """What the change stamp cannot show: a Visual Integrator import rewrites balances without
    touching DateUpdated/TimeUpdated, and deletes leave no trace."""
    picked = random.Random(3).sample(range(records), 2 * EDITED)
    imported, deleted = picked[:EDITED], picked[EDITED:]
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "UPDATE AP_OpenInvoice SET Balance = '0.00' WHERE InvoiceNo = ?",
            [(f"{n:010d}",) for n in imported],
        )
        connection.executemany(
            "DELETE FROM AP_OpenInvoice WHERE InvoiceNo = ?", [(f"{n:010d}",) for n in deleted]
        )
    connection.close()


async def _connector(port: int, directory: Path, records: int) -> dict[str, object]:
    """In its own process: the product's reconcile of one AP invoice resource, twice."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bolt_app.crypto import SecretBox, generate_key
    from bolt_app.delivery.slack import client_factory
    from bolt_app.polling.store import PollKey
    from bolt_app.runtime.pipeline import build_pipeline
    from bolt_app.storage.engine import create_engine, upgrade_database
    from bolt_app.storage.workspaces import apply_workspace
    from bolt_app.workspace.model import WorkspaceConfig
    from bolt_app.workspace.schedule import DEFAULT_SCHEDULES
    from mlc_common.certs import Pki
    from sage.connection import AuthMode, ConnectionSettings
    from sage.records import RecordType

    pki = Pki.in_directory(directory / "pki")
    engine = create_engine(f"sqlite:///{directory / 'connector.db'}")
    box = SecretBox([generate_key()])
    now = lambda: datetime.now(UTC)  # noqa: E731 - the real clock
    try:
        await upgrade_database(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        config = WorkspaceConfig(
            team_id=TEAM,
            connection=ConnectionSettings(
                agent_url=f"https://localhost:{port}",
                companies=(COMPANY,),
                auth=AuthMode.MTLS,
                timezone=AGENT_ZONE,
                client_cert_pem=pki.client_cert.read_text(),
                client_key_pem=pki.client_key.read_text(),
                ca_cert_pem=pki.ca_cert.read_text(),
            ),
            channels={RecordType.AP_INVOICE: CHANNEL},
            schedules=dict(DEFAULT_SCHEDULES),
        )
        async with sessions.begin() as session:
            await apply_workspace(session, config, box, now=now())

        async def no_token(team_id: str) -> str:
            raise AssertionError("nothing is delivered in this benchmark")

        pipeline = build_pipeline(
            sessions,
            box,
            client_factory(base_url="https://slack.invalid/api/", token_for_team=no_token),
            worker_id="bench",
            now=now,
            audit_retention=None,
        )
        key = PollKey(TEAM, COMPANY, RecordType.AP_INVOICE)
        passes = []
        for label in ("first (learns)", "after an import and deletes"):
            if passes:
                _edit_company(directory / f"{COMPANY}.db", records)
            started = time.perf_counter()
            outcome = await pipeline.reconciler.reconcile(key)
            seconds = time.perf_counter() - started
            assert outcome.error is None and outcome.off is None, outcome
            passes.append(
                {
                    "label": label,
                    "keys": outcome.listed,
                    "seconds": seconds,
                    "changed": outcome.changed,
                    "gone": outcome.gone,
                }
            )
    finally:
        await engine.dispose()
    return {"passes": passes, "peak_mb": _peak_mb()}


def run(sizes: tuple[int, ...] = SIZES) -> list[ReconcileFigures]:
    return [measure_size(records) for records in sizes]


def section(figures: list[ReconcileFigures]) -> str:
    lines = [
        "## A reconcile pass over a big company",
        "",
        "`python -m bench.reconcile_pass`: a Sage-layout SQLite company of AP invoices served by "
        "the real agent (`agent serve`, mTLS, its own process); the product's `ReconcileService` "
        "on SQLite in another process. The first pass learns every key's version and business "
        f"key; then an import changes {EDITED} invoices without moving their stamps and "
        f"{EDITED} are deleted, and the second pass finds them. Peak memory: each process's "
        "high-water RSS, interpreter included.",
        "",
        "| invoices | pass | keys | wall | keys/s | changed | gone | connector peak | agent peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size in figures:
        for item in size.passes:
            lines.append(
                f"| {size.records:,} | {item.label} | {item.keys:,} | {item.seconds:.1f} s "
                f"| {item.keys_per_second:,.0f} | {item.changed} | {item.gone} "
                f"| {size.connector_peak_mb:.0f} MB | {size.agent_peak_mb:.0f} MB |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile_pass")
    parser.add_argument("--records", type=int, action="append", help="company sizes to run")
    parser.add_argument("--connector", nargs=3, metavar=("PORT", "DIRECTORY", "RECORDS"))
    args = parser.parse_args(argv)
    if args.connector:
        port, directory, records = args.connector
        result = asyncio.run(_connector(int(port), Path(directory), int(records)))
        print(json.dumps(result))
        return 0
    print(section(run(tuple(args.records or SIZES))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
