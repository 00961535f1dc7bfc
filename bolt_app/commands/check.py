"""`ml-connector check [--team T]`: a pass/fail line for each thing that must work.

The agent half (sage.check: TLS and certificate, credentials, each company, each resource) and
the Slack half (bolt_app.slack.check: paused or not, the token, each routed channel) of every
stored workspace, or of one with --team. Exit code 0 when every line passes, 1 when any fails,
2 for an operator mistake (unknown team, no workspace, missing keys).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import SLACK_API, STORE, add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.crypto import SecretBox
    from bolt_app.settings import Settings
    from bolt_app.workspace.model import WorkspaceConfig
    from sage.check import CheckResult


def register(subparsers) -> None:
    parser = add_command(
        subparsers,
        "check",
        "try the agent (TLS, certificate, credentials, companies, resources) and Slack "
        "(token, channels)",
        description="A PASS or FAIL line for each thing that must work, agent first, then "
        "Slack; exit code 0 when all pass, 1 when any fails.",
        environment=(*STORE, *SLACK_API),
    )
    parser.add_argument("--team", metavar="T", help="only this team ID")
    parser.set_defaults(handler=run)


def run(args) -> int:
    reports = asyncio.run(check_workspaces(args.settings, args.team))
    for team_id, results in reports:
        print(f"Workspace {team_id}")
        for result in results:
            print(f"  {result.line()}")
    return 0 if all(result.ok for _, results in reports for result in results) else 1


async def check_workspaces(
    settings: Settings, team: str | None
) -> list[tuple[str, list[CheckResult]]]:
    """(team ID, check lines) for each workspace asked for, in team ID order."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bolt_app.runtime.database import open_box, open_database
    from bolt_app.runtime.slack import slack_clients
    from bolt_app.slack.check import check_slack
    from bolt_app.storage.workspaces import pause_states

    async with open_database(settings) as engine:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions.begin() as session:
            box = await open_box(session, settings)
            configs = await _load(session, box, team)
            paused = await pause_states(session)
        clients = slack_clients(settings, engine=engine, sessions=sessions, box=box)
        reports = []
        for config in configs:
            is_paused, reason = paused[config.team_id]
            slack = await check_slack(
                clients.client,
                clients.token_for_team,
                team_id=config.team_id,
                channels=config.channels,
                paused=is_paused,
                paused_reason=reason,
            )
            reports.append((config.team_id, await _check_one(config) + slack))
        return reports


async def _check_one(config: WorkspaceConfig) -> list[CheckResult]:
    from sage.check import CheckResult, check_agent

    if config.connection is None:
        return [
            CheckResult(
                "agent settings", False, "no [sage] connection is stored for this workspace"
            )
        ]
    return await check_agent(config.connection)


async def _load(session: AsyncSession, box: SecretBox, team: str | None) -> list[WorkspaceConfig]:
    from bolt_app.storage.workspaces import NO_WORKSPACE, load_workspaces

    configs = await load_workspaces(session, box, team)
    if not configs:
        raise ConfigError(NO_WORKSPACE)
    return configs
