"""The Bolt `AsyncApp`: every dependency passed in, one listener module per Slack surface.

    build_app(signing_secret, client, services, oauth=...)   the app, HTTP or Socket Mode alike

Bolt itself verifies each HTTP request's signature (HMAC-SHA256 `v0`, 5-minute window) before
any middleware or listener runs and answers 401 otherwise. Events are acked at once (listeners
run after the response) and handled once per `event_id` across processes (`claim_event`), so a
Slack retry (`X-Slack-Retry-Num`) of an event already received changes nothing. Button clicks
are claimed the same way by team, user, action and `action_ts` (`interaction_key`), so a
captured signed click replayed inside the signature's 5-minute window acts only once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bolt_app.errors import ConfigError, MLConnectorError
from bolt_app.home import listeners as home
from bolt_app.home.listeners import HomeServices
from bolt_app.slack import events
from bolt_app.slack.installations import (
    TOKEN_REFRESH_MARGIN_MINUTES,
    EncryptedInstallationStore,
    OAuthConfig,
)
from bolt_app.slack.store import claim_event, record_install
from bolt_app.status import command as status_command
from bolt_app.status.model import WorkspaceStatus, load_status

# The bot scopes an OAuth install asks for; manifest.yml lists the same (tests compare them).
BOT_SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "users:read",
    "channels:join",
    "channels:read",
    "groups:read",
)
LISTENER_MODULES = (events, status_command)

StatusLoader = Callable[[AsyncSession, str, datetime], Awaitable[WorkspaceStatus | None]]


async def read_status(session: AsyncSession, team_id: str, now: datetime) -> WorkspaceStatus | None:
    """The workspace's status from the database (never the agent); None until a Sage agent
    and its companies are configured for it."""
    try:
        status = await load_status(session, team_id, now)
    except ConfigError:
        return None
    return status if status.resources else None


@dataclass(frozen=True)
class SlackAppServices:
    """What listeners need besides Slack: the database, the clock, the status reader."""

    sessions: async_sessionmaker[AsyncSession]
    now: Callable[[], datetime]
    home: HomeServices  # the App Home: status, administration and the Details modal
    installation_store: EncryptedInstallationStore | None = None
    load_status: StatusLoader = read_status


def interaction_key(body: dict) -> str | None:
    """The receipt key of a `block_actions` click (fits the receipts' event id column), or
    None for payloads that are not clicks."""
    if body.get("type") != "block_actions" or not body.get("actions"):
        return None
    action = body["actions"][0]
    parts = (
        (body.get("team") or {}).get("id"),
        (body.get("user") or {}).get("id"),
        action.get("action_id"),
        action.get("action_ts"),
    )
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"click:{digest[:48]}"


def app_home_url(team_id: str | None, app_id: str | None) -> str:
    """Where a fresh install lands: the app's Home tab in the Slack client."""
    return f"slack://app?team={team_id}&id={app_id}&tab=home"


def authorization_url(api_url: str) -> str:
    """Slack's OAuth consent page beside its Web API base (slack.com, GovSlack, a stand-in)."""
    return urljoin(api_url, "../oauth/v2/authorize")


class _HideBoltsUnusedTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN by itself and, next to our `client`, warns at every start that
    the token "will be unused"; it is used (through `token_for_team`), so the line only misleads."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_HIDE_UNUSED_TOKEN_WARNING = _HideBoltsUnusedTokenWarning()  # one instance: addFilter dedupes


def build_app(
    *,
    signing_secret: str,
    client: AsyncWebClient,
    services: SlackAppServices,
    oauth: OAuthConfig | None = None,
    token_for_team: Callable[[str], Awaitable[str]] | None = None,
    logger: logging.Logger | None = None,
) -> AsyncApp:
    """The app: with `oauth`, workspaces install through /slack/install; without, each request's
    token comes from `token_for_team` (SLACK_BOT_TOKEN or a workspace file's bot_token)."""
    logger = logger or logging.getLogger("bolt_app.slack")
    logger.addFilter(_HIDE_UNUSED_TOKEN_WARNING)

    async def handle_each_event_once(body: dict, next: Callable[[], Awaitable[None]]):
        if body.get("type") == "event_callback" and body.get("event_id"):
            receipt, team_id = body["event_id"], body.get("team_id")
        else:
            receipt, team_id = interaction_key(body), (body.get("team") or {}).get("id")
        if receipt is not None:
            async with services.sessions.begin() as session:
                first = await claim_event(
                    session, event_id=receipt, team_id=team_id, now=services.now()
                )
            if not first:
                logger.info("Slack request %s was already handled; acking the repeat", receipt)
                return BoltResponse(status=200, body="")
        return await next()

    oauth_settings = None
    if oauth is None:
        if token_for_team is None:
            raise ValueError("without OAuth, build_app needs token_for_team")
        authorize = _token_authorize(token_for_team)
    else:
        if services.installation_store is None:
            raise ValueError("an OAuth install needs services.installation_store")
        oauth_settings = AsyncOAuthSettings(
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=oauth.redirect_uri,
            authorization_url=authorization_url(client.base_url),
            installation_store=services.installation_store,
            state_store=oauth.state_store,
            callback_options=_install_callbacks(services),
            token_rotation_expiration_minutes=TOKEN_REFRESH_MARGIN_MINUTES,
            logger=logger,
        )
        # Built here rather than by the settings so that token refreshes go to `client`'s
        # base URL (SLACK_API_URL) instead of slack.com.
        authorize = _InstallationsThenTokens(
            fallback=None if token_for_team is None else _token_authorize(token_for_team),
            logger=logger,
            installation_store=services.installation_store,
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            token_rotation_expiration_minutes=TOKEN_REFRESH_MARGIN_MINUTES,
            client=client,
        )
    app = AsyncApp(
        name="ml-connector",
        logger=logger,
        signing_secret=signing_secret,
        client=client,
        authorize=authorize,
        installation_store=services.installation_store if oauth is not None else None,
        oauth_settings=oauth_settings,
        before_authorize=handle_each_event_once,
        request_verification_enabled=True,
    )
    for module in LISTENER_MODULES:
        module.register(app, services)
    home.register(app, services.home)
    return app


class _InstallationsThenTokens(AsyncInstallationStoreAuthorize):
    """OAuth installations first; then a workspace set up with a bot token (its workspace file
    or SLACK_BOT_TOKEN) is served too, so both kinds of install can share one deployment."""

    def __init__(self, *, fallback, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fallback = fallback

    async def __call__(self, *, context: AsyncBoltContext, team_id: str | None, **kwargs):
        result = await super().__call__(context=context, team_id=team_id, **kwargs)
        if result is None and self._fallback is not None:
            result = await self._fallback(team_id=team_id, context=context)
        return result


def _token_authorize(token_for_team: Callable[[str], Awaitable[str]]):
    """Bolt `authorize` from a bot token, without OAuth; auth.test once per token."""
    results: dict[str, AuthorizeResult] = {}

    async def authorize(team_id: str | None, context: AsyncBoltContext) -> AuthorizeResult | None:
        try:
            token = await token_for_team(team_id or "")
        except MLConnectorError:  # no token, or a refresh Slack refused
            return None
        if token not in results:
            response = await context.client.auth_test(token=token)
            results[token] = AuthorizeResult.from_auth_test_response(
                auth_test_response=response, bot_token=token, user_token=None
            )
        return results[token]

    return authorize


def _install_callbacks(services: SlackAppServices) -> AsyncCallbackOptions:
    async def installed(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        async with services.sessions.begin() as session:
            await record_install(
                session,
                team_id=installation.team_id,
                installer=installation.user_id,
                now=services.now(),
            )
        return BoltResponse(
            status=302,
            body="",
            headers={
                "Location": app_home_url(installation.team_id, installation.app_id),
                "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
            },
        )

    async def failed(args: AsyncFailureArgs) -> BoltResponse:
        return await args.default.failure(args)

    return AsyncCallbackOptions(success=installed, failure=failed)
