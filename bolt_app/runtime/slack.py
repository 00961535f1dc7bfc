"""Putting the Slack side together from `Settings`: token sources and the Bolt app.

slack_clients(settings, ...)      tokens and clients for any workspace (workers, check)
build_slack_app(settings, ...)    the Bolt app: OAuth installs, or bot tokens without OAuth
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.errors import ConfigError
from bolt_app.home.listeners import HomeServices
from bolt_app.settings import Settings
from bolt_app.slack.app import SlackAppServices, build_app
from bolt_app.slack.installations import (
    EncryptedInstallationStore,
    OAuthConfig,
    SlackClients,
    build_state_store,
)

log = logging.getLogger(__name__)


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


def validate_slack_settings(settings: Settings) -> None:
    """Refuse, before anything starts, settings that cannot serve Slack."""
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET must be set to serve Slack's HTTP endpoints "
            "(or set SLACK_APP_TOKEN to use Socket Mode)."
        )
    if (settings.slack_client_id is None) != (settings.slack_client_secret is None):
        raise ConfigError(
            "Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs, or neither."
        )


def build_slack_app(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    clients: SlackClients,
    home: HomeServices,
    now: Callable[[], datetime],
) -> AsyncApp:
    validate_slack_settings(settings)
    return build_app(
        signing_secret=settings.slack_signing_secret or "",
        client=AsyncWebClient(base_url=settings.slack_api_url),
        services=SlackAppServices(
            sessions=sessions,
            now=now,
            installation_store=clients.installation_store,
            home=home,
        ),
        oauth=clients.oauth,
        token_for_team=clients.token_for_team,
    )
