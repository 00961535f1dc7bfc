"""`ml-connector web` and `serve`: the Procfile's web role, and everything in one process.

    web      Slack's HTTP endpoints (or Socket Mode with SLACK_APP_TOKEN), /healthz, /metrics
    serve    the same, plus the poll scheduler and the delivery worker

Both stop gracefully on SIGTERM or Ctrl-C: requests in flight and messages being sent finish.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import SLACK_APP, add_command

if TYPE_CHECKING:
    from bolt_app.settings import Settings


def register(subparsers) -> None:
    for name, with_background, text, description in (
        (
            "web",
            False,
            "serve Slack's endpoints (or Socket Mode), /healthz and /metrics",
            "The web role: Slack's HTTP endpoints (or Socket Mode with SLACK_APP_TOKEN), "
            "/healthz and /metrics; a separate `worker` polls and delivers.",
        ),
        (
            "serve",
            True,
            "one process: Slack endpoints, scheduler and delivery",
            "Everything in one process: Slack's endpoints, /healthz, /metrics, the poll "
            "scheduler and the delivery worker. SIGTERM or Ctrl-C lets work in flight finish.",
        ),
    ):
        parser = add_command(subparsers, name, text, description=description, environment=SLACK_APP)
        parser.add_argument("--port", metavar="N", help="HTTP port (default: PORT, else 3000)")
        parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
        parser.set_defaults(handler=run, with_background=with_background, service=True)


def run(args) -> int:
    from bolt_app.settings import check_port

    port = None if args.port is None else check_port(args.port, "--port")
    asyncio.run(_serve(args.settings, args.with_background, args.host, port))
    return 0


async def _serve(settings: Settings, with_background: bool, host: str, port: int | None) -> None:
    from bolt_app.runtime.bolt import validate_slack_settings
    from bolt_app.runtime.graph import open_runtime
    from bolt_app.runtime.process import run_process, stop_on_signals

    validate_slack_settings(settings)
    stop = asyncio.Event()
    stop_on_signals(stop)
    role = "serve" if with_background else "web"
    async with open_runtime(settings, role=role) as runtime:
        await run_process(runtime, with_background=with_background, stop=stop, host=host, port=port)
