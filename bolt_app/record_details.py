"""Fetching one whole record live from the agent for the "Details" modal.

Most record types are one `get_record` call. A GL register has no endpoint of its own: the
Details button carries the RecordKey of one of its lines, and the register is rebuilt from the
gl-postings listed around that line's stamp (a batch writes all its lines within a minute or
so, and gl-postings are never updated, so the listing around it holds every line).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from bolt_app.home_views.details import DetailRecord
from sage.client import AgentClient
from sage.connection import ConnectionSettings
from sage.records import GLPosting, GLRegister, RecordType
from sage.resources import by_record_type

REGISTER_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Which record a message is about: the agent's RecordKey within company and type."""

    company: str
    record_type: RecordType
    record_key: str

    @classmethod
    def from_payload(cls, payload: Any) -> RecordRef | None:
        """From the Details button's value (JSON) or the message metadata's event_payload."""
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except json.JSONDecodeError:
                return None
        if not isinstance(payload, dict):
            return None
        try:
            return cls(
                company=str(payload["company"]),
                record_type=RecordType(payload["record_type"]),
                record_key=str(payload["record_key"]),
            )
        except (KeyError, ValueError):
            return None


async def fetch_details(agent: AgentClient, ref: RecordRef) -> DetailRecord:
    """The record as the agent has it now; SageError when the agent cannot answer."""
    resource = by_record_type(ref.record_type)
    record = await agent.get_record(resource, ref.company, ref.record_key)
    if not isinstance(record, GLPosting):
        return record
    created = record.stamps.created_at
    if created is None:
        return GLRegister(record.company, record.source_journal, record.register_no, (record,))
    lines: dict[str, GLPosting] = {}
    async for page in agent.list_changes(resource, ref.company, created - REGISTER_WINDOW, 1000):
        for line in page.records:
            if isinstance(line, GLPosting) and line.register_key == record.register_key:
                lines[line.record_key] = line
        if page.last_stamp is not None and page.last_stamp > created + REGISTER_WINDOW:
            break
    lines.setdefault(record.record_key, record)
    ordered = tuple(sorted(lines.values(), key=lambda line: (line.sequence_no, line.record_key)))
    return GLRegister(record.company, record.source_journal, record.register_no, ordered)


async def fetch_details_live(
    settings: ConnectionSettings,
    ref: RecordRef,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DetailRecord:
    """One short-lived agent connection for one Details modal (`HomeServices.fetch_record`)."""
    async with AgentClient(settings, transport=transport) as agent:
        return await fetch_details(agent, ref)
