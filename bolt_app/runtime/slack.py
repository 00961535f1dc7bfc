"""Where each workspace's Slack token comes from, put together from `Settings`: OAuth
installs, or the bot token without OAuth (every process; the Bolt app is `runtime.bolt`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.settings import Settings
from bolt_app.slack.installations import (
    EncryptedInstallationStore,
    OAuthConfig,
    SlackClients,
    build_state_store,
)


def _oauth(settings: Settings, engine: AsyncEngine) -> OAuthConfig | None:
    if settings.slack_client_id is None or settings.slack_client_secret is None:
        return None
    return OAuthConfig(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        state_store=build_state_store(engine),
    )


def slack_clients(
    settings: Settings,
    *,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
) -> SlackClients:
    """Where each workspace's token comes from; `token_for_team` is what workers post with."""
    oauth = _oauth(settings, engine)
    store = (
        None
        if oauth is None
        else EncryptedInstallationStore(client_id=oauth.client_id, engine=engine, box=box)
    )
    return SlackClients(
        api_url=settings.slack_api_url,
        sessions=sessions,
        box=box,
        installation_store=store,
        oauth=oauth,
        default_token=settings.slack_bot_token,
    )
