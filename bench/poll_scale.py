"""Many new AP invoices through one `ml-connector poll --once`, end to end, as a customer runs it.

Every part is its own process, started by its command: a Sage-layout SQLite company (500
vendors, `sage.agent.layout`) served by the real agent (`ml-connector agent serve`, mTLS with
certificates from `ml-connector agent certs`, the OS clock in America/Chicago); the Slack
stand-in (`ml-connector slack-standin`); the connector configured by `ml-connector workspace
apply` of a file mapping AP invoices to a channel, on a fresh SQLite file (or, with
`--postgres URL`, a scratch database made on that admin URL). A first `poll --once` is the
baseline (it remembers what exists and posts "connected"); then N invoices are entered in
AP_InvoiceHeader, stamped as Sage stamps a new row (DateCreated/TimeCreated, the updated trio
blank) in the seconds after the baseline, and once the agent's clock has passed them by the
settle lag a second `poll --once` is timed: wall time from start to exit (interpreter start
included, with the bytecode cache an installed connector keeps), records/s, and that
process's peak RSS (`ru_maxrss` from `os.wait4`). Its own
output is checked: every invoice read and new, something queued, everything delivered.

    python -m bench.poll_scale [--records N ...] [--curve] [--postgres URL]

The default run is 10,000 invoices; `--curve` runs 1,000, 10,000 and 100,000 and prints the
memory curve (peak RSS, and RSS per record above the 1,000-record run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.rig import agent_file, free_port, scratch_postgres
from bolt_app.polling.window import DEFAULT_SETTLE_LAG
from sage.agent import layout

COMPANY = "BIG"
TEAM = "T0BENCH001"
TOKEN = "xoxb-bench-0001"
CHANNEL = "C0BENCH001"
ZONE = ZoneInfo("America/Chicago")  # the agent's OS clock and the workspace's sage.timezone
VENDORS = 500
STAMP_SPAN = timedelta(seconds=5)  # the invoices' stamps spread over this, after the baseline
DEFAULT_SIZES = (10_000,)
CURVE = (1_000, 10_000, 100_000)
POLL_LINE = re.compile(
    r": (?P<read>\d+) read, (?P<new>\d+) new, (?P<changed>\d+) changed, (?P<skipped>\d+) "
    r"skipped, (?P<waiting>\d+) waiting, (?P<queued>\d+) queued"
)
DELIVERED = re.compile(r"Delivered (?P<sent>\d+) message\(s\); (?P<remaining>\d+) still queued")


@dataclass(frozen=True, slots=True)
class ScaleFigures:
    database: str
    records: int
    baseline_seconds: float  # the first poll --once: mostly start-up, nothing new
    seconds: float
    peak_mb: float
    cpu_seconds: float  # the timed poll's own user + system time: its work, whatever the load
    agent_cpu_seconds: float  # what the agent spent serving it meanwhile
    read: int
    new: int
    queued: int
    delivered: int
    load: float  # the 1-minute load average as the timed poll started

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bolt_app", *args]


def installed_environment() -> dict[str, str]:
    """This environment, with Python's bytecode cache on, in a folder of its own, as an
    installed connector has it after its first run: a session that turned the cache off
    (PYTHONDONTWRITEBYTECODE) would otherwise add seconds of compiling to every command."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "mlc-bench-pycache")
    return env


def _hours(moment: datetime) -> str:
    """Sage's decimal hours of a local wall time, five places."""
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    return f"{seconds / 3600:.5f}"


def make_company(path: Path) -> None:
    connection = sqlite3.connect(path)
    layout.create_tables(connection)
    layout.write_rows(
        connection,
        layout.AP_VENDOR,
        [
            {"APDivisionNo": "01", "VendorNo": f"V{n:05d}", "VendorName": f"Vendor {n}"}
            for n in range(VENDORS)
        ],
    )
    connection.commit()
    connection.close()


def enter_invoices(path: Path, records: int, start: datetime) -> datetime:
    """N new invoices, as Sage writes an entered one; returns the newest stamp."""
    step = STAMP_SPAN / records

    def rows():
        for n in range(records):
            stamp = start + step * n
            day = stamp.date().isoformat()
            amount = f"{(n * 7919) % 900_000 / 100 + 1:.2f}"
            yield (
                "01", f"V{n % VENDORS:05d}", f"{n:010d}", "000001", day, day, "01", "N", "",
                f"Bench invoice {n}", "00001", amount, day, _hours(stamp), "0000000001",
                None, "", "",
            )  # fmt: skip

    connection = sqlite3.connect(path)
    layout.write_tuples(connection, layout.AP_INVOICE_HEADER, rows())
    connection.commit()
    connection.close()
    return start + step * (records - 1)


def workspace_file(directory: Path, port: int, schedule: str | None = None) -> Path:
    path = directory / "workspace.toml"
    schedules = "" if schedule is None else f'\n[schedule]\nap_invoice = "{schedule}"\n'
    path.write_text(
        f'team_id = "{TEAM}"\nbot_token = "env:SLACK_BOT_TOKEN"\n\n[sage]\n'
        f'agent_url = "https://localhost:{port}"\ncompanies = ["{COMPANY}"]\nauth = "mtls"\n'
        'client_cert = "file:pki/client.pem"\nclient_key = "file:pki/client.key"\n'
        f'ca_cert = "file:pki/ca.pem"\ntimezone = "{ZONE.key}"\n\n'
        f'[channels]\nap_invoice = "{CHANNEL}"\n{schedules}'
    )
    return path


def wait_for_line(process: subprocess.Popen, log: Path, word: str) -> str:
    """Wait until the process's log has a line with `word`; that line."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if word in line:
                return line
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[3]} stopped: {log.read_text()}")
        time.sleep(0.1)
    raise RuntimeError(f"{process.args[3]} did not start within a minute")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_poll(directory: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """`poll --once` in a child: (wall seconds, peak RSS in MB, CPU seconds, its stdout)."""
    out = directory / "poll.out"
    with out.open("w") as stdout, (directory / "poll.err").open("w") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            command("poll", "--once"), stdout=stdout, stderr=stderr, env=env, cwd=directory
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(
            f"poll --once exited {process.returncode}: {out.read_text()}"
            f"{(directory / 'poll.err').read_text()}"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, usage.ru_maxrss / 1024, cpu, out.read_text()


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True, slots=True)
class World:
    """What a benchmark polls against: the company file, the agent serving it, and the
    connector's environment (database, keys, Slack stand-in), configured by `workspace apply`."""

    directory: Path
    company: Path
    agent: subprocess.Popen
    env: dict[str, str]


@contextlib.contextmanager
def world(
    directory: Path,
    database_url: str | None,
    *,
    schedule: str | None = None,
    environment: Mapping[str, str] | None = None,
) -> Iterator[World]:
    """The agent and the Slack stand-in running, each in its own process, until the block ends.
    `schedule` is the workspace file's AP invoice schedule; `environment`, more of the
    connector's variables."""
    company = directory / f"{COMPANY}.db"
    make_company(company)
    installed = installed_environment()
    subprocess.run(
        command("agent", "certs", "pki", "--host", "localhost"),
        cwd=directory, env=installed, check=True, capture_output=True,
    )  # fmt: skip
    agent_port = free_port()
    logs = {name: (directory / f"{name}.log").open("w") for name in ("agent", "slack")}
    agent = subprocess.Popen(
        command("agent", "serve", "--config",
                str(agent_file(directory, COMPANY, company, agent_port))),
        cwd=directory, stdout=logs["agent"], stderr=subprocess.STDOUT,
        env={**installed, "TZ": ZONE.key},
    )  # fmt: skip
    slack = subprocess.Popen(
        command("slack-standin", "--port", "0", "--team", TEAM, "--bot-token", TOKEN,
                "--channel", f"{CHANNEL}=bench"),
        cwd=directory, env=installed, stdout=logs["slack"], stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_line(agent, directory / "agent.log", "listening")
        slack_url = wait_for_line(slack, directory / "slack.log", "listening on").split()[4]
        key = subprocess.run(
            command("keys", "generate"), env=installed, check=True, capture_output=True,
            text=True,
        ).stdout.strip()  # fmt: skip
        env = {
            **installed,
            **(environment or {}),
            "DATABASE_URL": database_url or f"sqlite:///{directory / 'connector.db'}",
            "MLC_ENCRYPTION_KEYS": key,
            "SLACK_API_URL": slack_url,
            "SLACK_BOT_TOKEN": TOKEN,
        }
        subprocess.run(
            command("workspace", "apply", str(workspace_file(directory, agent_port, schedule))),
            cwd=directory, env=env, check=True, capture_output=True,
        )  # fmt: skip
        yield World(directory, company, agent, env)
    finally:
        stop(agent)
        stop(slack)
        for log in logs.values():
            log.close()


def wait_until_settled(newest: datetime) -> None:
    """Sleep until the agent's clock is past `newest` by the settle lag, so a poll takes it."""
    due = newest + DEFAULT_SETTLE_LAG + timedelta(seconds=2)
    time.sleep(max((due - datetime.now(ZONE)).total_seconds(), 0))


def measure(records: int, database_url: str | None) -> ScaleFigures:
    with tempfile.TemporaryDirectory(prefix="mlc-bench-scale-") as folder:
        with world(Path(folder), database_url) as bench:
            baseline_seconds, _, _, baseline = _timed_poll(bench.directory, bench.env)
            assert DELIVERED.search(baseline), baseline
            start = datetime.now(ZONE) + timedelta(seconds=1)
            wait_until_settled(enter_invoices(bench.company, records, start))
            load = os.getloadavg()[0]
            agent_cpu = _cpu_seconds(bench.agent.pid)
            seconds, peak_mb, cpu_seconds, output = _timed_poll(bench.directory, bench.env)
            agent_cpu = _cpu_seconds(bench.agent.pid) - agent_cpu
        polled, delivered = POLL_LINE.search(output), DELIVERED.search(output)
        if polled is None or delivered is None:
            raise RuntimeError(f"poll --once did not say what it read and delivered: {output}")
        figures = ScaleFigures(
            database="sqlite" if database_url is None else "postgresql",
            records=records,
            baseline_seconds=baseline_seconds,
            seconds=seconds,
            peak_mb=peak_mb,
            cpu_seconds=cpu_seconds,
            agent_cpu_seconds=agent_cpu,
            read=int(polled["read"]),
            new=int(polled["new"]),
            queued=int(polled["queued"]),
            delivered=int(delivered["sent"]),
            load=load,
        )
        if figures.read != records or figures.new != records or figures.queued == 0:
            raise RuntimeError(f"the timed poll did not read and queue every invoice: {output}")
        if int(delivered["remaining"]):
            raise RuntimeError(f"the timed poll left messages queued: {output}")
        return figures


async def _on_postgres(sizes: tuple[int, ...], admin_url: str) -> list[ScaleFigures]:
    figures = []
    for records in sizes:
        async with scratch_postgres(admin_url) as url:
            figures.append(await asyncio.to_thread(measure, records, url))
    return figures


def run(sizes: tuple[int, ...] = DEFAULT_SIZES, postgres: str | None = None) -> list[ScaleFigures]:
    if postgres is not None:
        return asyncio.run(_on_postgres(sizes, postgres))
    return [measure(records, None) for records in sizes]


def section(figures: list[ScaleFigures]) -> str:
    smallest = min(figures, key=lambda item: item.records)
    lines = [
        f"## {figures[0].database}: new AP invoices through one `poll --once`, end to end",
        "",
        "`python -m bench.poll_scale` (`--curve` for 1k/10k/100k, `--postgres URL`): the real "
        "agent (`agent serve`, mTLS) over a Sage-layout SQLite company, the Slack stand-in and "
        "the connector each in its own process, configured by `workspace apply`; after a "
        "baseline `poll --once`, N invoices are entered and one `poll --once` is timed from "
        "start to exit. Peak RSS is that process's `ru_maxrss`; per record: above the "
        f"{smallest.records:,}-invoice run. Read/new/queued/delivered are what it printed; "
        "load: the 1-minute load average as the timed poll started (2 cores, shared). CPU is "
        "the poll process's user + system time, and the agent's while it served the poll: on "
        "a loaded machine wall time grows, CPU does not.",
        "",
        "| invoices | wall | records/s | poll CPU (records per CPU second) | agent CPU "
        "| peak RSS | RSS per record above the smallest "
        "| read / new / queued / delivered | baseline poll | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in figures:
        extra = item.records - smallest.records
        per_record = (
            f"{(item.peak_mb - smallest.peak_mb) * 1024 * 1024 / extra:,.0f} bytes"
            if extra
            else "-"
        )
        lines.append(
            f"| {item.records:,} | {item.seconds:.1f} s | {item.records_per_second:,.0f} "
            f"| {item.cpu_seconds:.1f} s ({item.records / item.cpu_seconds:,.0f}/s) "
            f"| {item.agent_cpu_seconds:.1f} s | {item.peak_mb:.0f} MB | {per_record} "
            f"| {item.read:,} / {item.new:,} / {item.queued:,} / {item.delivered:,} "
            f"| {item.baseline_seconds:.1f} s | {item.load:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poll_scale")
    parser.add_argument("--records", type=int, action="append", help="invoices per run")
    parser.add_argument("--curve", action="store_true", help=f"run {', '.join(map(str, CURVE))}")
    parser.add_argument("--postgres", help="an admin URL; a scratch database is made on it")
    args = parser.parse_args(argv)
    sizes = CURVE if args.curve else tuple(args.records or DEFAULT_SIZES)
    print(section(run(sizes, args.postgres)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
