"""oauth.v2.access: exchanging an install code, and refreshing a rotating token.

It authenticates the app (client id and secret, as form fields or HTTP Basic), not a token, so
the server calls it before any token check.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from slack_standin.outcome import Outcome
from slack_standin.state import OAuthGrant, SlackState, Token, TokenState, Workspace

TOKEN_LIFETIME_SECONDS = 43_200  # what Slack grants a rotating token


def access(state: SlackState, params: dict[str, Any], basic: tuple[str, str] | None) -> Outcome:
    client_id, client_secret = basic or (params.get("client_id"), params.get("client_secret"))
    if client_id != state.client_id:
        return Outcome.fail("invalid_client_id")
    if client_secret != state.client_secret:
        return Outcome.fail("bad_client_secret")
    grant_type = params.get("grant_type") or "authorization_code"
    if grant_type == "refresh_token":
        return _refresh(state, str(params.get("refresh_token", "")))
    if grant_type != "authorization_code":
        return Outcome.fail("invalid_grant_type")
    grant = state.grants.pop(str(params.get("code", "")), None)
    if grant is None:
        return Outcome.fail("invalid_code")
    if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
        return Outcome.fail("bad_redirect_uri")
    return _install(state, grant)


def _mint(
    state: SlackState,
    team_id: str,
    kind: str,
    user_id: str,
    scopes: tuple[str, ...],
    *,
    rotating: bool,
) -> Token:
    prefix = "xoxb" if kind == "bot" else "xoxp"
    if rotating:
        value = f"xoxe.{prefix}-1-{secrets.token_hex(16)}"
        expires_at = state.wall_clock() + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
    else:
        value, expires_at = f"{prefix}-{team_id}-{secrets.token_hex(12)}", None
    token = Token(value, team_id, kind, user_id, scopes, expires_at=expires_at)
    state.tokens[value] = token
    return token


def _issue(
    state: SlackState,
    team_id: str,
    kind: str,
    user_id: str,
    scopes: tuple[str, ...],
    rotating: bool,
) -> dict[str, Any]:
    """The token fields of an install answer, with refresh_token/expires_in when rotating."""
    token = _mint(state, team_id, kind, user_id, scopes, rotating=rotating)
    if not rotating:
        return {"access_token": token.value}
    refresh = f"xoxe-1-{secrets.token_hex(24)}"
    state.refresh_tokens[refresh] = token
    return {
        "access_token": token.value,
        "refresh_token": refresh,
        "expires_in": TOKEN_LIFETIME_SECONDS,
    }


def _install(state: SlackState, grant: OAuthGrant) -> Outcome:
    workspace = state.workspaces[grant.team_id]
    bot = _issue(
        state, grant.team_id, "bot", workspace.bot_user_id, grant.bot_scopes, grant.token_rotation
    )
    authed_user: dict[str, Any] = {"id": grant.installer_user_id}
    if grant.user_scopes:
        authed_user.update(
            scope=",".join(grant.user_scopes),
            token_type="user",
            **_issue(
                state,
                grant.team_id,
                "user",
                grant.installer_user_id,
                grant.user_scopes,
                grant.token_rotation,
            ),
        )
    return Outcome(
        {
            "app_id": state.app_id,
            "authed_user": authed_user,
            "scope": ",".join(grant.bot_scopes),
            "token_type": "bot",
            **bot,
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": _enterprise(workspace),
            "is_enterprise_install": False,
        }
    )


def _refresh(state: SlackState, refresh_token: str) -> Outcome:
    """Token rotation: a new access token for the same grant; the refresh token stays."""
    old = state.refresh_tokens.get(refresh_token)
    if old is None or old.state is TokenState.REVOKED:
        return Outcome.fail("invalid_refresh_token")
    token = _mint(state, old.team_id, old.kind, old.user_id, old.scopes, rotating=True)
    state.refresh_tokens[refresh_token] = token
    workspace = state.workspaces[old.team_id]
    body: dict[str, Any] = {
        "app_id": state.app_id,
        "scope": ",".join(old.scopes),
        "token_type": old.kind,
        "access_token": token.value,
        "refresh_token": refresh_token,
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "team": {"id": workspace.team_id, "name": workspace.name},
        "enterprise": _enterprise(workspace),
        "is_enterprise_install": False,
    }
    if old.kind == "bot":
        body["bot_user_id"] = workspace.bot_user_id
    else:
        body["user_id"] = old.user_id
    return Outcome(body)


def _enterprise(workspace: Workspace) -> dict[str, str] | None:
    """`enterprise` of an oauth.v2.access answer: the Grid org, or null outside Grid."""
    if workspace.enterprise_id is None:
        return None
    return {"id": workspace.enterprise_id, "name": workspace.enterprise_name or ""}
