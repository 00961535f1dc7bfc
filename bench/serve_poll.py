"""What a Slack request waits while `serve` polls many new AP invoices, end to end.

The world of `bench.poll_scale` (the real agent in its own process over a Sage-layout SQLite
company, the Slack stand-in, `workspace apply`), with the AP invoice schedule at `1m`, and the
connector as one `ml-connector serve` process on SQLite: Slack's endpoints, the scheduler and
the delivery worker on one event loop. Its first scheduled poll is the baseline; then N
invoices are entered, and the next minute's poll takes them all. Throughout, the benchmark
sends a signed `/sage-status` slash command every `PROBE_EVERY`, as Slack would, and times
each from sending to serve's HTTP answer: Bolt answers once the handler has acked, and that is
what Slack's 3-second limit is on. The command's `response_url` is a sink in this process.

Figures: the poll's time in serve (from its scheduled minute to its log line), and the answers
timed while it ran (count, median, 99th percentile, worst, how many took over 1 s and 3 s),
beside those timed before it (serve idle but for the baseline poll of a company with no
invoices yet).

    python -m bench.serve_poll [--records N]
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bench.poll_scale import (
    COMPANY,
    POLL_LINE,
    TEAM,
    ZONE,
    command,
    enter_invoices,
    stop,
    wait_for_line,
    world,
)
from bench.rig import free_port
from bolt_app.polling.window import DEFAULT_SETTLE_LAG

RECORDS = 10_000
PROBE_EVERY = 0.05  # seconds between slash commands (after the previous one answered)
SCHEDULE = "1m"
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Answer:
    sent: float  # time.time() when the request was sent
    seconds: float
    status: int


@dataclass(frozen=True, slots=True)
class ServeFigures:
    records: int
    poll_seconds: float
    new: int
    during: tuple[float, ...]  # answer times while the poll ran, seconds
    before: tuple[float, ...]  # answer times before it, the baseline poll's included

    @staticmethod
    def _quantile(values: tuple[float, ...], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def row(self, values: tuple[float, ...]) -> str:
        over_1 = sum(1 for value in values if value > 1)
        over_3 = sum(1 for value in values if value > 3)
        return (
            f"{len(values):,} | {statistics.median(values) * 1000:.0f} ms "
            f"| {self._quantile(values, 0.99) * 1000:.0f} ms | {max(values) * 1000:.0f} ms "
            f"| {over_1} | {over_3}"
        )


class _Sink(http.server.BaseHTTPRequestHandler):
    """Takes what the app POSTs to a response_url, as Slack does."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _signed_command(secret: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "token": "unused",
            "team_id": TEAM,
            "team_domain": "bench",
            "channel_id": "C0BENCH002",
            "channel_name": "finance",
            "user_id": "U0BENCH001",
            "user_name": "controller",
            "command": "/sage-status",
            "text": "",
            "api_app_id": "A0BENCH001",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()
    timestamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
            timestamp=timestamp, body=body
        ),
    }


def _probe(port: int, secret: str, response_url: str, stop: threading.Event) -> list[Answer]:
    """Slash commands one after another until `stop`, each on a new connection."""
    answers: list[Answer] = []
    while not stop.is_set():
        body, headers = _signed_command(secret, response_url)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent, started = time.time(), time.perf_counter()
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        answers.append(Answer(sent, time.perf_counter() - started, response.status))
        connection.close()
        stop.wait(PROBE_EVERY)
    return answers


def _poll_lines(log: Path) -> list[tuple[datetime, dict[str, int]]]:
    """serve's "poll" log lines: when each was written, and its counts."""
    found = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("message", "")
        counts = POLL_LINE.search(message)
        if message.startswith("poll ") and counts is not None:
            found.append(
                (
                    datetime.fromisoformat(entry["time"]),
                    {k: int(v) for k, v in counts.groupdict().items()},
                )
            )
    return found


def _first_poll_from(
    serve: subprocess.Popen, log: Path, moment: datetime, within: float
) -> tuple[datetime, dict[str, int]]:
    """serve's first "poll" log line written at or after `moment`, waited for `within`
    seconds at most."""
    deadline = time.monotonic() + within
    while True:
        done = [(at, counts) for at, counts in _poll_lines(log) if at >= moment]
        if done:
            return done[0]
        if serve.poll() is not None:
            raise RuntimeError(f"serve stopped: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve logged no poll in time: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def _next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + MINUTE


def measure(records: int) -> ServeFigures:
    secret = secrets.token_hex(16)
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    response_url = f"http://127.0.0.1:{sink.server_address[1]}/commands/response"
    try:
        with tempfile.TemporaryDirectory(prefix="mlc-bench-serve-") as folder:
            directory = Path(folder)
            environment = {"SLACK_SIGNING_SECRET": secret}
            with world(directory, None, schedule=SCHEDULE, environment=environment) as bench:
                port = free_port()
                log = directory / "serve.log"
                with log.open("w") as output:
                    serve = subprocess.Popen(
                        command("serve", "--port", str(port), "--host", "127.0.0.1"),
                        cwd=directory, env=bench.env, stdout=output, stderr=subprocess.STDOUT,
                    )  # fmt: skip
                    try:
                        return _measure(bench, serve, log, port, secret, response_url, records)
                    finally:
                        stop(serve)
    finally:
        sink.shutdown()


def _measure(bench, serve, log, port, secret, response_url, records) -> ServeFigures:
    wait_for_line(serve, log, "listening on")
    halt = threading.Event()
    answers: list[Answer] = []
    prober = threading.Thread(
        target=lambda: answers.extend(_probe(port, secret, response_url, halt)), daemon=True
    )
    prober.start()
    try:
        _first_poll_from(serve, log, datetime.min.replace(tzinfo=UTC), 150)  # the baseline
        newest = enter_invoices(bench.company, records, datetime.now(ZONE) + timedelta(seconds=1))
        entered = datetime.now(UTC)
        polled_at = _next_minute(entered)
        if newest + DEFAULT_SETTLE_LAG >= polled_at:
            raise RuntimeError(
                f"the invoices were entered too late ({entered:%H:%M:%S}) to settle before "
                f"the {polled_at:%H:%M} poll; try fewer records"
            )
        finished, counts = _first_poll_from(serve, log, polled_at, 300)
    finally:
        halt.set()
        prober.join()
    if counts["new"] != records:
        raise RuntimeError(f"the {polled_at:%H:%M} poll took {counts['new']} of {records} invoices")
    if any(answer.status != 200 for answer in answers):
        statuses = sorted({answer.status for answer in answers})
        raise RuntimeError(f"serve answered a slash command with {statuses}")
    start, end = polled_at.timestamp(), finished.timestamp()
    during = tuple(a.seconds for a in answers if start <= a.sent <= end)
    before = tuple(a.seconds for a in answers if a.sent < start - 5)
    return ServeFigures(records, end - start, counts["new"], during, before)


def run(records: int = RECORDS) -> ServeFigures:
    return measure(records)


def section(figures: ServeFigures) -> str:
    return "\n".join(
        [
            "## A Slack request while `serve` polls",
            "",
            "`python -m bench.serve_poll [--records N]`: one `ml-connector serve` (SQLite; "
            "Slack's endpoints, scheduler and delivery in one process) over the real agent in "
            f"its own process; AP invoices on a `{SCHEDULE}` schedule. After the baseline poll, "
            f"{figures.records:,} invoices are entered ({COMPANY}); the next minute's poll takes "
            f"them all in {figures.poll_seconds:.1f} s (from its scheduled minute to its log "
            f"line; {figures.new:,} new). A signed `/sage-status` is sent every "
            f"{PROBE_EVERY * 1000:.0f} ms after the last answer, timed from sending to serve's "
            "answer (Bolt answers once the handler acks; Slack allows 3 s).",
            "",
            "| answers timed | count | median | 99th percentile | worst | over 1 s | over 3 s |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            f"| before it (the baseline poll included) | {figures.row(figures.before)} |",
            f"| while it polled | {figures.row(figures.during)} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_poll")
    parser.add_argument("--records", type=int, default=RECORDS, help="invoices entered")
    args = parser.parse_args(argv)
    print(section(run(args.records)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
