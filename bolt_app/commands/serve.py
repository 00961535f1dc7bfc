"""`ml-connector web` and `serve`: the Procfile's web role, and everything in one process.

    web      Slack's HTTP endpoints (or Socket Mode with SLACK_APP_TOKEN), /healthz, /metrics
    serve    the same, plus the poll scheduler and the delivery worker

Both stop gracefully on SIGTERM or Ctrl-C: requests in flight and messages being sent finish.
"""

from __future__ import annotations

import asyncio

from bolt_app.runtime.graph import open_runtime
from bolt_app.runtime.process import run_process, stop_on_signals
from bolt_app.runtime.slack import validate_slack_settings
from bolt_app.settings import Settings, check_port


def register(subparsers) -> None:
    for name, with_background, text in (
        ("web", False, "serve Slack's endpoints (or Socket Mode), /healthz and /metrics"),
        ("serve", True, "one process: Slack endpoints, scheduler and delivery"),
    ):
        parser = subparsers.add_parser(name, help=text)
        parser.add_argument("--port", metavar="N", help="HTTP port (default: PORT, else 3000)")
        parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
        parser.set_defaults(handler=run, with_background=with_background)


def run(args) -> int:
    port = None if args.port is None else check_port(args.port, "--port")
    asyncio.run(_serve(args.settings, args.with_background, args.host, port))
    return 0


async def _serve(settings: Settings, with_background: bool, host: str, port: int | None) -> None:
    validate_slack_settings(settings)
    stop = asyncio.Event()
    stop_on_signals(stop)
    role = "serve" if with_background else "web"
    async with open_runtime(settings, role=role) as runtime:
        await run_process(runtime, with_background=with_background, stop=stop, host=host, port=port)
