"""What the stand-in's Slack holds in memory, and the Python API tests use to set it up.

Workspaces, tokens, channels, users, messages and views are plain dataclasses in dictionaries;
the Web API families read and change them through `SlackState`, and tests arrange them with its
public methods (`add_workspace`, `add_channel`, `revoke_token`, ...) before or between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

DEFAULT_BOT_SCOPES = (
    "channels:join",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:read",
    "users:read",
)


class TokenState(StrEnum):
    """Why a token is refused; the value is the error name Slack answers with."""

    ACTIVE = "active"
    REVOKED = "token_revoked"
    EXPIRED = "token_expired"
    INACTIVE = "account_inactive"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as a person in the channel would now see it (after every chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: tuple[Mapping[str, Any], ...]
    metadata: Mapping[str, Any] | None
    thread_ts: str | None  # set on thread replies only
    user: str  # the posting bot's user ID
    edits: int  # how many chat.update calls changed it

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None


@dataclass(frozen=True, slots=True)
class EphemeralMessage:
    channel: str
    user: str
    text: str
    blocks: tuple[Mapping[str, Any], ...]
    message_ts: str


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What one `oauth.v2.access` code installs (the code is single-use, as at Slack)."""

    code: str
    team_id: str
    installer_user_id: str
    bot_scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES
    user_scopes: tuple[str, ...] = ()
    token_rotation: bool = False
    redirect_uri: str | None = None


@dataclass(slots=True)
class Token:
    value: str
    team_id: str
    kind: str  # "bot" or "user"
    user_id: str
    scopes: tuple[str, ...]
    state: TokenState = TokenState.ACTIVE
    expires_at: datetime | None = None


@dataclass(slots=True)
class Workspace:
    team_id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    active: bool = True
    enterprise_id: str | None = None  # the Enterprise Grid org the workspace belongs to
    enterprise_name: str | None = None


@dataclass(slots=True)
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool
    is_archived: bool
    members: set[str]
    created: int


@dataclass(slots=True)
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    tz: str


@dataclass(slots=True)
class View:
    id: str
    team_id: str
    user_id: str | None
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None


class SlackState:
    """Slack's side of our app: its registration, the workspaces it is installed in, and
    everything those workspaces hold. `wall_clock` makes message timestamps and token expiry."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        app_id: str,
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_id = app_id
        self.wall_clock = wall_clock

        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}  # refresh token -> the token it renews
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.grants: dict[str, OAuthGrant] = {}
        self.messages: dict[str, list[StoredMessage]] = {}
        self.ephemeral: list[EphemeralMessage] = []
        self.views: dict[str, View] = {}
        self.home_views: dict[tuple[str, str], str] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self._last_ts_micros = 0
        self._ids = 0

    # ---- setting up state ------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}0SI{self._ids:06d}"

    def add_workspace(
        self,
        team_id: str,
        name: str = "Stand-in Workspace",
        *,
        bot_token: str | None = None,
        bot_scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
    ) -> None:
        """Register a workspace with our app installed (and its bot token, if given); with
        `enterprise_id` it is one workspace of an Enterprise Grid org."""
        workspace = Workspace(
            team_id=team_id,
            name=name,
            domain=team_id.lower(),
            bot_user_id=bot_user_id or self.new_id("U"),
            bot_id=bot_id or self.new_id("B"),
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
        )
        self.workspaces[team_id] = workspace
        self.users[workspace.bot_user_id] = User(
            workspace.bot_user_id,
            team_id,
            "ml-connector",
            "ML Connector",
            False,
            False,
            True,
            "UTC",
        )
        if bot_token is not None:
            self.add_token(bot_token, team_id, scopes=bot_scopes)

    def bot_user_id(self, team_id: str) -> str:
        """The user ID our bot posts as in that workspace (`StoredMessage.user`)."""
        return self._workspace(team_id).bot_user_id

    def add_token(
        self,
        token: str,
        team_id: str,
        *,
        kind: str = "bot",
        user_id: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES,
        expires_at: datetime | None = None,
    ) -> None:
        workspace = self._workspace(team_id)
        owner = workspace.bot_user_id if kind == "bot" else user_id
        if owner is None:
            raise ValueError("a user token needs user_id")
        self.tokens[token] = Token(
            token, team_id, kind, owner, tuple(scopes), expires_at=expires_at
        )

    def revoke_token(self, token: str) -> None:
        self.tokens[token].state = TokenState.REVOKED

    def expire_token(self, token: str) -> None:
        self.tokens[token].state = TokenState.EXPIRED

    def revoke_refresh_tokens(self, team_id: str) -> None:
        """The workspace's refresh tokens answer `invalid_refresh_token` from now on; the access
        tokens they renewed keep their state (an expired one stays expired)."""
        for refresh, token in list(self.refresh_tokens.items()):
            if token.team_id == team_id:
                del self.refresh_tokens[refresh]

    def uninstall(self, team_id: str) -> None:
        """Every token of the workspace answers `token_revoked` from now on."""
        for token in self.tokens.values():
            if token.team_id == team_id:
                token.state = TokenState.REVOKED

    def deactivate_workspace(self, team_id: str) -> None:
        """Every token of the workspace answers `account_inactive` from now on."""
        self._workspace(team_id).active = False

    def add_user(
        self,
        team_id: str,
        user_id: str,
        name: str = "",
        *,
        real_name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        tz: str = "America/Chicago",
    ) -> None:
        self._workspace(team_id)
        name = name or user_id.lower()
        self.users[user_id] = User(
            user_id, team_id, name, real_name or name, is_admin or is_owner, is_owner, False, tz
        )

    def add_channel(
        self,
        team_id: str,
        channel_id: str,
        name: str = "",
        *,
        private: bool = False,
        archived: bool = False,
        bot_member: bool = True,
        members: tuple[str, ...] = (),
    ) -> None:
        workspace = self._workspace(team_id)
        member_ids = set(members) | ({workspace.bot_user_id} if bot_member else set())
        self.channels[channel_id] = Channel(
            channel_id,
            team_id,
            name or channel_id.lower(),
            private,
            archived,
            member_ids,
            int(self.wall_clock().timestamp()),
        )

    def add_message(
        self,
        channel_id: str,
        ts: str,
        text: str,
        blocks: tuple[Mapping[str, Any], ...] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """A message our bot posted before this stand-in started (the demo's earlier runs), so a
        later chat.update or thread reply finds it. Later timestamps stay greater than `ts`."""
        channel = self.channels[channel_id]
        user = self.workspaces[channel.team_id].bot_user_id
        message = StoredMessage(channel_id, ts, text, tuple(blocks), metadata, None, user, 0)
        self.messages.setdefault(channel_id, []).append(message)
        seconds, _, micros = ts.partition(".")
        self._last_ts_micros = max(self._last_ts_micros, int(seconds) * 1_000_000 + int(micros))

    def archive_channel(self, channel_id: str) -> None:
        self.channels[channel_id].is_archived = True

    def remove_bot_from_channel(self, channel_id: str) -> None:
        channel = self.channels[channel_id]
        channel.members.discard(self.workspaces[channel.team_id].bot_user_id)

    def is_bot_member(self, channel_id: str) -> bool:
        channel = self.channels[channel_id]
        return self.workspaces[channel.team_id].bot_user_id in channel.members

    def add_oauth_code(
        self,
        code: str,
        team_id: str,
        installer_user_id: str,
        *,
        bot_scopes: tuple[str, ...] = DEFAULT_BOT_SCOPES,
        user_scopes: tuple[str, ...] = (),
        token_rotation: bool = False,
        redirect_uri: str | None = None,
    ) -> OAuthGrant:
        """A code `oauth.v2.access` will exchange once for an installation of `team_id`."""
        self._workspace(team_id)
        grant = OAuthGrant(
            code,
            team_id,
            installer_user_id,
            tuple(bot_scopes),
            tuple(user_scopes),
            token_rotation,
            redirect_uri,
        )
        self.grants[code] = grant
        return grant

    # ---- reading what happened -------------------------------------------------------------

    def posted_messages(self, channel: str) -> list[StoredMessage]:
        """Every message in the channel, replies included, in posting order, as they now read."""
        return list(self.messages.get(channel, ()))

    def thread_replies(self, channel: str, ts: str) -> list[StoredMessage]:
        return [m for m in self.messages.get(channel, ()) if m.thread_ts == ts]

    def ephemeral_messages(self, channel: str | None = None) -> list[EphemeralMessage]:
        return [m for m in self.ephemeral if channel in (None, m.channel)]

    # ---- what the Web API methods share ----------------------------------------------------

    def _workspace(self, team_id: str) -> Workspace:
        try:
            return self.workspaces[team_id]
        except KeyError:
            raise ValueError(f"workspace {team_id} is not registered with the stand-in") from None

    def find_channel(self, token: Token, ref: Any) -> Channel | None:
        """By ID or `#name`, within the token's workspace; private channels only to members."""
        if not isinstance(ref, str) or not ref:
            return None
        channel = self.channels.get(ref)
        if channel is None:
            name = ref.removeprefix("#")
            channel = next(
                (
                    c
                    for c in self.channels.values()
                    if c.name == name and c.team_id == token.team_id
                ),
                None,
            )
        if channel is None or channel.team_id != token.team_id:
            return None
        if channel.is_private and token.user_id not in channel.members:
            return None
        return channel

    def next_ts(self) -> str:
        """Unique, increasing message timestamps shaped like Slack's ("1764165600.000100")."""
        micros = int(self.wall_clock().timestamp() * 1_000_000) // 100 * 100
        micros = max(micros, self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
