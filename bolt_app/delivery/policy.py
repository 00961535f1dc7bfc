"""What to do after Slack answers a delivery attempt: a pure function of the answer.

The worker turns every call (or failure to call) into a `SlackAnswer`; `DeliveryPolicy.decide`
maps it to a `Decision`. Keeping this pure lets every Slack error code be tested without a
network, and keeps the worker free of error-code knowledge.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bolt_app.workspace.model import SLACK_AUTH_ERRORS, TOKEN_EXPIRED

TRANSIENT_ERRORS = frozenset(
    {
        "internal_error",
        "service_unavailable",
        "fatal_error",
        "request_timeout",
        "timeout",
        "connection_error",
    }
)
RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})
# The blocks are what Slack refused (a field past its limit, text adding up past ~12,000
# characters): the same message as text alone still reaches the channel.
PLAIN_TEXT_ERRORS = frozenset(
    {"msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format"}
)
NOT_IN_CHANNEL = "not_in_channel"


@dataclass(frozen=True, slots=True)
class SlackAnswer:
    """One Slack Web API call reduced to what a retry decision needs.

    `error` is Slack's error code, or `timeout` / `connection_error` when no answer came, or
    `http_<status>` when the body carried no code.
    """

    ok: bool
    error: str = ""
    http_status: int | None = None
    retry_after: float | None = None
    ts: str = ""

    @property
    def code(self) -> str:
        """Slack's error code, or `http_<status>` when the body had none."""
        return self.error or f"http_{self.http_status}"

    @property
    def rate_limited(self) -> bool:
        return self.http_status == 429 or self.error in RATE_LIMIT_ERRORS

    @property
    def transient(self) -> bool:
        return self.error in TRANSIENT_ERRORS or (self.http_status or 0) >= 500


class Action(StrEnum):
    SENT = "sent"
    RATE_LIMITED = "rate_limited"  # wait Retry-After; not a failure
    RETRY = "retry"  # a failure; try again after `delay`
    RETRY_PLAIN_TEXT = "retry_plain_text"  # a failure; resend as text only
    JOIN_THEN_RETRY = "join_then_retry"  # conversations.join, then resend
    REFRESH_THEN_RETRY = "refresh_then_retry"  # refresh the rotating token, then resend
    DEAD = "dead"  # stop; an admin sees `reason` and may retry
    PAUSE_WORKSPACE = "pause_workspace"  # the token is unusable; hold the queue


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str = ""
    delay: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class AttemptState:
    """What the policy needs to know about the delivery's history."""

    failures: int  # failed attempts before this one (rate limits do not count)
    plain_text: bool = False  # this attempt was already the plain-text fallback
    join_tried: bool = False  # conversations.join was already tried for it
    token_refreshed: bool = False  # this attempt already used a freshly refreshed token


class DeliveryPolicy:
    """Slack answer -> Decision, with exponential backoff and jitter for transient failures.

    `rng` is injected so tests can pin the jitter. After `max_failures` failed attempts a
    transient error dead-letters the delivery rather than retrying forever.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        base_delay: timedelta = timedelta(seconds=2),
        max_delay: timedelta = timedelta(minutes=15),
        max_failures: int = 10,
        default_retry_after: timedelta = timedelta(seconds=5),
    ) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._rng = rng
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_failures = max_failures
        self.default_retry_after = default_retry_after

    def backoff(self, failures: int) -> timedelta:
        """Delay before retry number `failures` (1-based): base * 2^(n-1), capped, equal jitter.

        Half the delay is fixed so retries never bunch at zero; the other half is random so
        many deliveries failing together spread out.
        """
        exponent = min(max(failures, 1) - 1, 32)
        ceiling = min(self.max_delay, self.base_delay * (2**exponent))
        half = ceiling / 2
        return half + half * self._rng.random()

    def decide(self, answer: SlackAnswer, state: AttemptState) -> Decision:
        if answer.ok:
            return Decision(Action.SENT)
        error = answer.code
        if answer.rate_limited:
            return Decision(Action.RATE_LIMITED, reason=error, delay=self._retry_after(answer))
        if error in SLACK_AUTH_ERRORS:
            return self.pause_workspace(error)
        if error == TOKEN_EXPIRED:
            if state.token_refreshed:
                return self.pause_workspace(error)
            return Decision(Action.REFRESH_THEN_RETRY, reason=error)
        if answer.transient:
            return self._retry(error, state)
        if error == NOT_IN_CHANNEL:
            if state.join_tried:
                return Decision(Action.DEAD, reason=f"{error} (after conversations.join)")
            return Decision(Action.JOIN_THEN_RETRY, reason=error)
        if error in PLAIN_TEXT_ERRORS:
            if state.plain_text:
                return Decision(Action.DEAD, reason=f"{error} (also as plain text)")
            return Decision(Action.RETRY_PLAIN_TEXT, reason=error)
        return Decision(Action.DEAD, reason=error)

    def pause_workspace(self, reason: str) -> Decision:
        """The workspace cannot be sent to (bad token, no token) until someone fixes it.

        The message waits `max_delay` too, so a workspace that cannot be marked paused (its
        row is gone) is not asked again and again; `resume_workspace` makes it due at once.
        """
        return Decision(Action.PAUSE_WORKSPACE, reason=reason, delay=self.max_delay)

    def decide_join(self, answer: SlackAnswer, state: AttemptState) -> Decision:
        """After `not_in_channel`: a joined channel is retried at once, a refused join is dead.

        Private channels answer `method_not_supported_for_channel_type`, which is how the
        "public channel only" rule is enforced without a separate lookup.
        """
        if answer.ok:
            return Decision(Action.RETRY, reason=f"{NOT_IN_CHANNEL} (joined, resending)")
        decision = self.decide(answer, state)
        if decision.action in (Action.RATE_LIMITED, Action.PAUSE_WORKSPACE, Action.RETRY):
            return decision
        if decision.action is Action.REFRESH_THEN_RETRY:  # the next attempt refreshes first
            return self._retry(answer.code, state)
        return Decision(Action.DEAD, reason=f"{NOT_IN_CHANNEL} (conversations.join: {answer.code})")

    def _retry(self, error: str, state: AttemptState) -> Decision:
        failures = state.failures + 1
        if failures >= self.max_failures:
            return Decision(Action.DEAD, reason=f"{error} (gave up after {failures} attempts)")
        return Decision(Action.RETRY, reason=error, delay=self.backoff(failures))

    def _retry_after(self, answer: SlackAnswer) -> timedelta:
        if answer.retry_after is None or answer.retry_after < 0:
            return self.default_retry_after
        return timedelta(seconds=answer.retry_after)
