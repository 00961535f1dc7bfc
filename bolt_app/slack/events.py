"""Events API: uninstall and token revocation; app_home_opened is `bolt_app.home.listeners`'s."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bolt_app.slack.store import record_uninstall
from bolt_app.workspace.model import TOKENS_REVOKED, UNINSTALLED


def register(app: AsyncApp, services) -> None:
    async def forget_workspace(context: AsyncBoltContext, reason: str) -> None:
        """Delete the tokens, pause the polls; the audit trail and configuration stay."""
        if services.installation_store is not None:
            await services.installation_store.async_delete_all(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
        async with services.sessions.begin() as session:
            await record_uninstall(
                session, team_id=context.team_id, reason=reason, now=services.now()
            )

    @app.event("app_uninstalled")
    async def uninstalled(context: AsyncBoltContext):
        await forget_workspace(context, UNINSTALLED)

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict, context: AsyncBoltContext):
        tokens = event.get("tokens", {})
        if tokens.get("bot"):
            await forget_workspace(context, TOKENS_REVOKED)
        elif services.installation_store is not None:
            for user_id in tokens.get("oauth", []):
                await services.installation_store.async_delete_installation(
                    enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
                )
