"""The audit export command, retention, /metrics data and /healthz data."""

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.cli import main
from bolt_app.crypto import generate_key
from bolt_app.errors import ConfigError
from bolt_app.metrics import Metrics, healthz
from bolt_app.polling.tables import poll_states
from bolt_app.runtime.graph import open_runtime
from bolt_app.runtime.housekeeping import Housekeeping, refresh_gauges
from bolt_app.settings import Settings
from bolt_app.storage.audit import list_audit_events, prune_audit_events, record_audit_event
from bolt_app.storage.engine import create_engine, upgrade_database
from tests.fixtures.delivery import outbound, utc_now
from tests.fixtures.slack import AP_CHANNEL, PO_CHANNEL, TEAM_ID

NOV_1 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def seed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        async with AsyncSession(engine) as session, session.begin():
            for team, day, kind in (
                (TEAM_ID, 0, "poll.cycle"),
                ("T0OTHER01", 1, "poll.cycle"),
                (TEAM_ID, 2, "delivery.attempt"),
            ):
                await record_audit_event(
                    session,
                    team_id=team,
                    kind=kind,
                    actor="worker-1",
                    summary=f"{kind}, day {day}",
                    now=NOV_1 + timedelta(days=day),
                    details={"outcome": "sent", "record_key": "0000042", "day": day},
                )
    finally:
        await engine.dispose()


@pytest.fixture
def audited_database(database_url, monkeypatch) -> str:
    asyncio.run(seed(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def test_audit_exports_json_for_one_team_since_a_time(audited_database, capsys):
    assert main(["audit", "--format", "json", "--team", TEAM_ID, "--since", "2026-11-02"]) == 0
    events = json.loads(capsys.readouterr().out)
    assert [(e["kind"], e["details"]["day"]) for e in events] == [("delivery.attempt", 2)]
    assert events[0]["occurred_at"] == "2026-11-03T12:00:00+00:00"


def test_audit_exports_csv_oldest_first_with_details_as_json(audited_database, capsys):
    assert main(["audit"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["team_id"] for row in rows] == [TEAM_ID, "T0OTHER01", TEAM_ID]
    assert json.loads(rows[2]["details"])["record_key"] == "0000042"


def test_a_bad_since_is_one_sentence_not_a_traceback(audited_database, capsys):
    assert main(["audit", "--since", "last tuesday"]) == 2
    err = capsys.readouterr().err
    assert "--since must be an ISO 8601 time" in err and "Traceback" not in err


async def test_retention_prunes_only_events_older_than_the_cutoff(engine):
    async with AsyncSession(engine) as session, session.begin():
        for age in (120, 91, 89, 1):
            await record_audit_event(
                session,
                team_id=TEAM_ID,
                kind="poll.cycle",
                actor="t",
                summary=f"{age} days old",
                now=utc_now() - timedelta(days=age),
            )
        assert await prune_audit_events(session, before=utc_now() - timedelta(days=90)) == 2
        left = await list_audit_events(session)
    assert [e.summary for e in left] == ["89 days old", "1 days old"]


async def test_housekeeping_prunes_the_trail_and_reports_the_queue(
    make_worker, queue, session_factory, slack_standin
):
    async with session_factory() as session, session.begin():
        await record_audit_event(
            session,
            team_id=TEAM_ID,
            kind="poll.cycle",
            actor="t",
            summary="ancient",
            now=utc_now() - timedelta(days=400),
        )
    await queue(outbound(AP_CHANNEL, "a"), outbound(PO_CHANNEL, "b"), outbound("C0NOWHERE1", "c"))
    metrics = Metrics()
    await make_worker(metrics=metrics).drain()
    housekeeping = Housekeeping(
        session_factory, clock=utc_now, metrics=metrics, audit_retention=timedelta(days=90)
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    await housekeeping.run(stop)  # its first round, then stops

    async with session_factory() as session:
        summaries = [e.summary for e in await list_audit_events(session)]
    assert "ancient" not in summaries
    samples = scrape(metrics)
    assert samples[("mlc_delivery_attempts_total", (("outcome", "sent"),))] == 2
    assert samples[("mlc_delivery_attempts_total", (("outcome", "dead"),))] == 1
    assert samples[("mlc_delivery_queue_depth", (("status", "pending"),))] == 0
    assert samples[("mlc_delivery_queue_depth", (("status", "dead"),))] == 1


async def test_metrics_read_queue_depth_and_last_success_from_the_database(queue, session_factory):
    """What a web process shows while polls and deliveries run in other processes."""
    await queue(outbound(AP_CHANNEL, "a"), outbound(PO_CHANNEL, "b"))
    async with session_factory() as session, session.begin():
        await session.execute(
            sa.insert(poll_states).values(
                team_id=TEAM_ID, company="ABC", record_type="ap_invoice", last_success_at=NOV_1
            )
        )
        await session.execute(
            sa.insert(poll_states).values(team_id=TEAM_ID, company="ABC", record_type="gl_entry")
        )
    metrics = Metrics()
    async with session_factory() as session:
        await refresh_gauges(metrics, session)

    samples = scrape(metrics)
    assert samples[("mlc_delivery_queue_depth", (("status", "pending"),))] == 2
    assert samples[("mlc_delivery_queue_depth", (("status", "dead"),))] == 0
    last = "mlc_poll_last_success_timestamp_seconds"
    assert {labels: value for (name, labels), value in samples.items() if name == last} == {
        (("company", "ABC"), ("record_type", "ap_invoice"), ("team_id", TEAM_ID)): NOV_1.timestamp()
    }


def scrape(metrics: Metrics) -> dict:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_each_metrics_object_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.record_delivery("sent")
    first.record_poll(
        team_id=TEAM_ID, company="ABC", record_type="ap_invoice", seconds=0.3, succeeded_at=NOV_1
    )
    second.record_poll(
        team_id=TEAM_ID, company="ABC", record_type="ap_invoice", seconds=9, succeeded_at=None
    )
    one, two = scrape(first), scrape(second)
    assert one[("mlc_delivery_attempts_total", (("outcome", "sent"),))] == 1
    assert ("mlc_delivery_attempts_total", (("outcome", "sent"),)) not in two
    last = (
        "mlc_poll_last_success_timestamp_seconds",
        (("company", "ABC"), ("record_type", "ap_invoice"), ("team_id", TEAM_ID)),
    )
    assert one[last] == NOV_1.timestamp()
    assert last not in two
    failed = (
        "mlc_poll_duration_seconds_count",
        (("outcome", "error"), ("record_type", "ap_invoice")),
    )
    assert two[failed] == 1


async def test_healthz_reports_the_database_and_the_scheduler(engine):
    assert (await healthz(engine, scheduler_alive=True)).as_dict() == {
        "ok": True,
        "database": True,
        "scheduler": True,
    }
    assert not (await healthz(engine, scheduler_alive=False)).ok
    assert (await healthz(engine, scheduler_alive=None)).as_dict() == {"ok": True, "database": True}
    unreachable = create_engine("postgresql://nobody@127.0.0.1:1/nothing")  # refused at once
    try:
        health = await healthz(unreachable, scheduler_alive=True)
    finally:
        await unreachable.dispose()
    assert (health.database, health.ok) == (False, False)


def test_audit_retention_defaults_to_90_days_and_is_set_from_the_environment():
    assert Settings.from_environ({}).audit_retention_days == 90
    assert Settings.from_environ({"MLC_AUDIT_RETENTION_DAYS": "30"}).audit_retention_days == 30
    for bad in ("0", "-5", "ninety"):
        with pytest.raises(ConfigError, match="MLC_AUDIT_RETENTION_DAYS"):
            Settings.from_environ({"MLC_AUDIT_RETENTION_DAYS": bad})


async def test_the_worker_and_poll_commands_prune_by_mlc_audit_retention_days(tmp_path):
    settings = Settings.from_environ(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'retention.db'}",
            "MLC_ENCRYPTION_KEYS": generate_key(),
            "MLC_AUDIT_RETENTION_DAYS": "30",
        }
    )
    async with open_runtime(settings, role="worker") as runtime:
        assert runtime.pipeline.housekeeping.audit_retention == timedelta(days=30)
