"""Fetching one whole record live from the agent for the "Details" modal.

Most record types are one `get_record` call by the RecordKey the Details button carries
(`bolt_app.blocks.messages.RecordRef`). A register of lines, a GL register ("GJ-000123"), has no
endpoint of its own: its
lines are listed from gl-postings around the stamp of the lines the connector has already seen
(a batch writes all its lines within a minute or so, and gl-postings are never updated), so
the modal shows every line the agent has now, late ones included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.blocks.messages import RecordRef
from bolt_app.polling.codec import from_json
from bolt_app.polling.store import seen_snapshot
from bolt_app.records.registry import describe
from sage.client import AgentClient
from sage.connection import ConnectionSettings
from sage.errors import NotFoundError
from sage.records import GLPosting, GLRegister, RecordType
from sage.resources import by_record_type

REGISTER_WINDOW = timedelta(minutes=5)


async def register_written_at(
    session: AsyncSession, team_id: str, ref: RecordRef, zone: ZoneInfo
) -> datetime | None:
    """When the connector's first-seen line of a GL register was written, or None if unseen."""
    snapshot = await seen_snapshot(
        session, team_id, ref.company, RecordType.GL_ENTRY, ref.record_key
    )
    if not isinstance(snapshot, dict):
        return None
    stamps = [
        line.stamps.created_at
        for line in (from_json(GLPosting, data, zone) for data in snapshot.values())
        if line.stamps.created_at is not None
    ]
    return min(stamps, default=None)


async def fetch_details(
    agent: AgentClient, ref: RecordRef, *, register_written: datetime | None = None
) -> object:
    """The record as the agent has it now; SageError when the agent cannot answer."""
    resource = by_record_type(ref.record_type)
    if not describe(ref.record_type).register_lines:
        return await agent.get_record(resource, ref.company, ref.record_key)
    journal, _, register_no = ref.record_key.partition("-")
    if register_written is None:
        raise NotFoundError(
            f"GL register {ref.record_key} of {ref.company} is not among the records "
            "the connector has seen, so its lines cannot be looked up"
        )
    lines: dict[str, GLPosting] = {}
    since = register_written - REGISTER_WINDOW
    async for page in agent.list_changes(resource, ref.company, since, 1000):
        for line in page.records:
            if isinstance(line, GLPosting) and line.register_key == (journal, register_no):
                lines[line.record_key] = line
        if page.last_stamp is not None and page.last_stamp > register_written + REGISTER_WINDOW:
            break
    if not lines:
        raise NotFoundError(f"the agent lists no line of GL register {ref.record_key} any more")
    ordered = tuple(sorted(lines.values(), key=lambda line: (line.sequence_no, line.record_key)))
    return GLRegister(ref.company, journal, register_no, ordered)


async def fetch_details_live(
    settings: ConnectionSettings,
    ref: RecordRef,
    register_written: datetime | None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> object:
    """One short-lived agent connection for one Details modal (`HomeServices.fetch_record`)."""
    async with AgentClient(settings, transport=transport) as agent:
        return await fetch_details(agent, ref, register_written=register_written)
