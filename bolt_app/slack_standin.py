"""A local stand-in for the Slack Web API: a real HTTP server on loopback that records calls.

Tests and the demo point the real slack_sdk client at `SlackStandIn.api_url` (its `base_url`),
so everything between our code and the wire is exercised as it is against Slack: form or JSON
bodies, bearer tokens, HTTP 200 with `{"ok": false, "error": ...}` for API errors, HTTP 429
with `Retry-After` for rate limits, 5xx when a test injects them. State (workspaces, tokens,
channels, users, messages, views) lives in memory and is set up through the Python API.

The server runs in the caller's event loop (`async with SlackStandIn() as slack:` or
`await slack.start()` ... `await slack.stop()`), bound to 127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from mlc_common.serving import EmbeddedServer

# Slack's documented limits, kept here independently of the message builders so the stand-in
# is an oracle for them rather than an echo.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MARKDOWN_BLOCK_TEXT = 12_000

DEFAULT_BOT_SCOPES = (
    "channels:join",
    "channels:read",
    "chat:write",
    "chat:write.public",
    "commands",
    "groups:read",
    "users:read",
)
TOKEN_LIFETIME_SECONDS = 43_200  # what Slack grants a rotating token

_DEFAULT_ERROR_FOR_STATUS = {500: "internal_error", 503: "service_unavailable"}


class TokenState(StrEnum):
    """Why a token is refused; the value is the error name Slack answers with."""

    ACTIVE = "active"
    REVOKED = "token_revoked"
    EXPIRED = "token_expired"
    INACTIVE = "account_inactive"


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One HTTP request as the stand-in saw it, with the answer it gave."""

    method: str
    params: Mapping[str, Any]  # JSON-valued fields (blocks, view, metadata) already decoded
    token: str | None
    monotonic: float
    wall: datetime
    status: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


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
class PacingViolation:
    """A chat.postMessage that came sooner than the pacing interval after the channel's last."""

    channel: str
    previous_monotonic: float
    monotonic: float

    @property
    def interval(self) -> float:
        return self.monotonic - self.previous_monotonic


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
class _Token:
    value: str
    team_id: str
    kind: str  # "bot" or "user"
    user_id: str
    scopes: tuple[str, ...]
    state: TokenState = TokenState.ACTIVE
    expires_at: datetime | None = None


@dataclass(slots=True)
class _Workspace:
    team_id: str
    name: str
    domain: str
    bot_user_id: str
    bot_id: str
    active: bool = True


@dataclass(slots=True)
class _Channel:
    id: str
    team_id: str
    name: str
    is_private: bool
    is_archived: bool
    members: set[str]
    created: int


@dataclass(slots=True)
class _User:
    id: str
    team_id: str
    name: str
    real_name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    tz: str


@dataclass(slots=True)
class _Fault:
    method: str
    error: str | None
    status: int | None
    retry_after: int | None
    delay: float | None
    remaining: int | None  # None: until clear_faults()
    channel: str | None


@dataclass(slots=True)
class _View:
    id: str
    team_id: str
    user_id: str | None
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None


@dataclass(slots=True)
class _Outcome:
    """What a method handler answers; `error` set means `{"ok": false}`."""

    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fail(cls, error: str, **extra: Any) -> _Outcome:
        return cls(body=extra, error=error)


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Slack's `invalid_blocks` reasons for a payload, as `[ERROR] ... [json-pointer:...]` lines."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        errors.extend(_block_errors(block, f"/blocks/{index}"))
    return errors


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


def _text_errors(
    obj: Any, pointer: str, limit: int, *, plain_only: bool = False, required: bool = True
) -> list[str]:
    if obj is None:
        return [_err("missing required field: text", pointer)] if required else []
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [_err("must be a text object", pointer)]
    if plain_only and obj["type"] != "plain_text":
        return [_err("must be a plain_text object", pointer)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", f"{pointer}/text")]
    if len(text) > limit:
        return [_err(f"must be less than {limit + 1} characters", f"{pointer}/text")]
    return []


def _str_errors(value: Any, pointer: str, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str) or len(value) > limit:
        return [_err(f"must be a string of at most {limit} characters", pointer)]
    return []


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [_err("must be an element object", pointer)]
    errors = _str_errors(element.get("action_id"), f"{pointer}/action_id", MAX_ID)
    if element["type"] == "button":
        errors += _text_errors(
            element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_only=True
        )
        errors += _str_errors(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE)
        errors += _str_errors(element.get("url"), f"{pointer}/url", MAX_URL)
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(_err("must be primary or danger", f"{pointer}/style"))
    elif element["type"] == "image":
        errors += _str_errors(element.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if not element.get("alt_text"):
            errors.append(_err("missing required field: alt_text", pointer))
    return errors


def _block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [_err("must be an object", pointer)]
    errors = _str_errors(block.get("block_id"), f"{pointer}/block_id", MAX_ID)
    kind = block.get("type")
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            errors.append(_err("must provide either text or fields", pointer))
        errors += _text_errors(text, f"{pointer}/text", MAX_SECTION_TEXT, required=False)
        if fields is not None:
            if not isinstance(fields, list) or not fields or len(fields) > MAX_SECTION_FIELDS:
                errors.append(
                    _err(f"must have 1 to {MAX_SECTION_FIELDS} items", f"{pointer}/fields")
                )
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
        if block.get("accessory") is not None:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        errors += _text_errors(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True
        )
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
            return errors + [
                _err(f"must have 1 to {MAX_CONTEXT_ELEMENTS} items", f"{pointer}/elements")
            ]
        for i, element in enumerate(elements):
            sub = f"{pointer}/elements/{i}"
            if isinstance(element, dict) and element.get("type") == "image":
                errors += _element_errors(element, sub)
            else:
                errors += _text_errors(element, sub, MAX_SECTION_TEXT)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
            return errors + [
                _err(f"must have 1 to {MAX_ACTIONS_ELEMENTS} items", f"{pointer}/elements")
            ]
        for i, element in enumerate(elements):
            errors += _element_errors(element, f"{pointer}/elements/{i}")
    elif kind == "image":
        errors += _str_errors(block.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if not block.get("alt_text"):
            errors.append(_err("missing required field: alt_text", pointer))
    elif kind == "input":
        errors += _text_errors(
            block.get("label"), f"{pointer}/label", MAX_FIELD_TEXT, plain_only=True
        )
        errors += _element_errors(block.get("element"), f"{pointer}/element")
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text or len(text) > MAX_MARKDOWN_BLOCK_TEXT:
            errors.append(_err("must be 1 to 12000 characters", f"{pointer}/text"))
    elif kind == "rich_text":
        if not isinstance(block.get("elements"), list):
            errors.append(_err("must be an array", f"{pointer}/elements"))
    elif kind != "divider":
        errors.append(_err(f"unsupported block type {kind!r}", f"{pointer}/type"))
    return errors


def _view_errors(view: Any) -> list[str]:
    if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
        return ["[ERROR] must be a view of type home or modal [json-pointer:/view/type]"]
    errors = validate_blocks(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
    errors += _str_errors(
        view.get("private_metadata"), "/view/private_metadata", MAX_PRIVATE_METADATA
    )
    errors += _str_errors(view.get("callback_id"), "/view/callback_id", MAX_ID)
    errors += _str_errors(view.get("external_id"), "/view/external_id", MAX_ID)
    if view["type"] == "modal":
        errors += _text_errors(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
        for key in ("submit", "close"):
            errors += _text_errors(
                view.get(key), f"/view/{key}", MAX_VIEW_TITLE, plain_only=True, required=False
            )
    return errors


def _decode_json_field(value: Any) -> Any:
    """Form bodies carry blocks, view and metadata as JSON strings; JSON bodies as values."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class SlackStandIn:
    """The Slack Web API on loopback, with a Python API to set up state and inject faults.

    `clock` (monotonic seconds) stamps calls and judges pacing; `wall_clock` makes message
    timestamps and token expiry. Both are injectable so tests can control time.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "1111111111.2222222222",
        client_secret: str = "standin-client-secret",
        app_id: str = "A0STANDIN1",
        strict_pacing: bool = False,
        pacing_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_id = app_id
        self.strict_pacing = strict_pacing
        self.pacing_interval = pacing_interval
        self._clock = clock
        self._wall_clock = wall_clock

        self.calls: list[RecordedCall] = []
        self.pacing_violations: list[PacingViolation] = []
        self._workspaces: dict[str, _Workspace] = {}
        self._tokens: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, _Token] = {}  # refresh token -> the token it renews
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, _User] = {}
        self._grants: dict[str, OAuthGrant] = {}
        self._faults: list[_Fault] = []
        self._messages: dict[str, list[StoredMessage]] = {}
        self._ephemeral: list[EphemeralMessage] = []
        self._last_post: dict[str, float] = {}
        self._last_ts_micros = 0
        self._views: dict[str, _View] = {}
        self._home_views: dict[tuple[str, str], str] = {}
        self._modal_stacks: dict[str, list[str]] = {}
        self._ids = 0
        self._responses: dict[str, list[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()  # notified after every answered call

        self.app = Starlette(
            routes=[
                Route("/api/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/response/{hook}", self._response_endpoint, methods=["POST"]),
            ]
        )
        self._server: EmbeddedServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The Web API base to give slack_sdk as `base_url` (ends in "/api/")."""
        if self._server is None:
            raise RuntimeError("the Slack stand-in is not started")
        return f"http://{self.host}:{self.port}/api/"

    async def start(self) -> None:
        """Bind the socket and serve in the running loop; returns once requests are accepted."""
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = EmbeddedServer(config, host=self.host, port=self.port)
        self.port = server.port
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def __aenter__(self) -> SlackStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- setting up state ------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
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
    ) -> None:
        """Register a workspace with our app installed (and its bot token, if given)."""
        workspace = _Workspace(
            team_id=team_id,
            name=name,
            domain=team_id.lower(),
            bot_user_id=bot_user_id or self._new_id("U"),
            bot_id=bot_id or self._new_id("B"),
        )
        self._workspaces[team_id] = workspace
        self._users[workspace.bot_user_id] = _User(
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
        self._tokens[token] = _Token(
            token, team_id, kind, owner, tuple(scopes), expires_at=expires_at
        )

    def revoke_token(self, token: str) -> None:
        self._tokens[token].state = TokenState.REVOKED

    def expire_token(self, token: str) -> None:
        self._tokens[token].state = TokenState.EXPIRED

    def uninstall(self, team_id: str) -> None:
        """Every token of the workspace answers `token_revoked` from now on."""
        for token in self._tokens.values():
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
        self._users[user_id] = _User(
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
        self._channels[channel_id] = _Channel(
            channel_id,
            team_id,
            name or channel_id.lower(),
            private,
            archived,
            member_ids,
            int(self._wall_clock().timestamp()),
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
        channel = self._channels[channel_id]
        user = self._workspaces[channel.team_id].bot_user_id
        message = StoredMessage(channel_id, ts, text, tuple(blocks), metadata, None, user, 0)
        self._messages.setdefault(channel_id, []).append(message)
        seconds, _, micros = ts.partition(".")
        self._last_ts_micros = max(self._last_ts_micros, int(seconds) * 1_000_000 + int(micros))

    def archive_channel(self, channel_id: str) -> None:
        self._channels[channel_id].is_archived = True

    def remove_bot_from_channel(self, channel_id: str) -> None:
        channel = self._channels[channel_id]
        channel.members.discard(self._workspaces[channel.team_id].bot_user_id)

    def is_bot_member(self, channel_id: str) -> bool:
        channel = self._channels[channel_id]
        return self._workspaces[channel.team_id].bot_user_id in channel.members

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
        self._grants[code] = grant
        return grant

    def new_response_url(self) -> str:
        """A `response_url` to put in a slash command or action payload sent to the app."""
        hook = secrets.token_hex(8)
        self._responses[hook] = []
        return f"http://{self.host}:{self.port}/response/{hook}"

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """What the app posted to that `response_url` (respond()/ephemeral replies), in order."""
        return list(self._responses[response_url.rsplit("/", 1)[-1]])

    # ---- fault injection -------------------------------------------------------------------

    def inject(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        times: int | None = 1,
        channel: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (to `channel`, if given) misbehave.

        `error` alone: HTTP 200 `{"ok": false, "error": error}`. `status=429` or `retry_after`:
        HTTP 429 with `Retry-After` (default 1). Another `status`: that HTTP status with a JSON
        error body. `delay` alone: the call is answered normally after `delay` seconds (it
        takes effect, as a slow Slack does); with an error or status, the answer comes late and
        nothing happens. Faults for one method are used in the order injected; `times=None`
        keeps the fault until `clear_faults()`.
        """
        if status is None and retry_after is not None:
            status = 429
        if error is None and status is None and delay is None:
            raise ValueError("inject needs an error, a status, a retry_after or a delay")
        self._faults.append(_Fault(method, error, status, retry_after, delay, times, channel))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.channel in (None, params.get("channel")):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # ---- reading what happened -------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def posted_messages(self, channel: str) -> list[StoredMessage]:
        """Every message in the channel, replies included, in posting order, as they now read."""
        return list(self._messages.get(channel, ()))

    async def wait_for_messages(self, channel: str, count: int) -> list[StoredMessage]:
        """Wait until the channel holds `count` messages (bound it with `asyncio.timeout`)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self._messages.get(channel, ())) >= count)
        return self.posted_messages(channel)

    def thread_replies(self, channel: str, ts: str) -> list[StoredMessage]:
        return [m for m in self._messages.get(channel, ()) if m.thread_ts == ts]

    def ephemeral_messages(self, channel: str | None = None) -> list[EphemeralMessage]:
        return [m for m in self._ephemeral if channel in (None, m.channel)]

    def home_view(self, user_id: str, team_id: str | None = None) -> dict[str, Any] | None:
        """The App Home view last published for the user (team inferred when there is one)."""
        for (team, user), view_id in self._home_views.items():
            if user == user_id and team_id in (None, team):
                return self._view_body(self._views[view_id])
        return None

    def modal_stack(self, team_id: str) -> list[dict[str, Any]]:
        """The open modals of the workspace, bottom first."""
        return [self._view_body(self._views[v]) for v in self._modal_stacks.get(team_id, ())]

    # ---- the HTTP side ---------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params, bearer, basic = await self._read_request(request)
        token = bearer or (
            params.pop("token", None) if isinstance(params.get("token"), str) else None
        )
        fault = self._take_fault(method, params)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        monotonic, wall = self._clock(), self._wall_clock()
        if fault is not None and (fault.status is not None or fault.error is not None):
            outcome = self._fault_outcome(fault)
        else:
            outcome = self._dispatch(method, params, token, basic, monotonic)

        self.calls.append(
            RecordedCall(method, params, token, monotonic, wall, outcome.status, outcome.error)
        )
        async with self._changed:
            self._changed.notify_all()
        body = {"ok": outcome.error is None, **outcome.body}
        if outcome.error is not None:
            body["error"] = outcome.error
        return JSONResponse(body, status_code=outcome.status, headers=outcome.headers)

    async def _response_endpoint(self, request: Request) -> PlainTextResponse:
        posts = self._responses.get(request.path_params["hook"])
        if posts is None:
            return PlainTextResponse("no_active_hooks", status_code=404)
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return PlainTextResponse("invalid_payload", status_code=400)
        posts.append(body)
        return PlainTextResponse("ok")

    async def _read_request(
        self, request: Request
    ) -> tuple[dict[str, Any], str | None, tuple[str, str] | None]:
        params: dict[str, Any] = dict(request.query_params)
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        if raw and content_type.startswith("application/json"):
            try:
                decoded = json.loads(raw)
            except json.JSONDecodeError:
                decoded = None
            if isinstance(decoded, dict):
                params.update(decoded)
        elif raw:
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        for key in ("blocks", "view", "metadata", "attachments"):
            if key in params:
                params[key] = _decode_json_field(params[key])

        authorization = request.headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        bearer = credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None
        basic = None
        if scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
                user, _, password = base64.b64decode(credentials).decode().partition(":")
                basic = (user, password)
        return params, bearer, basic

    def _fault_outcome(self, fault: _Fault) -> _Outcome:
        if fault.status == 429:
            return _Outcome(
                error=fault.error or "ratelimited",
                status=429,
                headers={"Retry-After": str(fault.retry_after or 1)},
            )
        if fault.status is not None:
            error = fault.error or _DEFAULT_ERROR_FOR_STATUS.get(fault.status, "fatal_error")
            return _Outcome(error=error, status=fault.status)
        return _Outcome.fail(fault.error or "fatal_error")

    def _dispatch(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        basic: tuple[str, str] | None,
        monotonic: float,
    ) -> _Outcome:
        if method == "oauth.v2.access":
            return self._oauth_v2_access(params, basic)
        handler = self._handlers().get(method)
        if handler is None:
            return _Outcome.fail("unknown_method")
        auth = self._authenticate(token)
        if isinstance(auth, _Outcome):
            return auth
        if method == "chat.postMessage" and self.strict_pacing:
            refused = self._pace(params, auth, monotonic)
            if refused is not None:
                return refused
        outcome = handler(params, auth)
        if method == "chat.postMessage" and outcome.error is None:
            self._last_post[outcome.body["channel"]] = monotonic
        return outcome

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], _Token], _Outcome]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
        }

    def _authenticate(self, token: str | None) -> _Token | _Outcome:
        if not token:
            return _Outcome.fail("not_authed")
        record = self._tokens.get(token)
        if record is None:
            return _Outcome.fail("invalid_auth")
        if not self._workspaces[record.team_id].active:
            return _Outcome.fail(TokenState.INACTIVE.value)
        if record.expires_at is not None and self._wall_clock() >= record.expires_at:
            record.state = TokenState.EXPIRED
        if record.state is not TokenState.ACTIVE:
            return _Outcome.fail(record.state.value)
        return record

    def _pace(self, params: Mapping[str, Any], token: _Token, monotonic: float) -> _Outcome | None:
        channel = self._find_channel(token, params.get("channel"))
        previous = self._last_post.get(channel.id) if channel is not None else None
        if (
            channel is not None
            and previous is not None
            and monotonic - previous < self.pacing_interval
        ):
            self.pacing_violations.append(PacingViolation(channel.id, previous, monotonic))
            return _Outcome(error="ratelimited", status=429, headers={"Retry-After": "1"})
        return None

    @staticmethod
    def _missing_scope(token: _Token, needed: str) -> _Outcome | None:
        if needed in token.scopes:
            return None
        return _Outcome.fail("missing_scope", needed=needed, provided=",".join(token.scopes))

    def _workspace(self, team_id: str) -> _Workspace:
        try:
            return self._workspaces[team_id]
        except KeyError:
            raise ValueError(f"workspace {team_id} is not registered with the stand-in") from None

    def _find_channel(self, token: _Token, ref: Any) -> _Channel | None:
        """By ID or `#name`, within the token's workspace; private channels only to members."""
        if not isinstance(ref, str) or not ref:
            return None
        channel = self._channels.get(ref)
        if channel is None:
            name = ref.removeprefix("#")
            channel = next(
                (
                    c
                    for c in self._channels.values()
                    if c.name == name and c.team_id == token.team_id
                ),
                None,
            )
        if channel is None or channel.team_id != token.team_id:
            return None
        if channel.is_private and token.user_id not in channel.members:
            return None
        return channel

    def _next_ts(self) -> str:
        """Unique, increasing message timestamps shaped like Slack's ("1764165600.000100")."""
        micros = int(self._wall_clock().timestamp() * 1_000_000) // 100 * 100
        micros = max(micros, self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # ---- methods ---------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any], token: _Token) -> _Outcome:
        workspace = self._workspaces[token.team_id]
        body: dict[str, Any] = {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.name,
            "user": self._users[token.user_id].name if token.user_id in self._users else "",
            "team_id": workspace.team_id,
            "user_id": token.user_id,
            "is_enterprise_install": False,
        }
        if token.kind == "bot":
            body["bot_id"] = workspace.bot_id
        return _Outcome(body)

    def _message_content_error(self, params: Mapping[str, Any]) -> _Outcome | None:
        text, blocks = params.get("text"), params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            return _Outcome.fail("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return _Outcome.fail("msg_too_long")
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                return _Outcome.fail(
                    "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                )
        metadata = params.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return _Outcome.fail("invalid_metadata_format")
        return None

    def _postable_channel(self, params: Mapping[str, Any], token: _Token) -> _Channel | _Outcome:
        channel = self._find_channel(token, params.get("channel"))
        if channel is None:
            return _Outcome.fail("channel_not_found")
        if channel.is_archived:
            return _Outcome.fail("is_archived")
        if token.user_id not in channel.members and (
            channel.is_private or "chat:write.public" not in token.scopes
        ):
            return _Outcome.fail("not_in_channel")
        return channel

    def _message_body(self, message: StoredMessage, team_id: str) -> dict[str, Any]:
        workspace = self._workspaces[team_id]
        body: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "bot_id": workspace.bot_id,
            "app_id": self.app_id,
            "text": message.text,
            "blocks": list(message.blocks),
            "ts": message.ts,
            "team": team_id,
        }
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        if message.metadata is not None:
            body["metadata"] = message.metadata
        return body

    def _chat_post_message(self, params: dict[str, Any], token: _Token) -> _Outcome:
        refused = self._missing_scope(token, "chat:write")
        channel = self._postable_channel(params, token) if refused is None else refused
        if isinstance(channel, _Outcome):
            return channel
        refused = self._message_content_error(params)
        if refused is not None:
            return refused
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None:
            parent = self._stored(channel.id, str(thread_ts))
            if parent is None:
                return _Outcome.fail("thread_not_found")
            thread_ts = parent.thread_ts or parent.ts  # a reply to a reply joins the thread
        blocks = params.get("blocks") or []
        message = StoredMessage(
            channel=channel.id,
            ts=self._next_ts(),
            text=str(params.get("text") or ""),
            blocks=tuple(blocks),
            metadata=params.get("metadata"),
            thread_ts=thread_ts,
            user=token.user_id,
            edits=0,
        )
        self._messages.setdefault(channel.id, []).append(message)
        return _Outcome(
            {
                "channel": channel.id,
                "ts": message.ts,
                "message": self._message_body(message, token.team_id),
            }
        )

    def _stored(self, channel_id: str, ts: str) -> StoredMessage | None:
        return next((m for m in self._messages.get(channel_id, ()) if m.ts == ts), None)

    def _chat_update(self, params: dict[str, Any], token: _Token) -> _Outcome:
        refused = self._missing_scope(token, "chat:write")
        if refused is not None:
            return refused
        channel = self._find_channel(token, params.get("channel"))
        if channel is None:
            return _Outcome.fail("channel_not_found")
        current = self._stored(channel.id, str(params.get("ts", "")))
        if current is None:
            return _Outcome.fail("message_not_found")
        if current.user != token.user_id:
            return _Outcome.fail("cant_update_message")
        if channel.is_archived:
            return _Outcome.fail("is_archived")
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            return _Outcome.fail("msg_too_long")
        if params.get("blocks") is not None:
            errors = validate_blocks(params["blocks"])
            if errors:
                return _Outcome.fail(
                    "invalid_blocks", errors=errors, response_metadata={"messages": errors}
                )
        updated = replace(
            current,
            text=str(text) if text is not None else current.text,
            blocks=tuple(params["blocks"]) if params.get("blocks") is not None else current.blocks,
            metadata=params.get("metadata", current.metadata),
            edits=current.edits + 1,
        )
        messages = self._messages[channel.id]
        messages[messages.index(current)] = updated
        return _Outcome(
            {
                "channel": channel.id,
                "ts": updated.ts,
                "text": updated.text,
                "message": self._message_body(updated, token.team_id),
            }
        )

    def _chat_post_ephemeral(self, params: dict[str, Any], token: _Token) -> _Outcome:
        refused = self._missing_scope(token, "chat:write")
        channel = self._postable_channel(params, token) if refused is None else refused
        if isinstance(channel, _Outcome):
            return channel
        refused = self._message_content_error(params)
        if refused is not None:
            return refused
        user = str(params.get("user", ""))
        if user not in self._users:
            return _Outcome.fail("user_not_found")
        if user not in channel.members:
            return _Outcome.fail("user_not_in_channel")
        message_ts = self._next_ts()
        self._ephemeral.append(
            EphemeralMessage(
                channel.id,
                user,
                str(params.get("text") or ""),
                tuple(params.get("blocks") or ()),
                message_ts,
            )
        )
        return _Outcome({"message_ts": message_ts})

    def _channel_body(self, channel: _Channel, token: _Token) -> dict[str, Any]:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_im": False,
            "is_private": channel.is_private,
            "is_archived": channel.is_archived,
            "is_general": False,
            "is_member": token.user_id in channel.members,
            "created": channel.created,
            "context_team_id": channel.team_id,
        }

    def _conversations_join(self, params: dict[str, Any], token: _Token) -> _Outcome:
        refused = self._missing_scope(token, "channels:join")
        if refused is not None:
            return refused
        channel = self._find_channel(token, params.get("channel"))
        if channel is None:
            return _Outcome.fail("channel_not_found")
        if channel.is_private:
            return _Outcome.fail("method_not_supported_for_channel_type")
        if channel.is_archived:
            return _Outcome.fail("is_archived")
        extra: dict[str, Any] = {}
        if token.user_id in channel.members:
            extra = {
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel.members.add(token.user_id)
        return _Outcome({"channel": self._channel_body(channel, token), **extra})

    def _conversations_info(self, params: dict[str, Any], token: _Token) -> _Outcome:
        channel = self._find_channel(token, params.get("channel"))
        if channel is None:
            return _Outcome.fail("channel_not_found")
        refused = self._missing_scope(
            token, "groups:read" if channel.is_private else "channels:read"
        )
        if refused is not None:
            return refused
        return _Outcome({"channel": self._channel_body(channel, token)})

    def _users_info(self, params: dict[str, Any], token: _Token) -> _Outcome:
        refused = self._missing_scope(token, "users:read")
        if refused is not None:
            return refused
        user = self._users.get(str(params.get("user", "")))
        if user is None or user.team_id != token.team_id:
            return _Outcome.fail("user_not_found")
        return _Outcome(
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

    def _view_body(self, view: _View) -> dict[str, Any]:
        workspace = self._workspaces[view.team_id]
        payload = view.payload
        return {
            "id": view.id,
            "team_id": view.team_id,
            "type": payload["type"],
            "blocks": payload.get("blocks", []),
            "private_metadata": payload.get("private_metadata", ""),
            "callback_id": payload.get("callback_id", ""),
            "state": {"values": {}},
            "hash": view.hash,
            "title": payload.get("title"),
            "submit": payload.get("submit"),
            "close": payload.get("close"),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "external_id": payload.get("external_id", ""),
            "previous_view_id": view.previous_view_id,
            "root_view_id": view.root_view_id,
            "app_id": self.app_id,
            "app_installed_team_id": view.team_id,
            "bot_id": workspace.bot_id,
        }

    def _new_view(self, payload: dict[str, Any], token: _Token, user_id: str | None) -> _View:
        view_id = self._new_id("V")
        return _View(view_id, token.team_id, user_id, payload, self._view_hash(), view_id)

    def _view_hash(self) -> str:
        return f"{int(self._wall_clock().timestamp())}.{secrets.token_hex(4)}"

    @staticmethod
    def _checked_view(params: Mapping[str, Any], kind: str) -> dict[str, Any] | _Outcome:
        view = params.get("view")
        if not isinstance(view, dict):
            return _Outcome.fail(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing view"]}
            )
        errors = _view_errors(view)
        if not errors and view["type"] != kind:
            errors = [f"[ERROR] must be a {kind} view [json-pointer:/view/type]"]
        if errors:
            return _Outcome.fail("invalid_arguments", response_metadata={"messages": errors})
        return view

    def _views_publish(self, params: dict[str, Any], token: _Token) -> _Outcome:
        view = self._checked_view(params, "home")
        if isinstance(view, _Outcome):
            return view
        user_id = str(params.get("user_id", ""))
        if not user_id:
            return _Outcome.fail("invalid_arguments")
        key = (token.team_id, user_id)
        existing = self._views.get(self._home_views.get(key, ""))
        if existing is not None and params.get("hash") and params["hash"] != existing.hash:
            return _Outcome.fail("hash_conflict")
        record = self._new_view(view, token, user_id)
        if existing is not None:
            record.id = record.root_view_id = existing.id
        self._views[record.id] = record
        self._home_views[key] = record.id
        return _Outcome({"view": self._view_body(record)})

    def _views_open(self, params: dict[str, Any], token: _Token) -> _Outcome:
        if not params.get("trigger_id"):
            return _Outcome.fail("invalid_arguments")
        view = self._checked_view(params, "modal")
        if isinstance(view, _Outcome):
            return view
        record = self._new_view(view, token, None)
        self._views[record.id] = record
        self._modal_stacks[token.team_id] = [record.id]
        return _Outcome({"view": self._view_body(record)})

    def _views_push(self, params: dict[str, Any], token: _Token) -> _Outcome:
        if not params.get("trigger_id"):
            return _Outcome.fail("invalid_arguments")
        view = self._checked_view(params, "modal")
        if isinstance(view, _Outcome):
            return view
        stack = self._modal_stacks.get(token.team_id, [])
        if not stack:
            return _Outcome.fail("not_found")
        if len(stack) >= 3:
            return _Outcome.fail("push_limit_reached")
        record = self._new_view(view, token, None)
        record.root_view_id, record.previous_view_id = stack[0], stack[-1]
        self._views[record.id] = record
        stack.append(record.id)
        return _Outcome({"view": self._view_body(record)})

    def _views_update(self, params: dict[str, Any], token: _Token) -> _Outcome:
        view = params.get("view")
        kind = view.get("type") if isinstance(view, dict) else None
        checked = self._checked_view(params, kind if kind in ("home", "modal") else "modal")
        if isinstance(checked, _Outcome):
            return checked
        external_id = params.get("external_id")
        target = self._views.get(str(params.get("view_id", "")))
        if target is None and external_id:
            target = next(
                (v for v in self._views.values() if v.payload.get("external_id") == external_id),
                None,
            )
        if target is None or target.team_id != token.team_id:
            return _Outcome.fail("not_found")
        if params.get("hash") and params["hash"] != target.hash:
            return _Outcome.fail("hash_conflict")
        target.payload = checked
        target.hash = self._view_hash()
        return _Outcome({"view": self._view_body(target)})

    # ---- OAuth -----------------------------------------------------------------------------

    def _oauth_v2_access(self, params: dict[str, Any], basic: tuple[str, str] | None) -> _Outcome:
        client_id, client_secret = basic or (params.get("client_id"), params.get("client_secret"))
        if client_id != self.client_id:
            return _Outcome.fail("invalid_client_id")
        if client_secret != self.client_secret:
            return _Outcome.fail("bad_client_secret")
        grant_type = params.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            return self._refresh(str(params.get("refresh_token", "")))
        if grant_type != "authorization_code":
            return _Outcome.fail("invalid_grant_type")
        grant = self._grants.pop(str(params.get("code", "")), None)
        if grant is None:
            return _Outcome.fail("invalid_code")
        if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
            return _Outcome.fail("bad_redirect_uri")
        return self._install(grant)

    def _mint(
        self, team_id: str, kind: str, user_id: str, scopes: tuple[str, ...], *, rotating: bool
    ) -> _Token:
        prefix = "xoxb" if kind == "bot" else "xoxp"
        if rotating:
            value = f"xoxe.{prefix}-1-{secrets.token_hex(16)}"
            expires_at = self._wall_clock() + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
        else:
            value, expires_at = f"{prefix}-{team_id}-{secrets.token_hex(12)}", None
        token = _Token(value, team_id, kind, user_id, scopes, expires_at=expires_at)
        self._tokens[value] = token
        return token

    def _issue(
        self, team_id: str, kind: str, user_id: str, scopes: tuple[str, ...], rotating: bool
    ) -> dict[str, Any]:
        """The token fields of an install answer, with refresh_token/expires_in when rotating."""
        token = self._mint(team_id, kind, user_id, scopes, rotating=rotating)
        if not rotating:
            return {"access_token": token.value}
        refresh = f"xoxe-1-{secrets.token_hex(24)}"
        self._refresh_tokens[refresh] = token
        return {
            "access_token": token.value,
            "refresh_token": refresh,
            "expires_in": TOKEN_LIFETIME_SECONDS,
        }

    def _install(self, grant: OAuthGrant) -> _Outcome:
        workspace = self._workspaces[grant.team_id]
        bot = self._issue(
            grant.team_id, "bot", workspace.bot_user_id, grant.bot_scopes, grant.token_rotation
        )
        authed_user: dict[str, Any] = {"id": grant.installer_user_id}
        if grant.user_scopes:
            authed_user.update(
                scope=",".join(grant.user_scopes),
                token_type="user",
                **self._issue(
                    grant.team_id,
                    "user",
                    grant.installer_user_id,
                    grant.user_scopes,
                    grant.token_rotation,
                ),
            )
        return _Outcome(
            {
                "app_id": self.app_id,
                "authed_user": authed_user,
                "scope": ",".join(grant.bot_scopes),
                "token_type": "bot",
                **bot,
                "bot_user_id": workspace.bot_user_id,
                "team": {"id": workspace.team_id, "name": workspace.name},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        )

    def _refresh(self, refresh_token: str) -> _Outcome:
        """Token rotation: a new access token for the same grant; the refresh token stays."""
        old = self._refresh_tokens.get(refresh_token)
        if old is None or old.state is TokenState.REVOKED:
            return _Outcome.fail("invalid_refresh_token")
        token = self._mint(old.team_id, old.kind, old.user_id, old.scopes, rotating=True)
        self._refresh_tokens[refresh_token] = token
        workspace = self._workspaces[old.team_id]
        body: dict[str, Any] = {
            "app_id": self.app_id,
            "scope": ",".join(old.scopes),
            "token_type": old.kind,
            "access_token": token.value,
            "refresh_token": refresh_token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if old.kind == "bot":
            body["bot_user_id"] = workspace.bot_user_id
        else:
            body["user_id"] = old.user_id
        return _Outcome(body)
