"""The outbox API: the poller queues Slack messages in its own transaction.

Writing the message in the same transaction that records the poll (cursor, seen records)
means a crash either keeps both or neither: nothing read is ever lost, nothing is queued
twice. The delivery worker drains the rows afterwards (see `worker.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.delivery.tables import NOT_SENT, deliveries
from sage.records import RecordType

if TYPE_CHECKING:
    from bolt_app.blocks.messages import SlackMessage


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker under a lease
    SENT = "sent"
    FAILED = "failed"  # will retry at next_attempt_at
    DEAD = "dead"  # given up; an admin may retry it


class DeliveryKind(StrEnum):
    POST = "post"
    UPDATE = "update"  # chat.update of the parent's message
    REPLY = "reply"  # a thread reply under the parent's message


UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


@dataclass(frozen=True)
class OutboundMessage:
    team_id: str
    channel_id: str
    kind: DeliveryKind
    message: SlackMessage
    company: str
    record_type: RecordType
    record_key: str  # for audit and dedupe; digests use a synthetic key
    parent_delivery_id: int | None = None  # UPDATE and REPLY: the POST they belong to

    def __post_init__(self) -> None:
        if (self.kind is DeliveryKind.POST) != (self.parent_delivery_id is None):
            raise ValueError("UPDATE and REPLY need a parent_delivery_id; a POST has none")


@dataclass(frozen=True, slots=True)
class QueueCounts:
    pending: int  # not yet delivered: pending, sending or failed (retrying)
    dead: int


async def enqueue(session: AsyncSession, message: OutboundMessage, *, now: datetime) -> int:
    """Add a pending row in the caller's transaction; returns the delivery id."""
    [delivery_id] = await enqueue_many(session, [message], now=now)
    return delivery_id


async def enqueue_many(
    session: AsyncSession, messages: Sequence[OutboundMessage], *, now: datetime
) -> list[int]:
    """Add pending rows in the caller's transaction, in multi-row INSERTs (SQLAlchemy's
    insertmanyvalues: one statement per 1,000 rows on SQLite and PostgreSQL alike); returns
    the delivery ids in the order of `messages`."""
    if not messages:
        return []
    rows = [
        {
            "team_id": message.team_id,
            "channel_id": message.channel_id,
            "kind": message.kind.value,
            "status": DeliveryStatus.PENDING.value,
            "parent_delivery_id": message.parent_delivery_id,
            "payload": message.message.as_chat_kwargs(),
            "company": message.company,
            "record_type": RecordType(message.record_type).value,
            "record_key": message.record_key,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for message in messages
    ]
    result = await session.execute(
        sa.insert(deliveries).returning(deliveries.c.id, sort_by_parameter_order=True), rows
    )
    return list(result.scalars())


async def queue_counts(session: AsyncSession, team_id: str) -> QueueCounts:
    """What `status` shows: messages still on their way, and dead letters."""
    rows = await session.execute(
        sa.select(deliveries.c.status, sa.func.count())
        .where(deliveries.c.team_id == team_id)
        .where(NOT_SENT)
        .group_by(deliveries.c.status)
    )
    counts = {status: count for status, count in rows.all()}
    pending = sum(counts.get(status.value, 0) for status in UNDELIVERED)
    return QueueCounts(pending=pending, dead=counts.get(DeliveryStatus.DEAD.value, 0))


async def queue_depth(session: AsyncSession) -> dict[str, int]:
    """Deliveries per status across every workspace (all but sent), zero where none (/metrics)."""
    counts = {status.value: 0 for status in DeliveryStatus if status is not DeliveryStatus.SENT}
    rows = await session.execute(
        sa.select(deliveries.c.status, sa.func.count())
        .where(NOT_SENT)
        .where(deliveries.c.status.in_(counts))  # on SQLite, a look-up per status, not a scan
        .group_by(deliveries.c.status)
    )
    counts.update({status: count for status, count in rows.all()})
    return counts
