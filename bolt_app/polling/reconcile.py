"""Reconcile one (workspace, company, record type) against the agent's `keys` listing: what the
change stamp cannot show.

Visual Integrator imports change rows without moving `DateUpdated`; deletes and purges leave no
trace; a PO line edit does not move its header's stamp. The agent's `keys` listing (API 1.1)
gives every RecordKey with a version of everything it serves, so one paged pass finds

  a changed version -> the record read by key goes through the poller's own comparison and
                       messages (`PollService.announce`): update in place and one reply
  a key not listed  -> read by key; a 404 marks its messages "No longer in Sage 100" (edited
                       in place, one reply) and forgets it, unless another key of the same
                       tracked record was listed (an AP invoice posted: AP_InvoiceHeader ->
                       AP_OpenInvoice), which is a posting, not a delete

Memory is one page: each page is compared with what `reconcile_keys` holds for those keys and
marked with the pass number; keys a complete pass did not mark are the candidates gone, read a
page at a time. The version compared is the agent's own (opaque), kept per key; the first pass
only learns (and, for AP invoices, learns each key's business key from one full listing).
GL postings are not reconciled: posted ledger lines do not change, and a register's message is
about a batch, not a key. Runs under the poll lease, so a poll and a reconcile of the same
resource never interleave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.blocks.messages import build_gone_reply
from bolt_app.crypto import SecretBox
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue_many
from bolt_app.errors import MLConnectorError
from bolt_app.polling.messages import gone_message
from bolt_app.polling.service import AgentClientFactory, PollService
from bolt_app.polling.snapshots import snapshot_record
from bolt_app.polling.store import (
    ListedKey,
    PollKey,
    acquire_lease,
    claim_reconcile,
    drop_listed_key,
    drop_unlisted_keys,
    extend_lease,
    finish_reconcile_pass,
    forget_seen,
    learn_tracked_keys,
    listed_keys,
    mark_listed,
    reconcile_state,
    record_reconcile_off,
    release_lease,
    relist_key,
    seen_channels,
    start_reconcile_pass,
    tracked_key_listed,
    unlisted_keys,
)
from bolt_app.records.description import RecordDescription
from bolt_app.records.registry import describe, description_of
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import load_workspace
from bolt_app.workspace.model import WorkspaceConfig
from bolt_app.workspace.schedule import RECONCILED_TYPES
from sage.client import AgentClient, AgentHealth
from sage.errors import BadResponseError, NotFoundError, SageError
from sage.records import RecordType, SageRecord
from sage.resources import Resource, by_record_type

log = logging.getLogger(__name__)

KEYS_PAGE_SIZE = 1000
GONE_PAGE_SIZE = 200


def tracked_key(record: SageRecord) -> str:
    """The key the connector's messages and seen records use for a record."""
    own_key = description_of(record).tracked_key
    return own_key(record) if own_key is not None else record.record_key


@dataclass(frozen=True, slots=True)
class ReconcileOutcome:
    key: PollKey
    ran: bool = True
    off: str | None = None  # why the feature is off for this agent
    listed: int = 0
    changed: int = 0  # keys whose version moved and that were news to some channel
    gone: int = 0
    posted: int = 0  # keys gone because their AP invoice was posted
    first: bool = False  # a first pass learns, announces nothing
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class _Pass:
    key: PollKey
    config: WorkspaceConfig
    agent: AgentClient
    health: AgentHealth
    resource: Resource
    number: int
    first: bool
    listed: int = 0
    changed: int = 0
    gone: int = 0
    posted: int = 0

    @property
    def description(self) -> RecordDescription:
        return describe(self.key.record_type)


class ReconcileService:
    """Reconciles on demand (`reconcile`, `reconcile_all`); the scheduler and
    `poll --once --reconcile` call it."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        box: SecretBox,
        polls: PollService,
        agent_client_for: AgentClientFactory = AgentClient,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        owner: str,
        lease_ttl: timedelta = timedelta(minutes=15),
        page_size: int = KEYS_PAGE_SIZE,
    ) -> None:
        self._sessions = session_factory
        self._box = box
        self._polls = polls
        self._agent_client_for = agent_client_for
        self._now = now
        self._owner = owner
        self._lease_ttl = lease_ttl
        self._page_size = page_size

    @property
    def reconciled(self) -> frozenset[RecordType]:
        return frozenset(RECONCILED_TYPES)

    async def targets(self, team_id: str | None = None) -> list[PollKey]:
        """The polled resources that have something to reconcile (GL postings do not)."""
        return [
            key for key in await self._polls.targets(team_id) if key.record_type in RECONCILED_TYPES
        ]

    async def reconcile_all(self, team_id: str | None = None) -> list[ReconcileOutcome]:
        return [await self.reconcile(key) for key in await self.targets(team_id)]

    async def reconcile(self, key: PollKey, *, due: datetime | None = None) -> ReconcileOutcome:
        """`due` is the scheduled time a scheduler job runs for (claimed once across workers)."""
        now = self._now()
        async with self._sessions.begin() as session:
            if due is not None and not await claim_reconcile(session, key, due):
                return ReconcileOutcome(key, ran=False)
            acquired = await acquire_lease(
                session, key, owner=self._owner, now=now, due=None, ttl=self._lease_ttl
            )
        if not acquired:
            return ReconcileOutcome(key, ran=False)
        try:
            return await self._reconcile_leased(key)
        except (SageError, MLConnectorError) as error:
            return await self._fail(key, str(error))
        except Exception as error:  # noqa: BLE001 - one broken pass must not stop the others
            log.exception("reconcile %s failed", key)
            return await self._fail(key, f"{type(error).__name__}: {error}")
        finally:
            async with self._sessions.begin() as session:
                await release_lease(session, key, owner=self._owner)

    async def _fail(self, key: PollKey, error: str) -> ReconcileOutcome:
        now = self._now()
        async with self._sessions.begin() as session:
            if await reconcile_state(session, key) is not None:
                await finish_reconcile_pass(session, key, now=now, error=error)
            await record_audit_event(
                session,
                team_id=key.team_id,
                kind="reconcile.failed",
                actor="poller",
                summary=f"Reconcile of {key.company} {key.record_type} failed: {error}",
                details={"company": key.company, "record_type": str(key.record_type)},
                now=now,
            )
        return ReconcileOutcome(key, error=error)

    async def _reconcile_leased(self, key: PollKey) -> ReconcileOutcome:
        if key.record_type not in RECONCILED_TYPES:
            raise MLConnectorError(f"{key.record_type} records are not reconciled")
        async with self._sessions() as session:
            config = await load_workspace(session, key.team_id, self._box)
        if config is None or config.connection is None:
            raise MLConnectorError(f"workspace {key.team_id} has no Sage connection configured")
        async with self._agent_client_for(config.connection) as agent:
            health = await agent.health()
            off = health.reconcile_off
            if off is not None:
                async with self._sessions.begin() as session:
                    await record_reconcile_off(session, key, now=self._now(), reason=off)
                return ReconcileOutcome(key, off=off)
            async with self._sessions.begin() as session:
                state = await reconcile_state(session, key)
                first = state is None or state.last_success_at is None
                number = await start_reconcile_pass(session, key, now=self._now())
            run = _Pass(key, config, agent, health, by_record_type(key.record_type), number, first)
            async for page in agent.list_keys(run.resource, key.company, self._page_size):
                await self._compare(run, page.keys)
            if first:
                await self._learn_business_keys(run)
            else:
                await self._find_gone(run)
        return await self._finish(run)

    # --- one page of keys ---------------------------------------------------------------------

    async def _compare(self, run: _Pass, page: tuple[tuple[str, str], ...]) -> None:
        record_keys = [record_key for record_key, _ in page]
        async with self._sessions() as session:
            known = await listed_keys(session, run.key, record_keys)
        unchanged: list[str] = []
        learnt: dict[str, ListedKey] = {}
        records: list[SageRecord] = []
        for record_key, version in page:
            previous = known.get(record_key)
            if previous is not None and previous.version == version:
                unchanged.append(record_key)
            elif run.first:  # learn without reading: a first pass announces nothing
                identity = record_key if run.description.tracked_by_record_key else None
                learnt[record_key] = ListedKey(version, identity)
            else:
                record = await self._read(run, record_key)
                if record is not None:  # unreadable now: the next pass compares it again
                    records.append(record)
                    learnt[record_key] = ListedKey(version, tracked_key(record))
                elif previous is not None:
                    unchanged.append(record_key)
        async with self._sessions.begin() as session:
            if records:
                run.changed += await self._polls.announce(
                    session, run.key, run.config, records, server_now=run.health.server_now
                )
            await mark_listed(session, run.key, run.number, unchanged, learnt, known)
            await extend_lease(
                session, run.key, owner=self._owner, now=self._now(), ttl=self._lease_ttl
            )
        run.listed += len(page)

    async def _read(self, run: _Pass, record_key: str) -> SageRecord | None:
        """The record by key; None when it went since the listing or does not read."""
        try:
            return await run.agent.get_record(run.resource, run.key.company, record_key)
        except NotFoundError as error:
            if error.code != "not_found":
                raise
            return None
        except BadResponseError as error:
            log.warning("reconcile %s: %s", run.key, error)
            return None

    async def _learn_business_keys(self, run: _Pass) -> None:
        """A first pass of a type not tracked by its RecordKey (AP invoices) learns each key's
        tracked key from one full listing (a read by key each would be one request per
        record); then forgets what an unfinished earlier attempt listed and this one did not."""
        if not run.description.tracked_by_record_key:
            async for page in run.agent.list_changes(
                run.resource, run.key.company, None, page_size=self._page_size
            ):
                async with self._sessions.begin() as session:
                    await learn_tracked_keys(
                        session, run.key, {r.record_key: tracked_key(r) for r in page.records}
                    )
        async with self._sessions.begin() as session:
            await drop_unlisted_keys(session, run.key, run.number)

    # --- keys the listing no longer has -------------------------------------------------------

    async def _find_gone(self, run: _Pass) -> None:
        after: str | None = None
        while True:
            async with self._sessions() as session:
                batch = await unlisted_keys(
                    session, run.key, run.number, after=after, limit=GONE_PAGE_SIZE
                )
            if not batch:
                return
            after = batch[-1][0]
            for record_key, tracked in batch:
                still_there = await self._still_there(run, record_key)
                async with self._sessions.begin() as session:
                    if still_there:  # listed late or changed mid-pass: the next pass compares
                        await relist_key(session, run.key, record_key, run.number)
                        continue
                    if tracked is not None and await tracked_key_listed(
                        session, run.key, tracked, run.number
                    ):
                        run.posted += 1  # the same invoice under its AP_OpenInvoice key
                    elif tracked is not None:
                        await self._mark_gone(session, run, tracked)
                        run.gone += 1
                    await drop_listed_key(session, run.key, record_key)

    async def _still_there(self, run: _Pass, record_key: str) -> bool:
        try:
            await run.agent.get_record(run.resource, run.key.company, record_key)
        except NotFoundError as error:
            if error.code != "not_found":
                raise
            return False
        except BadResponseError:
            return True  # it answered: not a 404
        return True

    async def _mark_gone(self, session: AsyncSession, run: _Pass, tracked: str) -> None:
        """Each channel's message edited in place and one reply; the record is then forgotten,
        so it is marked once and drops out of what is waiting."""
        assert run.config.connection is not None
        zone = run.config.connection.timezone
        outbound: list[OutboundMessage] = []
        for channel, seen in await seen_channels(session, run.key, tracked):
            if seen.delivery_id is None:  # told only in a baseline or a digest: nothing to edit
                continue
            record = snapshot_record(run.description.record_class, seen.snapshot, zone)
            for kind, message in (
                (
                    DeliveryKind.UPDATE,
                    gone_message(record, record_url=run.config.connection.record_url),
                ),
                (DeliveryKind.REPLY, build_gone_reply(record)),
            ):
                outbound.append(
                    OutboundMessage(
                        team_id=run.key.team_id,
                        channel_id=channel,
                        kind=kind,
                        message=message,
                        company=run.key.company,
                        record_type=run.key.record_type,
                        record_key=tracked,
                        parent_delivery_id=seen.delivery_id,
                    )
                )
        await enqueue_many(session, outbound, now=self._now())
        await forget_seen(session, run.key, tracked)

    # --- bookkeeping --------------------------------------------------------------------------

    async def _finish(self, run: _Pass) -> ReconcileOutcome:
        now = self._now()
        key = run.key
        mode = "first pass" if run.first else "pass"
        async with self._sessions.begin() as session:
            await finish_reconcile_pass(session, key, now=now, error=None)
            await record_audit_event(
                session,
                team_id=key.team_id,
                kind="reconcile",
                actor="poller",
                summary=(
                    f"Reconciled {key.company} {key.record_type} ({mode}): {run.listed} keys "
                    f"listed, {run.changed} changed, {run.gone} no longer in Sage 100, "
                    f"{run.posted} posted."
                ),
                details={
                    "company": key.company,
                    "record_type": str(key.record_type),
                    "pass": run.number,
                    "first": run.first,
                    "listed": run.listed,
                    "changed": run.changed,
                    "gone": run.gone,
                    "posted": run.posted,
                },
                now=now,
            )
        return ReconcileOutcome(
            key,
            listed=run.listed,
            changed=run.changed,
            gone=run.gone,
            posted=run.posted,
            first=run.first,
        )
