"""An agent that drips its answer (a byte at a time, each within the read timeout) is cut off."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from zoneinfo import ZoneInfo

import pytest

from bolt_app.polling.service import PollTuning
from mlc_common.certs import write_pki
from sage.client import REQUEST_DEADLINE, AgentClient, RetryPolicy
from sage.connection import AuthMode, ConnectionSettings
from sage.errors import UnavailableError

DRIP_SECONDS = 1.0  # one byte per second: every read is well within the read timeout


@pytest.fixture
async def dripping_agent(tmp_path):
    """An HTTPS server that sends headers promising a body, then one byte per DRIP_SECONDS."""
    pki = write_pki(tmp_path / "pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    requests = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        requests += 1
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n{"
            )
            for _ in range(1000):
                await writer.drain()
                await asyncio.sleep(DRIP_SECONDS)
                writer.write(b" ")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    settings = ConnectionSettings(
        agent_url=f"https://127.0.0.1:{port}",
        companies=("ABC",),
        auth=AuthMode.API_KEY,
        timezone=ZoneInfo("America/Chicago"),
        api_key="agent-api-key",
        ca_cert_pem=pki.ca_cert.read_text(),
    )
    try:
        yield settings, lambda: requests
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


async def test_a_dripping_agent_is_cut_off_at_the_requests_deadline(dripping_agent):
    settings, requests = dripping_agent
    retry = RetryPolicy(max_attempts=1)
    started = time.monotonic()
    async with AgentClient(
        settings, read_timeout=5 * DRIP_SECONDS, deadline=3, retry=retry
    ) as agent:
        with pytest.raises(UnavailableError, match=r"did not finish answering within 3s"):
            await agent.health()
    assert 3 <= time.monotonic() - started < 5  # not the 1,000 seconds the body would take
    assert requests() == 1


async def test_retries_of_a_dripping_agent_stay_within_the_retry_policys_total(dripping_agent):
    settings, requests = dripping_agent
    retry = RetryPolicy(max_attempts=5, base_delay=0.1, max_total=2.5)
    started = time.monotonic()
    async with AgentClient(
        settings, read_timeout=5 * DRIP_SECONDS, deadline=1.5, retry=retry
    ) as agent:
        with pytest.raises(UnavailableError, match=r"within 1\.5s; gave up after 2 attempts"):
            await agent.health()
    assert time.monotonic() - started < 2.5 + 1.5 + 1
    assert requests() == 2


def test_a_call_with_all_its_retries_ends_well_inside_the_poll_lease():
    """Two workers never poll one resource at once: the lease outlives any one agent call."""
    longest_call = RetryPolicy().max_total + REQUEST_DEADLINE
    assert longest_call * 4 <= PollTuning().lease_ttl.total_seconds()
