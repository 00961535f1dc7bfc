"""Scheduling from the database, leases across workers, and what `status` reports."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa

from bolt_app.polling.scheduler import PollScheduler, due_time, trigger_for
from bolt_app.polling.store import PollKey
from bolt_app.status.model import load_status
from bolt_app.storage.audit import list_audit_events
from bolt_app.storage.tables import workspaces
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType
from tests.bolt_app.polling.test_reconcile import reconciler
from tests.fixtures.polling import SAGE_ZONE, START
from tests.fixtures.slack import AP_CHANNEL, TEAM_ID

AP_JOB = f"poll:{TEAM_ID}:ABC:ap_invoice"


async def test_a_schedule_change_in_the_database_is_picked_up_without_a_restart(polling):
    scheduler = PollScheduler(polling.service(), polling.sessions, now=polling.clock)
    await scheduler.reconcile()
    assert set(scheduler.specs) == {
        f"poll:{TEAM_ID}:ABC:{record_type}" for record_type in RecordType
    }
    assert str(scheduler.specs[AP_JOB].schedule) == "15m"

    schedules = dict(polling.config.schedules)
    schedules[RecordType.AP_INVOICE] = parse_schedule("0 18 * * 1-5")
    channels = dict(polling.config.channels)
    del channels[RecordType.GL_ACCOUNT]
    await polling.apply(schedules=schedules, channels=channels)
    await scheduler.reconcile()
    assert str(scheduler.specs[AP_JOB].schedule) == "0 18 * * 1-5"
    assert f"poll:{TEAM_ID}:ABC:gl_account" not in scheduler.specs


async def test_the_worker_loop_schedules_jobs_and_stops_on_its_event(polling):
    scheduler = PollScheduler(
        polling.service(), polling.sessions, reconcile_every=timedelta(milliseconds=10)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler.run(stop))

    for _ in range(6000):  # up to a minute: CI is a loaded machine
        if scheduler.specs:
            break
        await asyncio.sleep(0.01)
    assert scheduler.running and scheduler.next_run(AP_JOB) is not None
    job = scheduler._scheduler.get_job(AP_JOB)  # the APScheduler job itself, for its options
    assert job.max_instances == 1 and job.coalesce is True
    stop.set()
    await asyncio.wait_for(task, 60)
    assert not scheduler.running


def test_interval_due_times_are_the_same_in_every_process():
    trigger = trigger_for(parse_schedule("15m"), SAGE_ZONE)
    started_late = datetime(2026, 11, 24, 10, 15, 7, tzinfo=SAGE_ZONE)
    assert due_time(trigger, started_late, timedelta(seconds=60)) == started_late.replace(second=0)
    cron = trigger_for(parse_schedule("0 18 * * 1-5"), SAGE_ZONE)
    evening = datetime(2026, 11, 24, 18, 0, 2, tzinfo=SAGE_ZONE)
    assert due_time(cron, evening, timedelta(seconds=60)) == evening.replace(second=0)


def test_a_job_polls_for_its_latest_due_time_on_a_schedule_shorter_than_the_grace():
    trigger = trigger_for(parse_schedule("30s"), SAGE_ZONE)
    started = datetime(2026, 11, 24, 10, 0, 30, 400000, tzinfo=SAGE_ZONE)
    assert due_time(trigger, started, timedelta(seconds=60)) == started.replace(microsecond=0)


async def test_an_on_demand_poll_does_not_make_a_scheduled_poll_skip(polling):
    key = PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE)
    trigger = trigger_for(parse_schedule("30s"), SAGE_ZONE)
    service = polling.service()

    async def scheduled(after: timedelta) -> bool:
        polling.clock.now = START + after  # START lies on the 30 s grid
        due = due_time(trigger, polling.clock(), timedelta(seconds=60))
        return (await service.poll(key, due=due)).ran

    async def on_demand(after: timedelta) -> bool:
        polling.clock.now = START + after
        return (await service.poll(key)).ran

    assert await scheduled(timedelta(seconds=0.2))
    assert await on_demand(timedelta(seconds=10))  # "Poll now" between two due times
    assert await scheduled(timedelta(seconds=30.2))
    assert await on_demand(timedelta(seconds=60.1))
    assert await scheduled(timedelta(seconds=61))  # the 60 s job, fired late after "Poll now"
    assert not await scheduled(timedelta(seconds=62))  # still the 60 s due time: done


async def test_each_scheduled_poll_logs_what_it_found_and_queued_in_one_line(polling, caplog):
    scheduler = PollScheduler(polling.service(), polling.sessions, now=polling.clock)
    key = PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE)
    with caplog.at_level("INFO", logger="bolt_app.polling.scheduler"):
        await scheduler._run_job(key, trigger_for(parse_schedule("15m"), SAGE_ZONE))
    (line,) = [record.getMessage() for record in caplog.records]
    assert re.fullmatch(
        rf"poll {TEAM_ID} ABC ap_invoice: \d+ read, \d+ new, \d+ changed, \d+ skipped, "
        r"\d+ waiting, \d+ queued",
        line,
    ), line


async def test_two_workers_firing_the_same_due_time_poll_once(polling):
    key = PollKey(TEAM_ID, "ABC", RecordType.AP_INVOICE)
    due = polling.clock()
    outcomes = await asyncio.gather(*(polling.service().poll(key, due=due) for _ in range(3)))
    assert sorted(outcome.ran for outcome in outcomes) == [False, False, True]
    assert all(outcome.ok for outcome in outcomes)
    assert (await polling.service().poll(key, due=due)).ran is False  # done for this due time
    polling.clock.advance(minutes=15)
    assert (await polling.service().poll(key, due=polling.clock())).ran


async def test_status_reports_every_resource_and_the_last_error(polling):
    await polling.poll(RecordType.AP_INVOICE)
    connection = replace(polling.config.connection, companies=("ABC", "ZZZ"))
    await polling.apply(connection=connection)
    failed = await polling.service().poll(PollKey(TEAM_ID, "ZZZ", RecordType.AP_INVOICE))
    assert failed.error and "ZZZ" in failed.error

    async with polling.sessions() as session:
        status = (await load_status(session, TEAM_ID, polling.clock())).to_json()
    assert status["team_id"] == TEAM_ID and status["paused"] is False
    assert status["queue"] == {"pending": 0, "dead": 0}
    rows = {(r["company"], r["record_type"]): r for r in status["resources"]}
    assert len(rows) == 8
    ap = rows[("ABC", "ap_invoice")]
    assert ap["channel"] == AP_CHANNEL and ap["schedule"] == "15m"
    assert ap["last_error"] is None and ap["records_seen_last_poll"] is not None
    for field in ("last_poll_at", "last_success_at", "next_poll_at"):
        assert datetime.fromisoformat(ap[field]).utcoffset() is not None
    # Not in the past; the clock stands on a 15-minute boundary, so the next poll is due now.
    assert datetime.fromisoformat(ap["next_poll_at"]) >= polling.clock()
    assert ap["next_poll_at"].endswith("+00:00") and ap["last_poll_at"].endswith("+00:00")
    broken = rows[("ZZZ", "ap_invoice")]
    assert "ZZZ" in broken["last_error"] and broken["last_success_at"] is None

    async with polling.sessions() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    [baseline] = [e for e in events if e.kind == "poll"]
    assert baseline.details["mode"] == "baseline" and baseline.details["error"] is None
    assert {"since", "signpost", "read", "new", "changed", "skipped"} <= set(baseline.details)
    [failure] = [e for e in events if e.kind == "poll.failed"]
    assert failure.details["company"] == "ZZZ" and "ZZZ" in failure.details["error"]


async def test_a_paused_workspace_is_not_scheduled_and_status_says_so(polling):
    scheduler = PollScheduler(polling.service(), polling.sessions, now=polling.clock)
    await scheduler.reconcile()
    assert scheduler.specs
    async with polling.sessions.begin() as session:
        await session.execute(
            sa.update(workspaces).values(paused=True, paused_reason="token_revoked")
        )
    await scheduler.reconcile()
    assert scheduler.specs == {}
    assert await polling.service().poll_all() == []
    async with polling.sessions() as session:
        status = await load_status(session, TEAM_ID, polling.clock())
    assert status.paused and all(r.next_poll_at is None for r in status.resources)
    assert status.paused_reason == "token_revoked"
    assert status.to_json()["paused"] is True


async def test_reconcile_passes_run_on_the_workspaces_reconcile_schedule(polling):
    scheduler = PollScheduler(
        polling.service(), polling.sessions, now=polling.clock, reconciler=reconciler(polling)
    )
    await scheduler.reconcile()
    keys_jobs = {job_id for job_id in scheduler.specs if job_id.startswith("keys:")}
    assert keys_jobs == {
        f"keys:{TEAM_ID}:ABC:{record_type}"
        for record_type in (RecordType.AP_INVOICE, RecordType.PURCHASE_ORDER, RecordType.GL_ACCOUNT)
    }  # GL postings are not reconciled
    ap_keys = f"keys:{TEAM_ID}:ABC:ap_invoice"
    fire = trigger_for(scheduler.specs[ap_keys].schedule, SAGE_ZONE).get_next_fire_time(None, START)
    assert (fire.astimezone(SAGE_ZONE).hour, fire.minute) == (3, 0)

    schedules = dict(polling.config.reconcile_schedules)
    schedules[RecordType.AP_INVOICE] = parse_schedule("30 1 * * 0")
    await polling.apply(reconcile_schedules=schedules)
    await scheduler.reconcile()
    assert str(scheduler.specs[ap_keys].schedule) == "30 1 * * 0"
    assert str(scheduler.specs[f"keys:{TEAM_ID}:ABC:gl_account"].schedule) == "0 3 * * *"
