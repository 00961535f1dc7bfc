"""What a process does besides polling and delivering: mirror the database into the gauges of
/metrics, forget expired OAuth states, and once a day prune the audit trail and the messages
sent before the audit retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.delivery.outbox import queue_depth
from bolt_app.delivery.store import PRUNE_SPAN, delivery_ids, prune_sent_deliveries
from bolt_app.metrics import Metrics
from bolt_app.polling.store import last_successes
from bolt_app.slack.installations import delete_expired_oauth_states
from bolt_app.storage.audit import prune_audit_events

log = logging.getLogger(__name__)


async def refresh_gauges(metrics: Metrics, session: AsyncSession) -> None:
    """Queue depth and last success per resource, from the database (every worker's)."""
    metrics.set_queue_depth(await queue_depth(session))
    metrics.set_last_successes(await last_successes(session))


class Housekeeping:
    """Every `interval`: refresh the gauges and drop expired OAuth states; once a day: prune
    audit events and sent messages past `audit_retention`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime],
        metrics: Metrics | None,
        audit_retention: timedelta | None,
        interval: timedelta = timedelta(seconds=15),
        prune_span: int = PRUNE_SPAN,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._metrics = metrics
        self.audit_retention = audit_retention
        self._interval = interval
        self._prune_span = prune_span
        self._last_prune: datetime | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once(stop)
            except (DBAPIError, OSError):
                log.exception("housekeeping cannot reach the database; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval.total_seconds())

    async def run_once(self, stop: asyncio.Event | None = None) -> None:
        """One round; a prune in it ends early once `stop` is set."""
        now = self._clock()
        async with self._sessions.begin() as session:
            if self._metrics is not None:
                await refresh_gauges(self._metrics, session)
            await delete_expired_oauth_states(session, now=now)
        if self.audit_retention is not None and (
            self._last_prune is None or now - self._last_prune >= timedelta(days=1)
        ):
            before = now - self.audit_retention
            async with self._sessions.begin() as session:
                events = await prune_audit_events(session, before=before)
            sent = await self._prune_sent(before, stop)
            self._last_prune = now
            if events or sent:
                log.info(
                    "pruned %d audit events and %d sent messages older than %s",
                    events,
                    sent,
                    self.audit_retention,
                )

    async def _prune_sent(self, before: datetime, stop: asyncio.Event | None) -> int:
        """Sent messages past the retention, a span of ids a transaction, so the polls and
        deliveries that wait for the write lock meanwhile wait for one span at most."""
        async with self._sessions() as session:
            ids = await delivery_ids(session)
        deleted = 0
        for start in ids[:: self._prune_span]:
            if stop is not None and stop.is_set():
                break
            span = range(start, min(start + self._prune_span, ids.stop))
            async with self._sessions.begin() as session:
                deleted += await prune_sent_deliveries(session, before=before, ids=span)
        return deleted
