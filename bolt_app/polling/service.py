"""One poll of one (workspace, company, record type), end to end, crash-safe.

    lease (own transaction) -> read the agent (no transaction open) -> one transaction that
    compares with seen versions, queues the messages, stores the new versions and moves the
    cursor -> audit + state -> release the lease

A crash before that one commit leaves the cursor, the seen versions and the outbox exactly as
they were: the next poll reads the same records and announces them once. After the commit the
messages are in the outbox, which the delivery worker drains. Every resource is driven through
its `sage.resources` description; only how records become tracked items differs per type.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.blocks.messages import (
    SlackMessage,
    build_change_digest_message,
    build_change_reply,
    build_connected_message,
    build_digest_message,
    describe_change,
)
from bolt_app.crypto import SecretBox
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue_many
from bolt_app.errors import MLConnectorError
from bolt_app.metrics import Metrics
from bolt_app.polling import messages
from bolt_app.polling.bursts import (
    DEFAULT_BURST_THRESHOLD,
    DEFAULT_BURST_UPDATES,
    collapse_bursts,
    newest_parents,
)
from bolt_app.polling.cooperative import cooperatively
from bolt_app.polling.outcome import PollOutcome
from bolt_app.polling.registers import (
    REGISTER_QUIET,
    merge_register,
    register_key,
    split_registers,
)
from bolt_app.polling.routing import destinations
from bolt_app.polling.snapshots import record_snapshot, snapshot_record
from bolt_app.polling.store import (
    PollKey,
    SeenRecord,
    SeenUpdate,
    acquire_lease,
    load_cursor,
    load_seen,
    record_failure,
    record_success,
    release_lease,
    remember_skipped,
    save_seen,
)
from bolt_app.polling.tracking import ChangeKind, classify, version_of
from bolt_app.polling.window import (
    DEFAULT_LOOKBACK,
    DEFAULT_SETTLE_LAG,
    PollWindow,
    advance_cursor,
    is_due,
    plan_window,
)
from bolt_app.records.registry import describe
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import all_routes, load_workspace, running_connections
from bolt_app.workspace.model import WorkspaceConfig
from bolt_app.workspace.rules import RoutingRule
from sage.client import AgentClient
from sage.connection import ConnectionSettings
from sage.errors import SageError
from sage.records import (
    APInvoice,
    GLAccount,
    GLPosting,
    GLRegister,
    PurchaseOrder,
    RecordType,
    SageRecord,
    SkippedRecord,
)
from sage.resources import RESOURCES, by_record_type

log = logging.getLogger(__name__)

Shown = APInvoice | PurchaseOrder | GLRegister | GLAccount

AgentClientFactory = Callable[[ConnectionSettings], AgentClient]


@dataclass(frozen=True, slots=True)
class PollTuning:
    """The poller's knobs (page size, lookback, settle lag, bursts, lease), production defaults;
    tests shrink pages to cross page boundaries."""

    lookback: timedelta = DEFAULT_LOOKBACK
    settle_lag: timedelta = DEFAULT_SETTLE_LAG
    burst_threshold: int = DEFAULT_BURST_THRESHOLD
    burst_updates: int = DEFAULT_BURST_UPDATES
    lease_ttl: timedelta = timedelta(minutes=15)
    page_size: int = 200


@dataclass(frozen=True, slots=True)
class _Verdict:
    """How an item compares with what one channel was last told, and what to show now."""

    kind: ChangeKind
    version: str
    snapshot: object
    record: Shown
    previous: Shown | None  # the record as last shown, for "old -> new"


@dataclass(frozen=True, slots=True)
class _Item:
    """One thing a channel hears about: an invoice, an order, a register, an account."""

    key: str
    record: Shown  # what routing rules look at
    stamp_source: Sequence[SageRecord]
    judge: Callable[[SeenRecord | None], _Verdict]


@dataclass(slots=True)
class _Send:
    channel: str
    key: str
    verdict: _Verdict
    previous: SeenRecord | None
    mentions: tuple[str, ...] = ()
    delivery_id: int | None = field(default=None)

    @property
    def kind(self) -> ChangeKind:
        return self.verdict.kind


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
            zone = config.connection.timezone
            cursor = await load_cursor(session, key, zone)
        resource = by_record_type(key.record_type)
        async with self._agent_client_for(config.connection) as agent:
            health = await agent.health()
            backfill = timedelta(days=config.backfill_days) if config.backfill_days else None
            window = plan_window(
                cursor,
                health.server_now,
                lookback=self._tuning.lookback,
                settle_lag=self._tuning.settle_lag,
                backfill=backfill,
                whole_baseline=describe(key.record_type).whole_baseline,
            )
            records: list[SageRecord] = []
            skipped: list[SkippedRecord] = []
            page_stamps: list[datetime | None] = []
            async for page in agent.list_changes(
                resource, key.company, window.since, page_size=self._tuning.page_size
            ):
                records.extend(page.records)
                skipped.extend(page.skipped)
                page_stamps.append(page.last_stamp)
        async with self._sessions.begin() as session:
            return await _Commit(
                session,
                key,
                config,
                window,
                first=cursor is None,
                now=self._now(),
                burst_threshold=self._tuning.burst_threshold,
                burst_updates=self._tuning.burst_updates,
                zone=zone,
            ).run(cursor, records, skipped, page_stamps)

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
        own comparison and messages, in the caller's transaction; no cursor moves. How many were
        news (new or changed for some channel)."""
        assert config.connection is not None
        commit = _Commit(
            session,
            key,
            config,
            PollWindow(since=None, signpost=server_now, baseline=False),
            first=False,
            now=self._now(),
            burst_threshold=self._tuning.burst_threshold,
            burst_updates=self._tuning.burst_updates,
            zone=config.connection.timezone,
        )
        _, sends, _, _ = await commit.announce(records)
        return len({send.key for send in sends if send.kind is not ChangeKind.UNCHANGED})


class _Commit:
    """The one transaction of a poll: compare, queue, remember, move the cursor, audit."""

    def __init__(
        self,
        session: AsyncSession,
        key: PollKey,
        config: WorkspaceConfig,
        window: PollWindow,
        *,
        first: bool,
        now: datetime,
        burst_threshold: int,
        burst_updates: int,
        zone: ZoneInfo,
    ) -> None:
        self.session = session
        self.key = key
        self.rules: tuple[RoutingRule, ...] = config.rules
        self.window = window
        self.first = first
        self.now = now
        self.burst_threshold = burst_threshold
        self.burst_updates = burst_updates
        self.description = describe(key.record_type)
        self.default_channel = config.channels.get(key.record_type)
        self.zone = zone
        self.record_url = config.connection.record_url if config.connection else None
        self.queued = 0
        self.outbox: list[tuple[OutboundMessage, _Send | None]] = []

    async def run(
        self,
        cursor: datetime | None,
        records: list[SageRecord],
        skipped: list[SkippedRecord],
        page_stamps: list[datetime | None],
    ) -> PollOutcome:
        items, sends, hold_from, later = await self.announce(records)
        handled = [record.stamps.changed_at for item in items for record in item.stamp_source]
        new_cursor = advance_cursor(
            cursor, self.window, [*handled, *page_stamps], hold_from=hold_from
        )
        outcome = self._outcome(len(items), sends, len(records), skipped, later)
        await remember_skipped(
            self.session, self.key, skipped, (r.record_key for r in records), now=self.now
        )
        await record_success(
            self.session, self.key, cursor=new_cursor, now=self.now, records_seen=outcome.read
        )
        await self._audit(outcome, new_cursor)
        return outcome

    async def announce(
        self, records: list[SageRecord]
    ) -> tuple[list[_Item], list[_Send], datetime | None, int]:
        """Compare with what each channel was told, build and write the messages, remember the
        versions: items, sends, the stamp to hold the cursor at, and how many records wait."""
        items, hold_from, later = await self._items(records)
        seen = await load_seen(self.session, self.key, [item.key for item in items])
        sends: list[_Send] = []
        async for item in cooperatively(items):
            for destination in destinations(
                self.key.record_type, item.record, self.default_channel, self.rules
            ):
                previous = seen.get((item.key, destination.channel))
                sends.append(
                    _Send(
                        destination.channel,
                        item.key,
                        item.judge(previous),
                        previous,
                        destination.mentions,
                    )
                )
        if self.first:
            self._connected()
        if not self.window.baseline:
            await self._queue(sends)
        await self._write_outbox()
        updates = [
            SeenUpdate(
                send.key,
                send.channel,
                SeenRecord(send.verdict.version, send.verdict.snapshot, send.delivery_id),
            )
            async for send in cooperatively(sends)
            if send.kind is not ChangeKind.UNCHANGED
        ]
        await save_seen(self.session, self.key, updates, now=self.now)
        return items, sends, hold_from, later

    # --- records -> items -----------------------------------------------------------------

    async def _items(self, records: list[SageRecord]) -> tuple[list[_Item], datetime | None, int]:
        """Tracked items due now, the stamp to hold the cursor at, and how many wait."""
        if self.description.register_lines:
            lines = [r for r in records if isinstance(r, GLPosting)]
            split = split_registers(lines, self.window)
            items = [
                self._register_item(key, group) async for key, group in cooperatively(split.settled)
            ]
            return items, split.hold_from, split.held_count
        due = [r for r in records if is_due(r.stamps.changed_at, self.window)]
        waiting = [r for r in due if self._lines_pending(r)]
        due = [r for r in due if not self._lines_pending(r)]
        hold_from = min((r.stamps.changed_at for r in waiting if r.stamps.changed_at), default=None)
        latest: dict[str, _Item] = {}
        async for record in cooperatively(due):  # ascending stamps: a later row of a key wins
            item = self._record_item(record)
            latest.pop(item.key, None)
            latest[item.key] = item
        return list(latest.values()), hold_from, len(records) - len(due)

    def _lines_pending(self, record: SageRecord) -> bool:
        """A new record read without its lines (an order with a total but no lines: the agent
        can serve a header before its lines, which arrive without a new stamp). It waits
        (holding the cursor) until it is `REGISTER_QUIET` old, so the first message shows them."""
        awaiting_lines = self.description.awaiting_lines
        if self.window.baseline or awaiting_lines is None:
            return False
        stamp = record.stamps.changed_at
        young = stamp is not None and stamp > self.window.signpost - REGISTER_QUIET
        return young and awaiting_lines(record)

    def _record_item(self, record: SageRecord) -> _Item:
        description = self.description
        if not isinstance(record, description.record_class):
            raise TypeError(f"{type(record).__name__} is not a {description.record_type} record")
        assert description.tracked_key is not None and description.tracked_fields is not None
        key = description.tracked_key(record)
        version = version_of(description.tracked_fields(record))
        snapshot = record_snapshot(record)
        zone = self.zone

        def judge(previous: SeenRecord | None) -> _Verdict:
            kind = classify(version, previous.version if previous else None)
            old = None
            if kind is ChangeKind.CHANGED:
                old = snapshot_record(type(record), previous.snapshot, zone, like=record)
            return _Verdict(kind, version, snapshot, record, old)

        return _Item(key, record, (record,), judge)

    def _register_item(self, register: tuple[str, str], lines: Sequence[GLPosting]) -> _Item:
        company, zone = self.key.company, self.zone

        def judge(previous: SeenRecord | None) -> _Verdict:
            merged = merge_register(
                company, register, previous.snapshot if previous else None, lines, zone
            )
            if previous is None:
                kind = ChangeKind.NEW
            else:
                kind = ChangeKind.CHANGED if merged.added else ChangeKind.UNCHANGED
            return _Verdict(kind, merged.version, merged.snapshot, merged.register, merged.previous)

        alone = merge_register(company, register, None, lines, zone).register
        return _Item(register_key(register), alone, tuple(lines), judge)

    # --- messages ---------------------------------------------------------------------------
    # Messages are built first, then written in one batch: the write lock is not held while
    # Block Kit is built. A POST that becomes a record's parent hands its id to that `_Send`.

    def _post(self, outbound: OutboundMessage, owner: _Send | None = None) -> None:
        self.outbox.append((outbound, owner))

    async def _write_outbox(self) -> None:
        ids = await enqueue_many(
            self.session, [outbound for outbound, _ in self.outbox], now=self.now
        )
        self.queued += len(ids)
        for (_, owner), delivery_id in zip(self.outbox, ids, strict=True):
            if owner is not None:
                owner.delivery_id = delivery_id

    def _outbound(
        self,
        channel: str,
        kind: DeliveryKind,
        message: SlackMessage,
        record_key: str,
        parent: int | None = None,
    ) -> OutboundMessage:
        return OutboundMessage(
            team_id=self.key.team_id,
            channel_id=channel,
            kind=kind,
            message=message,
            company=self.key.company,
            record_type=self.key.record_type,
            record_key=record_key,
            parent_delivery_id=parent,
        )

    def _connected(self) -> None:
        """One short note per channel of this record type, so a quiet channel is not a mystery."""
        channels = [self.default_channel] if self.default_channel else []
        for rule in self.rules:
            if rule.record_type is self.key.record_type and rule.channel not in (None, *channels):
                channels.append(rule.channel)
        message = build_connected_message(self.key.company, self.key.record_type)
        for channel in channels:
            self._post(self._outbound(channel, DeliveryKind.POST, message, "connected"))

    def _message(self, send: _Send, *, with_previous: bool = False) -> SlackMessage:
        return messages.record_message(
            send.verdict.record,
            previous=send.verdict.previous if with_previous else None,
            record_url=self.record_url,
            mentions=send.mentions,
        )

    async def _queue(self, sends: list[_Send]) -> None:
        posts = [send for send in sends if send.kind is ChangeKind.NEW]
        changes = [send for send in sends if send.kind is ChangeKind.CHANGED]
        single_changes, change_bursts = collapse_bursts(
            changes, lambda s: s.channel, self.burst_threshold
        )
        async for send in cooperatively(single_changes):
            self._queue_change(send)
        for channel, group in change_bursts.items():
            await self._queue_change_burst(channel, group)
        single, digests = collapse_bursts(posts, lambda s: s.channel, self.burst_threshold)
        for channel, group in digests.items():
            records = [send.verdict.record async for send in cooperatively(group)]
            self._digest(channel, group, build_digest_message(self.key.record_type, records))
        async for send in cooperatively(single):
            message = self._message(send)
            self._post(self._outbound(send.channel, DeliveryKind.POST, message, send.key), send)

    def _digest(self, channel: str, group: list[_Send], digest: SlackMessage) -> None:
        # A rule's user group is still pinged when its record is folded into a digest.
        mentions = tuple(dict.fromkeys(m for send in group for m in send.mentions))
        message = messages.with_mentions(digest, mentions)
        self._post(self._outbound(channel, DeliveryKind.POST, message, f"digest:{len(group)}"))

    async def _queue_change_burst(self, channel: str, group: list[_Send]) -> None:
        """One digest of the changes, and the newest earlier messages updated in place (no
        reply each); the others keep their delivery id, so a later change still updates them."""
        for send in group:
            send.delivery_id = send.previous.delivery_id if send.previous else None
        budget = 0 if self.description.changes_post_fresh else self.burst_updates
        updated = newest_parents(group, lambda s: s.delivery_id, budget)
        with_parent = sum(1 for send in group if send.delivery_id is not None)
        changes = [
            (verdict.record, describe_change(verdict.previous or verdict.record, verdict.record))
            async for verdict in cooperatively(send.verdict for send in group)
        ]
        digest = build_change_digest_message(
            self.key.record_type, changes, left_as_posted=with_parent - len(updated)
        )
        self._digest(channel, group, digest)
        for send in updated:
            self._post(
                self._outbound(
                    channel, DeliveryKind.UPDATE, self._message(send), send.key, send.delivery_id
                )
            )

    def _queue_change(self, send: _Send) -> None:
        """An update in place plus a one-line reply; a fresh post when there is nothing to
        update (baseline, digest) and for types whose changes are events of their own."""
        parent = send.previous.delivery_id if send.previous else None
        if parent is None or self.description.changes_post_fresh:
            message = self._message(send, with_previous=True)
            self._post(self._outbound(send.channel, DeliveryKind.POST, message, send.key), send)
            return
        send.delivery_id = parent
        update = self._outbound(
            send.channel, DeliveryKind.UPDATE, self._message(send), send.key, parent
        )
        self._post(update)
        reply = build_change_reply(send.verdict.previous, send.verdict.record)
        self._post(self._outbound(send.channel, DeliveryKind.REPLY, reply, send.key, parent))

    # --- bookkeeping --------------------------------------------------------------------------

    def _outcome(
        self,
        item_count: int,
        sends: list[_Send],
        record_count: int,
        skipped: list[SkippedRecord],
        later: int,
    ) -> PollOutcome:
        kinds: dict[str, ChangeKind] = {}
        for send in sends:  # an item counts once, by its most newsworthy channel
            current = kinds.get(send.key, ChangeKind.UNCHANGED)
            if current is ChangeKind.UNCHANGED or send.kind is ChangeKind.NEW:
                kinds[send.key] = send.kind
        reasons = [f"{s.record_key or '(no key)'}: {s.reason}" for s in skipped]
        counted = [] if self.window.baseline else list(kinds.values())  # remembered, not news
        new, changed = counted.count(ChangeKind.NEW), counted.count(ChangeKind.CHANGED)
        return PollOutcome(
            self.key,
            read=record_count + len(skipped),
            new=new,
            changed=changed,
            unchanged=item_count - new - changed,
            skipped=tuple(reasons),
            waiting=later,
            queued=self.queued,
        )

    async def _audit(self, outcome: PollOutcome, cursor: datetime | None) -> None:
        mode = "baseline" if self.window.baseline else "poll"
        await record_audit_event(
            self.session,
            team_id=self.key.team_id,
            kind="poll",
            actor="poller",
            summary=(
                f"Polled {self.key.company} {self.key.record_type} ({mode}): {outcome.read} read, "
                f"{outcome.new} new, {outcome.changed} changed, {len(outcome.skipped)} skipped, "
                f"{outcome.waiting} waiting for the next poll."
            ),
            details={
                "company": self.key.company,
                "record_type": str(self.key.record_type),
                "mode": mode,
                "since": self.window.since.isoformat() if self.window.since else None,
                "signpost": self.window.signpost.isoformat(),
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
            now=self.now,
        )
