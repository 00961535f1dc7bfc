"""What `ml-connector status` and `/sage-status` show: per resource, when it was polled, when it
will be next, what it saw, and the delivery queue. Reads the database only (no keys needed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.delivery.outbox import QueueCounts, queue_counts
from bolt_app.errors import ConfigError
from bolt_app.polling.scheduler import load_reconcile_schedules, load_schedules, trigger_for
from bolt_app.polling.store import (
    SkippedRow,
    poll_states_of,
    reconcile_states_of,
    skipped_rows_of,
)
from bolt_app.storage.workspaces import (
    pause_state,
    pause_states,
    stored_channels,
    stored_companies,
    unknown_workspace,
)
from bolt_app.workspace.model import TOKEN_PAUSE_REASONS
from bolt_app.workspace.schedule import (
    RECONCILED_TYPES,
    CronSchedule,
    Schedule,
    describe_schedule,
)
from sage.records import RecordType

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class ReconcileStatus:
    """The last reconcile pass of a resource: when, whether it completed, or why it is off."""

    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    off_reason: str | None = None  # the agent has no keys listing (API 1.0)
    schedule_words: str = ""  # "every day at 03:00 (America/Chicago)"

    def describe(
        self, when: Callable[[datetime | None], str], quote: Callable[[str], str] = str
    ) -> str:
        """One line for people: times worded by `when`, the sentences (which carry the agent's
        text) by `quote`."""
        if self.last_run_at is None:
            return "not run yet"
        if self.off_reason:
            return f"{quote(self.off_reason)} (last tried {when(self.last_run_at)})"
        line = f"last run {when(self.last_run_at)}, last success {when(self.last_success_at)}"
        return f"{line}; failed: {quote(self.last_error)}" if self.last_error else line


@dataclass(frozen=True, slots=True)
class ResourceStatus:
    company: str
    record_type: RecordType
    channel: str | None
    schedule: str
    last_poll_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    records_seen_last_poll: int | None
    last_error: str | None
    skipped_rows: tuple[SkippedRow, ...] = ()  # rows that did not read, until they do
    # For people: "every 15 minutes", "weekdays at 18:00 (America/Chicago)"; `schedule` is the
    # text as stored.
    schedule_words: str = ""
    zone: ZoneInfo = UTC_ZONE  # the Sage server's, where cron lines run
    reconcile: ReconcileStatus | None = None  # None: the record type is not reconciled

    @property
    def next_poll_local(self) -> datetime | None:
        """The next poll on the Sage server's clock, the one a cron line is written against."""
        return None if self.next_poll_at is None else self.next_poll_at.astimezone(self.zone)

    def to_json(self) -> dict[str, object]:
        return {
            "company": self.company,
            "record_type": str(self.record_type),
            "channel": self.channel,
            "schedule": self.schedule,
            "last_poll_at": _iso(self.last_poll_at),
            "last_success_at": _iso(self.last_success_at),
            "next_poll_at": _iso(self.next_poll_at),
            "records_seen_last_poll": self.records_seen_last_poll,
            "last_error": self.last_error,
        }  # `skipped_rows` and `reconcile` stay out: the keys of docs/interface.md are fixed


@dataclass(frozen=True, slots=True)
class WorkspaceStatus:
    team_id: str
    paused: bool
    resources: tuple[ResourceStatus, ...]
    queue: QueueCounts
    paused_reason: str | None = None  # why delivery is paused (e.g. token_revoked)

    @property
    def pause_advice(self) -> str | None:
        return pause_advice(self.team_id, self.paused_reason) if self.paused else None

    def to_json(self) -> dict[str, object]:
        """The `status --json` object of docs/interface.md."""
        return {
            "team_id": self.team_id,
            "paused": self.paused,
            "resources": [resource.to_json() for resource in self.resources],
            "queue": {"pending": self.queue.pending, "dead": self.queue.dead},
        }


def pause_advice(team_id: str, reason: str | None) -> str:
    """Why delivery is paused and how to lift it, in one sentence."""
    resume = f"`ml-connector workspace resume --team {team_id}`"
    if reason in TOKEN_PAUSE_REASONS:
        return (
            f"Delivery to {team_id} is paused because Slack refused its bot token ({reason}): "
            "put a working token in the workspace file and run `ml-connector workspace apply "
            f"FILE` (or reinstall the app), or run {resume} once the token is fixed."
        )
    return (
        f"Delivery to {team_id} is paused ({reason or 'no reason recorded'}): run {resume} "
        "or press Resume in the App Home."
    )


async def paused_workspaces(session: AsyncSession, team_id: str | None = None) -> dict[str, str]:
    """{team: why} for each paused workspace, or only `team_id`; messages wait meanwhile."""
    return {
        team: reason
        for team, (paused, reason) in (await pause_states(session)).items()
        if paused and team_id in (None, team)
    }


def _schedule_words(schedule: Schedule, zone: ZoneInfo) -> str:
    """A cron line runs on the Sage server's clock, so its words name that zone."""
    words = describe_schedule(schedule)
    return f"{words} ({zone.key})" if isinstance(schedule, CronSchedule) else words


def _reconcile_status(row, schedule_words: str) -> ReconcileStatus:
    if row is None:
        return ReconcileStatus(schedule_words=schedule_words)
    return ReconcileStatus(
        row.last_run_at, row.last_success_at, row.last_error, row.off_reason, schedule_words
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


async def load_status(session: AsyncSession, team_id: str, now: datetime) -> WorkspaceStatus:
    """Every company x record type of the workspace; unrouted types show channel None."""
    pause = await pause_state(session, team_id)
    if pause is None:
        raise ConfigError(unknown_workspace(team_id))
    paused, paused_reason = pause
    companies = await stored_companies(session, team_id)
    channels = await stored_channels(session, team_id)
    team_schedules = await load_schedules(session, {team_id})
    states = await poll_states_of(session, team_id)
    skipped = await skipped_rows_of(session, team_id)
    reconciles = await reconcile_states_of(session, team_id)
    reconcile_schedules = (await load_reconcile_schedules(session, {team_id}))[team_id]
    resources = []
    for company in companies or []:
        schedules, zone = team_schedules.get(team_id, ({}, UTC_ZONE))
        for record_type in RecordType:
            schedule = schedules[str(record_type)]
            channel = channels.get(str(record_type))
            state = states.get((company, str(record_type)))
            next_poll = None
            if channel and not paused:
                fire = trigger_for(schedule, zone).get_next_fire_time(None, now)
                # In UTC like the other times, so one status line does not mix two offsets.
                next_poll = None if fire is None else fire.astimezone(UTC)
            resources.append(
                ResourceStatus(
                    company=company,
                    record_type=record_type,
                    channel=channel,
                    schedule=str(schedule),
                    last_poll_at=state.last_poll_at if state else None,
                    last_success_at=state.last_success_at if state else None,
                    next_poll_at=next_poll,
                    records_seen_last_poll=state.records_seen_last_poll if state else None,
                    last_error=state.last_error if state else None,
                    skipped_rows=skipped.get((company, str(record_type)), ()),
                    schedule_words=_schedule_words(schedule, zone),
                    zone=zone,
                    reconcile=_reconcile_status(
                        reconciles.get((company, str(record_type))),
                        _schedule_words(reconcile_schedules[str(record_type)], zone),
                    )
                    if record_type in RECONCILED_TYPES
                    else None,
                )
            )
    return WorkspaceStatus(
        team_id=team_id,
        paused=paused,
        resources=tuple(resources),
        queue=await queue_counts(session, team_id),
        paused_reason=paused_reason if paused else None,
    )
