"""users.info: a member of the token's workspace, as Slack describes them."""

from __future__ import annotations

from typing import Any

from slack_standin.outcome import Outcome, missing_scope
from slack_standin.state import SlackState, Token


def info(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    refused = missing_scope(token, "users:read")
    if refused is not None:
        return refused
    user = state.users.get(str(params.get("user", "")))
    if user is None or user.team_id != token.team_id:
        return Outcome.fail("user_not_found")
    return Outcome(
        {
            "user": {
                "id": user.id,
                "team_id": user.team_id,
                "name": user.name,
                "deleted": False,
                "real_name": user.real_name,
                "tz": user.tz,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "profile": {"real_name": user.real_name, "display_name": user.name},
            }
        }
    )
