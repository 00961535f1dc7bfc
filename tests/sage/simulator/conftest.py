"""httpx clients for the simulator's own tests (other packages bring their own client)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sage.simulator import SimulatorServer
from tests.fixtures.simulator import SIMULATOR_API_KEY, client_ssl_context


@pytest.fixture
async def mtls_client(mtls_simulator: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=mtls_simulator.base_url, verify=client_ssl_context(mtls_simulator.pki)
    ) as client:
        yield client


@pytest.fixture
async def api_key_client(api_key_simulator: SimulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=api_key_simulator.base_url,
        verify=client_ssl_context(api_key_simulator.pki, client_cert=False),
        headers={"X-Api-Key": SIMULATOR_API_KEY},
    ) as client:
        yield client
