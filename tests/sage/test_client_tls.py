"""AgentClient and check_agent against the simulated agent over real TLS on loopback."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mlc_common.certs import Pki, issue_client_cert, make_ca, write_pki
from sage.check import check_agent
from sage.client import AgentClient, RetryPolicy, fingerprint
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import AuthError, CertificateError, UnavailableError
from sage.records import SkippedRecord
from sage.resources import RESOURCES, by_path
from sage.simulator import Faults, Malformation, SimulatorData
from tests.fixtures.simulator import SIMULATOR_API_KEY

CHICAGO = ZoneInfo("America/Chicago")
AP = by_path("ap-invoices")


def mtls_settings(url: str, pki: Pki, **changes) -> ConnectionSettings:
    settings = ConnectionSettings(
        agent_url=url,
        companies=("ABC",),
        auth=AuthMode.MTLS,
        timezone=CHICAGO,
        client_cert_pem=pki.client_cert.read_text(),
        client_key_pem=pki.client_key.read_text(),
        ca_cert_pem=pki.ca_cert.read_text(),
    )
    return replace(settings, **changes)


def server_certificate(pki: Pki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.server_cert.read_bytes())


class RecordedSleep:
    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def test_good_mtls_reads_health_and_records(any_agent):
    settings = mtls_settings(any_agent.base_url, any_agent.pki)
    async with AgentClient(settings) as agent:
        health = await agent.health()
        first = await anext(agent.list_changes(AP, "ABC", None, page_size=5))
    assert health.companies == ("ABC", "TST")
    assert health.server_now.tzinfo is CHICAGO
    # the simulator speaks 1.0 (no api_version), the agent 1.1 with the keys listing
    assert (health.api_version, health.capabilities) in {
        ("1.0", frozenset()),
        ("1.1", frozenset({"keys"})),
    }
    assert len(first.records) == 5 and not first.skipped


async def test_the_right_pin_passes_and_a_wrong_one_fails(mtls_simulator):
    der = server_certificate(mtls_simulator.pki).public_bytes(Encoding.DER)
    good = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki, pin_sha256=fingerprint(der))
    async with AgentClient(good) as agent:
        await agent.health()
    wrong = replace(good, pin_sha256="00" * 32)
    async with AgentClient(wrong) as agent:
        with pytest.raises(CertificateError) as caught:
            await agent.health()
    assert str(caught.value) == (
        f"the agent's certificate has fingerprint {fingerprint(der)}, not the pinned pin_sha256"
    )


@pytest.mark.parametrize(
    ("pki_options", "host", "expected"),
    [
        ({"server_from_other_ca": True}, "localhost", "is not signed by the configured CA"),
        ({"server_expired": True}, "localhost", "expired on {expiry}"),
        (
            {"dns_names": ("sage01.corp.example",), "ip_addresses": ()},
            "127.0.0.1",
            "is for sage01.corp.example, not 127.0.0.1",
        ),
    ],
    ids=["other CA", "expired", "wrong hostname"],
)
async def test_bad_server_certificates_fail_with_a_clear_sentence(
    start_simulator, tmp_path, pki_options, host, expected
):
    pki = write_pki(tmp_path, **pki_options)
    server = await start_simulator(pki=pki)
    settings = mtls_settings(f"https://{host}:{server.port}", pki)
    async with AgentClient(settings) as agent:
        with pytest.raises(CertificateError) as caught:
            await agent.health()
    expiry = server_certificate(pki).not_valid_after_utc.date().isoformat()
    assert str(caught.value) == "the agent's certificate " + expected.format(expiry=expiry)
    assert list(server.requests) == []  # nothing was sent before the certificate was refused


async def test_a_missing_client_certificate_is_refused(mtls_simulator):
    settings = replace(
        mtls_settings(mtls_simulator.base_url, mtls_simulator.pki),
        auth=AuthMode.API_KEY,
        api_key="irrelevant",
        client_cert_pem=None,
        client_key_pem=None,
    )
    async with AgentClient(settings, retry=RetryPolicy(max_attempts=1)) as agent:
        with pytest.raises(CertificateError, match="the agent asks for a client certificate"):
            await agent.health()


async def test_a_client_certificate_from_another_ca_is_refused(mtls_simulator):
    stranger = issue_client_cert(make_ca("somebody else's CA"))
    settings = replace(
        mtls_settings(mtls_simulator.base_url, mtls_simulator.pki),
        client_cert_pem=stranger.cert_pem.decode(),
        client_key_pem=stranger.key_pem.decode(),
    )
    async with AgentClient(settings, retry=RetryPolicy(max_attempts=1)) as agent:
        with pytest.raises(CertificateError, match="^the agent refused our client certificate$"):
            await agent.health()


async def test_api_key_mode_right_and_wrong_key(api_key_simulator):
    settings = ConnectionSettings(
        agent_url=api_key_simulator.base_url,
        companies=("ABC",),
        auth=AuthMode.API_KEY,
        timezone=CHICAGO,
        ca_cert_pem=api_key_simulator.pki.ca_cert.read_text(),
        api_key=SIMULATOR_API_KEY,
    )
    async with AgentClient(settings) as agent:
        assert (await agent.health()).status == "ok"
    async with AgentClient(replace(settings, api_key="wrong")) as agent:
        with pytest.raises(AuthError, match="did not accept the API key"):
            await anext(agent.list_changes(AP, "ABC", None))


async def test_locks_and_outages_with_retry_after_are_retried_then_succeed(mtls_simulator):
    path = "/v1/companies/ABC/ap-invoices"
    mtls_simulator.faults.script(path, "record_locked", retry_after=1)
    mtls_simulator.faults.script(path, "sage_unavailable", retry_after=1)
    sleep = RecordedSleep()
    settings = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki)
    async with AgentClient(settings, sleep=sleep) as agent:
        page = await anext(agent.list_changes(AP, "ABC", None, page_size=3))
    assert len(page.records) == 3
    assert sleep.waits == [1, 1]
    assert [r.status for r in mtls_simulator.requests] == [423, 503, 200]


async def test_an_outage_that_outlasts_the_policy_is_reported(mtls_simulator):
    mtls_simulator.faults.script("/v1/health", "sage_unavailable", times=5, retry_after=1)
    settings = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki)
    retry = RetryPolicy(max_attempts=3, rng=random.Random(1))
    async with AgentClient(settings, sleep=RecordedSleep(), retry=retry) as agent:
        with pytest.raises(UnavailableError, match="sage_unavailable.*gave up after 3 attempts"):
            await agent.health()


async def test_a_slow_agent_runs_into_the_read_timeout(mtls_simulator):
    mtls_simulator.faults.slow_rate = 1.0
    mtls_simulator.faults.slow_seconds = 1.0
    settings = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki)
    retry = RetryPolicy(max_attempts=1)
    async with AgentClient(settings, read_timeout=0.2, retry=retry) as agent:
        with pytest.raises(UnavailableError, match=r"did not answer within 0\.2s; gave up"):
            await anext(agent.list_changes(AP, "ABC", None))


async def test_pagination_across_2500_records_returns_each_exactly_once(start_simulator):
    data = SimulatorData(("ABC",), rng=random.Random(5))
    start = datetime(2026, 11, 2, 14, tzinfo=UTC)
    rows = data.add_many("ABC", "ap-invoices", 2500, start=start, per_stamp=7)
    faults = Faults(rng=random.Random(6), short_page_rate=0.2)  # short and empty pages too
    server = await start_simulator(data=data, faults=faults)
    settings = mtls_settings(server.base_url, server.pki)
    async with AgentClient(settings) as agent:
        pages = [page async for page in agent.list_changes(AP, "ABC", None, page_size=200)]
        keys = [record.record_key for page in pages for record in page.records]
        # the since bound from a record's own stamp includes every record at or after it
        middle = pages[len(pages) // 2].records[0].stamps.changed_at
        later = [
            record.record_key
            async for page in agent.list_changes(AP, "ABC", middle, page_size=1000)
            for record in page.records
        ]
    assert len(keys) == 2500 and set(keys) == {row["RecordKey"] for row in rows}
    assert len(pages) > 2500 // 200
    assert not any(page.skipped for page in pages)
    expected_later = {
        record.record_key
        for page in pages
        for record in page.records
        if record.stamps.changed_at >= middle
    }
    assert expected_later <= set(later)
    assert len(later) - len(expected_later) <= 7  # at most the one second just before


async def test_malformed_rows_are_skipped_or_flagged_while_good_rows_arrive(mtls_simulator):
    rows = mtls_simulator.data.rows("ABC", "ap-invoices")
    mtls_simulator.faults.malform(rows[1]["RecordKey"], Malformation.BAD_DATE)
    mtls_simulator.faults.malform(rows[2]["RecordKey"], Malformation.BAD_AMOUNT)
    mtls_simulator.faults.malform(rows[3]["RecordKey"], Malformation.MISSING_KEY)
    settings = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki)
    async with AgentClient(settings) as agent:
        pages = [page async for page in agent.list_changes(AP, "ABC", None)]
    skipped = [s for page in pages for s in page.skipped]
    records = {r.record_key: r for page in pages for r in page.records}
    assert len(records) == len(rows) - 1
    assert skipped == [SkippedRecord(None, "RecordKey is missing")]
    dated, amounted = records[rows[1]["RecordKey"]], records[rows[2]["RecordKey"]]
    assert dated.invoice_date is None
    assert dated.problems == ("InvoiceDate 20261341 is not a date",)
    assert amounted.amount == 0
    assert amounted.problems == ("InvoiceAmt 12O.5O is not an amount (0 is shown)",)


async def test_get_record_round_trips_an_awkward_key(mtls_simulator):
    row = mtls_simulator.data.rows("ABC", "purchase-orders")[0]
    # The agent's RecordKey is the primary key: a PO number of 7 characters, any of them.
    row["RecordKey"] = row["PurchaseOrderNo"] = "P/1 #1?"
    mtls_simulator.data.put("ABC", "purchase-orders", row)
    settings = mtls_settings(mtls_simulator.base_url, mtls_simulator.pki)
    async with AgentClient(settings) as agent:
        record = await agent.get_record(by_path("purchase-orders"), "ABC", "P/1 #1?")
    assert record.record_key == "P/1 #1?"
    assert record.po_no == row["PurchaseOrderNo"].rstrip(" ")


async def test_check_passes_every_line_on_a_good_agent(any_agent):
    settings = mtls_settings(any_agent.base_url, any_agent.pki)
    results = await check_agent(replace(settings, companies=("ABC", "TST")))
    assert all(result.ok for result in results), [r.line() for r in results]
    assert len(results) == 3 + 2 * (1 + len(RESOURCES))  # TLS, keys listing, credentials
    assert results[1].detail.endswith("(API 1.1): reconcile is on")


async def test_check_names_the_certificate_problem(start_simulator, tmp_path):
    pki = write_pki(tmp_path, server_from_other_ca=True)
    server = await start_simulator(pki=pki)
    results = await check_agent(mtls_settings(server.base_url, pki))
    assert results[0].line() == (
        "FAIL  agent TLS and certificate: the agent's certificate is not signed by the configured CA"
    )
    assert all(not r.ok for r in results)
