"""Scheduled reminders: at its time, one message to a channel saying what is waiting in Sage 100.

`ReminderService.send` runs when a reminder's cron line fires (the poll scheduler calls it): it
claims the due time (so one of several workers posts it), computes what is waiting from the
seen records (`bolt_app.polling.waiting`, as the App Home does), and queues the message in the
paced outbox with an audit event, all in one transaction. Nothing is queued when nothing is
waiting unless the reminder says `always`, nor while the workspace is paused (a reminder
held until the resume would be stale).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.blocks.reminders import build_reminder_message
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue
from bolt_app.polling.store import claim_reminder
from bolt_app.polling.waiting import pending_groups, seen_documents
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import load_reminders, pause_state, stored_companies, stored_zone
from sage.records import RecordType

log = logging.getLogger(__name__)


class ReminderOutcome(StrEnum):
    QUEUED = "queued"
    NOTHING_WAITING = "nothing waiting"
    ALREADY_SENT = "already sent"  # another worker claimed this due time
    NOT_CONFIGURED = "not configured"  # removed, or Sage not connected, since it was scheduled
    PAUSED = "paused"


class ReminderService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, now: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._now = now

    async def send(self, team_id: str, channel_id: str, *, due: datetime) -> ReminderOutcome:
        """The reminder of `channel_id` for the time it fired at (`due`)."""
        async with self._sessions.begin() as session:
            outcome = await self._send(session, team_id, channel_id, due)
        log.info("reminder %s/%s for %s: %s", team_id, channel_id, due.isoformat(), outcome)
        return outcome

    async def _send(
        self, session: AsyncSession, team_id: str, channel_id: str, due: datetime
    ) -> ReminderOutcome:
        reminder = next(
            (r for r in await load_reminders(session, team_id) if r.channel == channel_id), None
        )
        zone = await stored_zone(session, team_id)
        companies = await stored_companies(session, team_id)
        if reminder is None or zone is None or not companies:
            return ReminderOutcome.NOT_CONFIGURED
        if (await pause_state(session, team_id) or (False, None))[0]:
            return ReminderOutcome.PAUSED
        if not await claim_reminder(session, team_id, channel_id, due):
            return ReminderOutcome.ALREADY_SENT
        today = due.astimezone(zone).date()
        groups = pending_groups(
            await seen_documents(session, team_id, zone),
            today=today,
            include=reminder.include,
            due_within_days=reminder.due_within_days,
            new_after_days=reminder.new_after_days,
        )
        waiting = {group.title: group.count for group in groups if group.count}
        if not waiting and not reminder.always:
            return ReminderOutcome.NOTHING_WAITING
        now = self._now()
        delivery_id = await enqueue(
            session,
            OutboundMessage(
                team_id=team_id,
                channel_id=channel_id,
                kind=DeliveryKind.POST,
                message=build_reminder_message(groups, today=today),
                company=companies[0],  # a reminder covers every company; the column needs one
                record_type=RecordType.AP_INVOICE,
                record_key=f"reminder:{due.astimezone(zone).isoformat(timespec='minutes')}",
            ),
            now=now,
        )
        listed = ", ".join(f"{title} {count}" for title, count in waiting.items()) or "nothing"
        await record_audit_event(
            session,
            team_id=team_id,
            kind="reminder.queued",
            actor="scheduler",
            summary=f"Reminder to {channel_id} for {today.isoformat()}: {listed}.",
            details={
                "channel_id": channel_id,
                "due": due.isoformat(),
                "delivery_id": delivery_id,
                "waiting": waiting,
            },
            now=now,
        )
        return ReminderOutcome.QUEUED
