"""Running the agent until told to stop: one `serve` for `agent serve` and the Windows service.

`serve` starts the agent's server from an agent.toml, announces it and stops it when the
`stop` event is set. `AgentHost` wraps it for a host whose stop request arrives on another
thread (the Windows service manager's `SvcStop`), and `route` decides what the frozen
Windows executable was asked to do. Nothing here imports pywin32: the Windows half is
`sage.agent.windows_service`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path

from mlc_common.heap import settle_start_up
from sage.agent.config import AgentConfig, AgentConfigError, load_agent_config
from sage.agent.server import AgentServer

SERVICE_NAME = "MLConnectorAgent"
SERVICE_DISPLAY_NAME = "ml-connector Sage 100 agent"
SERVICE_DESCRIPTION = (
    "Reads Sage 100 (read-only) and serves it over HTTPS to the ml-connector Slack app."
)
CONFIG_OPTION = "config"  # the service's registry value holding agent.toml's path
AGENT_COMMANDS = ("serve", "check", "certs")
SERVICE_COMMANDS = ("install", "update", "remove", "start", "stop", "restart", "debug")


def listening_line(config: AgentConfig, server: AgentServer) -> str:
    listen = server.listen
    modes = [
        name for name, on in (("mTLS", listen.client_ca_file), ("API key", listen.api_keys)) if on
    ]
    return (
        f"Sage 100 agent listening on {config.host}:{server.port} ({' and '.join(modes)}); "
        f"companies {', '.join(c.code for c in config.companies)}"
    )


async def serve(
    config: AgentConfig,
    stop: asyncio.Event,
    *,
    agent_version: str,
    started: Callable[[str], None] = lambda line: None,
) -> None:
    """Serve until `stop` is set, then stop the server and close every company connection.
    A port that cannot be bound is an AgentConfigError naming it."""
    service = config.service(agent_version)
    with config.listen() as listen:
        server = AgentServer(service, listen)
        try:
            await server.start()
        except OSError as error:
            service.close()
            raise AgentConfigError(
                f"{config.path}: cannot listen on {config.host}:{config.port}: {error.strerror}"
            ) from None
        settle_start_up()
        started(listening_line(config, server))
        try:
            await stop.wait()
        finally:
            await server.stop()


class AgentHost:
    """The agent in a thread of its own (`run` blocks), stopped from any other (`stop`).

    A stop asked for before `run` has started its loop is kept, so a service stopped while
    still starting ends at once instead of serving.
    """

    def __init__(
        self,
        config_path: Path,
        environ: Mapping[str, str],
        *,
        agent_version: str,
        started: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.config_path = config_path
        self._environ = environ
        self._agent_version = agent_version
        self._started = started
        self._lock = threading.Lock()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def run(self) -> None:
        """Read agent.toml and serve until `stop`; AgentConfigError for a bad file or port."""
        config = load_agent_config(self.config_path, self._environ)
        asyncio.run(self._serve(config))

    async def _serve(self, config: AgentConfig) -> None:
        stop = asyncio.Event()
        with self._lock:
            self._loop, self._stop = asyncio.get_running_loop(), stop
            if self._stopping:
                stop.set()
        try:
            await serve(config, stop, agent_version=self._agent_version, started=self._started)
        finally:
            with self._lock:
                self._loop = self._stop = None

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            if self._loop is not None and self._stop is not None:
                self._loop.call_soon_threadsafe(self._stop.set)


class Route(StrEnum):
    """What the Windows executable was started for."""

    DISPATCH = "dispatch"  # no arguments: the service manager started it; host the service
    AGENT = "agent"  # serve, check or certs: the `ml-connector agent` commands
    SERVICE = "service"  # install, start, stop, remove...: pywin32's service command line


def route(argv: Sequence[str]) -> Route:
    """argv[0] is the program. Options before a service command (`-c FILE install`) belong
    to the service command line; anything unknown goes there too, which prints its usage."""
    arguments = list(argv[1:])
    if not arguments:
        return Route.DISPATCH
    if arguments[0] in AGENT_COMMANDS:
        return Route.AGENT
    return Route.SERVICE


def default_config_path(environ: Mapping[str, str]) -> Path:
    """Where the service looks for agent.toml when installed without `-c`."""
    program_data = environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData"
    return Path(program_data) / "ml-connector" / "agent" / "agent.toml"
