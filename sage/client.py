"""The agent client: async httpx over mTLS or an API key, with retries, pagination and checks.

Everything the network can throw is translated into `sage.errors` in one place
(`AgentClient._send`), with a sentence an IT admin can act on. Every answer is checked against
the contract (docs/agent-api.md) before it reaches a caller; anything else is BadResponseError.

Seams for tests: `transport` (httpx.MockTransport, or None for real TLS built from the
settings), `sleep` and `clock` (retry waits), and the RetryPolicy's `rng` (jitter).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import socket
import ssl
import tempfile
import time as time_module
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import orjson
from cryptography import x509

from sage import parsing
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import (
    AuthError,
    BadResponseError,
    CertificateError,
    NotFoundError,
    ParseError,
    SageError,
    UnavailableError,
)
from sage.records import SageRecord, SkippedRecord
from sage.resources import Resource

E = TypeVar("E", bound=BaseException)

API_PREFIX = "/v1"
DEFAULT_PAGE_SIZE = 200
_ROWS_BETWEEN_TURNS = 100  # rows parsed before the event loop gets a turn
MAX_PAGE_SIZE = 1000
RETRYABLE_STATUSES = frozenset({423, 429, 503})
COMPANY_CODE = re.compile(r"[A-Z0-9]{3}")

# Every error code of the contract: its HTTP status and the exception it becomes.
ERROR_CODES: Mapping[str, tuple[int, type[SageError]]] = {
    "invalid_parameter": (400, BadResponseError),
    "unauthenticated": (401, AuthError),
    "forbidden": (403, AuthError),
    "unknown_company": (404, NotFoundError),
    "unknown_resource": (404, NotFoundError),
    "not_found": (404, NotFoundError),
    "record_locked": (423, UnavailableError),
    "too_many_requests": (429, UnavailableError),
    "internal": (500, UnavailableError),
    "sage_unavailable": (503, UnavailableError),
}

# OpenSSL verify codes (X509_V_ERR_*) that mean "not issued by a CA we trust".
_UNTRUSTED = {2, 18, 19, 20, 21, 27}
_NOT_YET_VALID, _EXPIRED, _HOSTNAME_MISMATCH, _IP_MISMATCH = 9, 10, 62, 64
# TLS alerts the agent sends when it does not accept our client certificate (or its absence).
_CLIENT_CERT_REFUSED = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "TLSV1_ALERT_ACCESS_DENIED",
}


REQUEST_DEADLINE = 60.0  # seconds for one whole request: connect, headers and body
_HANGUP_WAIT = 1.0  # seconds to listen for an agent hanging up on our client certificate


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try a failed call again: exponential backoff with jitter, bounded twice over.

    Attempt n (1-based) that failed without Retry-After waits a random time in
    [d/2, d] with d = min(max_delay, base_delay * 2**(n-1)) ("equal jitter": spread out, never
    zero). A Retry-After from the agent is honoured exactly, unless it exceeds max_delay, in
    which case we stop and report rather than block a poll for that long. No retry ever starts
    after `max_attempts` attempts or would end beyond `max_total` seconds since the first.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, elapsed: float, retry_after: float | None) -> float | None:
        """Seconds to wait after failed attempt `attempt`, or None to give up now."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_delay:
                return None
            wait = max(retry_after, 0.0)
        else:
            ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
            wait = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        if elapsed + wait > self.max_total:
            return None
        return wait


def parse_retry_after(value: str | None, response_date: str | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds, or an HTTP-date measured against the response's
    own Date header (never our clock). Anything unreadable -> None (back off instead)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response_date) if response_date else None
    except (TypeError, ValueError):
        return None
    if sent is None or until.tzinfo is None or sent.tzinfo is None:
        return None
    return max((until - sent).total_seconds(), 0.0)


KEYS_CAPABILITY = "keys"  # API 1.1: every record's key and version


@dataclass(frozen=True, slots=True)
class AgentHealth:
    status: str
    agent_version: str
    sage_version: str
    companies: tuple[str, ...]
    server_now: datetime  # the agent's wall clock, aware, in the connection's zone
    api_version: str = "1.0"  # a 1.0 agent does not say
    capabilities: frozenset[str] = frozenset()  # 1.1: e.g. "keys"

    @property
    def reconcile_off(self) -> str | None:
        """Why the connector cannot reconcile against this agent, in one sentence; None when
        it serves the `keys` listing."""
        if KEYS_CAPABILITY in self.capabilities:
            return None
        return (
            f"Reconcile is off: the agent (version {self.agent_version}, API {self.api_version}) "
            "has no keys listing, so changes that leave the change stamp alone, deletes and "
            "purges are not seen until the agent is upgraded to API 1.1."
        )


@dataclass(frozen=True, slots=True)
class KeyPage:
    """One page of a `keys` listing: (RecordKey, version) of every record, by RecordKey."""

    keys: tuple[tuple[str, str], ...]
    next_page_token: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a change listing, in the agent's order (change stamp, RecordKey)."""

    records: tuple[SageRecord, ...]
    skipped: tuple[SkippedRecord, ...]
    next_page_token: str | None
    # The highest change stamp of any row on the page whose stamp could be read, skipped rows
    # included, so a cursor can move past a page of bad rows. None when no row had one.
    last_stamp: datetime | None


def normalise_pin(pin: str) -> str:
    """'AB:CD:...' or 'abcd...' -> 64 lower-case hex digits; ValueError otherwise."""
    digits = re.sub(r"[\s:]", "", pin).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digits):
        raise ValueError("pin_sha256 is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
    return digits


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 in the form admins see in tools: 'AB:CD:...'."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def build_ssl_context(settings: ConnectionSettings, *, verify: bool = True) -> ssl.SSLContext:
    """The TLS context for a connection: CA bundle (or system trust), client certificate in
    mTLS mode. PEM text is loaded through a private temporary directory because Python's ssl
    module reads certificate chains only from files; the files are gone before this returns.
    `verify=False` is only for describing a certificate that already failed verification."""
    try:
        if not verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif settings.ca_cert_pem:
            context = ssl.create_default_context(cadata=settings.ca_cert_pem)
        else:
            context = ssl.create_default_context()
    except ssl.SSLError:
        raise CertificateError("the configured CA bundle (ca_cert) is not valid PEM") from None
    if settings.auth is AuthMode.MTLS:
        if not settings.client_cert_pem or not settings.client_key_pem:
            raise CertificateError("mtls needs both client_cert and client_key")
        with tempfile.TemporaryDirectory(prefix="mlc-tls-") as directory:
            cert = Path(directory, "client.pem")
            key = Path(directory, "client.key")
            cert.write_text(settings.client_cert_pem)
            key.touch(mode=0o600)
            key.write_text(settings.client_key_pem)
            try:
                # A password callback, so an encrypted key fails here instead of OpenSSL
                # prompting on the terminal of a server process.
                context.load_cert_chain(cert, key, password=lambda: b"")
            except ssl.SSLError:
                raise CertificateError(
                    "client_cert and client_key are not a matching PEM certificate and "
                    "unencrypted key"
                ) from None
    return context


def _in_chain(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of `kind` among exc and its causes (httpx wraps httpcore wraps
    anyio wraps the OSError or ssl error that says what really happened)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _certificate_names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ]
    return names


class AgentClient:
    """One connection's client; use as `async with AgentClient(settings) as agent:`.

    `read_timeout` bounds each wait for a byte; `deadline` bounds each whole request (connect,
    headers and body), so an agent that drips one byte every few seconds cannot hold a poll.
    With the retry policy's `max_total` a call ends within about `max_total + deadline` (three
    minutes by default), well inside the poller's 15-minute lease on a resource.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time_module.monotonic,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        deadline: float = REQUEST_DEADLINE,
    ) -> None:
        try:
            url = httpx.URL(settings.agent_url)
            usable = url.scheme == "https" and bool(url.host) and (url.port or 443) <= 65535
        except httpx.InvalidURL:
            usable = False
        if not usable:
            raise CertificateError(f"agent_url {settings.agent_url!r} is not an https:// address")
        if settings.auth is AuthMode.API_KEY and not settings.api_key:
            raise AuthError("auth is api_key but no api_key is configured")
        self._settings = settings
        self._host = url.host
        self._port = url.port or 443
        try:
            self._pin = normalise_pin(settings.pin_sha256) if settings.pin_sha256 else None
        except ValueError as error:
            raise CertificateError(str(error)) from None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        # Certificates are diagnosed over a second connection only on the real network.
        self._real_network = transport is None
        if transport is None:
            transport = httpx.AsyncHTTPTransport(verify=build_ssl_context(settings))
        headers = {"Accept": "application/json", "User-Agent": "ml-connector"}
        if settings.auth is AuthMode.API_KEY:
            headers["X-Api-Key"] = settings.api_key or ""
        self._http = httpx.AsyncClient(
            base_url=settings.agent_url.rstrip("/") + API_PREFIX,
            transport=transport,
            headers=headers,
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
            ),
            follow_redirects=False,
        )

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- endpoints ----------------------------------------------------------------------------

    async def health(self) -> AgentHealth:
        body = _object(await self._get("/health", {}, "the health check"), "health answer")
        status = _string(body, "status", "health answer")
        if status != "ok":
            raise UnavailableError(f"the agent reports its status as {status!r}, not 'ok'")
        companies = body.get("companies")
        if not isinstance(companies, list) or not all(isinstance(c, str) for c in companies):
            raise BadResponseError("the agent's health answer has no list of companies")
        try:
            server_now = parsing.local_stamp(
                parsing.parse_date(_string(body, "server_date", "health answer")),
                parsing.parse_time(_string(body, "server_time", "health answer")),
                self._settings.timezone,
            )
        except ParseError as error:
            raise BadResponseError(f"the agent's health answer has a bad clock: {error}") from None
        if server_now is None:
            raise BadResponseError("the agent's health answer has an empty server_date")
        api_version = body.get("api_version", "1.0")
        capabilities = body.get("capabilities", [])
        if not isinstance(api_version, str) or not re.fullmatch(r"1\.\d+", api_version):
            raise BadResponseError(
                f"the agent speaks agent API {api_version!r}; this connector speaks 1.x"
            )
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise BadResponseError("the agent's health answer has capabilities but not a list")
        return AgentHealth(
            status=status,
            agent_version=_string(body, "agent_version", "health answer"),
            sage_version=_string(body, "sage_version", "health answer"),
            companies=tuple(companies),
            server_now=server_now,
            api_version=api_version,
            capabilities=frozenset(capabilities),
        )

    async def list_changes(
        self,
        resource: Resource,
        company: str,
        since: datetime | None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Page]:
        """Pages of records changed at or after `since` (None: from the beginning), until the
        agent's `next_page_token` is null. A token seen before in this listing is a loop:
        BadResponseError, never an endless poll."""
        _check_company(company)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
        params: dict[str, str | int] = {"page_size": page_size}
        if since is not None:
            params["since_date"], params["since_time"] = parsing.to_sage_stamp(
                since, self._settings.timezone
            )
        what = f"{company} {resource.path}"
        seen: set[str] = set()
        while True:
            content = await self._content(f"/companies/{company}/{resource.path}", params, what)
            surrogates = parsing.may_hold_surrogates(content)
            page = await self._page(
                _json(content, what, surrogates_possible=surrogates), resource, company, surrogates
            )
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token in seen:
                raise BadResponseError(
                    f"the agent repeated page token {token!r} while listing {what}: "
                    "its pagination loops"
                )
            seen.add(token)
            params["page_token"] = token

    async def list_keys(
        self, resource: Resource, company: str, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[KeyPage]:
        """Pages of every record's (RecordKey, version), for agents with capability `keys`
        (1.1): a version that changed or a key that went shows what listings cannot."""
        _check_company(company)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
        what = f"{company} {resource.path} keys"
        params: dict[str, str | int] = {"page_size": page_size}
        seen: set[str] = set()
        while True:
            body = _object(
                await self._get(f"/companies/{company}/{resource.path}:keys", params, what),
                f"page of {what}",
            )
            if body.get("company") != company or body.get("resource") != resource.path:
                raise BadResponseError(f"the agent answered another company or resource for {what}")
            entries = body.get("keys")
            token = body.get("next_page_token", ...)
            if not isinstance(entries, list) or not all(
                isinstance(e, dict)
                and isinstance(e.get("RecordKey"), str)
                and isinstance(e.get("version"), str)
                for e in entries
            ):
                raise BadResponseError(f"a page of {what} has no list of RecordKey and version")
            if token is not None and (not isinstance(token, str) or token == ""):
                raise BadResponseError(
                    f"a page of {what} has no next_page_token (a string or null)"
                )
            yield KeyPage(tuple((e["RecordKey"], e["version"]) for e in entries), token)
            if token is None:
                return
            if token in seen:
                raise BadResponseError(f"the agent repeated page token {token!r} for {what}")
            seen.add(token)
            params["page_token"] = token

    async def get_record(self, resource: Resource, company: str, record_key: str) -> SageRecord:
        _check_company(company)
        what = f"record {record_key!r} of {company} {resource.path}"
        path = f"/companies/{company}/{resource.path}/{quote(record_key, safe='')}"
        body = await self._get(path, {}, what)
        row = _object(body, what)
        if row.get("RecordKey") != record_key:
            raise BadResponseError(f"the agent answered another record when asked for {what}")
        parsed = resource.parse_row(row, company, self._settings.timezone)
        if isinstance(parsed, SkippedRecord):
            raise BadResponseError(f"{what} could not be read: {parsed.reason}")
        return parsed

    # --- answers ------------------------------------------------------------------------------

    async def _page(
        self, body: object, resource: Resource, company: str, surrogates_possible: bool
    ) -> Page:
        """The page's records, parsed `_ROWS_BETWEEN_TURNS` rows at a time: a page of 1,000
        rows is tens of milliseconds of parsing, which the event loop (and a Slack request
        waiting on it) should not wait out in one go."""
        what = f"page of {company} {resource.path}"
        page = _object(body, what)
        if page.get("company") != company or page.get("resource") != resource.path:
            raise BadResponseError(f"the agent answered another company or resource for a {what}")
        rows = page.get("records")
        if not isinstance(rows, list):
            raise BadResponseError(f"the {what} has no list of records")
        token = page.get("next_page_token", ...)
        if token is not None and (not isinstance(token, str) or token == ""):
            raise BadResponseError(f"the {what} has no next_page_token (a string or null)")
        zone = self._settings.timezone
        records: list[SageRecord] = []
        skipped: list[SkippedRecord] = []
        stamps: list[datetime] = []
        for index, row in enumerate(rows):
            if index and not index % _ROWS_BETWEEN_TURNS:
                await asyncio.sleep(0)
            parsed = resource.parse_row(row, company, zone, surrogates_possible=surrogates_possible)
            if not isinstance(parsed, SkippedRecord):
                records.append(parsed)
                stamp = resource.record_stamp(parsed)
            else:
                skipped.append(parsed)
                stamp = _readable_stamp(resource, row, zone)
            if stamp is not None:
                stamps.append(stamp)
        return Page(tuple(records), tuple(skipped), token, max(stamps, default=None))

    def _error(self, response: httpx.Response, what: str) -> SageError:
        status = response.status_code
        try:
            error = response.json()["error"]
            code, message = error["code"], error["message"]
            if not isinstance(code, str) or not isinstance(message, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return BadResponseError(
                f"the agent answered HTTP {status} for {what} without the contract's error body; "
                "is agent_url the address of the agent?",
                status=status,
            )
        expected = ERROR_CODES.get(code)
        if expected is None or expected[0] != status:
            return BadResponseError(
                f"the agent answered HTTP {status} {code!r} for {what}, "
                "which the agent API does not define",
                status=status,
                code=code,
            )
        kind = expected[1]
        if code == "unauthenticated":
            credential = (
                "the API key"
                if self._settings.auth is AuthMode.API_KEY
                else "our client certificate"
            )
            text = f"the agent did not accept {credential} as credentials: {message}"
        elif code == "forbidden":
            text = f"our credentials are not allowed to read {what}: {message}"
        elif kind is NotFoundError:
            text = f"the agent has no {what} ({code}): {message}"
        else:
            text = f"the agent could not answer {what} ({code}): {message}"
        return kind(text, status=status, code=code)

    # --- the wire -----------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str | int], what: str) -> object:
        """GET with retries; returns the decoded JSON of a 200 or raises a SageError."""
        return _json(await self._content(path, params, what), what)

    async def _content(self, path: str, params: Mapping[str, str | int], what: str) -> bytes:
        """GET with retries; returns the body of a 200 or raises a SageError."""
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = await self._send(path, params)
            except UnavailableError as error:
                failure: SageError = error
            else:
                if response.status_code == 200:
                    return response.content
                failure = self._error(response, what)
                if response.status_code not in RETRYABLE_STATUSES:
                    raise failure
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After"), response.headers.get("Date")
                )
            elapsed = self._clock() - started
            wait = self._retry.delay(attempt, elapsed, retry_after)
            if wait is None:
                raise type(failure)(
                    f"{failure}; gave up after {attempt} attempt{'s' * (attempt > 1)} "
                    f"in {elapsed:.0f}s",
                    status=failure.status,
                    code=failure.code,
                )
            await self._sleep(wait)

    async def _send(self, path: str, params: Mapping[str, str | int]) -> httpx.Response:
        """The one point where httpx and ssl errors become SageErrors; also checks the pin."""
        try:
            async with asyncio.timeout(self._deadline):
                request = self._http.build_request("GET", path, params=params)
                response = await self._http.send(request, stream=True)
                try:
                    if self._pin is not None:
                        self._check_pin(response)
                    await response.aread()
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            raise await self._translate(exc) from None
        except TimeoutError:
            raise UnavailableError(
                f"the agent at {self._host}:{self._port} did not finish answering within "
                f"{self._deadline:g}s"
            ) from None
        return response

    def _check_pin(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None:
            raise CertificateError(
                "a certificate pin is configured but the agent's certificate could not be read"
            )
        if hashlib.sha256(der).hexdigest() != self._pin:
            raise CertificateError(
                f"the agent's certificate has fingerprint {fingerprint(der)}, "
                "not the pinned pin_sha256"
            )

    async def _translate(self, exc: httpx.HTTPError) -> SageError:
        where = f"{self._host}:{self._port}"
        # Timeouts first: a read cut off mid-record carries an SSLWantReadError in its chain,
        # which is no TLS problem.
        if isinstance(exc, httpx.ConnectTimeout):
            return UnavailableError(
                f"could not connect to the agent at {where} within {self._connect_timeout:g}s"
            )
        if isinstance(exc, httpx.TimeoutException):
            return UnavailableError(
                f"the agent at {where} did not answer within {self._read_timeout:g}s"
            )
        tls = _in_chain(exc, ssl.SSLError)
        if isinstance(tls, ssl.SSLCertVerificationError):
            return await self._explain_verification(tls)
        if tls is not None:
            if (tls.reason or "") in _CLIENT_CERT_REFUSED:
                return self._client_certificate_refused()
            return CertificateError(
                f"the TLS handshake with {where} failed; is agent_url the agent's HTTPS address?"
            )
        if _in_chain(exc, socket.gaierror):
            return UnavailableError(f"the agent's host name {self._host} does not resolve")
        if _in_chain(exc, ConnectionRefusedError):
            return UnavailableError(
                f"the agent at {where} refused the connection; is the agent service running?"
            )
        if isinstance(exc, httpx.ConnectError):
            return UnavailableError(f"could not connect to the agent at {where}")
        if isinstance(exc, httpx.TransportError):
            if self._real_network and await self._dropped_after_handshake():
                return self._client_certificate_refused()
            return UnavailableError(f"the connection to the agent at {where} broke off")
        return BadResponseError(f"the request to the agent at {where} failed: {exc}")

    def _client_certificate_refused(self) -> CertificateError:
        if self._settings.auth is AuthMode.API_KEY:
            return CertificateError(
                "the agent asks for a client certificate, but this connection is set up "
                "with an API key (auth = api_key)"
            )
        return CertificateError("the agent refused our client certificate")

    async def _dropped_after_handshake(self) -> bool:
        """Whether the agent hangs up right after a good TLS handshake, before any request.

        Under TLS 1.3 the agent checks our client certificate after our side of the handshake
        is done; an agent that refuses it may just close the connection (asyncio servers do,
        without an alert), and the request racing that close sees only a reset. So on a broken
        connection we open a fresh one, send nothing and listen briefly: an agent that accepted
        us waits for a request; one that refused us closes at once.
        """
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=build_ssl_context(self._settings),
                    server_hostname=self._host,
                ),
                self._connect_timeout,
            )
            return await asyncio.wait_for(reader.read(1), _HANGUP_WAIT) == b""
        except ssl.SSLError as error:
            return (error.reason or "") in _CLIENT_CERT_REFUSED
        except (OSError, TimeoutError, SageError):
            return False
        finally:
            if writer is not None:
                writer.close()

    async def _explain_verification(self, error: ssl.SSLCertVerificationError) -> SageError:
        code = error.verify_code
        trust = "the configured CA" if self._settings.ca_cert_pem else "a CA this system trusts"
        if code in _UNTRUSTED:
            return CertificateError(f"the agent's certificate is not signed by {trust}")
        certificate = await self._peer_certificate() if self._real_network else None
        if code == _EXPIRED:
            if certificate is None:
                return CertificateError("the agent's certificate has expired")
            return CertificateError(
                f"the agent's certificate expired on {_day(certificate.not_valid_after_utc)}"
            )
        if code == _NOT_YET_VALID:
            start = (
                f" until {_day(certificate.not_valid_before_utc)}"
                if certificate is not None
                else ""
            )
            return CertificateError(
                f"the agent's certificate is not valid yet{start}; check both clocks"
            )
        if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
            names = ", ".join(_certificate_names(certificate)) if certificate else "another name"
            return CertificateError(f"the agent's certificate is for {names}, not {self._host}")
        return CertificateError(
            f"the agent's certificate could not be verified: {error.verify_message}"
        )

    async def _peer_certificate(self) -> x509.Certificate | None:
        """The agent's certificate, read without verifying, to say what is wrong with it."""
        writer = None
        try:
            context = build_ssl_context(self._settings, verify=False)
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self._host, self._port, ssl=context, server_hostname=self._host
                ),
                self._connect_timeout,
            )
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
            return x509.load_der_x509_certificate(der) if der else None
        except (OSError, TimeoutError, ValueError, SageError):
            return None
        finally:
            if writer is not None:
                writer.close()


def _readable_stamp(resource: Resource, row: object, zone: ZoneInfo) -> datetime | None:
    """A skipped row's change stamp when it can still be read, so a cursor can pass it."""
    if not isinstance(row, Mapping):
        return None
    try:
        return resource.change_stamp(row, zone)
    except ParseError:
        return None


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _check_company(company: str) -> None:
    if not COMPANY_CODE.fullmatch(company):
        raise ValueError(f"company {company!r} is not three upper-case letters or digits")


def _object(body: object, what: str) -> dict:
    if not isinstance(body, dict):
        raise BadResponseError(f"the agent's {what} is not a JSON object")
    return body


def _string(body: Mapping[str, object], name: str, what: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadResponseError(f"the agent's {what} has no string {name}")
    return value


def _json(content: bytes, what: str, *, surrogates_possible: bool = True) -> object:
    """The answer's JSON. A page that cannot hold a lone surrogate (`may_hold_surrogates`),
    which orjson refuses, is read by orjson, twice as fast; whatever it refuses, the json
    module decides. (An integer past 64 bits comes back a float from orjson: no field of
    the contract is a number, so such a value is a wrong type either way.)"""
    if not surrogates_possible:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(content)
    except ValueError:
        raise BadResponseError(f"the agent's answer for {what} is not JSON", status=200) from None
