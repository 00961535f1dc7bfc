"""One poll of one (workspace, company, record type), end to end, crash-safe, in bounded memory.

    lease (own transaction) -> read the agent's listing a batch of pages at a time; each batch:
    load its seen rows, plan it (`plan.py`, pure, in a thread), execute the plan in its own short
    transaction (queue, store seen versions and burst summaries, move the cursor) while the next
    batch is planned -> the last batch, the held singles and the digests, state and audit in the
    last transaction -> release the lease

A crash after any batch's commit loses nothing and posts nothing twice: the cursor stands where
the committed batches end (never past a record held back), so the next poll re-reads from there
minus the lookback, and the seen versions make the committed records silent; a burst's stored
summary is announced by the next poll first. The delivery worker drains the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.delivery.outbox import OutboundMessage, enqueue_many
from bolt_app.errors import MLConnectorError
from bolt_app.metrics import Metrics
from bolt_app.polling.bursts import DEFAULT_BURST_THRESHOLD, DEFAULT_BURST_UPDATES
from bolt_app.polling.outcome import PollOutcome
from bolt_app.polling.plan import (
    BurstSummary,
    Counts,
    PlanContext,
    PlannedMessage,
    PlannedSeen,
    PlanState,
    PollPlan,
    Posted,
    plan_batch,
    plan_finish,
    plan_leftovers,
    tracked_keys,
)
from bolt_app.polling.readahead import read_ahead
from bolt_app.polling.store import (
    PollKey,
    SeenRecord,
    SeenUpdate,
    SkippedSoFar,
    StoredBurst,
    acquire_lease,
    drop_bursts,
    load_bursts,
    load_cursor,
    load_seen,
    move_cursor,
    record_failure,
    record_success,
    release_lease,
    remember_skipped,
    save_bursts,
    save_seen,
)
from bolt_app.polling.tracking import ChangeKind
from bolt_app.polling.window import (
    DEFAULT_LOOKBACK,
    DEFAULT_SETTLE_LAG,
    PollWindow,
    plan_window,
)
from bolt_app.records.registry import describe
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import all_routes, load_workspace, running_connections
from bolt_app.workspace.model import WorkspaceConfig
from sage.client import AgentClient
from sage.connection import ConnectionSettings
from sage.errors import SageError
from sage.records import RecordType, SageRecord, SkippedRecord
from sage.resources import RESOURCES, by_record_type

log = logging.getLogger(__name__)

AgentClientFactory = Callable[[ConnectionSettings], AgentClient]


@dataclass(frozen=True, slots=True)
class PollTuning:
    """The poller's knobs (page size, batch size, lookback, settle lag, bursts, lease),
    production defaults; tests shrink pages and batches to cross their boundaries."""

    lookback: timedelta = DEFAULT_LOOKBACK
    settle_lag: timedelta = DEFAULT_SETTLE_LAG
    burst_threshold: int = DEFAULT_BURST_THRESHOLD
    burst_updates: int = DEFAULT_BURST_UPDATES
    lease_ttl: timedelta = timedelta(minutes=15)
    # 500 a page: a fifth of the round trips of the contract's default 200, while a page of
    # purchase orders (one lines query each on the agent) still answers well inside the
    # client's deadline on a slow ProvideX driver.
    page_size: int = 500
    batch_size: int = 1000  # records per transaction (whole pages; GL registers: one batch)
    pages_ahead: int = 2  # pages read from the agent while a batch is planned and committed


def _default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PollService:
    """Polls on demand (`poll`, `poll_all`); the scheduler and `poll --once` call it."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        box: SecretBox,
        agent_client_for: AgentClientFactory = AgentClient,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        tuning: PollTuning | None = None,
        owner: str | None = None,
        metrics: Metrics | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = session_factory
        self._box = box
        self._agent_client_for = agent_client_for
        self._now = now
        self._tuning = tuning or PollTuning()
        self._owner = owner or _default_owner()
        self._metrics = metrics
        self._monotonic = monotonic

    async def targets(self, team_id: str | None = None) -> list[PollKey]:
        """Every (workspace, company, record type) with a channel, paused workspaces left out."""
        async with self._sessions() as session:
            connections = await running_connections(session, team_id)
            routes = await all_routes(session)
        routed = {(team, RecordType(record_type)) for team, record_type in routes}
        return [
            PollKey(team, company, resource.record_type)
            for team, companies in connections
            for company in companies
            for resource in RESOURCES
            if (team, resource.record_type) in routed
        ]

    async def poll_all(self, team_id: str | None = None) -> list[PollOutcome]:
        return [await self.poll(key) for key in await self.targets(team_id)]

    async def poll(self, key: PollKey, *, due: datetime | None = None) -> PollOutcome:
        """`due` is the scheduled time a scheduler job polls for; None polls on demand."""
        now = self._now()
        async with self._sessions.begin() as session:
            acquired = await acquire_lease(
                session, key, owner=self._owner, now=now, due=due, ttl=self._tuning.lease_ttl
            )
        if not acquired:
            return PollOutcome(key, ran=False)
        started = self._monotonic()
        try:
            outcome = await self._poll_leased(key)
        except (SageError, MLConnectorError) as error:
            outcome = await self._fail(key, str(error))
        except Exception as error:  # noqa: BLE001 - one broken poll must not stop the others
            log.exception("poll %s failed", key)
            outcome = await self._fail(key, f"{type(error).__name__}: {error}")
        finally:
            async with self._sessions.begin() as session:
                await release_lease(session, key, owner=self._owner)
        if self._metrics is not None:
            self._metrics.record_poll(
                team_id=key.team_id,
                company=key.company,
                record_type=str(key.record_type),
                seconds=self._monotonic() - started,
                succeeded_at=self._now() if outcome.ok else None,
            )
        return outcome

    async def _fail(self, key: PollKey, error: str) -> PollOutcome:
        now = self._now()
        async with self._sessions.begin() as session:
            await record_failure(session, key, now=now, error=error)
            await record_audit_event(
                session,
                team_id=key.team_id,
                kind="poll.failed",
                actor="poller",
                summary=f"Poll of {key.company} {key.record_type} failed: {error}",
                details={
                    "company": key.company,
                    "record_type": str(key.record_type),
                    "error": error,
                },
                now=now,
            )
        return PollOutcome(key, error=error)

    async def _poll_leased(self, key: PollKey) -> PollOutcome:
        async with self._sessions() as session:
            config = await load_workspace(session, key.team_id, self._box)
            if config is None or config.connection is None:
                raise MLConnectorError(f"workspace {key.team_id} has no Sage connection configured")
            cursor = await load_cursor(session, key, config.connection.timezone)
            leftovers = await load_bursts(session, key)
        resource = by_record_type(key.record_type)
        description = describe(key.record_type)
        async with self._agent_client_for(config.connection) as agent:
            health = await agent.health()
            backfill = timedelta(days=config.backfill_days) if config.backfill_days else None
            window = plan_window(
                cursor,
                health.server_now,
                lookback=self._tuning.lookback,
                settle_lag=self._tuning.settle_lag,
                backfill=backfill,
                whole_baseline=description.whole_baseline,
            )
            run = _Run(self, key, self._context(key, config, window, first=cursor is None), cursor)
            if leftovers:
                async with self._sessions.begin() as session:
                    await run.announce_leftovers(session, leftovers)
            batch = _Batch()
            listing = agent.list_changes(
                resource, key.company, window.since, page_size=self._tuning.page_size
            )
            try:
                async with read_ahead(listing, self._tuning.pages_ahead) as pages:
                    async for page in pages:
                        batch.add(page.records, page.skipped, page.last_stamp)
                        if batch.size >= self._tuning.batch_size and not description.register_lines:
                            await run.overlapped(batch)
                            batch = _Batch()
            except BaseException:
                await run.abandon()
                raise
            await run.written()
        async with self._sessions.begin() as session:
            await run.batch(session, batch)
            return await run.finish(session)

    def _context(
        self, key: PollKey, config: WorkspaceConfig, window: PollWindow, *, first: bool
    ) -> PlanContext:
        assert config.connection is not None
        return PlanContext(
            key=key,
            description=describe(key.record_type),
            window=window,
            zone=config.connection.timezone,
            default_channel=config.channels.get(key.record_type),
            rules=config.rules,
            record_url=config.connection.record_url,
            burst_threshold=self._tuning.burst_threshold,
            burst_updates=self._tuning.burst_updates,
            first=first,
        )

    async def announce(
        self,
        session: AsyncSession,
        key: PollKey,
        config: WorkspaceConfig,
        records: list[SageRecord],
        *,
        server_now: datetime,
    ) -> int:
        """Records read outside a change listing (a reconcile's reads by key) through the poll's
        own plan, in the caller's transaction, as one batch; no cursor moves and no burst is
        stored. How many were news (new or changed for some channel)."""
        context = self._context(
            key, config, PollWindow(since=None, signpost=server_now, baseline=False), first=False
        )
        seen = await load_seen(session, key, tracked_keys(context, records))
        plan, state = plan_batch(context, PlanState(cursor=None), records, seen)
        now = self._now()
        await execute(session, key, plan, now=now, in_poll=False)
        await execute(session, key, plan_finish(context, state), now=now, in_poll=False)
        return plan.counts.new + plan.counts.changed


def _as_seen(version: str, snapshot: object, delivery: int | Posted | None) -> SeenRecord:
    """A batch's seen row as the next batch reads it; a batch's rows name delivery ids (only
    the poll's last plan posts singles, whose rows refer to their posts)."""
    if isinstance(delivery, Posted):
        raise TypeError(f"a batch's seen row of {delivery.record_key} refers to a post")
    return SeenRecord(version, snapshot, delivery)


@dataclass(slots=True)
class _Batch:
    """Whole pages of the listing, up to a batch's size."""

    records: list[SageRecord]
    skipped: list[SkippedRecord]
    stamps: list[datetime | None]

    def __init__(self) -> None:
        self.records, self.skipped, self.stamps = [], [], []

    def add(
        self,
        records: Sequence[SageRecord],
        skipped: Sequence[SkippedRecord],
        last_stamp: datetime | None,
    ) -> None:
        self.records.extend(records)
        self.skipped.extend(skipped)
        self.stamps.append(last_stamp)

    @property
    def size(self) -> int:
        return len(self.records) + len(self.skipped)


class _Run:
    """One poll's batches: plan each, execute it in a transaction, add up.

    A batch is planned while the one before it is still being written (`overlapped`): SQLite
    and PostgreSQL do their share of a write (and a commit's flush) without holding Python's
    lock, so the planning goes on meanwhile. The plan reads its seen rows as committed and
    takes the rows the batch being written stores over them; a batch's transaction opens only
    once the one before it has committed, so the cursor still moves batch by batch."""

    def __init__(
        self, service: PollService, key: PollKey, context: PlanContext, cursor: datetime | None
    ) -> None:
        self.service = service
        self.key = key
        self.context = context
        self.state = PlanState(cursor=cursor)
        self.counts = Counts()
        self.skipped: list[str] = []
        self.queued = 0
        self.skipped_so_far: SkippedSoFar | None = None  # None until a batch is written
        self._writing: asyncio.Task[None] | None = None
        self._being_written: Sequence[PlannedSeen] = ()  # the seen rows of the batch in flight

    async def announce_leftovers(self, session: AsyncSession, leftovers: list[StoredBurst]) -> None:
        """A crashed poll's bursts: their members' seen rows are committed, so announce them."""
        bursts = [
            BurstSummary.from_json(burst.channel_id, ChangeKind(burst.kind), burst.summary)
            for burst in leftovers
        ]
        plan = plan_leftovers(self.context, bursts)
        self.queued += await execute(session, self.key, plan, now=self.service._now())

    async def batch(self, session: AsyncSession, batch: _Batch) -> None:
        """Plans the batch and executes it in the caller's transaction (the poll's last)."""
        await self.written()
        seen = await load_seen(session, self.key, tracked_keys(self.context, batch.records))
        plan = await self._plan(batch, seen)
        await self._execute(session, batch, plan)

    async def overlapped(self, batch: _Batch) -> None:
        """Plans the batch, then, once the batch before it is committed, writes it in its own
        transaction in a task of its own, which `written` waits for."""
        keys = tracked_keys(self.context, batch.records)
        async with self.service._sessions() as session:
            seen = await load_seen(session, self.key, keys)
        wanted = set(keys)
        seen = {
            **seen,
            **{
                (row.record_key, row.channel): _as_seen(row.version, row.snapshot, row.delivery)
                for row in self._being_written
                if row.record_key in wanted
            },
        }
        plan = await self._plan(batch, seen)
        await self.written()
        self._being_written = plan.seen
        self._writing = asyncio.create_task(self._write(batch, plan))

    async def written(self) -> None:
        """Waits for the batch being written; its failure is the poll's."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    async def abandon(self) -> None:
        """The poll failed: the batch being written commits or fails on its own (either way
        the cursor stands where the committed batches end)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await asyncio.gather(writing, return_exceptions=True)

    async def _plan(self, batch: _Batch, seen: Mapping[tuple[str, str], SeenRecord]) -> PollPlan:
        plan, self.state = await asyncio.to_thread(
            plan_batch, self.context, self.state, batch.records, seen, batch.stamps
        )
        return plan

    async def _write(self, batch: _Batch, plan: PollPlan) -> None:
        async with self.service._sessions.begin() as session:
            await self._execute(session, batch, plan)

    async def _execute(self, session: AsyncSession, batch: _Batch, plan: PollPlan) -> None:
        now = self.service._now()
        self.queued += await execute(session, self.key, plan, now=now)
        self.skipped_so_far = await remember_skipped(
            session,
            self.key,
            batch.skipped,
            (record.record_key for record in batch.records),
            now=now,
            before=self.skipped_so_far,
        )
        self.counts += plan.counts
        self.skipped += [f"{s.record_key or '(no key)'}: {s.reason}" for s in batch.skipped]

    async def finish(self, session: AsyncSession) -> PollOutcome:
        plan = plan_finish(self.context, self.state)
        now = self.service._now()
        self.queued += await execute(session, self.key, plan, now=now)
        counts = self.counts
        outcome = PollOutcome(
            self.key,
            read=counts.read + len(self.skipped),
            new=counts.new,
            changed=counts.changed,
            unchanged=counts.unchanged,
            skipped=tuple(self.skipped),
            waiting=counts.waiting,
            queued=self.queued,
        )
        await record_success(
            session, self.key, cursor=plan.cursor, now=now, records_seen=outcome.read
        )
        await self._audit(session, outcome, plan.cursor, now)
        return outcome

    async def _audit(
        self, session: AsyncSession, outcome: PollOutcome, cursor: datetime | None, now: datetime
    ) -> None:
        window, key = self.context.window, self.key
        mode = "baseline" if window.baseline else "poll"
        await record_audit_event(
            session,
            team_id=key.team_id,
            kind="poll",
            actor="poller",
            summary=(
                f"Polled {key.company} {key.record_type} ({mode}): {outcome.read} read, "
                f"{outcome.new} new, {outcome.changed} changed, {len(outcome.skipped)} skipped, "
                f"{outcome.waiting} waiting for the next poll."
            ),
            details={
                "company": key.company,
                "record_type": str(key.record_type),
                "mode": mode,
                "since": window.since.isoformat() if window.since else None,
                "signpost": window.signpost.isoformat(),
                "cursor": cursor.isoformat() if cursor else None,
                "read": outcome.read,
                "new": outcome.new,
                "changed": outcome.changed,
                "unchanged": outcome.unchanged,
                "skipped": list(outcome.skipped),
                "waiting": outcome.waiting,
                "queued": outcome.queued,
                "error": None,
            },
            now=now,
        )


async def execute(
    session: AsyncSession,
    key: PollKey,
    plan: PollPlan,
    *,
    now: datetime,
    in_poll: bool = True,
) -> int:
    """Carries out a plan in the caller's transaction: the messages and the seen versions (a
    row naming a POST of the plan gets that POST's id), and, `in_poll`, the bursts' running
    summaries and the cursor, which only a poll keeps (a reconcile's reads touch neither). How
    many messages were queued."""
    outbound = [_outbound(key, message) for message in plan.messages]
    ids = await enqueue_many(session, outbound, now=now)
    posted = {
        (message.record_key, message.channel): delivery_id
        for message, delivery_id in zip(plan.messages, ids, strict=True)
        if message.announces
    }
    updates = [
        SeenUpdate(
            s.record_key,
            s.channel,
            SeenRecord(
                s.version,
                s.snapshot,
                posted[(s.delivery.record_key, s.delivery.channel)]
                if isinstance(s.delivery, Posted)
                else s.delivery,
            ),
        )
        for s in plan.seen
    ]
    await save_seen(session, key, updates, now=now)
    if in_poll:
        stored = [StoredBurst(b.channel, b.kind.value, b.as_json()) for b in plan.bursts]
        await save_bursts(session, key, stored, now=now)
        await drop_bursts(session, key, ((c, k.value) for c, k in plan.bursts_done))
        if plan.cursor is not None:
            await move_cursor(session, key, plan.cursor)
    return len(plan.messages)


def _outbound(key: PollKey, message: PlannedMessage) -> OutboundMessage:
    return OutboundMessage(
        team_id=key.team_id,
        channel_id=message.channel,
        kind=message.kind,
        message=message.message,
        company=key.company,
        record_type=key.record_type,
        record_key=message.record_key,
        parent_delivery_id=message.parent,
    )
