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

from bolt_app.errors import ConfigError
from sage.agent.certs import write_agent_certs
from sage.agent.check import check_agent_file
from sage.agent.config import AgentConfig, AgentConfigError, load_agent_config
from sage.agent.hosting import serve


def register(subparsers) -> None:
    parser = subparsers.add_parser("agent", help="the Sage 100 agent (on the Sage server)")
    commands = parser.add_subparsers(dest="agent_command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="read Sage 100 and serve the agent API over HTTPS")
    serve.add_argument("--config", type=Path, required=True, metavar="FILE", help="agent.toml")
    serve.set_defaults(handler=run_serve)
    check = commands.add_parser(
        "check", help="try each company: driver, login, tables and audit columns, one scan"
    )
    check.add_argument("--config", type=Path, required=True, metavar="FILE", help="agent.toml")
    check.set_defaults(handler=run_check)
    certs = commands.add_parser(
        "certs", help="write a CA, the agent's server certificate and a connector certificate"
    )
    certs.add_argument("directory", type=Path, metavar="DIR")
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
    try:
        return load_agent_config(path, os.environ)
    except AgentConfigError as error:
        raise ConfigError(str(error)) from None


def run_check(args) -> int:
    service = _config(args.config).service(distribution_version("ml-connector"))
    try:
        results = check_agent_file(service, date.today())
    finally:
        service.close()
    for result in results:
        print(result.line())
    return 0 if all(result.ok for result in results) else 1


def run_serve(args) -> int:
    config = _config(args.config)
    try:
        asyncio.run(_serve(config))
    except AgentConfigError as error:
        raise ConfigError(str(error)) from None
    return 0


async def _serve(config: AgentConfig) -> None:
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
    hosts = args.hosts or [socket.getfqdn()]
    try:
        _, guide = write_agent_certs(args.directory, hosts, args.port)
    except OSError as error:
        raise ConfigError(
            f"cannot write certificates to {args.directory}: {error.strerror}"
        ) from None
    print(guide)
    return 0
