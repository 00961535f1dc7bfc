"""`ml-connector agent serve|check|certs`: the Sage 100 agent, on the Sage server.

Thin: parse arguments, read agent.toml with the environment, call into `sage.agent`. The agent
itself never imports this package.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from datetime import date
from importlib.metadata import version as distribution_version
from pathlib import Path
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from sage.agent.config import AgentConfig


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "agent",
        "the Sage 100 agent (on the Sage server)",
        description="The Sage 100 agent, run on the Sage server (docs/agent.md); agent.toml "
        "may read secrets from the environment (env:NAME).",
    )
    commands = parser.add_subparsers(dest="agent_command", required=True, metavar="COMMAND")
    serve = add_command(commands, "serve", "read Sage 100 and serve the agent API over HTTPS")
    serve.add_argument("--config", type=Path, required=True, metavar="FILE", help="agent.toml")
    serve.set_defaults(handler=run_serve, service=True)
    check = add_command(
        commands, "check", "try each company: driver, login, tables and audit columns, one scan"
    )
    check.add_argument("--config", type=Path, required=True, metavar="FILE", help="agent.toml")
    check.set_defaults(handler=run_check)
    certs = add_command(
        commands, "certs", "write a CA, the agent's server certificate and a connector certificate"
    )
    certs.add_argument("directory", type=Path, metavar="DIR", help="where the files are written")
    certs.add_argument(
        "--host",
        action="append",
        dest="hosts",
        metavar="H",
        help="a name or address the connector uses for the agent (repeatable; default: "
        "this machine's name)",
    )
    certs.add_argument("--port", type=int, default=8443, help="the agent's port, for the guide")
    certs.set_defaults(handler=run_certs)


def _config(path: Path) -> AgentConfig:
    from sage.agent.config import AgentConfigError, load_agent_config

    try:
        return load_agent_config(path, os.environ)
    except AgentConfigError as error:
        raise ConfigError(str(error)) from None


def run_check(args) -> int:
    from sage.agent.check import check_agent_file

    service = _config(args.config).service(distribution_version("ml-connector"))
    try:
        results = check_agent_file(service, date.today())
    finally:
        service.close()
    for result in results:
        print(result.line())
    return 0 if all(result.ok for result in results) else 1


def run_serve(args) -> int:
    from sage.agent.config import AgentConfigError

    config = _config(args.config)
    try:
        asyncio.run(_serve(config))
    except AgentConfigError as error:
        raise ConfigError(str(error)) from None
    return 0


async def _serve(config: AgentConfig) -> None:
    from sage.agent.hosting import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(
        config,
        stop,
        agent_version=distribution_version("ml-connector"),
        started=lambda line: print(f"{line}; Ctrl-C stops", flush=True),
    )
    print("Agent stopped.", flush=True)


def run_certs(args) -> int:
    from sage.agent.certs import write_agent_certs

    hosts = args.hosts or [socket.getfqdn()]
    try:
        _, guide = write_agent_certs(args.directory, hosts, args.port)
    except OSError as error:
        raise ConfigError(
            f"cannot write certificates to {args.directory}: {error.strerror}"
        ) from None
    print(guide)
    return 0
