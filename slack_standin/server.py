"""The stand-in on the wire: a Starlette app served on loopback, in the caller's event loop.

Each `/api/{method}` request is read the way Slack reads it (query, form or JSON body; bearer
token, `token` field or HTTP Basic), may be taken over by an injected fault, is authenticated,
rate-limited (when pacing is strict) and dispatched to its Web API family, and is recorded
with its answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from mlc_common.serving import EmbeddedServer
from slack_standin import auth, chat, conversations, oauth, users, views
from slack_standin.outcome import Handler, Outcome
from slack_standin.state import SlackState, StoredMessage, Token, TokenState

_HANDLERS: dict[str, Handler] = {
    "auth.test": auth.identify,
    "chat.postMessage": chat.post_message,
    "chat.update": chat.update,
    "chat.postEphemeral": chat.post_ephemeral,
    "conversations.join": conversations.join,
    "conversations.info": conversations.info,
    "users.info": users.info,
    "views.publish": views.publish,
    "views.open": views.open_modal,
    "views.push": views.push_modal,
    "views.update": views.update,
}

_DEFAULT_ERROR_FOR_STATUS = {500: "internal_error", 503: "service_unavailable"}


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
class PacingViolation:
    """A chat.postMessage refused for its channel's rate: it arrived at `monotonic`, more than
    the tolerance before the channel's theoretical arrival time (`theoretical_arrival`)."""

    channel: str
    theoretical_arrival: float
    monotonic: float

    @property
    def early_by(self) -> float:
        """How long before its theoretical arrival time the post came (more than the tolerance)."""
        return self.theoretical_arrival - self.monotonic


@dataclass(slots=True)
class _Fault:
    method: str
    error: str | None
    status: int | None
    retry_after: int | None
    delay: float | None
    remaining: int | None  # None: until clear_faults()
    channel: str | None


class SlackStandIn(SlackState):
    """The Slack Web API on loopback, with a Python API to set up state and inject faults.

    The setup and inspection API is `SlackState`'s; this adds serving, faults, pacing and the
    record of calls. `clock` (monotonic seconds) stamps calls and judges pacing; `wall_clock`
    makes message timestamps and token expiry; `sleep` waits out a fault's delay and
    `answer_latency`. All three are injectable so tests can control time. `answer_latency`
    (seconds) is how long every answer takes to come back: a call is stamped, judged and takes
    effect as it arrives, as at Slack, and its answer leaves that much later.

    `strict_pacing` holds chat.postMessage to Slack's documented rate, one per
    `pacing_interval` per channel with short bursts allowed, as a per-channel rate limiter in
    the GCRA (virtual scheduling) form: a post arriving more than `pacing_tolerance` before the
    channel's theoretical arrival time is refused with HTTP 429 `ratelimited`; an accepted one
    moves that time to one interval past the later of itself and the time it replaced. So no
    window of any length holds more than (window + tolerance) / interval posts, a post that
    arrives a little late or early (one-way delay jitter that does not add up) is forgiven,
    and a burst is not. The default tolerance, a tenth of Slack's 1 s, is stricter than the
    burst allowance Slack documents without a figure ("short bursts >1 allowed": at least a
    second post at once, a whole interval early).
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
        pacing_tolerance: float = 0.1,
        answer_latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            client_id=client_id, client_secret=client_secret, app_id=app_id, wall_clock=wall_clock
        )
        self.host = host
        self.port = port
        self.strict_pacing = strict_pacing
        self.pacing_interval = pacing_interval
        self.pacing_tolerance = pacing_tolerance
        self.answer_latency = answer_latency
        self._clock = clock
        self._sleep = sleep

        self.calls: list[RecordedCall] = []
        self.pacing_violations: list[PacingViolation] = []
        self._faults: list[_Fault] = []
        self._theoretical_arrival: dict[str, float] = {}  # per channel, for strict pacing
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

    # ---- response URLs ---------------------------------------------------------------------

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

    async def wait_for_messages(self, channel: str, count: int) -> list[StoredMessage]:
        """Wait until the channel holds `count` messages (bound it with `asyncio.timeout`)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.messages.get(channel, ())) >= count)
        return self.posted_messages(channel)

    def home_view(self, user_id: str, team_id: str | None = None) -> dict[str, Any] | None:
        """The App Home view last published for the user (team inferred when there is one)."""
        for (team, user), view_id in self.home_views.items():
            if user == user_id and team_id in (None, team):
                return views.view_body(self, self.views[view_id])
        return None

    def modal_stack(self, team_id: str) -> list[dict[str, Any]]:
        """The open modals of the workspace, bottom first."""
        return [views.view_body(self, self.views[v]) for v in self.modal_stacks.get(team_id, ())]

    # ---- the HTTP side ---------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params, bearer, basic = await _read_request(request)
        token = bearer or (
            params.pop("token", None) if isinstance(params.get("token"), str) else None
        )
        fault = self._take_fault(method, params)
        if fault is not None and fault.delay:
            await self._sleep(fault.delay)
        monotonic, wall = self._clock(), self.wall_clock()
        if fault is not None and (fault.status is not None or fault.error is not None):
            outcome = _fault_outcome(fault)
        else:
            outcome = self._dispatch(method, params, token, basic, monotonic)

        self.calls.append(
            RecordedCall(method, params, token, monotonic, wall, outcome.status, outcome.error)
        )
        async with self._changed:
            self._changed.notify_all()
        if self.answer_latency:
            await self._sleep(self.answer_latency)
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

    def _dispatch(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        basic: tuple[str, str] | None,
        monotonic: float,
    ) -> Outcome:
        if method == "oauth.v2.access":
            return oauth.access(self, params, basic)
        handler = _HANDLERS.get(method)
        if handler is None:
            return Outcome.fail("unknown_method")
        caller = self._authenticate(token)
        if isinstance(caller, Outcome):
            return caller
        if method == "chat.postMessage" and self.strict_pacing:
            refused = self._pace(params, caller, monotonic)
            if refused is not None:
                return refused
        outcome = handler(self, params, caller)
        if method == "chat.postMessage" and outcome.error is None:
            channel = outcome.body["channel"]
            due = self._theoretical_arrival.get(channel, monotonic)
            self._theoretical_arrival[channel] = max(due, monotonic) + self.pacing_interval
        return outcome

    def _authenticate(self, token: str | None) -> Token | Outcome:
        if not token:
            return Outcome.fail("not_authed")
        record = self.tokens.get(token)
        if record is None:
            return Outcome.fail("invalid_auth")
        if not self.workspaces[record.team_id].active:
            return Outcome.fail(TokenState.INACTIVE.value)
        if record.expires_at is not None and self.wall_clock() >= record.expires_at:
            record.state = TokenState.EXPIRED
        if record.state is not TokenState.ACTIVE:
            return Outcome.fail(record.state.value)
        return record

    def _pace(self, params: Mapping[str, Any], token: Token, monotonic: float) -> Outcome | None:
        """Slack's refusal of a post that comes too early for its channel's rate, or None."""
        channel = self.find_channel(token, params.get("channel"))
        due = self._theoretical_arrival.get(channel.id) if channel is not None else None
        if channel is not None and due is not None and monotonic < due - self.pacing_tolerance:
            self.pacing_violations.append(PacingViolation(channel.id, due, monotonic))
            return Outcome(error="ratelimited", status=429, headers={"Retry-After": "1"})
        return None


async def _read_request(
    request: Request,
) -> tuple[dict[str, Any], str | None, tuple[str, str] | None]:
    """The call's parameters (JSON-valued fields decoded), bearer token and Basic credentials."""
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


def _decode_json_field(value: Any) -> Any:
    """Form bodies carry blocks, view and metadata as JSON strings; JSON bodies as values."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _fault_outcome(fault: _Fault) -> Outcome:
    if fault.status == 429:
        return Outcome(
            error=fault.error or "ratelimited",
            status=429,
            headers={"Retry-After": str(fault.retry_after or 1)},
        )
    if fault.status is not None:
        error = fault.error or _DEFAULT_ERROR_FOR_STATUS.get(fault.status, "fatal_error")
        return Outcome(error=error, status=fault.status)
    return Outcome.fail(fault.error or "fatal_error")
