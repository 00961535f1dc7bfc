"""The agent's HTTPS surface: docs/agent-api.md (version 1.1) over the service.

Authentication, set by agent.toml: with `client_ca` alone the TLS layer demands a client
certificate signed by it (CERT_REQUIRED: no certificate, no handshake); with `api_keys` alone
every request needs `X-Api-Key` (compared in constant time); with both, either a verified
certificate or a key lets a request through. Reads run in worker threads (drivers block).
Errors answer in the contract's body; a message never holds a connection string or password.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mlc_common.serving import EmbeddedServer, https_config
from sage.agent.errors import AgentReadError, FileBusy
from sage.agent.readers import READERS
from sage.agent.service import AgentService, InvalidParameter, parse_since
from sage.client import ERROR_CODES, MAX_PAGE_SIZE, RETRYABLE_STATUSES

log = logging.getLogger("sage.agent")

DEFAULT_PAGE_SIZE = 200
KEYS_SUFFIX = ":keys"
UNAVAILABLE_RETRY_AFTER = 30  # seconds: a login or driver problem is not fixed in a moment
BUSY_RETRY_AFTER = 5


class ErrorAnswer(Exception):
    """An error in the contract's shape (the simulator answers its errors with it too)."""

    def __init__(self, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        status = ERROR_CODES[self.code][0]
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "retryable": status in RETRYABLE_STATUSES,
            }
        }
        return JSONResponse(body, status_code=status, headers=headers)


class JSONAnswer(JSONResponse):
    """An answer's JSON, written by orjson: the bytes Starlette's encoder writes for what the
    agent answers (text, integers, null, lists, objects), several times faster on a page of a
    thousand rows; what orjson refuses is written Starlette's way (and fails as it would)."""

    def render(self, content: object) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


def parse_page_size(text: str | None) -> int:
    """The page_size query parameter (the agent's and the simulator's)."""
    if text is None:
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ErrorAnswer(
            "invalid_parameter", f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}"
        )
    return int(text)


def build_app(
    service: AgentService, *, api_keys: Sequence[str] = (), certificates: bool = True
) -> Starlette:
    """The agent app. `certificates`: a client certificate verified by the TLS layer is enough."""
    keys = [key.encode() for key in api_keys]

    def authenticate(request: Request) -> None:
        tls = request.scope.get("extensions", {}).get("tls", {})
        if certificates and tls.get("client_certificate"):
            return
        given = request.headers.get("x-api-key", "").encode()
        # Compare against every key, so the time taken says nothing about which was close.
        matched = [hmac.compare_digest(given, key) for key in keys]
        if not any(matched):
            raise ErrorAnswer("unauthenticated", "missing or unknown X-Api-Key")

    async def answer(request: Request, work: Callable[[], object]) -> Response:
        try:
            authenticate(request)
            body = await run_in_threadpool(work)
        except ErrorAnswer as error:
            return error.response()
        except InvalidParameter as error:
            return ErrorAnswer("invalid_parameter", str(error)).response()
        except FileBusy as error:
            log.warning("%s: %s", request.url.path, error)
            return ErrorAnswer("record_locked", str(error), BUSY_RETRY_AFTER).response()
        except AgentReadError as error:
            log.warning("%s: %s", request.url.path, error)
            return ErrorAnswer("sage_unavailable", str(error), UNAVAILABLE_RETRY_AFTER).response()
        return JSONAnswer(body)

    def company_of(request: Request):
        code = request.path_params["company"]
        company = service.companies.get(code)
        if company is None:
            raise ErrorAnswer("unknown_company", f"this agent does not serve company {code!r}")
        return company

    def reader_of(resource: str):
        reader = READERS.get(resource)
        if reader is None:
            raise ErrorAnswer("unknown_resource", f"no resource {resource!r}")
        return reader

    async def health(request: Request) -> Response:
        return await answer(request, service.health)

    async def listing(request: Request) -> Response:
        def work() -> object:
            company = company_of(request)
            resource = request.path_params["resource"]
            query = request.query_params
            keys_listing = resource.endswith(KEYS_SUFFIX)
            reader = reader_of(resource.removesuffix(KEYS_SUFFIX))
            page_size = parse_page_size(query.get("page_size"))
            token = query.get("page_token") or None
            if keys_listing:
                page = company.keys(reader, token, page_size)
                name = "keys"
            else:
                since = parse_since(query.get("since_date"), query.get("since_time"))
                page = company.changes(reader, since, token, page_size)
                name = "records"
            return {
                "company": company.code,
                "resource": reader.resource,
                name: page.records,
                "next_page_token": page.next_page_token,
            }

        return await answer(request, work)

    async def single(request: Request) -> Response:
        def work() -> object:
            company = company_of(request)
            reader = reader_of(request.path_params["resource"])
            key = request.path_params["record_key"]
            record = company.record(reader, key)
            if record is None:
                raise ErrorAnswer("not_found", f"no record with RecordKey {key!r}")
            return record

        return await answer(request, work)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return ErrorAnswer("not_found", f"no such path {request.url.path}").response()
        body = {"error": {"code": "internal", "message": str(exc.detail), "retryable": False}}
        return JSONResponse(body, status_code=exc.status_code)

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("%s failed", request.url.path, exc_info=exc)
        return ErrorAnswer("internal", "unexpected agent error").response()

    return Starlette(
        routes=[
            Route("/v1/health", health),
            Route("/v1/companies/{company}/{resource}", listing),
            Route("/v1/companies/{company}/{resource}/{record_key:path}", single),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )


@dataclass(frozen=True, slots=True)
class Listen:
    """Where and how the agent listens: PEM files and the accepted credentials."""

    host: str
    port: int
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None
    api_keys: tuple[str, ...] = ()

    def verify_mode(self) -> ssl.VerifyMode:
        if self.client_ca_file is None:
            return ssl.CERT_NONE
        return ssl.CERT_OPTIONAL if self.api_keys else ssl.CERT_REQUIRED


class AgentServer:
    """The agent on https://HOST:PORT: `await server.start()`, later `await server.stop()`."""

    def __init__(self, service: AgentService, listen: Listen) -> None:
        if listen.client_ca_file is None and not listen.api_keys:
            raise ValueError("the agent needs client_ca, api_keys or both")
        self.service = service
        self.listen = listen
        self._server: EmbeddedServer | None = None
        self.port = listen.port

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.port}"

    def _config(self) -> uvicorn.Config:
        listen = self.listen
        app = build_app(
            self.service, api_keys=listen.api_keys, certificates=listen.client_ca_file is not None
        )
        return https_config(
            app,
            certfile=str(listen.cert_file),
            keyfile=str(listen.key_file),
            ca_certs=str(listen.client_ca_file) if listen.client_ca_file else None,
            cert_reqs=listen.verify_mode(),
        )

    async def start(self) -> None:
        server = EmbeddedServer(self._config(), host=self.listen.host, port=self.listen.port)
        self.port = server.port
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None
        await asyncio.to_thread(self.service.close)
