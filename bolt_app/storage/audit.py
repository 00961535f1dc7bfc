"""The audit trail: who changed what, when; never secret values (callers pass field names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.storage.tables import audit_events


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    team_id: str | None
    occurred_at: datetime
    kind: str
    actor: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


async def record_audit_event(
    session: AsyncSession,
    *,
    team_id: str | None,
    kind: str,
    actor: str,
    summary: str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction (so it commits with the change it records)."""
    await session.execute(
        sa.insert(audit_events).values(
            team_id=team_id,
            occurred_at=now,
            kind=kind,
            actor=actor,
            summary=summary,
            details=dict(details or {}),
        )
    )


async def list_audit_events(
    session: AsyncSession, *, team_id: str | None = None, since: datetime | None = None
) -> list[AuditEvent]:
    """Events oldest first, optionally for one team and from a point in time."""
    query = sa.select(audit_events).order_by(audit_events.c.occurred_at, audit_events.c.id)
    if team_id is not None:
        query = query.where(audit_events.c.team_id == team_id)
    if since is not None:
        query = query.where(audit_events.c.occurred_at >= since)
    rows = (await session.execute(query)).mappings().all()
    return [AuditEvent(**row) for row in rows]
