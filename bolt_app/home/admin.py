"""What an App Home admin can change, validated and stored, each change audited.

Every change loads the workspace, alters one part and writes it back through the same
`apply_workspace` the workspace file uses, so secrets are encrypted the same way and the audit
trail names the fields that changed and the Slack user who changed them, never the values. The
scheduler and poller read the database on each run, so nothing here needs a restart.

`validate_connection_form` checks every field of the connection modal with the workspace file's
own checks and reports all problems at once, keyed by the modal's block ids, so Slack shows each
error on its field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox
from bolt_app.delivery.store import resume_workspace
from bolt_app.errors import ConfigError, MLConnectorError
from bolt_app.home.views import connection as form_fields
from bolt_app.home.views import reminders as reminder_form
from bolt_app.home.views import rules as rule_form
from bolt_app.home.views.connection import ConnectionForm
from bolt_app.home.views.home import describe_rule, schedule_block_id
from bolt_app.storage.audit import record_audit_event
from bolt_app.storage.workspaces import (
    apply_workspace,
    load_polling_settings,
    load_workspace,
    mark_paused,
    store_polling_settings,
)
from bolt_app.workspace.model import WorkspaceConfig, paused_by
from bolt_app.workspace.reminders import Reminder, ReminderFieldError, parse_reminder
from bolt_app.workspace.rules import RoutingRule, parse_rules
from bolt_app.workspace.schedule import DEFAULT_SCHEDULES, parse_schedule
from bolt_app.workspace.values import (
    check_agent_url,
    check_certificates,
    check_channel_id,
    check_company,
    check_key_pair,
    check_pin,
    check_record_url,
    check_timezone,
)
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType

_COMPANY_SEPARATORS = re.compile(r"[,\s]+")


class FormErrors(MLConnectorError):
    """Problems with a submitted modal, by block id; Slack shows each under its field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in errors.items()))
        self.errors = dict(errors)


def actor_for(user_id: str) -> str:
    """How the audit trail names a Slack user (the CLI is `cli`)."""
    return f"slack:{user_id}"


def validate_connection_form(
    form: ConnectionForm, current: ConnectionSettings | None
) -> ConnectionSettings:
    """The settings the form describes, secrets left empty taken from `current`; or FormErrors."""
    errors: dict[str, str] = {}

    def check(name: str, value: str, checker: Callable[[str], object]) -> object | None:
        try:
            return checker(value)
        except ValueError as error:
            errors[name] = _sentence(str(error))
            return None

    agent_url = check(form_fields.FIELD_AGENT_URL, form.agent_url, check_agent_url)
    companies = [code for code in _COMPANY_SEPARATORS.split(form.companies) if code]
    if not companies:
        errors[form_fields.FIELD_COMPANIES] = "List at least one company code, such as ABC."
    for code in companies:
        if check(form_fields.FIELD_COMPANIES, code, check_company) is None:
            break
    if len(set(companies)) != len(companies):
        errors.setdefault(form_fields.FIELD_COMPANIES, "A company code is listed twice.")
    try:
        auth = AuthMode(form.auth)
    except ValueError:
        errors[form_fields.FIELD_AUTH] = "Choose client certificate or API key."
        auth = None
    timezone = check(form_fields.FIELD_TIMEZONE, form.timezone, check_timezone)
    pin = check(form_fields.FIELD_PIN, form.pin_sha256, check_pin) if form.pin_sha256 else None
    record_url = (
        check(form_fields.FIELD_RECORD_URL, form.record_url, check_record_url)
        if form.record_url
        else None
    )

    kept = current
    ca_cert = form.ca_cert or (kept.ca_cert_pem if kept else None)
    if form.ca_cert:
        check(form_fields.FIELD_CA_CERT, form.ca_cert, check_certificates)
    client_cert = client_key = api_key = None
    if auth is AuthMode.MTLS:
        client_cert = form.client_cert or (kept.client_cert_pem if kept else None)
        client_key = form.client_key or (kept.client_key_pem if kept else None)
        if not client_cert:
            errors[form_fields.FIELD_CLIENT_CERT] = "Paste the client certificate (PEM)."
        elif check(form_fields.FIELD_CLIENT_CERT, client_cert, check_certificates) is None:
            client_cert = None
        if not client_key:
            errors[form_fields.FIELD_CLIENT_KEY] = "Paste the client private key (PEM)."
        elif client_cert:
            check(
                form_fields.FIELD_CLIENT_KEY,
                client_key,
                lambda key: check_key_pair(client_cert, key),
            )
    elif auth is AuthMode.API_KEY:
        api_key = form.api_key or (kept.api_key if kept else None)
        if not api_key:
            errors[form_fields.FIELD_API_KEY] = "Paste the agent's API key."

    if errors:
        raise FormErrors(errors)
    assert auth is not None and isinstance(agent_url, str) and timezone is not None
    return ConnectionSettings(
        agent_url=agent_url,
        companies=tuple(companies),
        auth=auth,
        timezone=timezone,  # type: ignore[arg-type]
        client_cert_pem=client_cert,
        client_key_pem=client_key,
        ca_cert_pem=ca_cert,
        api_key=api_key,
        pin_sha256=pin,  # type: ignore[arg-type]
        record_url=record_url,  # type: ignore[arg-type]
    )


def _sentence(problem: str) -> str:
    """check_* messages are phrased for a named field ("is not ..."); make them stand alone."""
    problem = problem.replace("sage.client_cert", "the client certificate field")
    if problem.startswith(("is ", "does ")):
        problem = "This " + problem
    problem = problem[0].upper() + problem[1:]
    return problem if problem.endswith(".") else problem + "."


async def load_or_new_workspace(
    session: AsyncSession, team_id: str, box: SecretBox
) -> WorkspaceConfig:
    """The stored workspace, or an empty one for a team installed but not configured yet."""
    stored = await load_workspace(session, team_id, box)
    if stored is not None:
        return stored
    return WorkspaceConfig(
        team_id=team_id, connection=None, channels={}, schedules=dict(DEFAULT_SCHEDULES)
    )


async def save_connection(
    session: AsyncSession,
    team_id: str,
    settings: ConnectionSettings,
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> None:
    config = await load_or_new_workspace(session, team_id, box)
    await _apply_change(session, config, box, user_id, now, connection=settings)


async def set_channel(
    session: AsyncSession,
    team_id: str,
    record_type: RecordType,
    channel_id: str,
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> None:
    """Route one record type to a channel; ValueError for something that is not a channel ID."""
    check_channel_id(channel_id)
    config = await load_or_new_workspace(session, team_id, box)
    channels = {**config.channels, record_type: channel_id}
    await _apply_change(session, config, box, user_id, now, channels=channels)


async def set_schedules(
    session: AsyncSession,
    team_id: str,
    texts: Mapping[RecordType, str],
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> None:
    """Each schedule parsed first; FormErrors keyed `schedule_<record_type>` if any is bad."""
    parsed = {}
    errors = {}
    for record_type, text in texts.items():
        try:
            parsed[record_type] = parse_schedule(text)
        except ValueError as error:
            errors[schedule_block_id(record_type)] = _sentence(str(error))
    if errors:
        raise FormErrors(errors)
    config = await load_or_new_workspace(session, team_id, box)
    await _apply_change(
        session, config, box, user_id, now, schedules={**config.schedules, **parsed}
    )


async def set_paused(
    session: AsyncSession,
    team_id: str,
    paused: bool,
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> None:
    """Pause polling and delivery for the workspace, or resume them (delivery's own resume:
    the messages held meanwhile become due at once)."""
    if not paused:
        await resume_workspace(session, team_id, now=now, actor=actor_for(user_id))
        return
    if await load_workspace(session, team_id, box) is None:
        config = await load_or_new_workspace(session, team_id, box)
        await apply_workspace(session, config, box, now=now, actor=actor_for(user_id))
    await mark_paused(session, team_id, paused_by(user_id), now=now, only_if_running=False)
    await record_audit_event(
        session,
        team_id=team_id,
        kind="workspace.paused",
        actor=actor_for(user_id),
        summary="Polling paused from the App Home.",
        now=now,
    )


async def add_rule(
    session: AsyncSession, team_id: str, fields: Mapping[str, str], *, user_id: str, now: datetime
) -> RoutingRule:
    """Parses one rule as the workspace file would; FormErrors on the field it names."""
    try:
        (rule,) = parse_rules([dict(fields)], source="App Home")
    except ConfigError as error:
        field = re.search(r"rules\[\d+\]\.(\w+)", str(error))
        name = field.group(1) if field else "record_type"
        block = next(
            (block for block, key in rule_form.RULE_FIELDS.items() if key == name),
            rule_form.RULE_RECORD_TYPE,
        )
        problem = re.sub(r"^rules\[\d+\](\.\w+)?\s*", "", str(error).split(": ", 1)[-1])
        raise FormErrors({block: _sentence(problem)}) from None
    settings = await load_polling_settings(session, team_id)
    await store_polling_settings(
        session, team_id, dataclasses.replace(settings, rules=(*settings.rules, rule))
    )
    await _audit_rules(session, team_id, user_id, now, f"Rule added: {describe_rule(rule)}.")
    return rule


async def remove_rule(
    session: AsyncSession, team_id: str, position: int, *, user_id: str, now: datetime
) -> None:
    settings = await load_polling_settings(session, team_id)
    if not 0 <= position < len(settings.rules):
        return  # already removed (a double click, or another admin)
    removed = settings.rules[position]
    rules = settings.rules[:position] + settings.rules[position + 1 :]
    await store_polling_settings(session, team_id, dataclasses.replace(settings, rules=rules))
    await _audit_rules(session, team_id, user_id, now, f"Rule removed: {describe_rule(removed)}.")


async def _audit_rules(
    session: AsyncSession, team_id: str, user_id: str, now: datetime, summary: str
) -> None:
    await record_audit_event(
        session,
        team_id=team_id,
        kind="rules.changed",
        actor=actor_for(user_id),
        summary=summary,
        now=now,
    )


async def add_reminder(
    session: AsyncSession,
    team_id: str,
    fields: Mapping[str, object],
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> Reminder:
    """Parses one reminder as the workspace file would (FormErrors on the field it names) and
    stores it, replacing the channel's old one; audited as a workspace change."""
    try:
        reminder = parse_reminder(fields)
    except ReminderFieldError as error:
        block = reminder_form.FIELD_BLOCKS.get(error.field, reminder_form.FIELD_BLOCKS["channel"])
        raise FormErrors({block: _sentence(str(error))}) from None
    config = await load_or_new_workspace(session, team_id, box)
    kept = tuple(r for r in config.reminders if r.channel != reminder.channel)
    await _apply_change(session, config, box, user_id, now, reminders=(*kept, reminder))
    return reminder


async def remove_reminder(
    session: AsyncSession,
    team_id: str,
    position: int,
    box: SecretBox,
    *,
    user_id: str,
    now: datetime,
) -> None:
    config = await load_or_new_workspace(session, team_id, box)
    if not 0 <= position < len(config.reminders):
        return  # already removed (a double click, or another admin)
    reminders = config.reminders[:position] + config.reminders[position + 1 :]
    await _apply_change(session, config, box, user_id, now, reminders=reminders)


async def _apply_change(
    session: AsyncSession,
    config: WorkspaceConfig,
    box: SecretBox,
    user_id: str,
    now: datetime,
    **changes: object,
) -> None:
    """Write `config` with `changes` back as the workspace file would be applied: encrypted the
    same way, audited as the admin's change by field name."""
    await apply_workspace(
        session, dataclasses.replace(config, **changes), box, now=now, actor=actor_for(user_id)
    )
