"""`web`, `serve` and `worker`: HTTP or Socket Mode and/or the pipeline, until SIGTERM.

Each process serves the metrics it records: `web` and `serve` on their HTTP port, a separate
`worker` on its own `--metrics-port`, so scraping every role sees every counter.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bolt_app.errors import ConfigError
from bolt_app.runtime.bolt import build_slack_app
from bolt_app.runtime.graph import Runtime
from bolt_app.runtime.housekeeping import refresh_gauges
from bolt_app.runtime.pipeline import Pipeline
from bolt_app.slack.web import build_web_app, http_server, run_socket_mode
from mlc_common.heap import settle_start_up
from mlc_common.serving import EmbeddedServer

log = logging.getLogger(__name__)


class Background:
    """The worker role inside `serve`: the scheduler, delivery and housekeeping."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._scheduler_task: asyncio.Task | None = None

    def scheduler_alive(self) -> bool:
        return self._scheduler_task is not None and not self._scheduler_task.done()

    async def run(self, stop: asyncio.Event) -> None:
        self._scheduler_task = asyncio.create_task(
            self._pipeline.scheduler.run(stop), name="scheduler"
        )
        await asyncio.gather(self._scheduler_task, self._pipeline.run(stop, scheduler=False))


async def run_process(
    runtime: Runtime,
    *,
    with_background: bool,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    port: int | None = None,
) -> None:
    """`web` (with_background False) or `serve`: run until `stop` is set, then finish cleanly.

    HTTP always serves /healthz and /metrics; the Slack paths are served over HTTP unless
    SLACK_APP_TOKEN selects Socket Mode, where the OAuth install pages remain on HTTP.
    """
    settings = runtime.settings
    bolt = build_slack_app(runtime)
    background = Background(runtime.pipeline) if with_background else None
    socket_mode = settings.slack_app_token is not None

    app = build_web_app(
        bolt=bolt,
        engine=runtime.engine,
        signing_secret=settings.slack_signing_secret or "",
        metrics=runtime.metrics,
        refresh_metrics=_metrics_refresher(runtime),
        scheduler_alive=None if background is None else background.scheduler_alive,
        events_over_http=not socket_mode,
    )
    server = _listen(app, host, settings.port if port is None else port)
    settle_start_up()
    tasks = [asyncio.create_task(server.serve_until(stop), name="http")]
    if socket_mode:
        tasks.append(
            asyncio.create_task(
                run_socket_mode(
                    bolt,
                    app_token=settings.slack_app_token,
                    web_client=AsyncWebClient(base_url=settings.slack_api_url),
                    stop=stop,
                ),
                name="socket-mode",
            )
        )
    if background is not None:
        tasks.append(asyncio.create_task(background.run(stop), name="background"))
    log.info(
        "listening on %s port %d (%s)%s",
        host,
        server.port,
        "Socket Mode" if socket_mode else "HTTP",
        " with scheduler and delivery" if background else "",
    )
    await _until_done(tasks, stop)


async def run_worker(
    runtime: Runtime,
    *,
    stop: asyncio.Event,
    metrics_host: str = "0.0.0.0",
    metrics_port: int | None = None,
) -> None:
    """`worker`: the scheduler, delivery and housekeeping until `stop`; with `metrics_port`,
    this process's /metrics and /healthz on HTTP too."""
    background = Background(runtime.pipeline)
    settle_start_up()
    tasks = [asyncio.create_task(background.run(stop), name="background")]
    if metrics_port is not None:
        app = build_web_app(
            bolt=None,
            engine=runtime.engine,
            metrics=runtime.metrics,
            refresh_metrics=_metrics_refresher(runtime),
            scheduler_alive=background.scheduler_alive,
        )
        server = _listen(app, metrics_host, metrics_port)
        tasks.append(asyncio.create_task(server.serve_until(stop), name="metrics"))
        log.info("metrics on %s port %d (/metrics, /healthz)", metrics_host, server.port)
    await _until_done(tasks, stop)


def _metrics_refresher(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    async def refresh_metrics() -> None:
        async with runtime.sessions() as session:
            await refresh_gauges(runtime.metrics, session)

    return refresh_metrics


def _listen(app: Starlette, host: str, port: int) -> EmbeddedServer:
    try:
        return http_server(app, host=host, port=port)
    except OSError as error:  # in use, or an address this machine does not have
        raise ConfigError(
            f"Cannot listen on {host} port {port}: {error.strerror or error}."
        ) from None


async def _until_done(tasks: list[asyncio.Task], stop: asyncio.Event) -> None:
    """Wait for every task; one that fails stops the others gracefully before it is raised."""
    try:
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGTERM (the platform stopping us) and SIGINT end the process gracefully."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
