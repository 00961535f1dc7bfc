"""`ml-connector poll --once`, `worker` and `status`: the poller from the command line.

`poll --once` polls every configured resource now, delivers everything queued and exits 0 only
if every poll and delivery ended well. `worker` runs the scheduler and the delivery worker until
SIGTERM or SIGINT, letting in-flight work finish. `status` prints what `/sage-status` shows.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import DATABASE, SLACK_API, STORE, add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from bolt_app.polling.reconcile import ReconcileOutcome
    from bolt_app.settings import Settings
    from bolt_app.status.model import ResourceStatus, WorkspaceStatus


def register(subparsers) -> None:
    poll = add_command(
        subparsers,
        "poll",
        "poll every configured resource now and deliver",
        description="Poll every configured resource now and deliver what is queued; exit code "
        "0 only if every poll and delivery ended well, else 1 naming the failures.",
        environment=(*STORE, *SLACK_API),
    )
    poll.add_argument("--once", action="store_true", required=True, help="poll once and exit")
    poll.add_argument("--team", metavar="T", help="only this team ID")
    poll.add_argument(
        "--reconcile",
        action="store_true",
        help="then compare every key with the agent's keys listing (deletes, silent imports)",
    )
    poll.set_defaults(handler=run_poll)
    worker = add_command(
        subparsers,
        "worker",
        "run the scheduler and delivery until stopped",
        description="The worker role: the poll scheduler and the delivery worker, until "
        "SIGTERM or Ctrl-C (work in flight finishes).",
        environment=(*STORE, *SLACK_API, "MLC_AUDIT_RETENTION_DAYS"),
    )
    worker.add_argument(
        "--metrics-port",
        metavar="N",
        help="also serve this process's /metrics and /healthz on this HTTP port (default: none)",
    )
    worker.add_argument(
        "--metrics-host", default="0.0.0.0", help="address the metrics port listens on"
    )
    worker.set_defaults(handler=run_worker, service=True)
    status = add_command(
        subparsers,
        "status",
        "what /sage-status shows",
        description="Per company and record type: channel, schedule, last poll, last success, "
        "next poll (in the Sage server's zone), records seen, last error; and the delivery "
        "queue. --json prints the object docs/interface.md describes.",
        environment=DATABASE,
    )
    status.add_argument("--team", metavar="T", help="only this team ID")
    status.add_argument(
        "--json", action="store_true", help="machine-readable (see docs/interface.md)"
    )
    status.set_defaults(handler=run_status)


def run_poll(args) -> int:
    return asyncio.run(_poll_once(args.settings, args.team, reconcile=args.reconcile))


def _describe_reconcile(outcome: ReconcileOutcome) -> str:
    key = outcome.key
    where = f"{key.team_id} {key.company} {key.record_type} reconcile"
    if outcome.error:
        return f"{where}: failed: {outcome.error}"
    if outcome.off:
        return f"{where}: {outcome.off}"
    if not outcome.ran:
        return f"{where}: skipped, another worker holds it"
    first = " (first pass: learnt, nothing announced)" if outcome.first else ""
    return (
        f"{where}: {outcome.listed} keys listed, {outcome.changed} changed, "
        f"{outcome.gone} no longer in Sage 100, {outcome.posted} posted{first}"
    )


async def _poll_once(settings: Settings, team: str | None, *, reconcile: bool = False) -> int:
    from bolt_app.runtime.graph import open_runtime
    from bolt_app.status.model import pause_advice, paused_workspaces
    from bolt_app.storage.workspaces import NO_WORKSPACE, list_team_ids, unknown_workspace
    from mlc_common.heap import settle_start_up

    async with open_runtime(settings, role="poll") as runtime:
        settle_start_up()
        pipeline = runtime.pipeline
        async with runtime.sessions() as session:
            known = await list_team_ids(session)
            paused = await paused_workspaces(session, team)
        if not known:
            raise ConfigError(NO_WORKSPACE)
        if team is not None and team not in known:
            raise ConfigError(unknown_workspace(team))
        if team is not None and not paused and not await pipeline.service.targets(team):
            raise ConfigError(f"Workspace {team} has nothing to poll (see `workspace show`).")
        outcomes, report = await pipeline.poll_once(team)
        reconciled: list[ReconcileOutcome] = []
        if reconcile:
            reconciled, report = await pipeline.reconcile_once(team)
    failures = []
    for team_id, reason in paused.items():
        print(pause_advice(team_id, reason), file=sys.stderr)
        failures.append(f"delivery to {team_id} is paused")
    for outcome in outcomes:
        print(outcome.describe())
        if outcome.error:
            failures.append(f"{outcome.key.company} {outcome.key.record_type}")
    for outcome in reconciled:
        print(_describe_reconcile(outcome))
        if outcome.error:
            failures.append(f"reconcile of {outcome.key.company} {outcome.key.record_type}")
    print(f"Delivered {report.sent} message(s); {report.remaining} still queued.")
    for dead in report.dead:
        print(
            f"Could not deliver {dead.record_type} {dead.record_key} to {dead.channel_id}: "
            f"{dead.reason}",
            file=sys.stderr,
        )
        failures.append(f"delivery of {dead.record_type} {dead.record_key}")
    if report.remaining:
        failures.append(f"{report.remaining} message(s) not delivered yet")
    if failures:
        print(f"ml-connector: poll failed: {'; '.join(failures)}.", file=sys.stderr)
        return 1
    return 0


def run_worker(args) -> int:
    from bolt_app.settings import check_port

    port = None if args.metrics_port is None else check_port(args.metrics_port, "--metrics-port")
    asyncio.run(_work(args.settings, args.metrics_host, port))
    return 0


async def _work(settings: Settings, metrics_host: str, metrics_port: int | None) -> None:
    from bolt_app.runtime.graph import open_runtime
    from bolt_app.runtime.process import run_worker, stop_on_signals

    stop = asyncio.Event()
    stop_on_signals(stop)
    async with open_runtime(settings, role="worker") as runtime:
        print(
            "Worker started: polling on schedule and delivering; SIGTERM or Ctrl-C stops it.",
            flush=True,
        )
        await run_worker(runtime, stop=stop, metrics_host=metrics_host, metrics_port=metrics_port)
    print("Worker stopped.")


def run_status(args) -> int:
    statuses = asyncio.run(_status(args.settings, args.team))
    if args.json:
        objects = [status.to_json() for status in statuses]
        print(json.dumps(objects[0] if len(objects) == 1 else objects, indent=2))
        return 0
    for status in statuses:
        print(_render(status))
    return 0


async def _status(settings: Settings, team: str | None) -> list[WorkspaceStatus]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bolt_app.runtime.clock import utc_now
    from bolt_app.runtime.database import open_database
    from bolt_app.status.model import load_status
    from bolt_app.storage.workspaces import NO_WORKSPACE, list_team_ids

    async with open_database(settings) as engine, async_sessionmaker(engine)() as session:
        teams = [team] if team is not None else await list_team_ids(session)
        if not teams:
            raise ConfigError(NO_WORKSPACE)
        now = utc_now()
        return [await load_status(session, team_id, now) for team_id in teams]


def _when(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


def _next(resource: ResourceStatus) -> str:
    """On the Sage server's clock, with its zone: a cron line is written against that clock."""
    moment = resource.next_poll_local
    if moment is None:
        return "not scheduled"
    return f"{moment:%a %Y-%m-%d %H:%M} {resource.zone.key}"


def _render(status: WorkspaceStatus) -> str:
    paused = f" (delivery paused: {status.paused_reason or 'no reason recorded'})"
    lines = [f"Workspace {status.team_id}" + (paused if status.paused else "")]
    if status.pause_advice:
        lines.append(f"  {status.pause_advice}")
    for resource in status.resources:
        channel = resource.channel or "no channel"
        lines.append(
            f"  {resource.company} {resource.record_type} -> {channel}, {resource.schedule_words}: "
            f"last poll {_when(resource.last_poll_at)}, last success "
            f"{_when(resource.last_success_at)}, next {_next(resource)}, "
            f"{resource.records_seen_last_poll or 0} records seen"
        )
        if resource.last_error:
            lines.append(f"    last error: {resource.last_error}")
        lines += [f"    did not read: {row}" for row in resource.skipped_rows]
        if resource.reconcile is not None:
            reconcile = resource.reconcile
            lines.append(f"    reconcile {reconcile.schedule_words}: {reconcile.describe(_when)}")
    lines.append(f"  Queue: {status.queue.pending} pending, {status.queue.dead} dead")
    return "\n".join(lines)
