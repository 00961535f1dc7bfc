"""Serving an ASGI app with uvicorn inside the running event loop, on a socket bound first.

The simulated agent, the Slack stand-in and the web process all need the same thing: bind
(port 0 works, and the chosen port is known before serving), serve without uvicorn taking
over the process's signals (whoever runs the server owns them), stop cleanly.

The agent and its simulator also need to know which client certificate opened a TLS
connection: `PeerCertificateProtocol` puts it in each request's scope (`client_certificate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


class _SignalFreeServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedServer:
    """uvicorn serving `config.app` on (host, port); `port` is the bound one."""

    def __init__(self, config: uvicorn.Config, *, host: str, port: int) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every keep-alive answer waits ~40 ms for a delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        self.port: int = self._socket.getsockname()[1]
        self._server = _SignalFreeServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once requests are accepted; raises what stopped a failed start."""
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Finish in-flight requests, then close."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None
        self._socket.close()

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()


def https_config(
    app, *, certfile: str, keyfile: str, ca_certs: str | None, cert_reqs: int
) -> uvicorn.Config:
    """uvicorn serving `app` over TLS, quietly, telling the app about client certificates
    (`PeerCertificateProtocol`): the agent's and the simulated agent's settings."""
    return uvicorn.Config(
        app,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        ssl_ca_certs=ca_certs,
        ssl_cert_reqs=cert_reqs,
        http=PeerCertificateProtocol,
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )


def _common_name(peercert: dict | None) -> str:
    for rdn in (peercert or {}).get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return value
    return ""


class PeerCertificateProtocol(H11Protocol):
    """h11 protocol that tells the app which client certificate opened the connection:
    `scope["extensions"]["tls"]` holds `client_certificate` (whether the peer presented one
    that the TLS layer verified) and `client_common_name` ("" without one)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peercert = transport.get_extra_info("peercert")
        tls = {"client_certificate": bool(peercert), "client_common_name": _common_name(peercert)}
        inner = self.app

        async def app(scope, receive, send):
            scope.setdefault("extensions", {})["tls"] = tls
            await inner(scope, receive, send)

        self.app = app
