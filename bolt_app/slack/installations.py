"""Slack installations: slack-sdk's SQLAlchemy stores, with every token encrypted at rest.

`EncryptedInstallationStore` wraps slack-sdk's `AsyncSQLAlchemyInstallationStore` (pointed at
the `slack_installations` / `slack_bots` tables of our schema) and passes it only ciphertext:
bot, user and refresh tokens are `SecretBox` tokens in `encrypted_column`s, so `keys rotate`
re-encrypts them with the other secrets. Bolt's authorize, the OAuth flow and the token rotator
see plaintext `Installation`/`Bot` objects as usual.

`SlackClients.for_team` gives background jobs (delivery worker, poller, `check`) a client for a
workspace outside any Slack request, refreshing a rotating token that is about to expire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bolt_app.crypto import SecretBox
from bolt_app.errors import MLConnectorError
from bolt_app.storage.tables import slack_bots, slack_installations, slack_oauth_states
from bolt_app.storage.workspaces import stored_bot_token

_INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_BOT_SECRETS = ("bot_token", "bot_refresh_token")
# Refresh a rotating token this long before it expires (Bolt's default as well).
TOKEN_REFRESH_MARGIN_MINUTES = 120
# A margin longer than any token lives (Slack grants 12 hours): the rotator refreshes at once.
FORCE_REFRESH_MINUTES = 10 * 365 * 24 * 60
OAUTH_STATE_SECONDS = 600


class WorkspaceNotInstalled(MLConnectorError):
    """No token for a workspace: not installed, uninstalled, or its tokens were revoked."""


class SlackTokenRefreshFailed(MLConnectorError):
    """Slack refused to refresh a rotating token (the refresh token was revoked)."""


class _SchemaInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's store on our migrated tables instead of tables of its own."""

    @classmethod
    def build_installations_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return slack_installations

    @classmethod
    def build_bots_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return slack_bots


class _SchemaOAuthStateStore(AsyncSQLAlchemyOAuthStateStore):
    @classmethod
    def build_oauth_states_table(cls, metadata: sa.MetaData, table_name: str) -> sa.Table:
        return slack_oauth_states


async def delete_expired_oauth_states(session: AsyncSession, *, now: datetime) -> int:
    """Forget `state` values past Slack's 10-minute window; each unfinished visit to
    /slack/install leaves one, and nothing else removes it. Returns how many went."""
    result = await session.execute(
        sa.delete(slack_oauth_states).where(
            slack_oauth_states.c.expire_at <= normalize_datetime_for_db(now)
        )
    )
    return result.rowcount or 0


def build_state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    """OAuth `state` values in the database, so any web process can finish an install."""
    return _SchemaOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)


class EncryptedInstallationStore(AsyncInstallationStore):
    """An `AsyncInstallationStore` whose rows hold only `SecretBox` ciphertext for tokens."""

    def __init__(self, *, client_id: str, engine: AsyncEngine, box: SecretBox) -> None:
        self._inner = _SchemaInstallationStore(client_id=client_id, engine=engine)
        self._client_id = client_id
        self._engine = engine
        self._box = box

    @property
    def logger(self) -> logging.Logger:
        return self._inner.logger

    async def async_save(self, installation: Installation) -> None:
        await self._inner.async_save(
            self._sealed(installation, Installation, _INSTALLATION_SECRETS)
        )

    async def async_save_bot(self, bot: Bot) -> None:
        await self._inner.async_save_bot(self._sealed(bot, Bot, _BOT_SECRETS))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = await self._inner.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if bot is None else self._opened(bot, _BOT_SECRETS)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = await self._inner.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if installation is None else self._opened(installation, _INSTALLATION_SECRETS)

    async def find_installation_for_team(self, team_id: str) -> Installation | None:
        """The workspace's newest installation, whatever Enterprise Grid org it belongs to.

        Background jobs know only the team; slack-sdk's lookup with `enterprise_id=None`
        matches `IS NULL` and so misses every workspace of a Grid org."""
        async with self._engine.connect() as connection:
            enterprise_id = (
                await connection.execute(
                    sa.select(slack_installations.c.enterprise_id)
                    .where(
                        slack_installations.c.client_id == self._client_id,
                        slack_installations.c.team_id == team_id,
                    )
                    .order_by(slack_installations.c.installed_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
        return await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._inner.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._inner.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    def _sealed(self, item, kind, fields: tuple[str, ...]):
        copy = kind(**item.to_dict_for_copying())
        for name in fields:
            value = getattr(copy, name)
            if value is not None:
                setattr(copy, name, self._box.encrypt(value))
        return copy

    def _opened(self, item, fields: tuple[str, ...]):
        for name in fields:
            value = getattr(item, name)
            if value is not None:
                setattr(item, name, self._box.decrypt(value))
        return item


@dataclass(frozen=True)
class OAuthConfig:
    """Multi-workspace install through /slack/install (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET)."""

    client_id: str
    client_secret: str
    state_store: AsyncOAuthStateStore
    redirect_uri: str | None = None

    def __repr__(self) -> str:
        return f"OAuthConfig(client_id={self.client_id!r}, client_secret=<hidden>)"


class SlackClients:
    """Web API clients for a workspace, for code that runs outside a Slack request.

    The token comes from, in order: the OAuth installation (refreshed when it rotates and is
    about to expire), the bot token of the workspace file, then `SLACK_BOT_TOKEN`.
    """

    def __init__(
        self,
        *,
        api_url: str,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        installation_store: EncryptedInstallationStore | None = None,
        oauth: OAuthConfig | None = None,
        default_token: str | None = None,
        client_factory: Callable[..., AsyncWebClient] = AsyncWebClient,
    ) -> None:
        self._api_url = api_url
        self._sessions = sessions
        self._box = box
        self.installation_store = installation_store
        self.oauth = oauth
        self._default_token = default_token
        self._client_factory = client_factory
        self._rotator = (
            AsyncTokenRotator(
                client_id=oauth.client_id,
                client_secret=oauth.client_secret,
                client=client_factory(base_url=api_url),
            )
            if oauth is not None
            else None
        )

    def client(self, token: str | None = None) -> AsyncWebClient:
        """A client on the configured API URL (tests: the stand-in), with `token` if given."""
        return self._client_factory(token=token, base_url=self._api_url)

    async def token_for_team(self, team_id: str) -> str:
        if self.installation_store is not None:
            installation = await self.installation_store.find_installation_for_team(team_id)
            if installation is not None and installation.bot_token is not None:
                return await self._fresh_bot_token(installation)
        async with self._sessions() as session:
            stored = await stored_bot_token(session, team_id)
        if stored is not None:
            return self._box.decrypt(stored)
        if self._default_token is not None:
            return self._default_token
        raise WorkspaceNotInstalled(
            f"Workspace {team_id} has no Slack token: install the app through /slack/install, "
            "set bot_token in its workspace file, or set SLACK_BOT_TOKEN."
        )

    async def refreshed_token_for_team(self, team_id: str) -> str:
        """A new bot token for a workspace whose rotating token Slack answered `token_expired`.

        Refreshed whatever its recorded expiry says: Slack is the judge of that, and the clock
        that stored the expiry may be off. Raises `SlackTokenRefreshFailed` when the token does
        not rotate or Slack refuses the refresh token; only a reinstall helps then."""
        installation = (
            None
            if self.installation_store is None
            else await self.installation_store.find_installation_for_team(team_id)
        )
        if installation is None or installation.bot_refresh_token is None or self._rotator is None:
            raise SlackTokenRefreshFailed(
                f"The Slack token of workspace {team_id} expired and is not a rotating token "
                "that can be refreshed; reinstall the app."
            )
        return await self._fresh_bot_token(installation, margin_minutes=FORCE_REFRESH_MINUTES)

    async def for_team(self, team_id: str) -> AsyncWebClient:
        """A client whose token may post to `team_id` now."""
        return self.client(await self.token_for_team(team_id))

    async def _fresh_bot_token(
        self, installation: Installation, *, margin_minutes: int = TOKEN_REFRESH_MARGIN_MINUTES
    ) -> str:
        """Rotate like Bolt's authorize does, saving the whole installation."""
        if installation.bot_refresh_token is None or self._rotator is None:
            return installation.bot_token
        try:
            refreshed = await self._rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=margin_minutes
            )
        except SlackTokenRotationError as error:
            raise SlackTokenRefreshFailed(
                f"Slack refused to refresh the bot token of workspace {installation.team_id} "
                f"({error.api_error.response.get('error')}); reinstall the app."
            ) from None
        if refreshed is None:
            return installation.bot_token
        await self.installation_store.async_save(refreshed)
        return refreshed.bot_token
