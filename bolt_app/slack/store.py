"""What the Slack app keeps besides installations: event receipts and install/uninstall state.

An uninstalled workspace stays in `workspaces` (paused, with the reason) so its audit trail and
configuration survive and the scheduler drops its polls; a reinstall resumes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.delivery.store import resume_workspace
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.tables import slack_event_receipts
from bolt_app.storage.workspaces import ensure_workspace, forget_bot_token_and_pause
from bolt_app.workspace.model import TOKEN_PAUSE_REASONS, UNINSTALLED

# Slack retries an event for about an hour; a receipt older than this can no longer matter.
EVENT_RECEIPT_TTL = timedelta(days=1)


async def claim_event(
    session: AsyncSession, *, event_id: str, team_id: str | None, now: datetime
) -> bool:
    """True for the first delivery of `event_id` in any process, False for every repeat."""
    dialect = session.bind.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(slack_event_receipts)
    result = await session.execute(
        insert.values(event_id=event_id, team_id=team_id, received_at=now).on_conflict_do_nothing(
            index_elements=["event_id"]
        )
    )
    await session.execute(
        sa.delete(slack_event_receipts).where(
            slack_event_receipts.c.received_at < now - EVENT_RECEIPT_TTL
        )
    )
    return result.rowcount == 1


async def record_install(
    session: AsyncSession, *, team_id: str, installer: str | None, now: datetime
) -> None:
    """A workspace installed the app: create it, or resume it if lost tokens had paused it."""
    if await ensure_workspace(session, team_id, now=now) in TOKEN_PAUSE_REASONS:
        await resume_workspace(session, team_id, now=now, actor="slack")
    await record_audit_event(
        session,
        team_id=team_id,
        kind="slack.installed",
        actor=f"slack:{installer}" if installer else "slack",
        summary="The Slack app was installed.",
        now=now,
    )


async def record_uninstall(
    session: AsyncSession, *, team_id: str, reason: str, now: datetime
) -> None:
    """The app lost its tokens: forget the workspace file's token and pause every poll."""
    await forget_bot_token_and_pause(session, team_id, reason, now=now)
    await record_audit_event(
        session,
        team_id=team_id,
        kind=f"slack.{reason}",
        actor="slack",
        summary=(
            "The Slack app was uninstalled; polling is paused."
            if reason == UNINSTALLED
            else "Slack revoked the app's bot token; polling is paused."
        ),
        now=now,
    )
