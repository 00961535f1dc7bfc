"""`ml-connector check [--team T]`: a pass/fail line for each thing that must work.

For now the agent half (sage.check: TLS and certificate, credentials, each company, each
resource) of every stored workspace, or of one with --team; the Slack half (token, channels)
is added by the Slack side. Exit code 0 when every line passes, 1 when any fails, 2 for an
operator mistake (unknown team, no workspace, missing keys).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.commands.runtime import open_box, open_database
from bolt_app.errors import ConfigError
from bolt_app.settings import Settings
from bolt_app.storage.workspaces import list_team_ids, load_workspace
from bolt_app.workspace_file import WorkspaceConfig
from sage.check import CheckResult, check_agent


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check", help="try the agent (TLS, certificate, credentials, companies, resources)"
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
    configs = await _load(settings, team)
    return [(config.team_id, await _check_one(config)) for config in configs]


async def _check_one(config: WorkspaceConfig) -> list[CheckResult]:
    if config.connection is None:
        return [
            CheckResult(
                "agent settings", False, "no [sage] connection is stored for this workspace"
            )
        ]
    return await check_agent(config.connection)


async def _load(settings: Settings, team: str | None) -> list[WorkspaceConfig]:
    async with (
        open_database(settings) as engine,
        AsyncSession(engine) as session,
        session.begin(),
    ):
        box = await open_box(session, settings)
        team_ids = [team] if team else await list_team_ids(session)
        configs = [await load_workspace(session, team_id, box) for team_id in team_ids]
    if team and configs[0] is None:
        raise ConfigError(f"No workspace with team ID {team} is stored (see `workspace show`).")
    if not configs:
        raise ConfigError(
            "No workspace is configured yet; run `ml-connector workspace apply FILE`."
        )
    return [config for config in configs if config is not None]
