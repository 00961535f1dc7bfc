"""`ml-connector workspace apply FILE` / `workspace show [--team T]` / `workspace resume`.

`apply` reads the environment for the file's `env:` references (the CLI is the only place that
may) and registers every resolved secret with the log redaction before anything is logged.
`show` prints the stored configuration in the workspace file's own shape, secrets as "(set)".
Applying a file whose bot token changed lifts a pause Slack caused by refusing the old token;
`resume` lifts any pause, the messages held meanwhile then go out at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import TYPE_CHECKING

from bolt_app.commands.parsing import DATABASE, STORE, add_command
from bolt_app.errors import ConfigError

if TYPE_CHECKING:
    from bolt_app.settings import Settings
    from bolt_app.storage.workspaces import ApplyOutcome
    from bolt_app.workspace.model import WorkspaceConfig

log = logging.getLogger(__name__)
SET = "(set)"


def register(subparsers) -> None:
    parser = add_command(subparsers, "workspace", "workspace configuration")
    actions = parser.add_subparsers(dest="workspace_command", required=True, metavar="ACTION")
    apply = add_command(
        actions,
        "apply",
        "create or update a workspace from a TOML file",
        description="Create or update a workspace from a TOML file (docs/configuration.md); "
        "`env:NAME` values are read from the environment, `file:PATH` values from files. "
        "A new bot token lifts a pause Slack caused by refusing the old one.",
        environment=STORE,
    )
    apply.add_argument("file", metavar="FILE", help="the workspace file")
    apply.set_defaults(handler=run_apply)
    show = add_command(
        actions,
        "show",
        "print the stored configuration, secrets redacted",
        description="Print the stored configuration in the workspace file's shape, each secret "
        "as (set).",
        environment=STORE,
    )
    show.add_argument("--team", metavar="T", help="only this team ID")
    show.set_defaults(handler=run_show)
    resume = add_command(
        actions,
        "resume",
        "lift a delivery pause (every paused workspace unless --team)",
        description="Lift a delivery pause (every paused workspace unless --team); the "
        "messages held meanwhile go out at once.",
        environment=DATABASE,
    )
    resume.add_argument("--team", metavar="T", help="only this team ID")
    resume.set_defaults(handler=run_resume)


def run_apply(args) -> int:
    from bolt_app.logging import register_secret
    from bolt_app.runtime.clock import utc_now
    from bolt_app.workspace.file import load_workspace_file
    from bolt_app.workspace.values import check_current_certificate

    config = load_workspace_file(args.file, os.environ)
    connection = config.connection
    if connection is not None and connection.client_cert_pem is not None:
        try:
            check_current_certificate(connection.client_cert_pem, utc_now())
        except ValueError as error:
            raise ConfigError(f"{args.file}: sage.client_cert: {error}.") from None
    for secret in (
        config.bot_token,
        connection and connection.client_key_pem,
        connection and connection.api_key,
    ):
        register_secret(secret)
    outcome, resumed = asyncio.run(_apply(args.settings, config))
    log.info("workspace applied", extra={"team_id": config.team_id, "outcome": str(outcome)})
    print(f"Workspace {config.team_id} {outcome}.")
    if resumed:
        print(f"Delivery to {config.team_id} resumed: the new bot token replaces the refused one.")
    return 0


async def _apply(settings: Settings, config: WorkspaceConfig) -> tuple[ApplyOutcome, bool]:
    """The outcome, and whether a new token lifted a pause Slack caused by refusing the old."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.delivery.store import resume_workspace
    from bolt_app.runtime.clock import utc_now
    from bolt_app.runtime.database import open_box, open_database
    from bolt_app.status.model import paused_workspaces
    from bolt_app.storage.workspaces import apply_workspace, load_workspace
    from bolt_app.workspace.model import TOKEN_PAUSE_REASONS

    async with (
        open_database(settings) as engine,
        AsyncSession(engine) as session,
        session.begin(),
    ):
        box = await open_box(session, settings)
        existing = await load_workspace(session, config.team_id, box)
        outcome = await apply_workspace(session, config, box, now=utc_now())
        token_changed = existing is not None and existing.bot_token != config.bot_token
        reason = (await paused_workspaces(session, config.team_id)).get(config.team_id)
        resumed = (
            token_changed
            and config.bot_token is not None
            and reason in TOKEN_PAUSE_REASONS
            and await resume_workspace(session, config.team_id, now=utc_now(), actor="cli")
        )
        return outcome, resumed


def run_resume(args) -> int:
    results = asyncio.run(_resume(args.settings, args.team))
    if not results:
        print("No workspace is paused.")
    for team_id, was_paused in results:
        if was_paused:
            print(f"Workspace {team_id} resumed: messages held while paused are due now.")
        else:
            print(f"Workspace {team_id} was not paused.")
    return 0


async def _resume(settings: Settings, team: str | None) -> list[tuple[str, bool]]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.delivery.store import resume_workspace
    from bolt_app.runtime.clock import utc_now
    from bolt_app.runtime.database import open_database
    from bolt_app.status.model import paused_workspaces
    from bolt_app.storage.workspaces import NO_WORKSPACE, list_team_ids, unknown_workspace

    async with (
        open_database(settings) as engine,
        AsyncSession(engine) as session,
        session.begin(),
    ):
        known = await list_team_ids(session)
        if not known:
            raise ConfigError(NO_WORKSPACE)
        if team is not None and team not in known:
            raise ConfigError(unknown_workspace(team))
        teams = [team] if team is not None else list(await paused_workspaces(session))
        now = utc_now()
        return [
            (team_id, await resume_workspace(session, team_id, now=now, actor="cli"))
            for team_id in teams
        ]


def run_show(args) -> int:
    from bolt_app.storage.workspaces import NO_WORKSPACE

    configs = asyncio.run(_show(args.settings, args.team))
    if not configs:
        print(NO_WORKSPACE)
    print("\n".join(render_workspace(config) for config in configs), end="")
    return 0


async def _show(settings: Settings, team: str | None) -> list[WorkspaceConfig]:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bolt_app.runtime.database import open_box, open_database
    from bolt_app.storage.workspaces import load_workspaces

    async with (
        open_database(settings) as engine,
        AsyncSession(engine) as session,
        session.begin(),
    ):
        return await load_workspaces(session, await open_box(session, settings), team)


def render_workspace(config: WorkspaceConfig) -> str:
    """The configuration in workspace-file TOML, secrets replaced by "(set)"."""
    from sage.records import RecordType

    def value(item: object) -> str:
        return json.dumps(item)

    lines = [f"team_id = {value(config.team_id)}"]
    if config.bot_token is not None:
        lines.append(f"bot_token = {value(SET)}")
    lines.append(f"admins = {value(list(config.admins))}")
    if config.backfill_days is not None:
        lines.append(f"backfill_days = {config.backfill_days}")
    connection = config.connection
    if connection is not None:
        lines += [
            "",
            "[sage]",
            f"agent_url = {value(connection.agent_url)}",
            f"companies = {value(list(connection.companies))}",
            f"auth = {value(str(connection.auth))}",
        ]
        if connection.client_cert_pem is not None:
            lines.append(
                f"client_cert = {value(_describe_certificate(connection.client_cert_pem))}"
            )
        if connection.client_key_pem is not None:
            lines.append(f"client_key = {value(SET)}")
        if connection.ca_cert_pem is not None:
            lines.append(f"ca_cert = {value(_describe_certificate(connection.ca_cert_pem))}")
        if connection.pin_sha256 is not None:
            lines.append(f"pin_sha256 = {value(connection.pin_sha256)}")
        if connection.api_key is not None:
            lines.append(f"api_key = {value(SET)}")
        lines.append(f"timezone = {value(connection.timezone.key)}")
        if connection.record_url is not None:
            lines.append(f"record_url = {value(connection.record_url)}")
    lines += ["", "[channels]"]
    lines += [f"{rt} = {value(config.channels[rt])}" for rt in RecordType if rt in config.channels]
    lines += ["", "[schedule]"]
    lines += [
        f"{rt} = {value(str(config.schedules[rt]))}" for rt in RecordType if rt in config.schedules
    ]
    lines += ["", "[reconcile]"]
    lines += [
        f"{rt} = {value(str(schedule))}" for rt, schedule in config.reconcile_schedules.items()
    ]
    for rule in config.rules:
        lines += ["", "[[rules]]", f"record_type = {value(str(rule.record_type))}"]
        for name, setting in (
            ("channel", rule.channel),
            ("warehouse", rule.warehouse),
            ("min_amount", None if rule.min_amount is None else str(rule.min_amount)),
            ("mention", rule.mention),
        ):
            if setting is not None:
                lines.append(f"{name} = {value(setting)}")
    for reminder in config.reminders:
        lines += [
            "",
            "[[reminders]]",
            f"channel = {value(reminder.channel)}",
            f"schedule = {value(str(reminder.schedule))}",
            f"include = {value([str(section) for section in reminder.include])}",
            f"due_within_days = {reminder.due_within_days}",
            f"new_after_days = {reminder.new_after_days}",
            f"always = {value(reminder.always)}",
        ]
    return "\n".join(lines) + "\n"


def _describe_certificate(pem: str) -> str:
    """Subject and expiry of the first certificate: what an operator checks."""
    from cryptography import x509

    certificate = x509.load_pem_x509_certificates(pem.encode("utf-8"))[0]
    expires = certificate.not_valid_after_utc.date().isoformat()
    return f"{certificate.subject.rfc4514_string()}, expires {expires}"
