"""The poller's database side: poll state and leases, seen records, rows that did not read,
bursts in progress.

Plain async functions on the caller's `AsyncSession`; the service decides the transactions.
Cursors are stored as the agent's naive wall-clock text and read back in the connection's zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.polling.tables import (
    poll_bursts,
    poll_states,
    reconcile_keys,
    reconcile_states,
    reminder_runs,
    seen_records,
    skipped_rows,
)
from bolt_app.storage.bulk import IN_LIST_KEYS, upsert_many
from sage.records import RecordType, SkippedRecord


@dataclass(frozen=True, slots=True)
class PollKey:
    team_id: str
    company: str
    record_type: RecordType

    def where(self, table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(
            table.c.team_id == self.team_id,
            table.c.company == self.company,
            table.c.record_type == self.record_type.value,
        )

    def columns(self) -> dict[str, str]:
        """The key as the values of a row of the key's tables."""
        return {
            "team_id": self.team_id,
            "company": self.company,
            "record_type": self.record_type.value,
        }

    def __str__(self) -> str:
        return f"{self.team_id}/{self.company}/{self.record_type}"


def cursor_to_text(cursor: datetime) -> str:
    return cursor.replace(tzinfo=None).isoformat(timespec="microseconds")


def cursor_from_text(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


async def _ensure_state_row(session: AsyncSession, key: PollKey) -> None:
    exists = await session.scalar(sa.select(sa.func.count()).where(key.where(poll_states)))
    if exists:
        return
    try:
        async with session.begin_nested():
            await session.execute(
                sa.insert(poll_states).values(
                    team_id=key.team_id, company=key.company, record_type=key.record_type.value
                )
            )
    except IntegrityError:
        pass  # another worker created it first


async def load_cursor(session: AsyncSession, key: PollKey, zone: ZoneInfo) -> datetime | None:
    """None until the first successful poll (which is then a first connection)."""
    text = await session.scalar(sa.select(poll_states.c.cursor).where(key.where(poll_states)))
    return None if text is None else cursor_from_text(text, zone)


async def acquire_lease(
    session: AsyncSession,
    key: PollKey,
    *,
    owner: str,
    now: datetime,
    due: datetime | None,
    ttl: timedelta,
) -> bool:
    """True for exactly one caller per scheduled due time while no other lease is live.

    A single conditional UPDATE is atomic on SQLite and PostgreSQL alike, so several worker
    processes firing the same schedule run the poll once. An on-demand poll (`due` None) only
    needs the lease: it neither checks nor uses up a due time, so the next scheduled poll runs.
    """
    await _ensure_state_row(session, key)
    query = (
        sa.update(poll_states)
        .where(key.where(poll_states))
        .where(sa.or_(poll_states.c.lease_until.is_(None), poll_states.c.lease_until < now))
        .values(lease_owner=owner, lease_until=now + ttl)
    )
    if due is not None:
        query = query.where(
            sa.or_(poll_states.c.last_due_at.is_(None), poll_states.c.last_due_at < due)
        ).values(last_due_at=due)
    result = await session.execute(query)
    return result.rowcount == 1


async def release_lease(session: AsyncSession, key: PollKey, *, owner: str) -> None:
    await session.execute(
        sa.update(poll_states)
        .where(key.where(poll_states))
        .where(poll_states.c.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def record_success(
    session: AsyncSession,
    key: PollKey,
    *,
    cursor: datetime | None,
    now: datetime,
    records_seen: int,
) -> None:
    await _ensure_state_row(session, key)
    await session.execute(
        sa.update(poll_states)
        .where(key.where(poll_states))
        .values(
            cursor=None if cursor is None else cursor_to_text(cursor),
            last_poll_at=now,
            last_success_at=now,
            last_error=None,
            records_seen_last_poll=records_seen,
        )
    )


async def move_cursor(session: AsyncSession, key: PollKey, cursor: datetime) -> None:
    """A committed batch's cursor, mid-poll (`record_success` says the poll ended). A poll
    holds its state row's lease, so the row is there and one UPDATE does it."""
    moved = (
        sa.update(poll_states).where(key.where(poll_states)).values(cursor=cursor_to_text(cursor))
    )
    if (await session.execute(moved)).rowcount == 0:
        await _ensure_state_row(session, key)
        await session.execute(moved)


async def all_poll_states(session: AsyncSession) -> list[Any]:
    """Every poll state row of every workspace (the demo's progress lines)."""
    return list((await session.execute(sa.select(poll_states))).all())


async def poll_states_of(session: AsyncSession, team_id: str) -> dict[tuple[str, str], Any]:
    """(company, record type value) -> the poll state row (cursor, last poll, error) of a team."""
    rows = await session.execute(sa.select(poll_states).where(poll_states.c.team_id == team_id))
    return {(row.company, row.record_type): row for row in rows}


async def last_successes(session: AsyncSession) -> list[tuple[str, str, str, datetime]]:
    """(team_id, company, record_type, last_success_at) of every resource polled successfully."""
    rows = await session.execute(
        sa.select(
            poll_states.c.team_id,
            poll_states.c.company,
            poll_states.c.record_type,
            poll_states.c.last_success_at,
        ).where(poll_states.c.last_success_at.is_not(None))
    )
    return [tuple(row) for row in rows.all()]


async def record_failure(session: AsyncSession, key: PollKey, *, now: datetime, error: str) -> None:
    await _ensure_state_row(session, key)
    await session.execute(
        sa.update(poll_states)
        .where(key.where(poll_states))
        .values(last_poll_at=now, last_error=error)
    )


@dataclass(frozen=True, slots=True)
class SeenRecord:
    version: str
    snapshot: Any
    delivery_id: int | None


async def load_seen(
    session: AsyncSession, key: PollKey, record_keys: Iterable[str]
) -> dict[tuple[str, str], SeenRecord]:
    """{(record key, channel): what that channel was last told}."""
    wanted = sorted(set(record_keys))
    found: dict[tuple[str, str], SeenRecord] = {}
    for start in range(0, len(wanted), IN_LIST_KEYS):
        rows = await session.execute(
            sa.select(seen_records)
            .where(key.where(seen_records))
            .where(seen_records.c.record_key.in_(wanted[start : start + IN_LIST_KEYS]))
        )
        for row in rows:
            found[(row.record_key, row.channel_id)] = SeenRecord(
                row.version, row.snapshot, row.delivery_id
            )
    return found


async def latest_snapshots(
    session: AsyncSession, team_id: str, record_types: Iterable[RecordType]
) -> dict[tuple[str, str, str], object]:
    """(company, record type, key) -> the newest snapshot any channel was shown (App Home)."""
    rows = await session.execute(
        sa.select(
            seen_records.c.company,
            seen_records.c.record_type,
            seen_records.c.record_key,
            seen_records.c.snapshot,
        )
        .where(seen_records.c.team_id == team_id)
        .where(seen_records.c.record_type.in_([record_type.value for record_type in record_types]))
        .order_by(seen_records.c.changed_at)
    )
    latest: dict[tuple[str, str, str], object] = {}
    for company, record_type, record_key, snapshot in rows:
        latest[(company, record_type, record_key)] = snapshot  # one per record, newest wins
    return latest


async def seen_snapshot(
    session: AsyncSession, team_id: str, company: str, record_type: RecordType, record_key: str
) -> object | None:
    """The snapshot one channel was last shown of a record, or None if it was never seen."""
    return await session.scalar(
        sa.select(seen_records.c.snapshot)
        .where(seen_records.c.team_id == team_id)
        .where(seen_records.c.company == company)
        .where(seen_records.c.record_type == record_type.value)
        .where(seen_records.c.record_key == record_key)
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class SeenUpdate:
    """What one channel is now told about one record."""

    record_key: str
    channel_id: str
    seen: SeenRecord


async def save_seen(
    session: AsyncSession, key: PollKey, updates: Sequence[SeenUpdate], *, now: datetime
) -> None:
    """Inserts or updates each (record, channel) row in batches (an upsert: ON CONFLICT DO
    UPDATE, on SQLite and PostgreSQL alike); the first seen time stays."""
    rows = (
        {
            "record_key": update.record_key,
            "channel_id": update.channel_id,
            "version": update.seen.version,
            "snapshot": update.seen.snapshot,
            "delivery_id": update.seen.delivery_id,
        }
        for update in updates
    )
    shared = {**key.columns(), "first_seen_at": now, "changed_at": now}
    await upsert_many(
        session,
        seen_records,
        shared,
        rows,
        updated=("version", "snapshot", "delivery_id", "changed_at"),
    )


@dataclass(frozen=True, slots=True)
class StoredBurst:
    """A burst in progress of one channel and kind ("new", "changed"): its summary as JSON."""

    channel_id: str
    kind: str
    summary: dict[str, Any]


async def save_bursts(
    session: AsyncSession, key: PollKey, bursts: Sequence[StoredBurst], *, now: datetime
) -> None:
    rows = (
        {"channel_id": burst.channel_id, "kind": burst.kind, "summary": burst.summary}
        for burst in bursts
    )
    shared = {**key.columns(), "updated_at": now}
    await upsert_many(session, poll_bursts, shared, rows, updated=("summary", "updated_at"))


async def load_bursts(session: AsyncSession, key: PollKey) -> list[StoredBurst]:
    """The bursts a poll of `key` left unannounced (a crash between its batches)."""
    rows = await session.execute(
        sa.select(poll_bursts)
        .where(key.where(poll_bursts))
        .order_by(poll_bursts.c.kind, poll_bursts.c.channel_id)
    )
    return [StoredBurst(row.channel_id, row.kind, row.summary) for row in rows]


async def drop_bursts(
    session: AsyncSession, key: PollKey, buckets: Iterable[tuple[str, str]]
) -> None:
    for channel_id, kind in buckets:
        await session.execute(
            sa.delete(poll_bursts)
            .where(key.where(poll_bursts))
            .where(poll_bursts.c.channel_id == channel_id)
            .where(poll_bursts.c.kind == kind)
        )


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row polls could not read, listed until it reads cleanly."""

    record_key: str  # "" for rows without a usable key
    reason: str
    first_seen_at: datetime

    def __str__(self) -> str:
        return f"{self.record_key or '(no key)'}: {self.reason}"


@dataclass(frozen=True, slots=True)
class SkippedSoFar:
    """What a poll's batches so far left in `skipped_rows`: the keys listed there (the poll
    holds its resource's lease, so no one else lists any meanwhile), and the rows that had no
    usable key (listed as one row): how many, and the first one's reason."""

    listed: frozenset[str] = frozenset()
    count: int = 0
    first_reason: str = ""

    def said(self) -> str:
        return (
            self.first_reason
            if self.count == 1
            else f"{self.count} rows, first: {self.first_reason}"
        )


async def remember_skipped(
    session: AsyncSession,
    key: PollKey,
    skipped: Sequence[SkippedRecord],
    read_keys: Iterable[str],
    *,
    now: datetime,
    before: SkippedSoFar | None = None,
) -> SkippedSoFar:
    """Lists the rows this poll could not read and drops the listed ones whose key read cleanly
    now. Rows without a key cannot be recognised later: a poll's first batch (`before=None`)
    drops the last poll's, and each batch lists them with the earlier batches' (what it
    returns, for the next batch, which then need not read what is listed)."""
    if before is None:
        listed = frozenset(
            (
                await session.execute(
                    sa.select(skipped_rows.c.record_key).where(key.where(skipped_rows))
                )
            )
            .scalars()
            .all()
        )
    else:
        listed = before.listed
    cleared = sorted(listed & set(read_keys) | ({""} & listed if before is None else set()))
    for start in range(0, len(cleared), IN_LIST_KEYS):
        await session.execute(
            sa.delete(skipped_rows)
            .where(key.where(skipped_rows))
            .where(skipped_rows.c.record_key.in_(cleared[start : start + IN_LIST_KEYS]))
        )
    earlier = before or SkippedSoFar()
    count, first_reason = earlier.count, earlier.first_reason
    reasons: dict[str, str] = {}
    for row in skipped:
        if row.record_key:
            reasons[row.record_key] = row.reason
        else:
            count, first_reason = count + 1, first_reason or row.reason
    so_far = SkippedSoFar(listed, count, first_reason)
    if count > earlier.count:
        reasons[""] = so_far.said()
    rows = ({"record_key": record_key, "reason": reason} for record_key, reason in reasons.items())
    shared = {**key.columns(), "first_seen_at": now, "last_seen_at": now}
    await upsert_many(session, skipped_rows, shared, rows, updated=("reason", "last_seen_at"))
    return SkippedSoFar(listed.difference(cleared).union(reasons), count, first_reason)


async def skipped_rows_of(
    session: AsyncSession, team_id: str
) -> dict[tuple[str, str], tuple[SkippedRow, ...]]:
    """(company, record type value) -> the rows still listed as unreadable, oldest first."""
    rows = await session.execute(
        sa.select(skipped_rows)
        .where(skipped_rows.c.team_id == team_id)
        .order_by(skipped_rows.c.first_seen_at, skipped_rows.c.record_key)
    )
    found: dict[tuple[str, str], list[SkippedRow]] = {}
    for row in rows:
        found.setdefault((row.company, row.record_type), []).append(
            SkippedRow(row.record_key, row.reason, row.first_seen_at)
        )
    return {resource: tuple(listed) for resource, listed in found.items()}


async def claim_reminder(
    session: AsyncSession, team_id: str, channel_id: str, due: datetime
) -> bool:
    """True for exactly one caller per (channel, due time): the one that posts the reminder.

    The first claim inserts the row (a second insert fails on the primary key); later ones are
    one conditional UPDATE, atomic on SQLite and PostgreSQL alike, as the poll lease is.
    """
    where = sa.and_(reminder_runs.c.team_id == team_id, reminder_runs.c.channel_id == channel_id)
    result = await session.execute(
        sa.update(reminder_runs)
        .where(where)
        .where(reminder_runs.c.last_due_at < due)
        .values(last_due_at=due)
    )
    if result.rowcount == 1:
        return True
    if await session.scalar(sa.select(sa.func.count()).where(where)):
        return False
    try:
        async with session.begin_nested():
            await session.execute(
                sa.insert(reminder_runs).values(
                    team_id=team_id, channel_id=channel_id, last_due_at=due
                )
            )
    except IntegrityError:
        return False  # another worker claimed it first
    return True


async def extend_lease(
    session: AsyncSession, key: PollKey, *, owner: str, now: datetime, ttl: timedelta
) -> None:
    """A long pass (a reconcile of a big company) keeps the lease it holds alive."""
    await session.execute(
        sa.update(poll_states)
        .where(key.where(poll_states))
        .where(poll_states.c.lease_owner == owner)
        .values(lease_until=now + ttl)
    )


async def forget_seen(session: AsyncSession, key: PollKey, record_key: str) -> None:
    """A record gone from Sage: no channel is told about it again, and nothing waits on it."""
    await session.execute(
        sa.delete(seen_records)
        .where(key.where(seen_records))
        .where(seen_records.c.record_key == record_key)
    )


async def seen_channels(
    session: AsyncSession, key: PollKey, record_key: str
) -> list[tuple[str, SeenRecord]]:
    """(channel, what it was last told) of every channel told about one record."""
    rows = await session.execute(
        sa.select(seen_records)
        .where(key.where(seen_records))
        .where(seen_records.c.record_key == record_key)
        .order_by(seen_records.c.channel_id)
    )
    return [(r.channel_id, SeenRecord(r.version, r.snapshot, r.delivery_id)) for r in rows]


# --- reconcile passes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedKey:
    """What the last pass that listed a key learnt: the agent's version, the tracked key."""

    version: str
    tracked_key: str | None


async def start_reconcile_pass(session: AsyncSession, key: PollKey, *, now: datetime) -> int:
    """A new pass number (every attempt its own, so a failed pass's marks never count) and
    whether a pass ever completed is read with `reconcile_state`."""
    await _ensure_reconcile_state(session, key)
    where = key.where(reconcile_states)
    await session.execute(
        sa.update(reconcile_states)
        .where(where)
        .values(pass_no=reconcile_states.c.pass_no + 1, last_run_at=now, off_reason=None)
    )
    return int(await session.scalar(sa.select(reconcile_states.c.pass_no).where(where)))


async def reconcile_state(session: AsyncSession, key: PollKey) -> Any | None:
    """The resource's reconcile row (pass number, last run, success, error), or None."""
    return (
        await session.execute(sa.select(reconcile_states).where(key.where(reconcile_states)))
    ).first()


async def reconcile_states_of(session: AsyncSession, team_id: str) -> dict[tuple[str, str], Any]:
    """(company, record type value) -> the reconcile row of a team (for `status`)."""
    rows = await session.execute(
        sa.select(reconcile_states).where(reconcile_states.c.team_id == team_id)
    )
    return {(row.company, row.record_type): row for row in rows}


async def finish_reconcile_pass(
    session: AsyncSession, key: PollKey, *, now: datetime, error: str | None
) -> None:
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values["last_success_at"] = now
    await session.execute(
        sa.update(reconcile_states).where(key.where(reconcile_states)).values(**values)
    )


async def _ensure_reconcile_state(session: AsyncSession, key: PollKey) -> None:
    """The resource's reconcile row, inserted unless it exists (a second insert fails on the
    primary key), so a conditional UPDATE can follow."""
    try:
        async with session.begin_nested():
            await session.execute(
                sa.insert(reconcile_states).values(
                    team_id=key.team_id,
                    company=key.company,
                    record_type=key.record_type.value,
                    pass_no=0,
                )
            )
    except IntegrityError:
        pass  # it exists already


async def record_reconcile_off(
    session: AsyncSession, key: PollKey, *, now: datetime, reason: str
) -> None:
    """An attempt that could not run (the agent has no keys listing), for `status` to say why."""
    await _ensure_reconcile_state(session, key)
    await session.execute(
        sa.update(reconcile_states)
        .where(key.where(reconcile_states))
        .values(last_run_at=now, off_reason=reason)
    )


async def claim_reconcile(session: AsyncSession, key: PollKey, due: datetime) -> bool:
    """True for exactly one caller per scheduled due time: one conditional UPDATE, as the poll
    lease does."""
    await _ensure_reconcile_state(session, key)
    result = await session.execute(
        sa.update(reconcile_states)
        .where(key.where(reconcile_states))
        .where(
            sa.or_(reconcile_states.c.last_due_at.is_(None), reconcile_states.c.last_due_at < due)
        )
        .values(last_due_at=due)
    )
    return result.rowcount == 1


async def listed_keys(
    session: AsyncSession, key: PollKey, record_keys: Sequence[str]
) -> dict[str, ListedKey]:
    """{record key: what the last listing of it learnt} for the keys of one page."""
    found: dict[str, ListedKey] = {}
    for start in range(0, len(record_keys), IN_LIST_KEYS):
        rows = await session.execute(
            sa.select(
                reconcile_keys.c.record_key,
                reconcile_keys.c.version,
                reconcile_keys.c.tracked_key,
            )
            .where(key.where(reconcile_keys))
            .where(reconcile_keys.c.record_key.in_(record_keys[start : start + IN_LIST_KEYS]))
        )
        for record_key, version, tracked_key in rows:
            found[record_key] = ListedKey(version, tracked_key)
    return found


async def mark_listed(
    session: AsyncSession,
    key: PollKey,
    pass_no: int,
    unchanged: Sequence[str],
    learnt: Mapping[str, ListedKey],
    known: Iterable[str],
) -> None:
    """Keys listed by pass `pass_no`: `unchanged` only get the pass, `learnt` are written
    (updated where `known`, inserted otherwise)."""
    for start in range(0, len(unchanged), IN_LIST_KEYS):
        await session.execute(
            sa.update(reconcile_keys)
            .where(key.where(reconcile_keys))
            .where(reconcile_keys.c.record_key.in_(unchanged[start : start + IN_LIST_KEYS]))
            .values(pass_no=pass_no)
        )
    known = set(known)
    updates = [
        {"k": record_key, "v": listed.version, "t": listed.tracked_key}
        for record_key, listed in learnt.items()
        if record_key in known
    ]
    if updates:
        await session.execute(
            sa.update(reconcile_keys)
            .where(key.where(reconcile_keys))
            .where(reconcile_keys.c.record_key == sa.bindparam("k"))
            .values(version=sa.bindparam("v"), tracked_key=sa.bindparam("t"), pass_no=pass_no),
            updates,
        )
    inserts = [
        {
            "team_id": key.team_id,
            "company": key.company,
            "record_type": key.record_type.value,
            "record_key": record_key,
            "version": listed.version,
            "tracked_key": listed.tracked_key,
            "pass_no": pass_no,
        }
        for record_key, listed in learnt.items()
        if record_key not in known
    ]
    if inserts:
        await session.execute(sa.insert(reconcile_keys), inserts)


async def learn_tracked_keys(
    session: AsyncSession, key: PollKey, tracked: Mapping[str, str]
) -> None:
    """{record key: tracked key} for keys listed without one (a first pass learns them from a
    full listing rather than one read per key)."""
    if tracked:
        await session.execute(
            sa.update(reconcile_keys)
            .where(key.where(reconcile_keys))
            .where(reconcile_keys.c.record_key == sa.bindparam("k"))
            .values(tracked_key=sa.bindparam("t")),
            [{"k": k, "t": t} for k, t in tracked.items()],
        )


async def unlisted_keys(
    session: AsyncSession, key: PollKey, pass_no: int, *, after: str | None, limit: int
) -> list[tuple[str, str | None]]:
    """(record key, tracked key) of keys pass `pass_no` did not list, by record key, a page
    at a time: the candidates gone."""
    query = (
        sa.select(reconcile_keys.c.record_key, reconcile_keys.c.tracked_key)
        .where(key.where(reconcile_keys))
        .where(reconcile_keys.c.pass_no < pass_no)
        .order_by(reconcile_keys.c.record_key)
        .limit(limit)
    )
    if after is not None:
        query = query.where(reconcile_keys.c.record_key > after)
    return [(k, t) for k, t in (await session.execute(query)).all()]


async def tracked_key_listed(
    session: AsyncSession, key: PollKey, tracked_key: str, pass_no: int
) -> bool:
    """Whether pass `pass_no` listed another key of the same tracked record (an AP invoice
    that moved from AP_InvoiceHeader to AP_OpenInvoice when posted)."""
    found = await session.scalar(
        sa.select(sa.func.count())
        .where(key.where(reconcile_keys))
        .where(reconcile_keys.c.tracked_key == tracked_key)
        .where(reconcile_keys.c.pass_no == pass_no)
    )
    return bool(found)


async def drop_listed_key(session: AsyncSession, key: PollKey, record_key: str) -> None:
    await session.execute(
        sa.delete(reconcile_keys)
        .where(key.where(reconcile_keys))
        .where(reconcile_keys.c.record_key == record_key)
    )


async def drop_unlisted_keys(session: AsyncSession, key: PollKey, pass_no: int) -> None:
    """A first pass forgets what an unfinished earlier attempt listed and this one did not."""
    await session.execute(
        sa.delete(reconcile_keys)
        .where(key.where(reconcile_keys))
        .where(reconcile_keys.c.pass_no < pass_no)
    )


async def relist_key(session: AsyncSession, key: PollKey, record_key: str, pass_no: int) -> None:
    """A key the listing missed but a read by key found: still there."""
    await session.execute(
        sa.update(reconcile_keys)
        .where(key.where(reconcile_keys))
        .where(reconcile_keys.c.record_key == record_key)
        .values(pass_no=pass_no)
    )
