"""AgentClient against httpx.MockTransport: contract checks, retries, pagination."""

import asyncio
import random
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from sage.client import AgentClient, RetryPolicy, parse_retry_after
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import (
    AuthError,
    BadResponseError,
    CertificateError,
    NotFoundError,
    UnavailableError,
)
from sage.records import SkippedRecord
from sage.resources import by_path
from tests.sage import sample_rows

CHICAGO = ZoneInfo("America/Chicago")
SETTINGS = ConnectionSettings(
    agent_url="https://sage01.corp.example:8443",
    companies=("ABC",),
    auth=AuthMode.API_KEY,
    timezone=CHICAGO,
    api_key="k-123",
)
AP = by_path("ap-invoices")


class Sleeps:
    """A fake sleep that records waits and moves a fake monotonic clock."""

    def __init__(self):
        self.waits: list[float] = []
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def client(handler, sleeps: Sleeps | None = None, **kwargs) -> AgentClient:
    sleeps = sleeps or Sleeps()
    kwargs.setdefault("retry", RetryPolicy(rng=random.Random(1)))
    return AgentClient(
        kwargs.pop("settings", SETTINGS),
        transport=httpx.MockTransport(handler),
        sleep=sleeps,
        clock=sleeps.clock,
        **kwargs,
    )


def error(status: int, code: str, headers: dict | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code} happened", "retryable": status >= 423}}
    return httpx.Response(status, json=body, headers=headers)


def page(rows, token=None, company="ABC", resource="ap-invoices") -> httpx.Response:
    return httpx.Response(
        200,
        json={"company": company, "resource": resource, "records": rows, "next_page_token": token},
    )


# --- RetryPolicy alone ------------------------------------------------------------------------


def test_backoff_grows_with_jitter_inside_its_band():
    policy = RetryPolicy(
        max_attempts=10, base_delay=1, max_delay=8, max_total=1000, rng=random.Random(7)
    )
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        wait = policy.delay(attempt, elapsed=0, retry_after=None)
        assert ceiling / 2 <= wait <= ceiling


def test_jitter_comes_from_the_injected_rng():
    waits = {RetryPolicy(rng=random.Random(seed)).delay(3, 0, None) for seed in range(5)}
    assert len(waits) > 1
    assert RetryPolicy(rng=random.Random(3)).delay(3, 0, None) == RetryPolicy(
        rng=random.Random(3)
    ).delay(3, 0, None)


def test_retry_after_is_honoured_exactly_within_bounds():
    policy = RetryPolicy(max_delay=30)
    assert policy.delay(1, 0, retry_after=7) == 7
    assert policy.delay(1, 0, retry_after=31) is None  # longer than we block a poll


def test_attempts_and_total_time_are_bounded():
    policy = RetryPolicy(max_attempts=3, max_total=10, rng=random.Random(0))
    assert policy.delay(2, 0, None) is not None
    assert policy.delay(3, 0, None) is None
    assert policy.delay(1, elapsed=9.5, retry_after=1) is None
    assert policy.delay(1, elapsed=8.0, retry_after=1) == 1


def test_retry_after_forms():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    sent = "Thu, 26 Nov 2026 14:00:00 GMT"
    assert parse_retry_after("Thu, 26 Nov 2026 14:00:05 GMT", sent) == 5
    assert parse_retry_after("Thu, 26 Nov 2026 14:00:05 GMT") is None  # no Date to measure from


# --- answers ----------------------------------------------------------------------------------


async def test_health_gives_the_agent_clock_in_the_connection_zone():
    def handler(request):
        assert request.url.path == "/v1/health"
        assert request.headers["X-Api-Key"] == "k-123"
        return httpx.Response(
            200,
            json={
                "status": "ok",
                "agent_version": "2.3.1",
                "sage_version": "2024.1",
                "companies": ["ABC", "TST"],
                "server_date": "20261126",
                "server_time": "13.50833",
            },
        )

    async with client(handler) as agent:
        health = await agent.health()
    assert health.companies == ("ABC", "TST")
    assert health.server_now == datetime(2026, 11, 26, 13, 30, 30, tzinfo=CHICAGO)
    assert health.server_now.utcoffset() is not None


@pytest.mark.parametrize(
    "body",
    [
        {"status": "ok"},
        {
            "status": "ok",
            "agent_version": "1",
            "sage_version": "1",
            "companies": "ABC",
            "server_date": "20261126",
            "server_time": "1",
        },
        {
            "status": "ok",
            "agent_version": "1",
            "sage_version": "1",
            "companies": [],
            "server_date": "26.11.2026",
            "server_time": "1",
        },
        ["ok"],
    ],
)
async def test_health_outside_the_contract_is_a_bad_response(body):
    async with client(lambda request: httpx.Response(200, json=body)) as agent:
        with pytest.raises(BadResponseError):
            await agent.health()


async def test_pages_follow_tokens_and_send_the_since_bound():
    seen_params = []

    def handler(request):
        seen_params.append(dict(request.url.params))
        token = request.url.params.get("page_token")
        if token is None:
            return page([sample_rows.ap_invoice("K1")], token="t1")
        if token == "t1":
            return page([], token="t2")  # an empty page is not the end
        return page([sample_rows.ap_invoice("K2")])

    since = datetime(2026, 11, 26, 13, 30, 30, tzinfo=CHICAGO)
    async with client(handler) as agent:
        pages = [p async for p in agent.list_changes(AP, "ABC", since, page_size=50)]
    assert [r.record_key for p in pages for r in p.records] == ["K1", "K2"]
    assert seen_params[0] == {"page_size": "50", "since_date": "20261126", "since_time": "13.50819"}
    assert seen_params[2]["page_token"] == "t2"


async def test_a_repeated_page_token_is_a_loop_not_an_endless_listing():
    tokens = iter(["a", "b", "a", "c"])

    async with client(lambda request: page([], token=next(tokens))) as agent:
        with pytest.raises(BadResponseError, match="repeated page token 'a'"):
            async for _ in agent.list_changes(AP, "ABC", None):
                pass


async def test_malformed_rows_are_skipped_with_reasons_while_good_rows_arrive():
    rows = [
        sample_rows.ap_invoice("K1"),
        sample_rows.ap_invoice("K2", SourceTable="AP", DateUpdated="20261126", TimeUpdated="8"),
        "not a row",
        sample_rows.ap_invoice("K3", HoldPayment="?"),
        sample_rows.ap_invoice("K4"),
    ]
    async with client(lambda request: page(rows)) as agent:
        [only] = [p async for p in agent.list_changes(AP, "ABC", None)]
    assert [r.record_key for r in only.records] == ["K1", "K4"]
    assert only.skipped == (
        SkippedRecord("K2", "SourceTable 'AP' is not one of AP_InvoiceHeader, AP_OpenInvoice"),
        SkippedRecord(None, "the row is not a JSON object"),
        SkippedRecord("K3", "HoldPayment '?' is not Y or N"),
    )
    # the skipped K2 has the newest readable stamp, so a cursor can move past it
    assert only.last_stamp == datetime(2026, 11, 26, 8, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    "response",
    [
        page([], company="TST"),
        page([], resource="gl-accounts"),
        httpx.Response(200, json={"company": "ABC", "resource": "ap-invoices", "records": {}}),
        httpx.Response(200, json={"company": "ABC", "resource": "ap-invoices", "records": []}),
        httpx.Response(
            200,
            json={
                "company": "ABC",
                "resource": "ap-invoices",
                "records": [],
                "next_page_token": "",
            },
        ),
        httpx.Response(200, text="<html>proxy</html>"),
    ],
)
async def test_pages_outside_the_contract_are_refused(response):
    async with client(lambda request: response) as agent:
        with pytest.raises(BadResponseError):
            async for _ in agent.list_changes(AP, "ABC", None):
                pass


async def test_record_keys_are_url_encoded():
    key = "01/AIRWAY INV#7?x"

    def handler(request):
        assert request.url.raw_path == b"/v1/companies/ABC/ap-invoices/01%2FAIRWAY%20INV%237%3Fx"
        return httpx.Response(200, json=sample_rows.ap_invoice(key))

    async with client(handler) as agent:
        record = await agent.get_record(AP, "ABC", key)
    assert record.record_key == key


async def test_a_record_that_does_not_parse_is_a_bad_response():
    async with client(
        lambda r: httpx.Response(200, json=sample_rows.ap_invoice("K", HoldPayment="x"))
    ) as agent:
        with pytest.raises(BadResponseError, match="HoldPayment"):
            await agent.get_record(AP, "ABC", "K")


@pytest.mark.parametrize(
    ("response", "kind", "words"),
    [
        (error(401, "unauthenticated"), AuthError, "did not accept the API key"),
        (error(403, "forbidden"), AuthError, "not allowed to read ABC ap-invoices"),
        (error(404, "unknown_company"), NotFoundError, "unknown_company"),
        (error(404, "not_found"), NotFoundError, "not_found"),
        (error(400, "invalid_parameter"), BadResponseError, "invalid_parameter"),
        (error(500, "internal"), UnavailableError, "internal"),
        (error(404, "record_locked"), BadResponseError, "does not define"),
        (error(418, "teapot"), BadResponseError, "does not define"),
        (
            httpx.Response(502, text="Bad Gateway"),
            BadResponseError,
            "without the contract's error body",
        ),
    ],
)
async def test_errors_become_the_right_exception(response, kind, words):
    async with client(lambda request: response) as agent:
        with pytest.raises(kind, match=words) as caught:
            async for _ in agent.list_changes(AP, "ABC", None):
                pass
    assert type(caught.value) is kind


async def test_locked_records_are_retried_after_the_agents_retry_after():
    answers = iter(
        [
            error(423, "record_locked", {"Retry-After": "2"}),
            error(429, "too_many_requests", {"Retry-After": "1"}),
            page([sample_rows.ap_invoice()]),
        ]
    )
    sleeps = Sleeps()
    async with client(lambda request: next(answers), sleeps) as agent:
        [only] = [p async for p in agent.list_changes(AP, "ABC", None)]
    assert len(only.records) == 1
    assert sleeps.waits == [2, 1]


async def test_unavailable_after_the_attempts_run_out():
    sleeps = Sleeps()
    calls = []

    def handler(request):
        calls.append(request)
        return error(503, "sage_unavailable")

    async with client(
        handler, sleeps, retry=RetryPolicy(max_attempts=3, rng=random.Random(2))
    ) as agent:
        with pytest.raises(
            UnavailableError, match="sage_unavailable.*gave up after 3 attempts"
        ) as caught:
            await agent.get_record(AP, "ABC", "K1")
    assert len(calls) == 3 and len(sleeps.waits) == 2
    assert caught.value.code == "sage_unavailable"


async def test_connection_errors_are_retried_then_reported_plainly():
    attempts = []

    def handler(request):
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("boom", request=request)
        return page([])

    async with client(handler) as agent:
        assert [p async for p in agent.list_changes(AP, "ABC", None)][0].records == ()

    def always(request):
        raise httpx.ReadTimeout("slow", request=request)

    async with client(always, retry=RetryPolicy(max_attempts=2)) as agent:
        with pytest.raises(UnavailableError, match="did not answer within 60s"):
            await agent.health()


async def test_pin_cannot_be_skipped_without_a_tls_connection():
    settings = replace(SETTINGS, pin_sha256="AB:" * 31 + "AB")
    async with client(lambda r: page([]), settings=settings) as agent:
        with pytest.raises(CertificateError, match="pin"):
            await agent.health()


@pytest.mark.parametrize("company", ["abc", "AB", "ABCD", "A/C"])
async def test_company_codes_are_checked_before_any_request(company):
    async with client(lambda request: pytest.fail("no request expected")) as agent:
        with pytest.raises(ValueError, match="three upper-case"):
            await agent.get_record(AP, company, "K")


async def test_client_key_mistakes_are_reported_before_connecting(test_pki):
    from cryptography.hazmat.primitives import serialization

    settings = ConnectionSettings(
        "https://sage01",
        ("ABC",),
        AuthMode.MTLS,
        CHICAGO,
        client_cert_pem=test_pki.client_cert_pem,
        client_key_pem=test_pki.other_key_pem,
    )
    with pytest.raises(CertificateError, match="not a matching PEM certificate"):
        AgentClient(settings)
    key = serialization.load_pem_private_key(test_pki.client_key_pem.encode(), None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(CertificateError, match="unencrypted key"):
        AgentClient(replace(settings, client_key_pem=encrypted))
    with pytest.raises(CertificateError, match="pin_sha256 is not a SHA-256"):
        AgentClient(replace(SETTINGS, pin_sha256="AB:CD"))
    async with AgentClient(replace(settings, client_key_pem=test_pki.client_key_pem)):
        pass  # the matching, unencrypted pair loads


@pytest.mark.parametrize("url", ["http://sage01:8080", "https://sage01:99999", "https://sage01:x"])
def test_an_unusable_agent_url_is_reported_before_connecting(url):
    with pytest.raises(CertificateError, match="is not an https:// address"):
        AgentClient(ConnectionSettings(url, ("ABC",), AuthMode.API_KEY, CHICAGO, api_key="k"))


def test_settings_mistakes_are_reported_before_connecting():
    with pytest.raises(AuthError, match="api_key"):
        AgentClient(ConnectionSettings("https://sage01", ("ABC",), AuthMode.API_KEY, CHICAGO))
    with pytest.raises(CertificateError, match="client_cert"):
        AgentClient(ConnectionSettings("https://sage01", ("ABC",), AuthMode.MTLS, CHICAGO))
    with pytest.raises(CertificateError, match="CA bundle"):
        AgentClient(
            ConnectionSettings(
                "https://sage01",
                ("ABC",),
                AuthMode.API_KEY,
                CHICAGO,
                api_key="k",
                ca_cert_pem="junk",
            )
        )


async def test_a_big_page_is_parsed_with_turns_for_the_event_loop_between_its_rows():
    """A thousand rows are tens of milliseconds of parsing: other tasks (a Slack request the
    same process must acknowledge) get turns while they are read, not only after."""
    rows = [sample_rows.ap_invoice(f"K{n:04d}") for n in range(1000)]
    turns = 0
    listing_done = asyncio.Event()

    async def other_task() -> None:
        nonlocal turns
        while not listing_done.is_set():
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_task())
    await asyncio.sleep(0)
    before = turns
    async with client(lambda request: page(rows)) as agent:
        pages = [p async for p in agent.list_changes(AP, "ABC", None, page_size=1000)]
    listing_done.set()
    await ticker
    assert len(pages[0].records) == 1000
    assert turns - before >= 9
