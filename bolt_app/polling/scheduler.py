"""Runs every poll on its stored schedule: one APScheduler job per (workspace, company, type).

Jobs come from the database, not from start-up configuration: `reconcile` re-reads schedules,
routes and pause flags (every 30 seconds by default) and adds, reschedules or removes jobs, so
`workspace apply` or an App Home change takes effect without a restart. Interval triggers are
anchored at a fixed instant, so every worker process computes the same due times and the poll
lease lets exactly one of them run each. Each channel's `[[reminders]]` is a job too
(`ReminderService.send`), on the same triggers, claimed per due time in the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.polling.reconcile import ReconcileService
from bolt_app.polling.reminders import ReminderService
from bolt_app.polling.service import PollService
from bolt_app.polling.store import PollKey
from bolt_app.storage.workspaces import (
    all_reminders,
    stored_reconcile_schedule_texts,
    stored_schedule_texts,
    stored_zones,
)
from bolt_app.workspace.schedule import (
    DEFAULT_RECONCILE_SCHEDULES,
    DEFAULT_SCHEDULES,
    CronSchedule,
    Schedule,
    cron_trigger,
    parse_reconcile_schedule,
    parse_schedule,
)

log = logging.getLogger(__name__)

# Interval schedules fire on a grid from here, whichever process computes them.
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_RECONCILE_EVERY = timedelta(seconds=30)


def trigger_for(schedule: Schedule, zone: ZoneInfo) -> BaseTrigger:
    """Durations -> an anchored IntervalTrigger; cron lines -> crontab(5) days in the agent's zone."""
    if isinstance(schedule, CronSchedule):
        return cron_trigger(schedule, zone)
    return IntervalTrigger(
        seconds=int(schedule.every.total_seconds()), start_date=INTERVAL_ANCHOR, timezone=zone
    )


def due_time(trigger: BaseTrigger, now: datetime, grace: timedelta) -> datetime:
    """The scheduled time a job that started at `now` is running for: the latest fire time at or
    before `now` within grace (the one APScheduler coalesces to). The earliest would be a whole
    interval early on a schedule shorter than the grace, and its lease would then be refused."""
    due = now
    fire = trigger.get_next_fire_time(None, now - grace)
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, now)
    return due


@dataclass(frozen=True, slots=True)
class JobSpec:
    key: PollKey
    schedule: Schedule
    zone: ZoneInfo

    @property
    def job_id(self) -> str:
        return f"poll:{self.key.team_id}:{self.key.company}:{self.key.record_type}"


@dataclass(frozen=True, slots=True)
class ReminderSpec:
    """One channel's reminder; its cron line is read in the Sage server's zone, as polls are."""

    team_id: str
    channel_id: str
    schedule: Schedule
    zone: ZoneInfo

    @property
    def job_id(self) -> str:
        return f"reminder:{self.team_id}:{self.channel_id}"


@dataclass(frozen=True, slots=True)
class KeysSpec:
    """One resource's reconcile pass against the agent's keys listing."""

    key: PollKey
    schedule: Schedule
    zone: ZoneInfo

    @property
    def job_id(self) -> str:
        return f"keys:{self.key.team_id}:{self.key.company}:{self.key.record_type}"


Spec = JobSpec | ReminderSpec | KeysSpec


async def load_schedules(
    session: AsyncSession, team_ids: set[str]
) -> dict[str, tuple[dict[str, Schedule], ZoneInfo]]:
    """{team: ({record type: schedule}, agent zone)}, defaults filled in."""
    zones = {
        team: ZoneInfo(zone)
        for team, zone in (await stored_zones(session)).items()
        if team in team_ids
    }
    stored: dict[str, dict[str, Schedule]] = {
        team: {str(rt): schedule for rt, schedule in DEFAULT_SCHEDULES.items()} for team in zones
    }
    for team, record_type, text in await stored_schedule_texts(session):
        if team in stored:
            stored[team][record_type] = parse_schedule(text)
    return {team: (stored[team], zones[team]) for team in zones}


async def load_reconcile_schedules(
    session: AsyncSession, team_ids: set[str]
) -> dict[str, dict[str, Schedule]]:
    """{team: {record type: reconcile schedule}}, defaults filled in (`[reconcile]`)."""
    stored: dict[str, dict[str, Schedule]] = {
        team: {str(rt): schedule for rt, schedule in DEFAULT_RECONCILE_SCHEDULES.items()}
        for team in team_ids
    }
    for team, record_type, text in await stored_reconcile_schedule_texts(session):
        if team in stored:
            stored[team][record_type] = parse_reconcile_schedule(text)
    return stored


class PollScheduler:
    """The worker's scheduler; `run(stop)` until the event is set, then shuts down cleanly."""

    def __init__(
        self,
        service: PollService,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        reconcile_every: timedelta = DEFAULT_RECONCILE_EVERY,
        grace: timedelta = timedelta(seconds=60),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        reminders: ReminderService | None = None,
        reconciler: ReconcileService | None = None,
    ) -> None:
        self._service = service
        self._reconciler = reconciler
        self._reminders = reminders
        self._sessions = session_factory
        self._reconcile_every = reconcile_every
        self._grace = grace
        self._now = now
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._specs: dict[str, Spec] = {}

    @property
    def running(self) -> bool:
        """For /healthz: the scheduler has started and not shut down."""
        return self._scheduler.running

    @property
    def specs(self) -> dict[str, Spec]:
        """The jobs currently scheduled, by job id."""
        return dict(self._specs)

    def next_run(self, job_id: str) -> datetime | None:
        job = self._scheduler.get_job(job_id)
        return None if job is None else job.next_run_time

    async def desired(self) -> dict[str, Spec]:
        keys = await self._service.targets()
        async with self._sessions() as session:
            reminders = await all_reminders(session) if self._reminders else []
            team_schedules = await load_schedules(
                session, {key.team_id for key in keys} | {team for team, _ in reminders}
            )
            reconcile_schedules = await load_reconcile_schedules(
                session, {key.team_id for key in keys}
            )
        specs: dict[str, Spec] = {}
        for key in keys:
            by_type, zone = team_schedules[key.team_id]
            spec = JobSpec(key, by_type[str(key.record_type)], zone)
            specs[spec.job_id] = spec
            if self._reconciler is not None and key.record_type in self._reconciler.reconciled:
                schedule = reconcile_schedules[key.team_id][str(key.record_type)]
                keys_spec = KeysSpec(key, schedule, zone)
                specs[keys_spec.job_id] = keys_spec
        for team, reminder in reminders:
            if team in team_schedules:  # no zone until Sage is connected
                zone = team_schedules[team][1]
                spec = ReminderSpec(team, reminder.channel, reminder.schedule, zone)
                specs[spec.job_id] = spec
        return specs

    async def reconcile(self) -> None:
        """Make the scheduled jobs match the database: add, reschedule, remove."""
        wanted = await self.desired()
        for job_id in set(self._specs) - set(wanted):
            self._scheduler.remove_job(job_id)
            del self._specs[job_id]
            log.info("unscheduled %s", job_id)
        for job_id, spec in wanted.items():
            if self._specs.get(job_id) == spec:
                continue
            trigger = trigger_for(spec.schedule, spec.zone)
            if isinstance(spec, ReminderSpec):
                run, args = self._run_reminder, [spec, trigger]
            elif isinstance(spec, KeysSpec):
                run, args = self._run_keys, [spec.key, trigger]
            else:
                run, args = self._run_job, [spec.key, trigger]
            self._scheduler.add_job(
                run,
                trigger,
                args=args,
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(self._grace.total_seconds()),
            )
            self._specs[job_id] = spec
            log.info("scheduled %s every %s", job_id, spec.schedule)

    async def _run_job(self, key: PollKey, trigger: BaseTrigger) -> None:
        outcome = await self._service.poll(key, due=due_time(trigger, self._now(), self._grace))
        log.log(logging.WARNING if outcome.error else logging.INFO, "poll %s", outcome.describe())

    async def _run_keys(self, key: PollKey, trigger: BaseTrigger) -> None:
        assert self._reconciler is not None  # only scheduled with a reconcile service
        due = due_time(trigger, self._now(), self._grace)
        outcome = await self._reconciler.reconcile(key, due=due)
        if outcome.error:
            log.warning("reconcile %s failed: %s", key, outcome.error)

    async def _run_reminder(self, spec: ReminderSpec, trigger: BaseTrigger) -> None:
        assert self._reminders is not None  # only scheduled with a reminder service
        due = due_time(trigger, self._now(), self._grace)
        await self._reminders.send(spec.team_id, spec.channel_id, due=due)

    async def run(self, stop: asyncio.Event) -> None:
        self._scheduler.start()
        try:
            while not stop.is_set():
                try:
                    await self.reconcile()
                except Exception:  # noqa: BLE001 - a bad row must not stop the worker
                    log.exception("reconciling schedules failed; keeping the current jobs")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._reconcile_every.total_seconds())
        finally:
            self._scheduler.shutdown(wait=False)
