"""The simulated agent's HTTP surface: a Starlette app answering exactly as agent-api.md says.

Order of checks on a data request: credentials (401), injected faults (scripted, then random),
company (404 unknown_company, then 403 forbidden), resource (404 unknown_resource), query
parameters (400), then the answer. Every error has the contract's JSON shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sage.agent.server import ErrorAnswer as AgentError
from sage.agent.server import parse_page_size
from sage.agent.service import API_VERSION, version
from sage.connection import AuthMode
from sage.simulator.data import Position, SimulatorData, sort_key
from sage.simulator.faults import Faults, Injected
from sage.simulator.formats import Resource, parse_since, sage_stamp

AGENT_VERSION = "2.3.1"
SAGE_VERSION = "2024.1"
REQUEST_LOG_SIZE = 10_000


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


class RowsResponse(JSONResponse):
    """Rows as JSON with non-ASCII escaped, as the agent writes them, so a malformed row's lone
    surrogate goes on the wire as `\\ud800` the way a damaged table would send it."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def encode_token(company: str, resource: str, after: Position | None, page: int) -> str:
    payload = {"c": company, "r": resource, "n": page}
    if after is not None:
        payload["a"] = [after[0], str(after[1]), after[2]]
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, company: str, resource: str) -> tuple[Position | None, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload["c"] != company or payload["r"] != resource:
            raise ValueError("token from another listing")
        after = payload.get("a")
        position = (str(after[0]), Decimal(after[1]), str(after[2])) if after else None
        return position, int(payload["n"])
    except (ValueError, KeyError, TypeError, IndexError, InvalidOperation, binascii.Error):
        raise AgentError("invalid_parameter", "page_token is not one this agent issued") from None


def build_app(
    *,
    data: SimulatorData,
    faults: Faults,
    access: Access,
    clock: Callable[[], datetime],
    requests: list[RecordedRequest] | None = None,
    capabilities: Collection[str] = (),
) -> Starlette:
    """The agent app; `requests`, when given, receives every request answered (the last
    REQUEST_LOG_SIZE are kept)."""

    async def guarded(
        request: Request, answer: Callable[[], Response], data_call: bool
    ) -> Response:
        try:
            allowed = access.companies_for(request)
            fault = faults.scripted(request.url.path) or (
                faults.random_error() if data_call else None
            )
            delay = faults.delay() if data_call else 0.0
            if delay:
                await asyncio.sleep(delay)
            if fault is not None:
                raise _injected(fault)
            if data_call:
                company = request.path_params["company"]
                if company not in data.companies:
                    raise AgentError(
                        "unknown_company", f"this agent does not serve company {company!r}"
                    )
                if allowed is not None and company not in allowed:
                    raise AgentError(
                        "forbidden", f"these credentials may not read company {company}"
                    )
                if request.path_params["resource"] not in set(Resource):
                    raise AgentError(
                        "unknown_resource", f"no resource {request.path_params['resource']!r}"
                    )
            response = answer()
        except AgentError as error:
            response = error.response()
        _record(request, response.status_code)
        return response

    def _record(request: Request, status: int) -> None:
        if requests is not None:
            requests.append(
                RecordedRequest(request.method, request.url.path, request.url.query, status)
            )
            del requests[:-REQUEST_LOG_SIZE]  # a simulator left running must not grow forever

    async def health(request: Request) -> Response:
        def answer() -> Response:
            day, clock_time = sage_stamp(data.local(clock()))
            return JSONResponse(
                {
                    "status": "ok",
                    "agent_version": AGENT_VERSION,
                    "sage_version": SAGE_VERSION,
                    "companies": list(data.companies),
                    "server_date": day,
                    "server_time": clock_time,
                    **(
                        {"api_version": API_VERSION, "capabilities": sorted(capabilities)}
                        if capabilities
                        else {}
                    ),
                }
            )

        return await guarded(request, answer, data_call=False)

    async def listing(request: Request) -> Response:
        def answer() -> Response:
            company = request.path_params["company"]
            resource = request.path_params["resource"]
            query = request.query_params
            page_size = parse_page_size(query.get("page_size"))
            token = query.get("page_token")
            after, page = decode_token(token, company, resource) if token else (None, 0)
            try:
                since = parse_since(query.get("since_date"), query.get("since_time"))
            except ValueError as error:
                raise AgentError("invalid_parameter", str(error)) from None
            rows, more = data.changes(
                company, resource, since=since, after=after, limit=faults.page_limit(page_size)
            )
            if rows:
                after = sort_key(rows[-1])
            next_token = encode_token(company, resource, after, page + 1) if more else None
            next_token = faults.repeated_token(token) or next_token
            return RowsResponse(
                {
                    "company": company,
                    "resource": resource,
                    "records": [faults.serve(row) for row in rows],
                    "next_page_token": next_token,
                }
            )

        return await guarded(request, answer, data_call=True)

    async def keys(request: Request) -> Response:
        """Capability `keys`: every RecordKey and the version of what is served for it."""

        def answer() -> Response:
            if "keys" not in capabilities:
                raise AgentError("unknown_resource", "this agent has no keys listing (API 1.0)")
            company = request.path_params["company"]
            resource = request.path_params["resource"]
            page_size = parse_page_size(request.query_params.get("page_size"))
            token = request.query_params.get("page_token")
            position = decode_token(token, company, resource)[0] if token else None
            after = position[2] if position else ""
            rows, more = data.keys_after(company, resource, after, limit=page_size)
            entries = [
                {"RecordKey": row["RecordKey"], "version": version(faults.serve(row))}
                for row in rows
            ]
            last = ("", Decimal(0), str(rows[-1]["RecordKey"])) if rows else None
            next_token = encode_token(company, resource, last, 0) if more else None
            return JSONResponse(
                {
                    "company": company,
                    "resource": resource,
                    "keys": entries,
                    "next_page_token": next_token,
                }
            )

        return await guarded(request, answer, data_call=True)

    async def single(request: Request) -> Response:
        def answer() -> Response:
            key = request.path_params["record_key"]
            row = data.get(request.path_params["company"], request.path_params["resource"], key)
            if row is None:
                raise AgentError("not_found", f"no record with RecordKey {key!r}")
            return RowsResponse(faults.serve(row))

        return await guarded(request, answer, data_call=True)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = "not_found" if exc.status_code == 404 else "method_not_allowed"
        body = {"error": {"code": code, "message": str(exc.detail), "retryable": False}}
        _record(request, exc.status_code)
        return JSONResponse(body, status_code=exc.status_code)

    async def internal_error(request: Request, exc: Exception) -> Response:
        _record(request, 500)
        return AgentError("internal", "unexpected agent error").response()

    return Starlette(
        routes=[
            Route("/v1/health", health),
            Route("/v1/companies/{company}/{resource}:keys", keys),
            Route("/v1/companies/{company}/{resource}", listing),
            Route("/v1/companies/{company}/{resource}/{record_key:path}", single),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
