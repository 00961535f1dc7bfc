"""Events API: every event manifest.yml subscribes to has its listener here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.storage.slack import TOKENS_REVOKED, UNINSTALLED, record_uninstall
from bolt_app.views import build_home_view

SUBSCRIBED_EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")


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

    async def publish_home(event: dict, context: AsyncBoltContext, client: AsyncWebClient):
        if event.get("tab") != "home":
            return
        async with services.sessions() as session:
            status = await services.load_status(session, context.team_id, services.now())
        await client.views_publish(
            user_id=event["user"], view=build_home_view(context.team_id, status)
        )

    if services.home is None:  # else bolt_app.listeners.home publishes the full App Home
        app.event("app_home_opened")(publish_home)

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
