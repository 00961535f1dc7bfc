"""Workspaces and their configuration: apply a `WorkspaceConfig`, load it back, list teams.

Secrets (bot token, client key, API key) are encrypted with the `SecretBox` on the way in and
decrypted on the way out; nothing else here sees ciphertext. Every change is audited in the
same transaction with the names of the fields that changed, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox
from bolt_app.errors import ConfigError
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.tables import (
    channel_routes,
    polling_settings,
    reconcile_schedules,
    reminders,
    routing_rules,
    sage_connections,
    schedules,
    workspace_admins,
    workspaces,
)
from bolt_app.workspace.model import PollingSettings, WorkspaceConfig
from bolt_app.workspace.reminders import Reminder, ReminderSection
from bolt_app.workspace.rules import RoutingRule
from bolt_app.workspace.schedule import (
    DEFAULT_RECONCILE_SCHEDULES,
    DEFAULT_SCHEDULES,
    CronSchedule,
    parse_reconcile_schedule,
    parse_schedule,
)
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType

_CONNECTION_FIELDS = (
    "agent_url",
    "companies",
    "auth",
    "timezone",
    "client_cert_pem",
    "client_key_pem",
    "ca_cert_pem",
    "api_key",
    "pin_sha256",
    "record_url",
)


class ApplyOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


NO_WORKSPACE = "No workspace is configured yet; run `ml-connector workspace apply FILE`."


def unknown_workspace(team_id: str) -> str:
    """The one sentence every command gives for a team ID that is not stored."""
    return f"No workspace with team ID {team_id} is stored (see `workspace show`)."


async def list_team_ids(session: AsyncSession) -> list[str]:
    return list(
        (await session.execute(sa.select(workspaces.c.team_id).order_by("team_id"))).scalars()
    )


async def pause_state(session: AsyncSession, team_id: str) -> tuple[bool, str | None] | None:
    """(paused, why) of a stored workspace; None for a team with no workspace row yet."""
    row = (
        await session.execute(
            sa.select(workspaces.c.paused, workspaces.c.paused_reason).where(
                workspaces.c.team_id == team_id
            )
        )
    ).first()
    return None if row is None else (bool(row.paused), row.paused_reason)


def paused_teams() -> sa.Select:
    """The team IDs of paused workspaces, for other stores' subqueries."""
    return sa.select(workspaces.c.team_id).where(workspaces.c.paused.is_(True))


def paused_flag(team_id: str) -> sa.ScalarSelect:
    """Whether the team's workspace is paused, as a scalar subquery."""
    return sa.select(workspaces.c.paused).where(workspaces.c.team_id == team_id).scalar_subquery()


async def mark_paused(
    session: AsyncSession, team_id: str, reason: str, *, now: datetime, only_if_running: bool
) -> bool:
    """Pause the workspace with `reason`; False when nothing changed (already paused, with
    `only_if_running`, or no such workspace)."""
    query = sa.update(workspaces).where(workspaces.c.team_id == team_id)
    if only_if_running:
        query = query.where(workspaces.c.paused.is_(False))
    result = await session.execute(query.values(paused=True, paused_reason=reason, updated_at=now))
    return result.rowcount == 1


async def clear_pause(session: AsyncSession, team_id: str, *, now: datetime) -> bool:
    """Lift the workspace's pause; False when it was not paused."""
    result = await session.execute(
        sa.update(workspaces)
        .where(workspaces.c.team_id == team_id)
        .where(workspaces.c.paused.is_(True))
        .values(paused=False, paused_reason=None, updated_at=now)
    )
    return result.rowcount == 1


async def ensure_workspace(session: AsyncSession, team_id: str, *, now: datetime) -> str | None:
    """Create an empty, running workspace for `team_id` unless one exists; returns the existing
    workspace's pause reason (None when it was created or is running)."""
    row = (
        await session.execute(
            sa.select(workspaces.c.paused_reason).where(workspaces.c.team_id == team_id)
        )
    ).one_or_none()
    if row is None:
        await session.execute(
            sa.insert(workspaces).values(
                team_id=team_id, paused=False, created_at=now, updated_at=now
            )
        )
        return None
    return row[0]


async def forget_bot_token_and_pause(
    session: AsyncSession, team_id: str, reason: str, *, now: datetime
) -> None:
    """The app lost its tokens: drop the workspace file's token and pause with `reason`."""
    await session.execute(
        sa.update(workspaces)
        .where(workspaces.c.team_id == team_id)
        .values(paused=True, paused_reason=reason, bot_token_encrypted=None, updated_at=now)
    )


async def stored_bot_token(session: AsyncSession, team_id: str) -> str | None:
    """The workspace file's bot token as stored (a SecretBox token), or None."""
    return (
        await session.execute(
            sa.select(workspaces.c.bot_token_encrypted).where(workspaces.c.team_id == team_id)
        )
    ).scalar_one_or_none()


async def stored_zones(session: AsyncSession) -> dict[str, str]:
    """Team ID -> the Sage server's time zone name, for every team with a Sage connection."""
    rows = await session.execute(sa.select(sage_connections.c.team_id, sage_connections.c.timezone))
    return dict(rows.all())


async def stored_schedule_texts(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(team ID, record type value, schedule text) of every schedule set explicitly."""
    rows = await session.execute(
        sa.select(schedules.c.team_id, schedules.c.record_type, schedules.c.schedule)
    )
    return [tuple(row) for row in rows.all()]


async def running_connections(
    session: AsyncSession, team_id: str | None = None
) -> list[tuple[str, list[str]]]:
    """(team ID, company codes) of every workspace with a Sage connection that is not paused."""
    query = (
        sa.select(sage_connections.c.team_id, sage_connections.c.companies)
        .join(workspaces, workspaces.c.team_id == sage_connections.c.team_id)
        .where(workspaces.c.paused.is_(False))
        .order_by(sage_connections.c.team_id)
    )
    if team_id is not None:
        query = query.where(sage_connections.c.team_id == team_id)
    return [(team, list(companies)) for team, companies in (await session.execute(query)).all()]


async def all_routes(session: AsyncSession) -> list[tuple[str, str]]:
    """(team ID, record type value) of every record type routed to a channel."""
    rows = await session.execute(sa.select(channel_routes.c.team_id, channel_routes.c.record_type))
    return [tuple(row) for row in rows.all()]


async def stored_reconcile_schedule_texts(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(team ID, record type value, schedule text) of every stored reconcile schedule."""
    rows = await session.execute(
        sa.select(
            reconcile_schedules.c.team_id,
            reconcile_schedules.c.record_type,
            reconcile_schedules.c.schedule,
        )
    )
    return [tuple(row) for row in rows.all()]


async def stored_companies(session: AsyncSession, team_id: str) -> list[str]:
    """The company codes of the team's Sage connection; none until one is configured."""
    companies = await session.scalar(
        sa.select(sage_connections.c.companies).where(sage_connections.c.team_id == team_id)
    )
    return list(companies or [])


async def stored_zone(session: AsyncSession, team_id: str) -> ZoneInfo | None:
    """The Sage server's time zone of the team's connection; None until one is configured."""
    zone = await session.scalar(
        sa.select(sage_connections.c.timezone).where(sage_connections.c.team_id == team_id)
    )
    return None if zone is None else ZoneInfo(zone)


async def stored_channels(session: AsyncSession, team_id: str) -> dict[str, str]:
    """Record type (its value) -> the channel ID it is routed to."""
    rows = await session.execute(
        sa.select(channel_routes.c.record_type, channel_routes.c.channel_id).where(
            channel_routes.c.team_id == team_id
        )
    )
    return dict(rows.all())


async def pause_states(session: AsyncSession) -> dict[str, tuple[bool, str | None]]:
    """(paused, why) of every stored workspace, by team ID."""
    rows = await session.execute(
        sa.select(workspaces.c.team_id, workspaces.c.paused, workspaces.c.paused_reason)
    )
    return {team_id: (bool(paused), reason) for team_id, paused, reason in rows.all()}


async def load_workspaces(
    session: AsyncSession, box: SecretBox, team: str | None = None
) -> list[WorkspaceConfig]:
    """Every stored workspace in team ID order, or only `team` (ConfigError if unknown)."""
    if team is None:
        team_ids = await list_team_ids(session)
    else:
        team_ids = [team]
    configs = [await load_workspace(session, team_id, box) for team_id in team_ids]
    if team is not None and configs[0] is None:
        raise ConfigError(unknown_workspace(team))
    return [config for config in configs if config is not None]


async def load_workspace(
    session: AsyncSession, team_id: str, box: SecretBox
) -> WorkspaceConfig | None:
    """The stored configuration with secrets decrypted, or None for an unknown team."""
    workspace = (
        (await session.execute(sa.select(workspaces).where(workspaces.c.team_id == team_id)))
        .mappings()
        .first()
    )
    if workspace is None:
        return None
    row = (
        (
            await session.execute(
                sa.select(sage_connections).where(sage_connections.c.team_id == team_id)
            )
        )
        .mappings()
        .first()
    )
    connection = None if row is None else _connection_from_row(row, box)
    channels = {
        RecordType(record_type): channel_id
        for record_type, channel_id in await session.execute(
            sa.select(channel_routes.c.record_type, channel_routes.c.channel_id).where(
                channel_routes.c.team_id == team_id
            )
        )
    }
    stored_schedules = dict(DEFAULT_SCHEDULES)
    for record_type, text in await session.execute(
        sa.select(schedules.c.record_type, schedules.c.schedule).where(
            schedules.c.team_id == team_id
        )
    ):
        stored_schedules[RecordType(record_type)] = parse_schedule(text)
    stored_reconcile = dict(DEFAULT_RECONCILE_SCHEDULES)
    for record_type, text in await session.execute(
        sa.select(reconcile_schedules.c.record_type, reconcile_schedules.c.schedule).where(
            reconcile_schedules.c.team_id == team_id
        )
    ):
        stored_reconcile[RecordType(record_type)] = parse_reconcile_schedule(text)
    admins = tuple(
        (
            await session.execute(
                sa.select(workspace_admins.c.user_id)
                .where(workspace_admins.c.team_id == team_id)
                .order_by(workspace_admins.c.user_id)
            )
        ).scalars()
    )
    token = workspace["bot_token_encrypted"]
    polling = await load_polling_settings(session, team_id)
    return WorkspaceConfig(
        team_id=team_id,
        connection=connection,
        channels=channels,
        schedules=stored_schedules,
        admins=admins,
        bot_token=None if token is None else box.decrypt(token),
        rules=polling.rules,
        backfill_days=polling.backfill_days,
        reminders=await load_reminders(session, team_id),
        reconcile_schedules=stored_reconcile,
    )


async def apply_workspace(
    session: AsyncSession,
    config: WorkspaceConfig,
    box: SecretBox,
    *,
    now: datetime,
    actor: str = "cli",
) -> ApplyOutcome:
    """Create or update one workspace to match `config`; an identical config writes nothing."""
    existing = await load_workspace(session, config.team_id, box)
    if existing == config:
        return ApplyOutcome.UNCHANGED
    team_id = config.team_id
    token = None if config.bot_token is None else box.encrypt(config.bot_token)
    if existing is None:
        await session.execute(
            sa.insert(workspaces).values(
                team_id=team_id, bot_token_encrypted=token, created_at=now, updated_at=now
            )
        )
    else:
        await session.execute(
            sa.update(workspaces)
            .where(workspaces.c.team_id == team_id)
            .values(bot_token_encrypted=token, updated_at=now)
        )
    for table in (
        sage_connections,
        channel_routes,
        schedules,
        reconcile_schedules,
        workspace_admins,
    ):
        await session.execute(sa.delete(table).where(table.c.team_id == team_id))
    if config.connection is not None:
        await session.execute(
            sa.insert(sage_connections).values(
                team_id=team_id, updated_at=now, **_connection_to_row(config.connection, box)
            )
        )
    if config.channels:
        await session.execute(
            sa.insert(channel_routes),
            [
                {"team_id": team_id, "record_type": str(rt), "channel_id": channel}
                for rt, channel in config.channels.items()
            ],
        )
    if config.schedules:
        await session.execute(
            sa.insert(schedules),
            [
                {"team_id": team_id, "record_type": str(rt), "schedule": str(schedule)}
                for rt, schedule in config.schedules.items()
            ],
        )
    if config.reconcile_schedules:
        await session.execute(
            sa.insert(reconcile_schedules),
            [
                {"team_id": team_id, "record_type": str(rt), "schedule": str(schedule)}
                for rt, schedule in config.reconcile_schedules.items()
            ],
        )
    if config.admins:
        await session.execute(
            sa.insert(workspace_admins),
            [{"team_id": team_id, "user_id": user_id} for user_id in config.admins],
        )
    await store_polling_settings(
        session, team_id, PollingSettings(config.rules, config.backfill_days)
    )
    await store_reminders(session, team_id, config.reminders)
    outcome = ApplyOutcome.CREATED if existing is None else ApplyOutcome.UPDATED
    changed = changed_fields(existing, config)
    await record_audit_event(
        session,
        team_id=team_id,
        kind=f"workspace.{outcome}",
        actor=actor,
        summary=f"Workspace {team_id} {outcome}: {', '.join(changed)}.",
        details={"changed": changed},
        now=now,
    )
    return outcome


def changed_fields(old: WorkspaceConfig | None, new: WorkspaceConfig) -> list[str]:
    """Names of the fields that differ, in workspace-file spelling (`sage.agent_url`)."""
    names: list[str] = []
    if old is None or old.bot_token != new.bot_token:
        names.append("bot_token")
    if old is None or old.admins != new.admins:
        names.append("admins")
    if old is None or old.rules != new.rules:
        names.append("rules")
    if old is None or old.backfill_days != new.backfill_days:
        names.append("backfill_days")
    if old is None or old.reminders != new.reminders:
        names.append("reminders")
    old_connection = None if old is None else old.connection
    for name in _CONNECTION_FIELDS:
        before = None if old_connection is None else getattr(old_connection, name)
        after = None if new.connection is None else getattr(new.connection, name)
        if old is None or before != after:
            names.append(f"sage.{name}")
    for section, before_map, after_map in (
        ("channels", {} if old is None else old.channels, new.channels),
        ("schedule", {} if old is None else old.schedules, new.schedules),
        ("reconcile", {} if old is None else old.reconcile_schedules, new.reconcile_schedules),
    ):
        for record_type in RecordType:
            if old is None or before_map.get(record_type) != after_map.get(record_type):
                names.append(f"{section}.{record_type}")
    return names


def _connection_to_row(connection: ConnectionSettings, box: SecretBox) -> dict[str, object]:
    return {
        "agent_url": connection.agent_url,
        "companies": list(connection.companies),
        "auth": str(connection.auth),
        "client_cert_pem": connection.client_cert_pem,
        "client_key_encrypted": _encrypt(box, connection.client_key_pem),
        "ca_cert_pem": connection.ca_cert_pem,
        "api_key_encrypted": _encrypt(box, connection.api_key),
        "pin_sha256": connection.pin_sha256,
        "timezone": connection.timezone.key,
        "record_url": connection.record_url,
    }


def _connection_from_row(row, box: SecretBox) -> ConnectionSettings:
    return ConnectionSettings(
        agent_url=row["agent_url"],
        companies=tuple(row["companies"]),
        auth=AuthMode(row["auth"]),
        timezone=ZoneInfo(row["timezone"]),
        client_cert_pem=row["client_cert_pem"],
        client_key_pem=_decrypt(box, row["client_key_encrypted"]),
        ca_cert_pem=row["ca_cert_pem"],
        api_key=_decrypt(box, row["api_key_encrypted"]),
        pin_sha256=row["pin_sha256"],
        record_url=row["record_url"],
    )


def _encrypt(box: SecretBox, value: str | None) -> str | None:
    return None if value is None else box.encrypt(value)


def _decrypt(box: SecretBox, token: str | None) -> str | None:
    return None if token is None else box.decrypt(token)


async def load_polling_settings(session: AsyncSession, team_id: str) -> PollingSettings:
    rows = await session.execute(
        sa.select(routing_rules)
        .where(routing_rules.c.team_id == team_id)
        .order_by(routing_rules.c.position)
    )
    rules = tuple(
        RoutingRule(
            record_type=RecordType(row.record_type),
            channel=row.channel_id,
            warehouse=row.warehouse,
            min_amount=None if row.min_amount is None else Decimal(row.min_amount),
            mention=row.mention,
        )
        for row in rows
    )
    backfill = await session.scalar(
        sa.select(polling_settings.c.backfill_days).where(polling_settings.c.team_id == team_id)
    )
    return PollingSettings(rules, backfill)


async def store_polling_settings(
    session: AsyncSession, team_id: str, settings: PollingSettings
) -> None:
    """Replaces the team's rules and backfill setting (workspace apply, App Home)."""
    await session.execute(sa.delete(routing_rules).where(routing_rules.c.team_id == team_id))
    await session.execute(sa.delete(polling_settings).where(polling_settings.c.team_id == team_id))
    if settings.rules:
        await session.execute(
            sa.insert(routing_rules),
            [_rule_row(team_id, position, rule) for position, rule in enumerate(settings.rules)],
        )
    await session.execute(
        sa.insert(polling_settings).values(team_id=team_id, backfill_days=settings.backfill_days)
    )


def _rule_row(team_id: str, position: int, rule: RoutingRule) -> Mapping[str, object]:
    return {
        "team_id": team_id,
        "position": position,
        "record_type": rule.record_type.value,
        "channel_id": rule.channel,
        "warehouse": rule.warehouse,
        "min_amount": None if rule.min_amount is None else str(rule.min_amount),
        "mention": rule.mention,
    }


async def load_reminders(session: AsyncSession, team_id: str) -> tuple[Reminder, ...]:
    rows = await session.execute(
        sa.select(reminders).where(reminders.c.team_id == team_id).order_by(reminders.c.position)
    )
    return tuple(_reminder_from_row(row) for row in rows)


async def all_reminders(session: AsyncSession) -> list[tuple[str, Reminder]]:
    """(team ID, reminder) of every workspace, for the scheduler."""
    rows = await session.execute(
        sa.select(reminders).order_by(reminders.c.team_id, reminders.c.position)
    )
    return [(row.team_id, _reminder_from_row(row)) for row in rows]


async def store_reminders(
    session: AsyncSession, team_id: str, configured: tuple[Reminder, ...]
) -> None:
    """Replaces the team's reminders (workspace apply, App Home)."""
    await session.execute(sa.delete(reminders).where(reminders.c.team_id == team_id))
    if configured:
        await session.execute(
            sa.insert(reminders),
            [
                {
                    "team_id": team_id,
                    "channel_id": reminder.channel,
                    "position": position,
                    "schedule": str(reminder.schedule),
                    "include": [str(section) for section in reminder.include],
                    "due_within_days": reminder.due_within_days,
                    "new_after_days": reminder.new_after_days,
                    "always": reminder.always,
                }
                for position, reminder in enumerate(configured)
            ],
        )


def _reminder_from_row(row) -> Reminder:
    return Reminder(
        channel=row.channel_id,
        schedule=CronSchedule(row.schedule),
        include=tuple(ReminderSection(name) for name in row.include),
        due_within_days=row.due_within_days,
        new_after_days=row.new_after_days,
        always=bool(row.always),
    )
