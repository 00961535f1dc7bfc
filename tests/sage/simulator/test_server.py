"""The simulator as a TLS server: who gets in, and what health says."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime

import httpx
import pytest

from mlc_common.certs import issue_client_cert, make_ca, write_pem
from sage.connection import AuthMode
from sage.simulator import SimulatorServer
from tests.fixtures.simulator import (
    SIMULATOR_API_KEY,
    TST_ONLY_API_KEY,
    client_ssl_context,
)


async def test_health_reports_the_sage_clock_in_sage_formats(start_simulator):
    moment = datetime(2026, 11, 26, 19, 30, 30, tzinfo=UTC)  # 13:30:30 in Chicago
    server = await start_simulator(clock=lambda: moment)
    async with httpx.AsyncClient(verify=client_ssl_context(server.pki)) as client:
        answer = await client.get(f"{server.base_url}/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "agent_version": "2.3.1",
        "sage_version": "2024.1",
        "api_version": "1.1",
        "capabilities": ["keys"],
        "companies": ["ABC", "TST"],
        "server_date": "20261126",
        "server_time": "13.50833",
    }


async def test_mtls_without_a_client_certificate_is_refused(mtls_simulator):
    async with httpx.AsyncClient(
        verify=client_ssl_context(mtls_simulator.pki, client_cert=False)
    ) as client:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await client.get(f"{mtls_simulator.base_url}/v1/health")


async def test_mtls_with_a_certificate_from_another_ca_is_refused(mtls_simulator, tmp_path):
    stranger = issue_client_cert(make_ca("somebody else's CA"))
    write_pem(tmp_path / "c.pem", stranger.cert_pem)
    write_pem(tmp_path / "c.key", stranger.key_pem, private=True)
    context = client_ssl_context(mtls_simulator.pki, client_cert=False)
    context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "c.key"))
    async with httpx.AsyncClient(verify=context) as client:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await client.get(f"{mtls_simulator.base_url}/v1/health")


async def test_a_client_certificate_limited_to_tst_is_forbidden_abc(start_simulator):
    server = await start_simulator(client_companies={"ml-connector": ["TST"]})
    async with httpx.AsyncClient(
        base_url=server.base_url, verify=client_ssl_context(server.pki)
    ) as client:
        allowed = await client.get("/v1/companies/TST/gl-accounts")
        refused = await client.get("/v1/companies/ABC/gl-accounts")
    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}])
async def test_api_key_mode_refuses_missing_or_wrong_keys(api_key_simulator, headers):
    async with httpx.AsyncClient(
        verify=client_ssl_context(api_key_simulator.pki, client_cert=False)
    ) as client:
        answer = await client.get(
            f"{api_key_simulator.base_url}/v1/companies/ABC/ap-invoices", headers=headers
        )
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "missing or unknown X-Api-Key",
            "retryable": False,
        }
    }


async def test_api_key_mode_serves_a_good_key_and_limits_a_restricted_one(api_key_simulator):
    async with httpx.AsyncClient(
        base_url=api_key_simulator.base_url,
        verify=client_ssl_context(api_key_simulator.pki, client_cert=False),
    ) as client:
        good = await client.get(
            "/v1/companies/ABC/ap-invoices", headers={"X-Api-Key": SIMULATOR_API_KEY}
        )
        limited = await client.get(
            "/v1/companies/ABC/ap-invoices", headers={"X-Api-Key": TST_ONLY_API_KEY}
        )
    assert good.status_code == 200
    assert good.json()["records"]
    assert limited.status_code == 403


async def test_api_key_mode_still_serves_tls_with_the_ca_signed_certificate(api_key_simulator):
    async with httpx.AsyncClient(verify=ssl.create_default_context()) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"{api_key_simulator.base_url}/v1/health")


def test_api_key_mode_needs_a_key(simulator_pki):
    with pytest.raises(ValueError, match="at least one key"):
        SimulatorServer(simulator_pki, mode=AuthMode.API_KEY)


def test_a_threaded_simulator_serves_synchronous_callers(mtls_simulator_thread):
    with httpx.Client(verify=client_ssl_context(mtls_simulator_thread.pki)) as client:
        answer = client.get(f"{mtls_simulator_thread.base_url}/v1/companies/TST/gl-accounts")
    assert answer.status_code == 200
    assert answer.json()["company"] == "TST"


async def test_stopping_closes_the_port(start_simulator):
    server = await start_simulator()
    await server.stop()
    async with httpx.AsyncClient(verify=client_ssl_context(server.pki)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{server.base_url}/v1/health")


def test_a_port_in_use_is_reported_to_the_caller(simulator_pki):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = SimulatorServer(simulator_pki, port=taken.getsockname()[1])
        with pytest.raises(OSError), server.running_in_thread():
            pass


async def test_other_methods_get_a_json_405(mtls_client):
    answer = await mtls_client.post("/v1/companies/ABC/ap-invoices", json={})
    assert answer.status_code == 405
    # The agent's code for it (the contract names no code of its own for a 405).
    assert answer.json()["error"] == {
        "code": "internal",
        "message": "Method Not Allowed",
        "retryable": False,
    }


async def test_health_needs_credentials_too(api_key_simulator):
    async with httpx.AsyncClient(
        verify=client_ssl_context(api_key_simulator.pki, client_cert=False)
    ) as client:
        answer = await client.get(f"{api_key_simulator.base_url}/v1/health")
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "options", [{}, {"mode": AuthMode.API_KEY, "api_keys": {SIMULATOR_API_KEY: None}}]
)
async def test_connection_settings_reach_the_simulator(start_simulator, options):
    server = await start_simulator(**options)
    settings = server.connection_settings(["TST"])
    context = ssl.create_default_context(cadata=settings.ca_cert_pem)
    headers = {"X-Api-Key": settings.api_key} if settings.api_key else {}
    if settings.client_cert_pem:
        context = client_ssl_context(server.pki)
    async with httpx.AsyncClient(verify=context, headers=headers) as client:
        answer = await client.get(f"{settings.agent_url}/v1/companies/TST/gl-accounts")
    assert answer.status_code == 200
    assert settings.auth is server.mode
    assert str(settings.timezone) == "America/Chicago"
