"""Real servers on loopback for the benchmarks: the simulated agent over mTLS, the Slack
stand-in, a SQLite database with one workspace, and the product's poller and delivery worker,
all on one clock (`ShiftedClock` where a benchmark skips scheduled waits, the real one otherwise).
"""

from __future__ import annotations

import contextlib
import random
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox, generate_key
from bolt_app.delivery.slack import client_factory
from bolt_app.polling.store import PollKey
from bolt_app.runtime.pipeline import Pipeline, build_pipeline
from bolt_app.storage.engine import create_engine, upgrade_database
from bolt_app.storage.workspaces import apply_workspace
from bolt_app.workspace.model import WorkspaceConfig
from bolt_app.workspace.schedule import Schedule
from mlc_common.certs import write_pki
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType
from sage.simulator import SimulatorServer
from slack_standin import SlackStandIn

ZONE = ZoneInfo("America/Chicago")
TEAM = "T0BENCH001"
TOKEN = "xoxb-bench-0001"
CHANNEL = "C0BENCH001"
COMPANY = "ABC"


class ShiftedClock:
    """The real clock plus an offset that only grows: `jump_to` skips ahead (a scheduled wait
    taken as arithmetic), while real waits (the worker's pacing) still pass as they do."""

    def __init__(self, now: datetime) -> None:
        self._offset = now - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def jump_to(self, moment: datetime) -> None:
        self._offset += max(moment - self(), timedelta(0))


@dataclass
class Rig:
    simulator: SimulatorServer
    slack: SlackStandIn
    pipeline: Pipeline
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine

    @property
    def service(self):
        return self.pipeline.service

    @property
    def worker(self):
        return self.pipeline.worker

    def key(self, record_type: RecordType) -> PollKey:
        return PollKey(TEAM, COMPANY, record_type)


@asynccontextmanager
async def rig(
    schedule: Schedule,
    *,
    clock: Callable[[], datetime] | None = None,
    database_url: str | None = None,
    agent_in_thread: bool = False,
) -> AsyncIterator[Rig]:
    """`database_url` an empty database to use; None: a fresh SQLite file. `agent_in_thread`
    serves the simulated agent from a thread of its own, so its work (a scan of the whole
    change log, sorted) does not stall the event loop a benchmark measures."""
    now = clock or (lambda: datetime.now(UTC))
    with tempfile.TemporaryDirectory() as directory:
        pki = write_pki(Path(directory) / "pki")
        engine = create_engine(database_url or f"sqlite:///{Path(directory) / 'bench.db'}")
        box = SecretBox([generate_key()])
        async with contextlib.AsyncExitStack() as stack:
            served = SimulatorServer(pki, clock=now, timezone=ZONE)
            if agent_in_thread:
                simulator = stack.enter_context(served.running_in_thread())
            else:
                simulator = await stack.enter_async_context(served)
            slack = await stack.enter_async_context(SlackStandIn())
            slack.add_workspace(TEAM, bot_token=TOKEN)
            slack.add_channel(TEAM, CHANNEL, "bench")
            await upgrade_database(engine)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            config = WorkspaceConfig(
                team_id=TEAM,
                connection=ConnectionSettings(
                    agent_url=simulator.base_url,
                    companies=(COMPANY,),
                    auth=AuthMode.MTLS,
                    timezone=ZONE,
                    client_cert_pem=pki.client_cert.read_text(),
                    client_key_pem=pki.client_key.read_text(),
                    ca_cert_pem=pki.ca_cert.read_text(),
                ),
                channels=dict.fromkeys(RecordType, CHANNEL),
                schedules=dict.fromkeys(RecordType, schedule),
                bot_token=TOKEN,
            )
            async with sessions.begin() as session:
                await apply_workspace(session, config, box, now=now())

            async def token_for_team(team_id: str) -> str:
                return TOKEN

            pipeline = build_pipeline(
                sessions,
                box,
                client_factory(base_url=slack.api_url, token_for_team=token_for_team),
                worker_id="bench",
                now=now,
                audit_retention=None,
                rng=random.Random(0),
            )
            try:
                yield Rig(simulator, slack, pipeline, sessions, engine)
            finally:
                await engine.dispose()


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    """A new PostgreSQL database made on `admin_url` for one benchmark, dropped afterwards."""
    name = f"mlc_bench_{uuid.uuid4().hex[:12]}"
    url = make_url(admin_url)
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def free_port() -> int:
    """A loopback port free now, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def agent_file(directory: Path, code: str, company: Path, port: int) -> Path:
    """An agent.toml serving one Sage-layout SQLite company over mTLS, with the certificates
    of `directory / "pki"` (as `ml-connector agent certs` or `write_pki` lays them out)."""
    path = directory / "agent.toml"
    path.write_text(
        f'[server]\nhost = "127.0.0.1"\nport = {port}\n'
        'cert = "file:pki/server.pem"\nkey = "file:pki/server.key"\n'
        'client_ca = "file:pki/ca.pem"\n\n'
        f'[companies.{code}]\nsqlite = "{company}"\n'
    )
    return path
