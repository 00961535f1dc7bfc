"""Serving the simulated agent over real TLS with uvicorn, in the caller's event loop or a thread.

What answers is the real agent (`sage.agent.server.build_app` over `AgentService` and one
`CompanyReader` per company, reading the data's Sage-layout SQLite files read-only), behind
the simulator's fault layer (`sage.simulator.app.FaultLayer`).

The socket is bound before uvicorn starts, so port 0 works and `base_url` is known at once.
In mTLS mode the TLS layer demands a client certificate signed by the CA (no certificate, no
handshake), and each connection's certificate common name is handed to the app so per-client
company lists can answer 403.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import uvicorn

from mlc_common.certs import Pki
from mlc_common.serving import EmbeddedServer, https_config
from sage.agent.server import build_app
from sage.agent.service import DEFAULT_CACHE_SECONDS, AgentService
from sage.connection import AuthMode, ConnectionSettings
from sage.simulator.activity import Activity
from sage.simulator.app import AGENT_VERSION, SAGE_VERSION, Access, FaultLayer, RecordedRequest
from sage.simulator.data import DEFAULT_TIMEZONE, SimulatorData
from sage.simulator.faults import Faults


def utc_now() -> datetime:
    return datetime.now(UTC)


class SimulatorServer:
    """The simulated Sage 100 agent on https://localhost:PORT.

    `async with SimulatorServer(pki) as server:` in tests sharing the event loop, or
    `with SimulatorServer(pki).running_in_thread() as server:` from synchronous code.
    `data`, `faults` and `requests` are live: change them while the server runs.
    """

    def __init__(
        self,
        pki: Pki,
        *,
        mode: AuthMode = AuthMode.MTLS,
        api_keys: Mapping[str, Collection[str] | None] | None = None,
        client_companies: Mapping[str, Collection[str]] | None = None,
        data: SimulatorData | None = None,
        faults: Faults | None = None,
        clock: Callable[[], datetime] = utc_now,
        seed: int = 1,
        timezone: ZoneInfo = DEFAULT_TIMEZONE,
        activity_interval: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if mode is AuthMode.API_KEY and not api_keys:
            raise ValueError("API-key mode needs at least one key")
        self.pki = pki
        self.mode = mode
        self.clock = clock
        self.data = data or SimulatorData.seeded(
            clock(), rng=random.Random(seed), timezone=timezone
        )
        self.faults = faults or Faults(rng=random.Random(seed + 1))
        self.activity = (
            Activity(
                self.data, rng=random.Random(seed + 2), clock=clock, interval=activity_interval
            )
            if activity_interval
            else None
        )
        self.access = Access(mode, dict(api_keys or {}), dict(client_companies or {}))
        self.requests: list[RecordedRequest] = []
        self.host = host
        self._port = port
        self._server: EmbeddedServer | None = None
        self._service: AgentService | None = None
        self._activity_task: asyncio.Task[None] | None = None
        self._stop_activity: asyncio.Event | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """Always `localhost`: the name the default server certificate carries."""
        return f"https://localhost:{self._port}"

    @property
    def api_key(self) -> str | None:
        """The first API key (None in mTLS mode), for the common one-key case."""
        return next(iter(self.access.api_keys), None)

    def connection_settings(self, companies: Sequence[str] = ("ABC",)) -> ConnectionSettings:
        """What a workspace would store to reach this simulator (PEM text, not paths)."""
        mtls = self.mode is AuthMode.MTLS
        return ConnectionSettings(
            agent_url=self.base_url,
            companies=tuple(companies),
            auth=self.mode,
            timezone=self.data.timezone,
            client_cert_pem=self.pki.client_cert.read_text() if mtls else None,
            client_key_pem=self.pki.client_key.read_text() if mtls else None,
            ca_cert_pem=self.pki.ca_cert.read_text(),
            api_key=None if mtls else self.api_key,
        )

    def _config(self) -> uvicorn.Config:
        mtls = self.mode is AuthMode.MTLS
        data = self.data
        service = AgentService(
            {c: data.reader(c, cache_seconds=DEFAULT_CACHE_SECONDS) for c in data.companies},
            agent_version=AGENT_VERSION,
            sage_version=SAGE_VERSION,
            now=lambda: data.local(self.clock()),
        )
        self._service = service
        agent = build_app(service, api_keys=list(self.access.api_keys), certificates=mtls)
        app = FaultLayer(
            agent,
            companies=data.companies,
            faults=self.faults,
            access=self.access,
            requests=self.requests,
        )
        return https_config(
            app,
            certfile=str(self.pki.server_cert),
            keyfile=str(self.pki.server_key),
            ca_certs=str(self.pki.ca_cert) if mtls else None,
            cert_reqs=ssl.CERT_REQUIRED if mtls else ssl.CERT_NONE,
        )

    async def start(self) -> None:
        server = EmbeddedServer(self._config(), host=self.host, port=self._port)
        self._port = server.port
        await server.start()
        self._server = server
        if self.activity is not None:
            self._stop_activity = asyncio.Event()
            self._activity_task = asyncio.create_task(self.activity.run(self._stop_activity))

    async def stop(self) -> None:
        if self._activity_task is not None and self._stop_activity is not None:
            self._stop_activity.set()
            await self._activity_task
            self._activity_task = None
        if self._server is not None:
            await self._server.stop()
            self._server = None
        if self._service is not None:
            await asyncio.to_thread(self._service.close)
            self._service = None

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def running_in_thread(self) -> Iterator[SimulatorServer]:
        """Serve from a background thread with its own event loop, for synchronous callers."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []
        stop: asyncio.Event | None = None

        async def main() -> None:
            nonlocal stop
            stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as error:
                failure.append(error)
                started.set()
                return
            started.set()
            await stop.wait()
            await self.stop()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
        thread.start()
        started.wait()
        try:
            if failure:
                raise failure[0]
            yield self
        finally:
            if stop is not None and not failure:
                loop.call_soon_threadsafe(stop.set)
            thread.join()
            loop.close()
