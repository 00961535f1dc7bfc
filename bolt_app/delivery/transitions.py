"""A policy decision -> the changes it makes to the delivery row and to the pacing clocks.

Pure, so the status machine can be read and tested in one place:

    pending/failed --claim--> sending --SENT--------------> sent
                                      --RATE_LIMITED------> pending  (channel or team paused)
                                      --PAUSE_WORKSPACE---> pending  (workspace paused)
                                      --RETRY*------------> failed   (attempts + 1)
                                      --DEAD--------------> dead     (attempts + 1)
    sending, lease expired --claim--> sending               (taken over by another worker)
    dead --admin retry--> pending

Every call to a channel moves that channel's clock to `requested_at + interval`, whatever
came of it: Slack limits the rate at which calls reach a channel, so the next one is sent one
interval after the previous one was, however long Slack took to answer (docs/delivery.md,
Pacing and order). What Slack said (Retry-After) and the retry delays count from the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bolt_app.delivery.outbox import DeliveryStatus
from bolt_app.delivery.policy import Action, Decision


@dataclass(frozen=True, slots=True)
class Settlement:
    status: DeliveryStatus
    outcome: str  # for the audit trail and metrics: the action taken
    failed: bool  # counts as a failed attempt
    channel_next_send_at: datetime
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    plain_text: bool | None = None  # None: unchanged
    channel_paused_until: datetime | None = None
    pause_workspace_reason: str | None = None


def settle(
    decision: Decision, *, requested_at: datetime, answered_at: datetime, interval: timedelta
) -> Settlement:
    """What to write after the call made at `requested_at` was answered at `answered_at` (or
    failed then: a timeout, a lost connection, or no call at all for want of a token)."""
    paced = requested_at + interval
    action = decision.action
    if action is Action.SENT:
        return Settlement(DeliveryStatus.SENT, action.value, False, channel_next_send_at=paced)
    if action is Action.RATE_LIMITED:
        until = answered_at + decision.delay
        return Settlement(
            DeliveryStatus.PENDING,
            action.value,
            False,
            next_attempt_at=until,
            last_error=decision.reason,
            channel_next_send_at=max(paced, until),
            channel_paused_until=until,
        )
    if action is Action.PAUSE_WORKSPACE:
        return Settlement(
            DeliveryStatus.PENDING,
            action.value,
            False,
            next_attempt_at=answered_at + decision.delay,
            last_error=decision.reason,
            channel_next_send_at=paced,
            pause_workspace_reason=decision.reason,
        )
    if action is Action.DEAD:
        return Settlement(
            DeliveryStatus.DEAD,
            action.value,
            True,
            last_error=decision.reason,
            channel_next_send_at=paced,
        )
    # RETRY, RETRY_PLAIN_TEXT, JOIN_THEN_RETRY (after the join): try again later.
    return Settlement(
        DeliveryStatus.FAILED,
        action.value,
        True,
        next_attempt_at=answered_at + decision.delay,
        last_error=decision.reason,
        plain_text=True if action is Action.RETRY_PLAIN_TEXT else None,
        channel_next_send_at=paced,
    )
