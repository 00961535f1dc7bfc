"""The live session of `ml-connector demo` (`make demo`): the whole product on one machine.

Everything lives in one state directory (default ./demo-data, git-ignored):

    pki/              the simulated agent's CA, server and client certificates (reused)
    fernet.key        the encryption key of the demo database. The demo is the one place a key
                      is generated implicitly; every other command needs MLC_ENCRYPTION_KEYS.
    demo.db           SQLite: workspace, cursors, seen records, outbox, audit trail
                      (demo-slack-TEAM.db when posting to a real Slack workspace)
    simulator.pickle  the simulated Sage company as the last run left it
    workspace.toml    the workspace file the demo applies (the file an operator would write)
    demo.log          the JSON logs, kept out of the terminal

It starts the simulated agent over mTLS with business activity on, the local Slack stand-in
(or real Slack when SLACK_BOT_TOKEN and MLC_DEMO_CHANNEL are set), applies the workspace,
polls every resource once and then on its short schedule with the real scheduler and delivery
worker, and prints each message Slack accepted as a person reads it (with a Block Kit Builder
link under `--builder-links`) and a line per poll saying what was new, changed and queued.
What it prints is read back from the database (the polls' audit events, the outbox), so it
shows what the product did, not what the demo expected. Ctrl-C or SIGTERM stops it cleanly with a summary;
running it again continues from the same database, cursors and company.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import pickle
import random
import signal
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.blocks.messages import SlackMessage, block_kit_builder_url, render_text
from bolt_app.crypto import generate_key
from bolt_app.delivery.outbox import DeliveryKind, DeliveryStatus
from bolt_app.delivery.store import (
    deliveries_after,
    finished_deliveries,
    last_delivery_id,
    sent_posts,
)
from bolt_app.errors import ConfigError
from bolt_app.logging import configure_logging
from bolt_app.runtime.graph import build_runtime
from bolt_app.settings import Settings
from bolt_app.storage.audit import audit_events_after, last_audit_event_id
from bolt_app.storage.engine import create_engine, upgrade_database
from bolt_app.storage.secrets import open_secret_box
from bolt_app.storage.workspaces import apply_workspace
from bolt_app.workspace.file import load_workspace_file
from mlc_common.certs import Pki, write_pki
from sage.records import RecordType
from sage.simulator import SimulatorServer
from sage.simulator.activity import REGISTER_SPREAD
from sage.simulator.data import SimulatorData
from slack_standin import SlackStandIn

DEMO_TEAM = "T0DEMO0001"
DEMO_COMPANY = "ABC"
SAGE_ZONE = "America/Chicago"
STANDIN_TOKEN = "xoxb-demo-standin-0001"
STANDIN_CHANNELS = {
    RecordType.AP_INVOICE: ("C0DEMOAP01", "ap-invoices"),
    RecordType.PURCHASE_ORDER: ("C0DEMOPO01", "purchase-orders"),
    RecordType.GL_ENTRY: ("C0DEMOGL01", "general-ledger"),
    RecordType.GL_ACCOUNT: ("C0DEMOGL01", "general-ledger"),
}
WATCH_EVERY = 0.5  # seconds between looks at the database
POLL_EVENTS = ("poll", "poll.failed")  # the audit events a poll writes, read back for its line


# ---- the state directory ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoState:
    directory: Path

    @property
    def key_file(self) -> Path:
        return self.directory / "fernet.key"

    def database_url(self, slack_team: str | None) -> str:
        """demo.db with the stand-in; one database per real Slack workspace, so switching
        between them never sends one's queue to the other."""
        name = f"demo-slack-{slack_team}.db" if slack_team else "demo.db"
        return f"sqlite:///{(self.directory / name).absolute()}"

    @property
    def simulator_file(self) -> Path:
        return self.directory / "simulator.pickle"

    @property
    def workspace_file(self) -> Path:
        return self.directory / "workspace.toml"

    @property
    def log_file(self) -> Path:
        return self.directory / "demo.log"

    def prepare(self) -> tuple[Pki, str, bool]:
        """The PKI (reused when valid) and the key; True when the key was made just now."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            pki = write_pki(self.directory / "pki")
            if self.key_file.exists():
                return pki, self.key_file.read_text(encoding="ascii").strip(), False
            key = generate_key()
            descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(key + "\n")
            return pki, key, True
        except OSError as error:
            raise ConfigError(
                f"Cannot set up the demo state directory {self.directory} ({error.strerror})."
            ) from None

    def load_company(self, now: datetime) -> tuple[SimulatorData, bool]:
        """The simulated company of the last run (this file is only ever written by the demo),
        else a fresh one with a month of history. True when it was continued."""
        if self.simulator_file.exists():
            with self.simulator_file.open("rb") as handle:
                return pickle.load(handle), True  # noqa: S301 - our own file, see docstring
        return SimulatorData.seeded(now, rng=random.Random(7)), False

    def save_company(self, data: SimulatorData) -> None:
        partial = self.simulator_file.with_suffix(".tmp")
        partial.write_bytes(pickle.dumps(data))
        partial.replace(self.simulator_file)


# ---- Slack: the stand-in, or a real channel ---------------------------------------------------


@dataclass(slots=True)
class SlackTarget:
    api_url: str
    team_id: str
    token_ref: str  # as the workspace file gives it: literal, or env:SLACK_BOT_TOKEN
    channels: dict[RecordType, str]
    names: dict[str, str]  # channel ID -> how to show it
    standin: SlackStandIn | None = None

    def where(self) -> str:
        if self.standin is None:
            return f"real Slack, workspace {self.team_id}, channel {self.names_text()}"
        return f"the local Slack stand-in at {self.api_url} ({self.names_text()})"

    def names_text(self) -> str:
        return ", ".join(sorted(set(self.names.values())))


@contextlib.asynccontextmanager
async def _slack(settings: Settings) -> AsyncIterator[SlackTarget]:
    if settings.slack_bot_token and settings.demo_channel:
        client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
        try:
            answer = await client.auth_test()
        except SlackApiError as error:
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error.response.get('error')})."
            ) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ConfigError(
                f"Cannot reach Slack at {settings.slack_api_url} to check SLACK_BOT_TOKEN "
                f"({type(error).__name__})."
            ) from None
        channel = settings.demo_channel
        yield SlackTarget(
            api_url=settings.slack_api_url,
            team_id=str(answer["team_id"]),
            token_ref="env:SLACK_BOT_TOKEN",
            channels=dict.fromkeys(RecordType, channel),
            names={channel: channel},
        )
        return
    standin = SlackStandIn()
    standin.add_workspace(
        DEMO_TEAM,
        "Demo Finance",
        bot_token=STANDIN_TOKEN,
        bot_user_id="U0DEMOBOT1",
        bot_id="B0DEMOBOT1",
    )
    for channel_id, name in set(STANDIN_CHANNELS.values()):
        standin.add_channel(DEMO_TEAM, channel_id, name)
    await standin.start()
    try:
        yield SlackTarget(
            api_url=standin.api_url,
            team_id=DEMO_TEAM,
            token_ref=STANDIN_TOKEN,
            channels={rt: channel for rt, (channel, _) in STANDIN_CHANNELS.items()},
            names={channel: f"#{name}" for channel, name in STANDIN_CHANNELS.values()},
            standin=standin,
        )
    finally:
        await standin.stop()


async def _restore_standin(sessions: async_sessionmaker[AsyncSession], slack: SlackTarget) -> int:
    """Messages earlier runs posted, put back into this run's stand-in so updates find them."""
    if slack.standin is None:
        return 0
    async with sessions() as session:
        rows = await sent_posts(session, set(slack.channels.values()))
    for channel_id, ts, payload in rows:
        slack.standin.add_message(
            channel_id,
            ts,
            payload.get("text", ""),
            tuple(payload.get("blocks", ())),
            payload.get("metadata"),
        )
    return len(rows)


def _workspace_toml(slack: SlackTarget, agent_url: str, schedule: str, backfill_days: int) -> str:
    lines = [
        "# Written by `ml-connector demo` on every start (the agent's port changes).",
        f'team_id = "{slack.team_id}"',
        f'bot_token = "{slack.token_ref}"',
        f"backfill_days = {backfill_days}",
        "",
        "[sage]",
        f'agent_url = "{agent_url}"',
        f'companies = ["{DEMO_COMPANY}"]',
        'auth = "mtls"',
        'client_cert = "file:pki/client.pem"',
        'client_key = "file:pki/client.key"',
        'ca_cert = "file:pki/ca.pem"',
        f'timezone = "{SAGE_ZONE}"',
        "",
        "[channels]",
        *(f'{rt} = "{channel}"' for rt, channel in slack.channels.items()),
        "",
        "[schedule]",
        *(f'{rt} = "{schedule}"' for rt in slack.channels),
    ]
    return "\n".join(lines) + "\n"


# ---- watching what the product does ----------------------------------------------------------


@dataclass(slots=True)
class Tally:
    polls: int = 0
    failed_polls: int = 0
    records_read: int = 0
    new: int = 0
    changed: int = 0
    queued: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # by kind
    dead: int = 0
    first_message_after: float | None = None

    @property
    def delivered(self) -> int:
        return sum(self.sent.values())


class Watcher:
    """Reads polls and the outbox from the database and narrates them as they happen."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        names: dict[str, str],
        *,
        say: Callable[[str], None],
        started: float,
        builder_links: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._names = names
        self._say = say
        self._builder_links = builder_links
        self._started = started
        self._monotonic = monotonic
        self.tally = Tally()
        self._last_poll_event = 0
        self._last_id = 0
        self._reported: set[int] = set()

    async def start(self) -> tuple[int, int]:
        """Remember what earlier runs did; returns (messages delivered before, still queued)."""
        async with self._sessions() as session:
            self._last_poll_event = await last_audit_event_id(session)
            self._last_id = await last_delivery_id(session)
            finished = [(row.id, row.status) for row in await finished_deliveries(session, set())]
        self._reported = {delivery_id for delivery_id, _ in finished}
        statuses = [status for _, status in finished]
        sent_before = statuses.count(DeliveryStatus.SENT.value)
        return sent_before, self._last_id - len(statuses)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.look()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), WATCH_EVERY)

    async def look(self) -> None:
        async with self._sessions() as session:
            polls = await audit_events_after(session, self._last_poll_event, kinds=POLL_EVENTS)
            new_rows = await deliveries_after(session, self._last_id)
            done = await finished_deliveries(session, self._reported)
        for event in polls:
            self._last_poll_event = event.id
            self._poll(event.details)
        if new_rows:
            self._queued(new_rows)
        for row in done:
            self._reported.add(row.id)
            self._finished(row)

    def _stamp(self) -> str:
        return datetime.now(UTC).astimezone().strftime("%H:%M:%S")

    def _poll(self, poll: Mapping[str, Any]) -> None:
        """One line per poll from its audit event: what was new, changed and queued."""
        self.tally.polls += 1
        where = f"{self._stamp()}  poll {poll['company']} {poll['record_type']}"
        if poll.get("error"):
            self.tally.failed_polls += 1
            self._say(f"{where}: FAILED: {poll['error']}")
            return
        self.tally.records_read += poll["read"]
        self.tally.new += poll["new"]
        self.tally.changed += poll["changed"]
        later = [
            f"{count} {label}"
            for count, label in ((len(poll["skipped"]), "skipped"), (poll["waiting"], "waiting"))
            if count
        ]
        self._say(
            f"{where}: {poll['read']} read, {poll['new']} new, {poll['changed']} changed, "
            f"{poll['queued']} queued" + "".join(f", {part}" for part in later)
        )

    def _queued(self, rows: list[Any]) -> None:
        self._last_id = rows[-1].id
        self.tally.queued += len(rows)
        per_channel: dict[str, int] = {}
        for row in rows:
            name = self._names.get(row.channel_id, row.channel_id)
            per_channel[name] = per_channel.get(name, 0) + 1
        where = ", ".join(f"{count} for {name}" for name, count in sorted(per_channel.items()))
        self._say(f"{self._stamp()}  queued {len(rows)} message(s): {where}")

    def _finished(self, row: Any) -> None:
        channel = self._names.get(row.channel_id, row.channel_id)
        if row.status == DeliveryStatus.DEAD.value:
            self.tally.dead += 1
            self._say(
                f"{self._stamp()}  could not deliver {row.record_type} {row.record_key} to "
                f"{channel}: {row.last_error}"
            )
            return
        self.tally.sent[row.kind] = self.tally.sent.get(row.kind, 0) + 1
        if self.tally.first_message_after is None:
            self.tally.first_message_after = self._monotonic() - self._started
        payload = row.payload
        message = SlackMessage(
            text=payload.get("text", ""),
            blocks=tuple(payload.get("blocks", ())),
            metadata=payload.get("metadata"),
        )
        what = {
            DeliveryKind.POST.value: "new message",
            DeliveryKind.UPDATE.value: "message updated in place",
            DeliveryKind.REPLY.value: "thread reply",
        }.get(row.kind, row.kind)
        title = f"--- {channel} · {what} · {self._stamp()} "
        self._say("")
        self._say(title + "-" * max(0, 78 - len(title)))
        self._say(render_text(message))
        if message.blocks and self._builder_links:
            self._say(f"Block Kit Builder: {block_kit_builder_url(message)}")
        self._say("-" * 78)

    def summary(self, elapsed: float) -> list[str]:
        tally = self.tally
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(tally.sent.items()))
        lines = [
            f"Demo stopped after {elapsed:.0f} s.",
            f"  polls: {tally.polls} ({tally.failed_polls} failed), {tally.records_read} "
            f"record(s) read, {tally.new} new, {tally.changed} changed",
            f"  messages: {tally.queued} queued, {tally.delivered} delivered"
            + (f" ({kinds})" if kinds else "")
            + f", {tally.dead} could not be delivered",
        ]
        if tally.first_message_after is not None:
            lines.append(f"  first message {tally.first_message_after:.1f} s after the start")
        return lines


# ---- the run ---------------------------------------------------------------------------------


def _say(line: str) -> None:
    print(line, flush=True)


async def run_demo(settings: Settings, args) -> None:
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    state = DemoState(args.state_dir)
    pki, key, new_key = state.prepare()
    with state.log_file.open("a", encoding="utf-8") as log_stream:
        configure_logging(
            level=logging.INFO,
            secrets=[key, *settings.secret_values()],
            stream=log_stream,
        )
        await _run(settings, args, state, pki, key, new_key, stop, started)


async def _run(
    settings: Settings,
    args,
    state: DemoState,
    pki: Pki,
    key: str,
    new_key: bool,
    stop: asyncio.Event,
    started: float,
) -> None:
    directory = state.directory
    _say(f"ml-connector demo: state in {directory}/ (logs in {state.log_file})")
    if new_key:
        _say(
            f"  generated an encryption key in {state.key_file}: only the demo does this; "
            "every other command needs MLC_ENCRYPTION_KEYS"
        )
    company, continued = state.load_company(datetime.now(UTC))
    simulator = SimulatorServer(pki, data=company, activity_interval=args.activity_interval)
    await simulator.start()
    try:
        _say(
            f"  simulated Sage 100 agent (mTLS) at {simulator.base_url}, company {DEMO_COMPANY}, "
            f"a change every {args.activity_interval:g} s"
            + (" (continuing the last run's company)" if continued else "")
        )
        async with _slack(settings) as slack:
            _say(f"  posting to {slack.where()}")
            await _with_database(settings, args, state, key, slack, simulator, stop, started)
    finally:
        await simulator.stop()
        if simulator.activity is not None:
            # Finish the GL register being written, so no register is left half posted.
            simulator.activity.flush(datetime.now(UTC) + REGISTER_SPREAD)
        state.save_company(simulator.data)


async def _with_database(
    settings: Settings,
    args,
    state: DemoState,
    key: str,
    slack: SlackTarget,
    simulator: SimulatorServer,
    stop: asyncio.Event,
    started: float,
) -> None:
    engine = create_engine(state.database_url(None if slack.standin else slack.team_id))
    try:
        await upgrade_database(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            box = await open_secret_box(
                session, encryption_keys=(key,), keyring=None, now=datetime.now(UTC)
            )
        state.workspace_file.write_text(
            _workspace_toml(slack, simulator.base_url, args.schedule, args.backfill_days),
            encoding="utf-8",
        )
        environ = {"SLACK_BOT_TOKEN": settings.slack_bot_token or ""}
        config = load_workspace_file(state.workspace_file, environ)
        async with sessions.begin() as session:
            outcome = await apply_workspace(
                session, config, box, now=datetime.now(UTC), actor="demo"
            )
        _say(
            f"  workspace {config.team_id} {outcome} from {state.workspace_file}: every record "
            f"type polled every {args.schedule}, first poll replays {args.backfill_days} day(s)"
        )
        restored = await _restore_standin(sessions, slack)
        watcher = Watcher(
            sessions, slack.names, say=_say, started=started, builder_links=args.builder_links
        )
        sent_before, waiting = await watcher.start()
        if sent_before or waiting:
            _say(
                f"  continuing: {sent_before} message(s) delivered by earlier runs"
                + (f" ({restored} put back into the stand-in)" if slack.standin else "")
                + f", {waiting} still queued; cursors kept"
            )
        runtime = build_runtime(
            dataclasses.replace(
                settings,
                slack_api_url=slack.api_url,
                slack_client_id=None,
                slack_client_secret=None,
            ),
            engine=engine,
            box=box,
            role="demo",
        )
        pipeline = runtime.pipeline
        _say(f"Setup took {time.monotonic() - started:.1f} s. Ctrl-C stops.\n")

        async def first_polls() -> None:
            # Everything once now, so the first messages need not wait for the schedule.
            await pipeline.service.poll_all(config.team_id)

        await asyncio.gather(pipeline.run(stop), watcher.run(stop), first_polls())
        await watcher.look()
        _say("")
        for line in watcher.summary(time.monotonic() - started):
            _say(line)
        _say(
            f"  everything is kept in {state.directory}/: run the demo again to continue from here."
        )
    finally:
        await engine.dispose()
