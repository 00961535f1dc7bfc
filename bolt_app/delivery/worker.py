"""The delivery worker: drains the outbox to Slack, many channels at once, each one paced.

One asyncio task per channel with work; each task claims the channel's next message (see
`store.claim_next`), sends it, settles it, and waits for the channel's clock. Everything the
worker knows lives in the database, so a process killed at any point loses nothing: a claim
it held is taken over by any worker once its lease expires. The one unavoidable duplicate is
a message Slack accepted just before the process died, before the result was written
(docs/delivery.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.delivery import slack, store
from bolt_app.delivery.policy import Action, AttemptState, Decision, DeliveryPolicy, SlackAnswer
from bolt_app.delivery.slack import SlackClientFactory
from bolt_app.delivery.transitions import settle
from bolt_app.errors import MLConnectorError
from bolt_app.metrics import Metrics
from bolt_app.workspace.model import TOKEN_EXPIRED

log = logging.getLogger(__name__)

# Claim a channel's next message up to this long before its slot, so the database round trips
# of the claim are not added to every pacing interval.
MAX_CLAIM_AHEAD = timedelta(milliseconds=500)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChannelResult:
    claims: int
    retry_at: datetime | None  # when the channel may next have work; None: nothing queued
    sent: int = 0


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one `drain` did; `remaining` counts messages still queued (paused or retrying later)."""

    sent: int
    dead: tuple[store.DeadLetter, ...]
    remaining: int

    @property
    def ok(self) -> bool:
        return not self.dead and self.remaining == 0


class DeliveryWorker:
    """Drains the outbox; `run` until stopped (the worker process) or `drain` once (poll --once).

    `pacing_interval` is the minimum gap between the starts of two calls to one channel (Slack
    allows about one message per second per channel). `lease` must exceed the Slack client's
    timeout. `refreshed_client_for_team` gives a client whose rotating token was just refreshed,
    for a message Slack answered `token_expired`; without it such a message pauses the workspace.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        slack_client_for_team: SlackClientFactory,
        policy: DeliveryPolicy,
        *,
        clock: Clock,
        worker_id: str,
        metrics: Metrics | None = None,
        pacing_interval: timedelta = timedelta(seconds=1),
        lease: timedelta = timedelta(seconds=60),
        max_channels: int = 100,
        idle_poll: timedelta = timedelta(milliseconds=500),
        sleep: Sleep = asyncio.sleep,
        refreshed_client_for_team: SlackClientFactory | None = None,
    ) -> None:
        self._sessions = session_factory
        self._client_for_team = slack_client_for_team
        self._refreshed_client_for_team = refreshed_client_for_team
        self._policy = policy
        self._clock = clock
        self.worker_id = worker_id
        self._metrics = metrics
        self.pacing_interval = pacing_interval
        self.lease = lease
        self._max_channels = max_channels
        self._idle_poll = idle_poll
        self._sleep = sleep
        self._tasks: dict[tuple[str, str], asyncio.Task[ChannelResult]] = {}
        self._sent = 0
        self._sqlite_writes = asyncio.Lock()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; messages in flight then finish, nothing new is claimed."""
        linger = max(self._idle_poll, self.pacing_interval * 2)
        not_before: dict[tuple[str, str], datetime] = {}
        try:
            while not stop.is_set():
                try:
                    channels = await self._channels_to_serve()
                except (DBAPIError, OSError):
                    log.exception("the delivery worker cannot reach the database; retrying")
                    await self._wait(stop, self._idle_poll.total_seconds())
                    continue
                for key, task in list(self._tasks.items()):
                    if task.done():
                        del self._tasks[key]
                        result = _result_of(key, task)
                        if result is not None and result.retry_at is not None:
                            not_before[key] = result.retry_at
                now = self._clock()
                for key in channels:
                    if key in self._tasks or len(self._tasks) >= self._max_channels:
                        continue
                    if key in not_before and not_before[key] > now:
                        continue
                    not_before.pop(key, None)
                    self._tasks[key] = asyncio.create_task(
                        self._serve_channel(*key, stop, linger=linger),
                        name=f"deliver:{key[0]}:{key[1]}",
                    )
                await self._wait(stop, self._idle_poll.total_seconds())
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
                for key, task in self._tasks.items():
                    _result_of(key, task)
            self._tasks.clear()

    async def drain(
        self, *, team_id: str | None = None, max_wait: timedelta = timedelta(seconds=30)
    ) -> DrainReport:
        """Deliver everything queued that can go within `max_wait`, then return.

        Pacing, 429 pauses and retries due within `max_wait` are waited for; a message whose
        next try is further away (a long backoff, a paused workspace) is left queued and
        counted in `remaining`. Ends after a round in which no message could be claimed.
        """
        started = self._clock()
        sent_before = self._sent
        stop = asyncio.Event()
        limit = asyncio.Semaphore(self._max_channels)

        async def serve(key: tuple[str, str]) -> ChannelResult:
            async with limit:
                return await self._serve_channel(*key, stop, linger=max_wait)

        while True:
            async with self._sessions() as session:
                channels = await store.active_channels(session, team_id=team_id)
            results = await asyncio.gather(
                *(serve(key) for key in channels), return_exceptions=True
            )
            for key, result in zip(channels, results, strict=True):
                if isinstance(result, BaseException):
                    log.error("delivery to %s/%s failed", *key, exc_info=result)
            if not any(isinstance(r, ChannelResult) and r.claims for r in results):
                break
        async with self._sessions() as session:
            dead, remaining = await store.drain_outcome(session, team_id=team_id, since=started)
        return DrainReport(sent=self._sent - sent_before, dead=dead, remaining=remaining)

    async def _serve_channel(
        self, team_id: str, channel_id: str, stop: asyncio.Event, *, linger: timedelta
    ) -> ChannelResult:
        """Send the channel's messages one by one while the next is due within `linger`."""
        ahead = min(self.pacing_interval / 2, MAX_CLAIM_AHEAD)
        claims = sent = 0
        while not stop.is_set():
            async with self._write() as session:
                claim = await store.claim_next(
                    session,
                    team_id,
                    channel_id,
                    worker_id=self.worker_id,
                    now=self._clock(),
                    lease=self.lease,
                    ahead=ahead,
                )
            if isinstance(claim, store.NotReady):
                if claim.retry_at is None or claim.retry_at - self._clock() > linger:
                    return ChannelResult(claims, claim.retry_at, sent)
                await self._sleep_until(claim.retry_at - ahead, stop)
                continue
            claims += 1
            next_send_at, was_sent, more = await self._deliver(claim)
            sent += was_sent
            if not more:
                return ChannelResult(claims, None, sent)
            if next_send_at - self._clock() > linger:
                return ChannelResult(claims, next_send_at, sent)
            await self._sleep_until(next_send_at - ahead, stop)
        return ChannelResult(claims, None, sent)

    async def _sleep_until(self, moment: datetime, stop: asyncio.Event | None = None) -> None:
        """Never wakes early (a send must not come before its slot), only when `stop` is set."""
        while (remaining := (moment - self._clock()).total_seconds()) > 0:
            if stop is None:
                await self._sleep(remaining)
            elif stop.is_set():
                return
            else:
                await self._wait(stop, remaining)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep `seconds` by the injected sleep (a fake clock's in tests), or until `stop`."""
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopping.cancel()

    async def _deliver(self, claim: store.Claim) -> tuple[datetime, bool, bool]:
        """Send one claimed message at its slot and settle it; returns when the channel may be
        sent to next, whether Slack took the message, and whether the channel has more to send.

        The client (the token read, perhaps refreshed) is had before the slot, not in it."""
        state = AttemptState(
            failures=claim.attempts, plain_text=claim.plain_text, join_tried=claim.join_tried
        )
        joined: bool | None = None
        requested_at: datetime | None = None  # stays None when no call could be made
        try:
            client = await self._client_for_team(claim.team_id)
        except MLConnectorError as error:  # no usable token: only a person can fix that
            decision = self._policy.pause_workspace(str(error))
            answer_ts = ""
        except (aiohttp.ClientError, TimeoutError):  # e.g. refreshing a rotating token
            decision = self._policy.decide(SlackAnswer(ok=False, error="connection_error"), state)
            answer_ts = ""
        else:
            await self._sleep_until(claim.send_at)  # holding a claim: send even if stopping
            requested_at, answer = await self._send(client, claim)
            decision = self._policy.decide(answer, state)
            if decision.action is Action.REFRESH_THEN_RETRY:
                requested_at, answer, decision = await self._resend_refreshed(
                    claim, state, requested_at
                )
            answer_ts = answer.ts
            if decision.action is Action.JOIN_THEN_RETRY:
                join_answer = await slack.join(client, claim.channel_id)
                joined = join_answer.ok
                decision = self._policy.decide_join(join_answer, state)
        answered_at = self._clock()
        settlement = settle(
            decision,
            requested_at=requested_at or answered_at,
            answered_at=answered_at,
            interval=self.pacing_interval,
        )
        async with self._write() as session:
            kept = await store.settle_claim(
                session,
                claim,
                settlement,
                worker_id=self.worker_id,
                now=answered_at,
                slack_ts=answer_ts,
                join_tried=joined,
            )
            more = await store.has_undelivered(session, claim.team_id, claim.channel_id)
        sent = kept and decision.action is Action.SENT
        self._sent += sent
        if self._metrics is not None:
            self._metrics.record_delivery(settlement.outcome)
        if decision.action is Action.PAUSE_WORKSPACE:
            log.warning("workspace %s paused: %s", claim.team_id, decision.reason)
        return settlement.channel_next_send_at, sent, more

    async def _send(
        self, client: AsyncWebClient, claim: store.Claim
    ) -> tuple[datetime, SlackAnswer]:
        """When the call was made (the channel's next slot counts from then), and its answer."""
        requested_at = self._clock()
        return requested_at, await slack.send(
            client,
            kind=claim.kind,
            channel_id=claim.channel_id,
            payload=claim.payload,
            parent_ts=claim.parent_ts,
            plain_text=claim.plain_text,
        )

    async def _resend_refreshed(
        self, claim: store.Claim, state: AttemptState, requested_at: datetime
    ) -> tuple[datetime, SlackAnswer, Decision]:
        """After `token_expired` (the call made at `requested_at`): refresh the token and send
        again; an expired token that cannot be refreshed (not rotating, refresh refused) pauses
        the workspace like `invalid_auth`. Returns when the last call was made, with its answer."""
        expired = SlackAnswer(ok=False, error=TOKEN_EXPIRED)
        if self._refreshed_client_for_team is None:
            return requested_at, expired, self._policy.pause_workspace(TOKEN_EXPIRED)
        try:
            client = await self._refreshed_client_for_team(claim.team_id)
        except MLConnectorError as error:
            log.warning(
                "workspace %s: the expired token was not refreshed: %s", claim.team_id, error
            )
            return requested_at, expired, self._policy.pause_workspace(TOKEN_EXPIRED)
        except (aiohttp.ClientError, TimeoutError):
            unreachable = SlackAnswer(ok=False, error="connection_error")
            return requested_at, unreachable, self._policy.decide(unreachable, state)
        resent_at, answer = await self._send(client, claim)
        refreshed = dataclasses.replace(state, token_refreshed=True)
        return resent_at, answer, self._policy.decide(answer, refreshed)

    async def _channels_to_serve(self) -> list[tuple[str, str]]:
        async with self._sessions() as session:
            return await store.active_channels(session)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction; on SQLite, one at a time within this process.

        SQLite has one writer; letting this process's channel tasks queue here instead of in
        SQLite's busy handler (which sleeps up to 100 ms between tries) keeps every channel's
        slot on time. PostgreSQL needs no such queue: its claims skip locked rows.
        """
        async with self._sessions() as session:
            if session.bind.dialect.name == "sqlite":
                async with self._sqlite_writes, session.begin():
                    yield session
            else:
                async with session.begin():
                    yield session


def _result_of(key: tuple[str, str], task: asyncio.Task[ChannelResult]) -> ChannelResult | None:
    """The finished channel task's result, its deliveries logged in one line (or its failure)."""
    if task.cancelled():
        return None
    if task.exception() is not None:
        log.error("delivery to %s/%s failed", *key, exc_info=task.exception())
        return None
    result = task.result()
    if result.claims:
        log.info("delivery to %s/%s: %d of %d message(s) sent", *key, result.sent, result.claims)
    return result
