"""`poll --once` and `status --json` through the real command line, against loopback servers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import datetime

import pytest
import sqlalchemy as sa

from bolt_app.cli import main
from bolt_app.crypto import SecretBox, generate_key
from bolt_app.polling.store import PollKey
from bolt_app.storage.tables import workspaces
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType
from tests.bolt_app.polling.test_reconcile import OldAgentClient, reconciler
from tests.fixtures.slack import AP_CHANNEL, GL_CHANNEL, PO_CHANNEL, TEAM_ID

KEY = generate_key()


@pytest.fixture
def secret_box() -> SecretBox:
    """The key the CLI is given, so it can read what the harness stored."""
    return SecretBox([KEY])


@pytest.fixture
def cli_environment(polling, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", KEY)
    monkeypatch.setenv("SLACK_API_URL", polling.slack.api_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_poll_once_polls_everything_delivers_and_status_reports_it(
    polling, cli_environment, capsys
):
    assert await cli("poll", "--once") == 0
    out = capsys.readouterr().out
    assert "ABC ap_invoice" in out and "Delivered 4 message(s); 0 still queued." in out
    assert [len(polling.messages(c)) for c in (AP_CHANNEL, PO_CHANNEL, GL_CHANNEL)] == [1, 1, 2]

    assert await cli("status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert set(status) == {"team_id", "paused", "resources", "queue"}
    assert status["team_id"] == TEAM_ID and status["queue"] == {"pending": 0, "dead": 0}
    for resource in status["resources"]:
        assert set(resource) == {
            "company", "record_type", "channel", "schedule", "last_poll_at", "last_success_at",
            "next_poll_at", "records_seen_last_poll", "last_error",
        }  # fmt: skip
        assert datetime.fromisoformat(resource["last_success_at"]).utcoffset() is not None

    assert await cli("status", "--team", TEAM_ID) == 0
    assert "ABC purchase_order -> C0PO00001, every 15 minutes" in capsys.readouterr().out


async def test_status_describes_a_cron_schedule_and_its_next_poll_on_the_sage_servers_clock(
    polling, cli_environment, capsys
):
    schedules = dict(polling.config.schedules)
    schedules[RecordType.AP_INVOICE] = parse_schedule("0 18 * * 1-5")
    await polling.apply(schedules=schedules)
    assert await cli("status", "--team", TEAM_ID) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(text for text in out if "ABC ap_invoice" in text)
    assert "weekdays at 18:00 (America/Chicago)" in line
    weekday, _date, time, zone = re.search(r"next (\w+) (\S+) (\S+) (\S+?),", line).groups()
    assert weekday in {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert (time, zone) == ("18:00", "America/Chicago")


async def test_poll_once_names_the_failures_and_exits_1(polling, cli_environment, capsys):
    await polling.apply(connection=replace(polling.config.connection, companies=("ABC", "ZZZ")))
    assert await cli("poll", "--once", "--team", TEAM_ID) == 1
    err = capsys.readouterr().err
    assert "poll failed: ZZZ ap_invoice; ZZZ purchase_order" in err
    assert len(polling.messages(AP_CHANNEL)) == 1  # ABC still polled and delivered


async def test_poll_once_exits_1_naming_a_message_slack_refused(polling, cli_environment, capsys):
    channels = dict(polling.config.channels)
    channels[RecordType.AP_INVOICE] = "C0GONE001"  # not a channel of this workspace
    await polling.apply(channels=channels)
    assert await cli("poll", "--once", "--team", TEAM_ID) == 1
    err = capsys.readouterr().err
    assert "Could not deliver ap_invoice connected to C0GONE001" in err
    assert "poll failed: delivery of ap_invoice connected" in err
    assert len(polling.messages(PO_CHANNEL)) == 1  # the rest still delivered


def test_worker_runs_until_sigterm_and_stops_cleanly(tmp_path):
    environment = {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "MLC_ENCRYPTION_KEYS": KEY,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bolt_app", "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Worker started" in worker.stdout.readline()  # flushed at once, or this blocks
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert "Worker stopped." in out


async def test_status_names_why_delivery_is_paused(polling, cli_environment, capsys):
    async with polling.sessions.begin() as session:
        await session.execute(
            sa.update(workspaces).values(paused=True, paused_reason="token_revoked")
        )
    assert await cli("status") == 0
    assert f"Workspace {TEAM_ID} (delivery paused: token_revoked)" in capsys.readouterr().out
    assert await cli("status", "--json") == 0
    assert json.loads(capsys.readouterr().out)["paused"] is True


async def test_poll_once_says_delivery_is_paused_why_and_how_to_lift_it(
    polling, cli_environment, capsys
):
    async with polling.sessions.begin() as session:
        await session.execute(
            sa.update(workspaces).values(paused=True, paused_reason="token_revoked")
        )
    assert await cli("poll", "--once", "--team", TEAM_ID) == 1
    err = capsys.readouterr().err
    assert f"Delivery to {TEAM_ID} is paused because Slack refused its bot token" in err
    assert f"`ml-connector workspace resume --team {TEAM_ID}`" in err
    assert polling.messages(AP_CHANNEL) == []

    assert await cli("workspace", "resume", "--team", TEAM_ID) == 0
    assert await cli("poll", "--once", "--team", TEAM_ID) == 0
    assert len(polling.messages(AP_CHANNEL)) == 1


async def test_status_shows_the_last_reconcile_and_why_it_is_off_on_a_1_0_agent(
    polling, cli_environment, capsys
):
    assert await cli("poll", "--once", "--reconcile", "--team", TEAM_ID) == 0
    capsys.readouterr()
    assert await cli("status", "--team", TEAM_ID) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index(next(line for line in out if "ABC ap_invoice" in line))
    assert re.fullmatch(
        r"    reconcile every day at 03:00 \(America/Chicago\): last run \S+, last success \S+",
        out[at + 1],
    ), out
    gl_entry = out.index(next(line for line in out if "ABC gl_entry" in line))
    assert "reconcile" not in out[gl_entry + 1]  # posted ledger lines are not reconciled

    old = reconciler(polling, agent_client_for=OldAgentClient)
    await old.reconcile(PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE))
    assert await cli("status", "--team", TEAM_ID) == 0
    out = capsys.readouterr().out.splitlines()
    line = out[out.index(next(line for line in out if "ABC ap_invoice" in line)) + 1]
    assert line.startswith("    reconcile every day at 03:00 (America/Chicago): Reconcile is off:")
    assert "API 1.0) has no keys listing" in line and "(last tried " in line

    assert await cli("status", "--json") == 0
    [resource] = [
        r
        for r in json.loads(capsys.readouterr().out)["resources"]
        if r["record_type"] == "ap_invoice"
    ]
    assert "reconcile" not in json.dumps(resource)  # the keys of docs/interface.md are fixed
