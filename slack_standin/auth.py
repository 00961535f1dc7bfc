"""auth.test: who a token is, in which workspace."""

from __future__ import annotations

from typing import Any

from slack_standin.outcome import Outcome
from slack_standin.state import SlackState, Token


def identify(state: SlackState, params: dict[str, Any], token: Token) -> Outcome:
    workspace = state.workspaces[token.team_id]
    body: dict[str, Any] = {
        "url": f"https://{workspace.domain}.slack.com/",
        "team": workspace.name,
        "user": state.users[token.user_id].name if token.user_id in state.users else "",
        "team_id": workspace.team_id,
        "user_id": token.user_id,
        "is_enterprise_install": False,
    }
    if workspace.enterprise_id is not None:
        body["enterprise_id"] = workspace.enterprise_id
    if token.kind == "bot":
        body["bot_id"] = workspace.bot_id
    return Outcome(body)
