"""The simulated agent's HTTP surface: the real agent's app, behind a layer of injected faults.

The agent's own app (`sage.agent.server.build_app` over `AgentService` and its readers)
answers every request that gets through. In front of it this layer does what only the
simulator does, in the order a client meets it: credentials (401), injected faults (scripted,
then random; delays), per-credential company lists (403), short pages, then on the way out
malformed rows and repeated page tokens, and a log of every request answered.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sage.agent.server import DEFAULT_PAGE_SIZE, KEYS_SUFFIX
from sage.agent.server import ErrorAnswer as AgentError
from sage.connection import AuthMode
from sage.simulator.faults import Faults, Injected

AGENT_VERSION = "2.3.1"
SAGE_VERSION = "2024.1"
REQUEST_LOG_SIZE = 10_000
_DATA_PATH = re.compile(r"/v1/companies/(?P<company>[^/]+)/(?P<resource>[^/]+)(?P<single>/.+)?")


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call: API keys (each with its companies, None = all) or client certificates.

    In mTLS mode any certificate the CA signed gets through TLS; `client_companies` narrows
    what a certificate (by subject common name) may read, others may read every company.
    """

    mode: AuthMode
    api_keys: Mapping[str, Collection[str] | None] = field(default_factory=dict)
    client_companies: Mapping[str, Collection[str]] = field(default_factory=dict)

    def companies_for(self, request: Request) -> Collection[str] | None:
        """The companies these credentials may read (None = all); raises 401 if none valid."""
        if self.mode is AuthMode.API_KEY:
            key = request.headers.get("x-api-key")
            if key is None or key not in self.api_keys:
                raise AgentError("unauthenticated", "missing or unknown X-Api-Key")
            return self.api_keys[key]
        tls = request.scope.get("extensions", {}).get("tls", {})
        return self.client_companies.get(tls.get("client_common_name", ""))


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the agent saw it, so tests can count retries."""

    method: str
    path: str
    query: str
    status: int


_INJECTED_MESSAGES = {
    "record_locked": "record or batch is in use by another workstation",
    "too_many_requests": "agent is busy, slow down",
    "sage_unavailable": "no Sage 100 session available (licences in use or maintenance)",
    "internal": "unexpected agent error",
    "unauthenticated": "credentials rejected",
    "forbidden": "credentials not valid for this company",
}


def _injected(fault: Injected) -> AgentError:
    return AgentError(fault.code, _INJECTED_MESSAGES.get(fault.code, fault.code), fault.retry_after)


def _rows_body(content: object) -> bytes:
    """Rows as JSON with non-ASCII escaped, as the agent writes them, so a malformed row's lone
    surrogate goes on the wire as `\\ud800` the way a damaged table would send it."""
    return json.dumps(content, separators=(",", ":")).encode("ascii")


class FaultLayer:
    """ASGI middleware around the agent's app; `requests` receives every request answered
    (the last REQUEST_LOG_SIZE are kept)."""

    def __init__(
        self,
        agent: ASGIApp,
        *,
        companies: Collection[str],
        faults: Faults,
        access: Access,
        requests: list[RecordedRequest] | None = None,
    ) -> None:
        self.agent = agent
        self.companies = companies
        self.faults = faults
        self.access = access
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.agent(scope, receive, send)
            return
        request = Request(scope)
        status = 500
        try:
            data_path = _DATA_PATH.fullmatch(scope["path"])
            await self._admit(request, data_path)
            if data_path is not None and data_path["single"] is None:
                scope = self._short_page(scope, data_path["resource"])
            status = await self._forward(scope, receive, send, data_path)
        except AgentError as error:
            response = error.response()
            status = response.status_code
            await response(scope, receive, send)
        finally:
            self._record(request, status)

    async def _admit(self, request: Request, data_path: re.Match[str] | None) -> None:
        """Raise the error this request meets before the agent would see it, if any."""
        allowed = self.access.companies_for(request)
        faults = self.faults
        fault = faults.scripted(request.url.path) or (
            faults.random_error() if data_path is not None else None
        )
        delay = faults.delay() if data_path is not None else 0.0
        if delay:
            await asyncio.sleep(delay)
        if fault is not None:
            raise _injected(fault)
        if data_path is not None:
            company = data_path["company"]
            if company in self.companies and allowed is not None and company not in allowed:
                raise AgentError("forbidden", f"these credentials may not read company {company}")

    def _short_page(self, scope: Scope, resource: str) -> Scope:
        """Ask the agent for fewer rows than the client did, when a short page is due."""
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        asked = query.get("page_size", str(DEFAULT_PAGE_SIZE))
        if resource.endswith(KEYS_SUFFIX) or not asked.isdigit() or int(asked) < 1:
            return scope  # the agent answers the bad parameter itself
        # The agent's pages are never empty: a short page has at least one row.
        limit = max(self.faults.page_limit(int(asked)), 1)
        if limit == int(asked):
            return scope
        query["page_size"] = str(limit)
        return dict(scope, query_string=urlencode(query).encode("latin-1"))

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, data_path: re.Match[str] | None
    ) -> int:
        """Run the agent's app; a data answer's rows pass through the faults on the way out."""
        if data_path is None or data_path["resource"].endswith(KEYS_SUFFIX):
            started: list[int] = []

            async def send_through(message: Message) -> None:
                if message["type"] == "http.response.start":
                    started.append(message["status"])
                await send(message)

            await self.agent(scope, receive, send_through)
            return started[0] if started else 500
        start: Message = {}
        body = bytearray()

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            else:
                body.extend(message.get("body", b""))

        await self.agent(scope, receive, collect)
        status = int(start.get("status", 500))
        payload = bytes(body)
        if status == 200:
            payload = self._rewritten(json.loads(payload), scope, single=bool(data_path["single"]))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        return status

    def _rewritten(self, answer: dict, scope: Scope, *, single: bool) -> bytes:
        if single:
            return _rows_body(self.faults.serve(answer))
        answer["records"] = [self.faults.serve(row) for row in answer["records"]]
        token = dict(parse_qsl(scope["query_string"].decode("latin-1"))).get("page_token")
        answer["next_page_token"] = self.faults.repeated_token(token) or answer["next_page_token"]
        return _rows_body(answer)

    def _record(self, request: Request, status: int) -> None:
        if self.requests is not None:
            self.requests.append(
                RecordedRequest(request.method, request.url.path, request.url.query, status)
            )
            del self.requests[:-REQUEST_LOG_SIZE]  # a simulator left running must not grow
