"""The audit trail: who changed what, when; never secret values (callers pass field names).

Written by `record_audit_event` (polls, delivery attempts, configuration changes), read out by
`ml-connector audit` (JSON or CSV), pruned past its retention by the runtime's housekeeping.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Mapping
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


async def last_audit_event_id(session: AsyncSession) -> int:
    """The newest event's id (0 when there is none), to follow the trail from here on."""
    return (await session.execute(sa.select(sa.func.max(audit_events.c.id)))).scalar() or 0


async def audit_events_after(
    session: AsyncSession, after_id: int, *, kinds: Collection[str]
) -> list[AuditEvent]:
    """Events of these kinds written since event `after_id`, oldest first (the demo follows
    the polls this way)."""
    query = (
        sa.select(audit_events)
        .where(audit_events.c.id > after_id, audit_events.c.kind.in_(kinds))
        .order_by(audit_events.c.id)
    )
    return [AuditEvent(**row) for row in (await session.execute(query)).mappings().all()]


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


CSV_COLUMNS = ("occurred_at", "team_id", "kind", "actor", "summary", "details")


async def prune_audit_events(session: AsyncSession, *, before: datetime) -> int:
    """Delete events that occurred before `before`; returns how many went."""
    result = await session.execute(
        sa.delete(audit_events).where(audit_events.c.occurred_at < before)
    )
    return result.rowcount or 0


def event_as_dict(event: AuditEvent) -> dict[str, object]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "team_id": event.team_id,
        "kind": event.kind,
        "actor": event.actor,
        "summary": event.summary,
        "details": dict(event.details),
    }


def events_as_json(events: Iterable[AuditEvent]) -> str:
    """A JSON array, oldest first."""
    return json.dumps([event_as_dict(event) for event in events], indent=2, default=str) + "\n"


def events_as_csv(events: Iterable[AuditEvent]) -> str:
    """One row per event; `details` is a JSON object in its column so every kind fits one shape."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = event_as_dict(event)
        row["details"] = json.dumps(row["details"], sort_keys=True, default=str)
        writer.writerow(row)
    return buffer.getvalue()
