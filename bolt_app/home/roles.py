"""Whether a user is a workspace admin or owner, as Slack's `users.info` says right now.

Asked once per click: the answer is kept for `ttl` per user, so the admin check and the Home
published after it share one call. A rate-limited answer (429) is retried after its
`Retry-After` when that still fits the `budget` of a click (Slack's trigger id lives 3 seconds);
otherwise the role is unknown (None), which is not taken for "member".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.delivery.slack import retry_after

log = logging.getLogger(__name__)

ADMIN_ANSWER_TTL = timedelta(seconds=10)
USERS_INFO_BUDGET_SECONDS = 2.0


class SlackRoles:
    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        ttl: timedelta = ADMIN_ANSWER_TTL,
        budget: float = USERS_INFO_BUDGET_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._now = now
        self._ttl = ttl
        self._budget = budget
        self._sleep = sleep
        self._answers: dict[tuple[str, str], tuple[datetime, bool]] = {}

    async def is_admin(self, client: AsyncWebClient, team_id: str, user_id: str) -> bool | None:
        """True for an admin or owner, False for anyone else, None when Slack would not say."""
        now = self._now()
        known = self._answers.get((team_id, user_id))
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        user = await self._users_info(client, user_id)
        if user is None:
            return None
        answer = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._answers = {k: v for k, v in self._answers.items() if now - v[0] < self._ttl}
        self._answers[(team_id, user_id)] = (now, answer)
        return answer

    async def _users_info(self, client: AsyncWebClient, user_id: str) -> dict | None:
        deadline = time.monotonic() + self._budget
        while True:
            try:
                return (await client.users_info(user=user_id)).get("user") or {}
            except SlackApiError as error:
                wait = retry_after(error) if error.response.status_code == 429 else None
                if wait is None or time.monotonic() + wait > deadline:
                    log.warning(
                        "users.info failed for %s: %s", user_id, error.response.get("error")
                    )
                    return None
                await self._sleep(wait)
