"""The worker's database side: claim the next message of a channel, settle it, retry dead letters.

Sends to one channel are serialised through its `channel_pacing` row. A claim locks that row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so workers never wait on each other; on SQLite the
claim's first statement is a write, which takes the database write lock like BEGIN
IMMEDIATE), then takes the channel's oldest undelivered message only if no other message of
the channel is in flight and the channel's clock allows. So, across any number of processes:
one message per channel in flight, in id order, each call made no sooner than the pacing
interval after the previous one was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.delivery.outbox import UNDELIVERED, DeliveryKind, DeliveryStatus
from bolt_app.delivery.tables import NOT_SENT, channel_pacing, deliveries, team_pacing
from bolt_app.delivery.transitions import Settlement
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.engine import dialect_insert
from bolt_app.storage.workspaces import clear_pause, mark_paused, paused_flag, paused_teams

AUDIT_KIND = "delivery.attempt"


@dataclass(frozen=True, slots=True)
class Claim:
    """A message this worker may now send: it holds the lease until `lease_expires_at`."""

    id: int
    team_id: str
    channel_id: str
    kind: DeliveryKind
    payload: dict[str, Any]
    parent_ts: str | None
    attempts: int
    plain_text: bool
    join_tried: bool
    company: str
    record_type: str
    record_key: str
    send_at: datetime  # not before: the channel's clock or the message's retry time
    lease_expires_at: datetime


@dataclass(frozen=True, slots=True)
class NotReady:
    """Nothing to claim now; `retry_at` is when the channel may next have work (None: idle)."""

    retry_at: datetime | None


async def claim_next(
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    *,
    worker_id: str,
    now: datetime,
    lease: timedelta,
    ahead: timedelta = timedelta(0),
) -> Claim | NotReady:
    """Claim the channel's next message in the caller's (short) transaction.

    A message that may be sent within `ahead` is claimed already, with `send_at` saying when:
    the claim's database round trips then happen before the channel's slot, not in it.
    """
    horizon = now + ahead
    await _ensure_pacing_row(session, team_id, channel_id, now)
    pacing = await _lock_pacing_row(session, team_id, channel_id)
    if pacing is None:
        return NotReady(horizon + timedelta(milliseconds=50))  # another worker is claiming
    team_paused_until, workspace_paused = await _team_pauses(session, team_id)
    if workspace_paused:
        return NotReady(None)
    bounds = (pacing.next_send_at, pacing.paused_until, team_paused_until)
    blocked_until = max((t for t in bounds if t is not None), default=now)
    if blocked_until > horizon:
        return NotReady(blocked_until)
    while True:
        head = (
            (
                await session.execute(
                    sa.select(deliveries)
                    .where(deliveries.c.team_id == team_id)
                    .where(deliveries.c.channel_id == channel_id)
                    .where(NOT_SENT)
                    .where(deliveries.c.status.in_(UNDELIVERED))
                    .order_by(deliveries.c.id)
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        if head is None:
            return NotReady(None)
        taken_over = head["status"] == DeliveryStatus.SENDING
        if taken_over and head["lease_expires_at"] > now:
            # In flight in another worker: look again soon, it usually settles in milliseconds.
            return NotReady(min(head["lease_expires_at"], now + timedelta(seconds=1)))
        if not taken_over and head["next_attempt_at"] > horizon:
            return NotReady(head["next_attempt_at"])
        parent_ts = None
        if head["kind"] != DeliveryKind.POST:
            parent = await _parent(session, head["parent_delivery_id"])
            if parent is None or parent["status"] == DeliveryStatus.DEAD:
                await _bury_orphan(session, head, parent, worker_id=worker_id, now=now)
                continue
            if parent["status"] != DeliveryStatus.SENT:
                # The parent waits in another channel's queue.
                return NotReady(max(now + timedelta(seconds=1), parent["next_attempt_at"]))
            parent_ts = parent["slack_ts"]
        break
    send_at = max(now, blocked_until, now if taken_over else head["next_attempt_at"])
    attempts = head["attempts"]
    values: dict[str, Any] = {
        "status": DeliveryStatus.SENDING.value,
        "leased_by": worker_id,
        "lease_expires_at": send_at + lease,
        "updated_at": now,
    }
    if taken_over:
        attempts += 1
        values["attempts"] = attempts
        values["last_error"] = f"lease of {head['leased_by']} expired mid-send"
        await _audit(
            session,
            head,
            worker_id=worker_id,
            now=now,
            outcome="lease_expired",
            error=values["last_error"],
            slack_ts=None,
        )
    await session.execute(sa.update(deliveries).where(deliveries.c.id == head["id"]).values(values))
    return Claim(
        id=head["id"],
        team_id=team_id,
        channel_id=channel_id,
        kind=DeliveryKind(head["kind"]),
        payload=dict(head["payload"]),
        parent_ts=parent_ts,
        attempts=attempts,
        plain_text=head["plain_text"],
        join_tried=head["join_tried"],
        company=head["company"],
        record_type=head["record_type"],
        record_key=head["record_key"],
        send_at=send_at,
        lease_expires_at=send_at + lease,
    )


async def settle_claim(
    session: AsyncSession,
    claim: Claim,
    settlement: Settlement,
    *,
    worker_id: str,
    now: datetime,
    slack_ts: str = "",
    join_tried: bool | None = None,
) -> bool:
    """Record how the attempt ended; False if the lease was lost (another worker took it over).

    The channel clock moves forward even when the lease was lost: Slack did get the call.
    """
    # Only ever forward: a lost lease's late answer must not wind back the new owner's clock.
    pacing_values: dict[str, Any] = {
        "next_send_at": sa.case(
            (
                channel_pacing.c.next_send_at < settlement.channel_next_send_at,
                settlement.channel_next_send_at,
            ),
            else_=channel_pacing.c.next_send_at,
        )
    }
    if settlement.channel_paused_until is not None:
        pacing_values["paused_until"] = settlement.channel_paused_until
        await _lock_team_pacing(session, claim.team_id, now)
        if await _other_channel_limited(session, claim, now):
            await _pause_team(session, claim.team_id, settlement.channel_paused_until)
    await session.execute(
        sa.update(channel_pacing)
        .where(channel_pacing.c.team_id == claim.team_id)
        .where(channel_pacing.c.channel_id == claim.channel_id)
        .values(pacing_values)
    )
    if settlement.pause_workspace_reason is not None:
        await _pause_workspace(
            session,
            claim.team_id,
            settlement.pause_workspace_reason,
            worker_id=worker_id,
            now=now,
        )
    values: dict[str, Any] = {
        "status": settlement.status.value,
        "leased_by": None,
        "lease_expires_at": None,
        "updated_at": now,
        "last_error": settlement.last_error,
    }
    if settlement.failed:
        values["attempts"] = claim.attempts + 1
    if settlement.next_attempt_at is not None:
        values["next_attempt_at"] = settlement.next_attempt_at
    if settlement.plain_text is not None:
        values["plain_text"] = settlement.plain_text
    if join_tried is not None:
        values["join_tried"] = join_tried
    if settlement.status is DeliveryStatus.SENT:
        values["slack_ts"] = slack_ts
        values["sent_at"] = now
    result = await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.id == claim.id)
        .where(deliveries.c.status == DeliveryStatus.SENDING.value)
        .where(deliveries.c.leased_by == worker_id)
        .values(values)
    )
    row = {
        "id": claim.id,
        "team_id": claim.team_id,
        "channel_id": claim.channel_id,
        "kind": claim.kind.value,
        "company": claim.company,
        "record_type": claim.record_type,
        "record_key": claim.record_key,
        "attempts": values.get("attempts", claim.attempts),
    }
    kept = result.rowcount == 1
    await _audit(
        session,
        row,
        worker_id=worker_id,
        now=now,
        outcome=settlement.outcome if kept else f"{settlement.outcome} (lease lost)",
        error=settlement.last_error,
        slack_ts=slack_ts or None,
    )
    return kept


async def has_undelivered(session: AsyncSession, team_id: str, channel_id: str) -> bool:
    """Whether the channel has a message still to send (or in flight)."""
    query = (
        sa.select(deliveries.c.id)
        .where(deliveries.c.team_id == team_id)
        .where(deliveries.c.channel_id == channel_id)
        .where(NOT_SENT)
        .where(deliveries.c.status.in_(UNDELIVERED))
        .limit(1)
    )
    return (await session.execute(query)).first() is not None


async def active_channels(
    session: AsyncSession, *, team_id: str | None = None
) -> list[tuple[str, str]]:
    """Channels with undelivered messages, in workspaces that are not paused."""
    query = (
        sa.select(deliveries.c.team_id, deliveries.c.channel_id)
        .where(NOT_SENT)
        .where(deliveries.c.status.in_(UNDELIVERED))
        .where(~deliveries.c.team_id.in_(paused_teams()))
        .distinct()
        .order_by(deliveries.c.team_id, deliveries.c.channel_id)
    )
    if team_id is not None:
        query = query.where(deliveries.c.team_id == team_id)
    return [(row.team_id, row.channel_id) for row in (await session.execute(query)).all()]


async def retry_dead_letters(
    session: AsyncSession,
    team_id: str,
    delivery_ids: Sequence[int] | None,
    now: datetime,
    *,
    actor: str = "admin",
) -> int:
    """Put dead letters of a team (all, or the given ids) back in the queue; returns how many.

    They keep their id, so each goes back to its place in its channel's order.
    """
    query = (
        sa.update(deliveries)
        .where(deliveries.c.team_id == team_id)
        .where(NOT_SENT)
        .where(deliveries.c.status == DeliveryStatus.DEAD.value)
        .values(
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            plain_text=False,
            join_tried=False,
            updated_at=now,
        )
        .returning(deliveries.c.id)
    )
    if delivery_ids is not None:
        query = query.where(deliveries.c.id.in_(list(delivery_ids)))
    ids = (await session.execute(query)).scalars().all()
    if ids:
        await record_audit_event(
            session,
            team_id=team_id,
            kind="delivery.retry_dead_letters",
            actor=actor,
            summary=f"{len(ids)} dead letter(s) queued again",
            now=now,
            details={"delivery_ids": sorted(ids)},
        )
    return len(ids)


async def resume_workspace(
    session: AsyncSession, team_id: str, *, now: datetime, actor: str
) -> bool:
    """Lift a pause (after a new token is stored): its held messages are due at once.

    Returns False when the workspace was not paused.
    """
    if not await clear_pause(session, team_id, now=now):
        return False
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.team_id == team_id)
        .where(NOT_SENT)
        .where(deliveries.c.status == DeliveryStatus.PENDING.value)
        .values(next_attempt_at=now, updated_at=now)
    )
    await record_audit_event(
        session,
        team_id=team_id,
        kind="workspace.resumed",
        actor=actor,
        summary="delivery resumed",
        now=now,
    )
    return True


async def _pause_workspace(
    session: AsyncSession, team_id: str, reason: str, *, worker_id: str, now: datetime
) -> None:
    if await mark_paused(session, team_id, reason, now=now, only_if_running=True):
        await record_audit_event(
            session,
            team_id=team_id,
            kind="workspace.paused",
            actor=worker_id,
            summary=f"delivery paused: Slack answered {reason}",
            now=now,
            details={"reason": reason},
        )


async def _ensure_pacing_row(
    session: AsyncSession, team_id: str, channel_id: str, now: datetime
) -> None:
    await session.execute(
        dialect_insert(session, channel_pacing)
        .values(team_id=team_id, channel_id=channel_id, next_send_at=now)
        .on_conflict_do_nothing()
    )


async def _lock_pacing_row(session: AsyncSession, team_id: str, channel_id: str) -> Any:
    query = (
        sa.select(channel_pacing.c.next_send_at, channel_pacing.c.paused_until)
        .where(channel_pacing.c.team_id == team_id)
        .where(channel_pacing.c.channel_id == channel_id)
    )
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return (await session.execute(query)).first()


async def _team_pauses(session: AsyncSession, team_id: str) -> tuple[datetime | None, bool]:
    """The workspace's 429 pause (until when) and whether it is paused for a bad token."""
    row = (
        await session.execute(
            sa.select(
                sa.select(team_pacing.c.paused_until)
                .where(team_pacing.c.team_id == team_id)
                .scalar_subquery(),
                paused_flag(team_id),
            )
        )
    ).one()
    return row[0], bool(row[1])


async def _other_channel_limited(session: AsyncSession, claim: Claim, now: datetime) -> bool:
    """Slack does not say which limit a 429 hit; two channels limited at once is the workspace's."""
    other = await session.execute(
        sa.select(channel_pacing.c.channel_id)
        .where(channel_pacing.c.team_id == claim.team_id)
        .where(channel_pacing.c.channel_id != claim.channel_id)
        .where(channel_pacing.c.paused_until > now)
        .limit(1)
    )
    return other.first() is not None


async def _lock_team_pacing(session: AsyncSession, team_id: str, now: datetime) -> None:
    """Serialise the 429 settlements of one workspace, across transactions and processes.

    Two channels limited at the same moment settle in concurrent transactions; without this
    lock neither would see the other's (uncommitted) pause and the workspace would not wait.
    The lock is held to commit, so the second one's check sees the first one's pause. SQLite
    needs no lock: its writes are serialised already.
    """
    await session.execute(
        dialect_insert(session, team_pacing)
        .values(team_id=team_id, paused_until=now)
        .on_conflict_do_nothing()
    )
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            sa.select(team_pacing.c.team_id)
            .where(team_pacing.c.team_id == team_id)
            .with_for_update()
        )


async def _pause_team(session: AsyncSession, team_id: str, until: datetime) -> None:
    """Only ever lengthen the workspace's pause (the row exists: `_lock_team_pacing`)."""
    await session.execute(
        sa.update(team_pacing)
        .where(team_pacing.c.team_id == team_id)
        .where(team_pacing.c.paused_until < until)
        .values(paused_until=until)
    )


async def _parent(session: AsyncSession, parent_id: int | None) -> Any:
    if parent_id is None:
        return None
    return (
        (
            await session.execute(
                sa.select(
                    deliveries.c.id,
                    deliveries.c.status,
                    deliveries.c.slack_ts,
                    deliveries.c.last_error,
                    deliveries.c.next_attempt_at,
                ).where(deliveries.c.id == parent_id)
            )
        )
        .mappings()
        .first()
    )


async def _bury_orphan(
    session: AsyncSession, head: Any, parent: Any, *, worker_id: str, now: datetime
) -> None:
    """An UPDATE or REPLY whose POST never reached Slack has nothing to attach to."""
    if parent is None:
        reason = "the message it belongs to is gone"
    else:
        reason = (
            f"the message it belongs to (delivery {parent['id']}) is dead: {parent['last_error']}"
        )
    await session.execute(
        sa.update(deliveries)
        .where(deliveries.c.id == head["id"])
        .values(status=DeliveryStatus.DEAD.value, last_error=reason, updated_at=now)
    )
    await _audit(
        session, head, worker_id=worker_id, now=now, outcome="dead", error=reason, slack_ts=None
    )


async def _audit(
    session: AsyncSession,
    row: Any,
    *,
    worker_id: str,
    now: datetime,
    outcome: str,
    error: str | None,
    slack_ts: str | None,
) -> None:
    summary = f"{row['kind']} to {row['channel_id']} ({row['record_type']} {row['record_key']}): {outcome}"
    await record_audit_event(
        session,
        team_id=row["team_id"],
        kind=AUDIT_KIND,
        actor=worker_id,
        summary=summary,
        now=now,
        details={
            "delivery_id": row["id"],
            "channel": row["channel_id"],
            "kind": row["kind"],
            "company": row["company"],
            "record_type": row["record_type"],
            "record_key": row["record_key"],
            "attempts": row["attempts"],
            "outcome": outcome,
            "slack_ts": slack_ts,
            "error": error,
        },
    )


async def latest_deliveries(
    session: AsyncSession, team_id: str, status: DeliveryStatus, limit: int
) -> list[Any]:
    """The team's newest deliveries in `status` (dead letters by when they died, sent ones by
    when they were sent), newest first, as whole rows."""
    sent = status is DeliveryStatus.SENT
    when = deliveries.c.sent_at if sent else deliveries.c.updated_at
    rows = await session.execute(
        sa.select(deliveries)
        .where(deliveries.c.team_id == team_id)
        .where(deliveries.c.status == status.value)
        .where(sa.true() if sent else NOT_SENT)
        .order_by(when.desc(), deliveries.c.id.desc())
        .limit(limit)
    )
    return list(rows)


PRUNE_SPAN = 2000  # ids a prune transaction looks at: SQLite's write lock is held that long


async def delivery_ids(session: AsyncSession) -> range:
    """Every id a delivery has now (empty when there are none), read off the primary key."""
    lowest, highest = (
        await session.execute(sa.select(sa.func.min(deliveries.c.id), sa.func.max(deliveries.c.id)))
    ).one()
    return range(0) if lowest is None else range(lowest, highest + 1)


async def prune_sent_deliveries(session: AsyncSession, *, before: datetime, ids: range) -> int:
    """Delete the messages with an id in `ids`, sent before `before`, that nothing can still
    thread under or update; returns how many went.

    Deleted: sent updates and replies, and posts that a newer post of the same record in the
    same channel has replaced (digests and notes included). Kept: a record's newest post in a
    channel, however old (a later change of the record replies to it or updates it), and any
    post with a message still waiting to go out under it. The caller walks the ids a span at a
    time, each in its own transaction, so the work of one is bounded whatever the table holds
    and a prune of a million rows never holds the write lock for long; migration 0011's
    indexes make each row's checks (a newer post, a child still waiting, the children a
    deleted post leaves parentless) a lookup."""
    candidate = deliveries.alias("candidate")
    newer = deliveries.alias("newer")
    child = deliveries.alias("child")
    replaced = (
        sa.select(newer.c.id)
        .where(newer.c.team_id == candidate.c.team_id)
        .where(newer.c.channel_id == candidate.c.channel_id)
        .where(newer.c.company == candidate.c.company)
        .where(newer.c.record_type == candidate.c.record_type)
        .where(newer.c.record_key == candidate.c.record_key)
        .where(newer.c.kind == DeliveryKind.POST.value)
        .where(newer.c.id > candidate.c.id)
        .exists()
    )
    waiting_child = (
        sa.select(child.c.id)
        .where(child.c.parent_delivery_id == candidate.c.id)
        .where(child.c.status != DeliveryStatus.SENT.value)
        .exists()
    )
    chunk = (
        sa.select(candidate.c.id)
        .where(candidate.c.id.between(ids.start, ids.stop - 1))
        # `status || ''`, not the column: no index serves it, so SQLite reads the span by its
        # primary key (through the status index it would read every sent row for each span).
        .where(candidate.c.status + "" == DeliveryStatus.SENT.value)
        .where(candidate.c.sent_at < before)
        .where(sa.or_(candidate.c.kind != DeliveryKind.POST.value, replaced))
        .where(~waiting_child)
    )
    result = await session.execute(sa.delete(deliveries).where(deliveries.c.id.in_(chunk)))
    return result.rowcount or 0


async def sent_posts(session: AsyncSession, channels: set[str]) -> list[Any]:
    """(channel_id, slack_ts, payload) of every message posted to `channels`, oldest first."""
    rows = await session.execute(
        sa.select(deliveries.c.channel_id, deliveries.c.slack_ts, deliveries.c.payload)
        .where(deliveries.c.status == DeliveryStatus.SENT.value)
        .where(deliveries.c.kind == DeliveryKind.POST.value)
        .where(deliveries.c.channel_id.in_(channels))
        .order_by(deliveries.c.id)
    )
    return list(rows.all())


async def last_delivery_id(session: AsyncSession) -> int:
    return await session.scalar(sa.select(sa.func.max(deliveries.c.id))) or 0


async def deliveries_after(session: AsyncSession, delivery_id: int) -> list[Any]:
    """(id, channel_id) of every delivery queued after `delivery_id`, in queue order."""
    rows = await session.execute(
        sa.select(deliveries.c.id, deliveries.c.channel_id)
        .where(deliveries.c.id > delivery_id)
        .order_by(deliveries.c.id)
    )
    return list(rows.all())


async def finished_deliveries(session: AsyncSession, excluding: set[int]) -> list[Any]:
    """Every sent or dead delivery whose id is not in `excluding`, in the order they ended."""
    rows = await session.execute(
        sa.select(deliveries)
        .where(deliveries.c.status.in_([DeliveryStatus.SENT.value, DeliveryStatus.DEAD.value]))
        .where(deliveries.c.id.not_in(excluding) if excluding else sa.true())
        .order_by(deliveries.c.sent_at, deliveries.c.id)
    )
    return list(rows.all())


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    channel_id: str
    record_type: str
    record_key: str
    reason: str


async def drain_outcome(
    session: AsyncSession, *, team_id: str | None, since: datetime
) -> tuple[tuple[DeadLetter, ...], int]:
    """Dead letters since `since` (a drain's start) and how many messages are still undelivered."""
    scope = sa.true() if team_id is None else deliveries.c.team_id == team_id
    dead_rows = await session.execute(
        sa.select(
            deliveries.c.id,
            deliveries.c.channel_id,
            deliveries.c.record_type,
            deliveries.c.record_key,
            deliveries.c.last_error,
        )
        .where(scope)
        .where(deliveries.c.status == DeliveryStatus.DEAD.value)
        .where(deliveries.c.updated_at >= since)
        .order_by(deliveries.c.id)
    )
    dead = tuple(
        DeadLetter(row.id, row.channel_id, row.record_type, row.record_key, row.last_error or "")
        for row in dead_rows.all()
    )
    remaining = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(deliveries)
            .where(scope)
            .where(NOT_SENT)
            .where(deliveries.c.status.in_(UNDELIVERED))
        )
    ).scalar_one()
    return dead, remaining
