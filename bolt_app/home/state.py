"""Gathers what the App Home shows for one workspace into a `HomeState` (one read session).

The view builders stay pure; this module is the read side: the stored configuration
(`bolt_app.storage.workspaces`), the poll status (`bolt_app.status.model.load_status`, as /sage-status),
the routing rules, the outbox's dead letters and last deliveries (`bolt_app.delivery.store`), and the
"Pending" read model.

Pending documents come from what the connector has seen (`bolt_app.polling.waiting`, which
scheduled reminders use too), so they need no call to the agent; the panel says so.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox
from bolt_app.delivery.outbox import DeliveryStatus
from bolt_app.delivery.store import latest_deliveries
from bolt_app.home.admin import load_or_new_workspace
from bolt_app.home.views.home import (
    MAX_DEAD_LETTERS_SHOWN,
    MAX_DELIVERIES_SHOWN,
    DeadLetterRow,
    DeliveryRow,
    HomeState,
    PendingGroup,
    RouteRow,
    StatusPanel,
)
from bolt_app.polling.waiting import pending_groups, seen_documents
from bolt_app.status.model import load_status
from bolt_app.storage.workspaces import load_polling_settings, pause_state
from bolt_app.workspace.reminders import ReminderSection
from sage.records import RecordType

# What the App Home's "Pending in Sage 100" panel lists; reminders choose their own.
PENDING_SECTIONS = (ReminderSection.UNPOSTED, ReminderSection.ON_HOLD, ReminderSection.NEW_ORDERS)


async def load_home_state(
    session: AsyncSession,
    team_id: str,
    box: SecretBox,
    *,
    is_admin: bool,
    now: datetime,
    notice: str | None = None,
) -> HomeState:
    config = await load_or_new_workspace(session, team_id, box)
    paused = await pause_state(session, team_id)
    if paused is None:  # installed, never configured: nothing polled, nothing queued
        status = StatusPanel(paused=False, resources=(), queue_pending=0, queue_dead=0)
    else:
        loaded = await load_status(session, team_id, now)
        status = StatusPanel(
            paused=loaded.paused,
            paused_reason=paused[1],
            resources=loaded.resources,
            queue_pending=loaded.queue.pending,
            queue_dead=loaded.queue.dead,
        )
    zone = config.connection.timezone if config.connection else ZoneInfo("UTC")
    state = HomeState(
        team_id=team_id,
        is_admin=is_admin,
        status=status,
        pending=await load_pending(session, team_id, zone, now.astimezone(zone).date()),
        extra_admins=config.admins,
        connection=config.connection,
        notice=notice,
    )
    if not is_admin:
        return state
    return dataclasses.replace(
        state,
        routes=tuple(
            RouteRow(rt, config.channels.get(rt), str(config.schedules[rt])) for rt in RecordType
        ),
        rules=(await load_polling_settings(session, team_id)).rules,
        dead_letters=await _dead_letters(session, team_id),
        last_deliveries=await _last_deliveries(session, team_id),
    )


async def load_pending(
    session: AsyncSession, team_id: str, zone: ZoneInfo, today: date
) -> tuple[PendingGroup, ...]:
    """What waits in the Home's sections (AP invoices entered but not posted, invoices on hold,
    POs still New), from seen records."""
    return pending_groups(
        await seen_documents(session, team_id, zone),
        today=today,
        include=PENDING_SECTIONS,
    )


async def _dead_letters(session: AsyncSession, team_id: str) -> tuple[DeadLetterRow, ...]:
    rows = await latest_deliveries(session, team_id, DeliveryStatus.DEAD, MAX_DEAD_LETTERS_SHOWN)
    return tuple(
        DeadLetterRow(
            delivery_id=row.id,
            channel_id=row.channel_id,
            record_type=RecordType(row.record_type),
            record_key=row.record_key,
            error=row.last_error or "no reason recorded",
            failed_at=row.updated_at,
        )
        for row in rows
    )


async def _last_deliveries(session: AsyncSession, team_id: str) -> tuple[DeliveryRow, ...]:
    rows = await latest_deliveries(session, team_id, DeliveryStatus.SENT, MAX_DELIVERIES_SHOWN)
    return tuple(
        DeliveryRow(
            channel_id=row.channel_id,
            record_type=RecordType(row.record_type),
            record_key=row.record_key,
            outcome=f"{row.kind} sent",
            at=row.sent_at,
        )
        for row in rows
    )
