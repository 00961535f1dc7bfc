from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.crypto import SecretBox, generate_key
from bolt_app.errors import ConfigError, SecretError
from bolt_app.storage.audit import list_audit_events
from bolt_app.storage.secrets import reencrypt_all
from bolt_app.storage.tables import sage_connections, workspaces
from bolt_app.storage.workspaces import (
    ApplyOutcome,
    apply_workspace,
    list_team_ids,
    load_workspace,
    load_workspaces,
)
from bolt_app.workspace.file import load_workspace_file
from bolt_app.workspace.schedule import parse_schedule
from sage.records import RecordType
from tests.fixtures.workspace import BOT_TOKEN

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(workspace_files):
    return load_workspace_file(workspace_files.path, workspace_files.environ)


async def apply(engine, config, box, now=NOW):
    async with AsyncSession(engine) as session, session.begin():
        return await apply_workspace(session, config, box, now=now, actor="U0ADMIN")


async def test_apply_creates_and_load_returns_the_same_configuration(engine, secret_box, config):
    assert await apply(engine, config, secret_box) is ApplyOutcome.CREATED
    async with AsyncSession(engine) as session:
        assert await load_workspace(session, config.team_id, secret_box) == config
        assert await load_workspace(session, "T0UNKNOWN", secret_box) is None
        assert await list_team_ids(session) == ["T0123ABCD"]


async def test_load_workspaces_gives_all_in_team_order_or_one_or_names_an_unknown_team(
    engine, secret_box, config
):
    other = replace(config, team_id="T0000AAAA")
    await apply(engine, config, secret_box)
    await apply(engine, other, secret_box)
    async with AsyncSession(engine) as session:
        assert await load_workspaces(session, secret_box) == [other, config]
        assert await load_workspaces(session, secret_box, "T0123ABCD") == [config]
        with pytest.raises(ConfigError, match="No workspace with team ID T0NOPE is stored"):
            await load_workspaces(session, secret_box, "T0NOPE")


async def test_applying_the_same_configuration_twice_changes_nothing(engine, secret_box, config):
    await apply(engine, config, secret_box)
    async with AsyncSession(engine) as session:
        before = (
            await session.execute(sa.select(workspaces, sage_connections).join(sage_connections))
        ).all()
    assert (
        await apply(engine, config, secret_box, now=NOW + timedelta(hours=1))
        is ApplyOutcome.UNCHANGED
    )
    async with AsyncSession(engine) as session:
        after = (
            await session.execute(sa.select(workspaces, sage_connections).join(sage_connections))
        ).all()
        events = await list_audit_events(session, team_id=config.team_id)
    assert after == before  # not even the ciphertext or updated_at moved
    assert [event.kind for event in events] == ["workspace.created"]


async def test_a_changed_configuration_updates_in_place_and_is_audited(engine, secret_box, config):
    await apply(engine, config, secret_box)
    changed = replace(
        config,
        channels={**config.channels, RecordType.AP_INVOICE: "C0NEWAP01"},
        schedules={**config.schedules, RecordType.GL_ENTRY: parse_schedule("30m")},
        bot_token="xoxb-rotated-token-999",
    )
    later = NOW + timedelta(minutes=5)
    assert await apply(engine, changed, secret_box, now=later) is ApplyOutcome.UPDATED
    async with AsyncSession(engine) as session:
        assert await load_workspace(session, config.team_id, secret_box) == changed
        assert await list_team_ids(session) == [config.team_id]
        created_at, updated_at = (
            await session.execute(sa.select(workspaces.c.created_at, workspaces.c.updated_at))
        ).one()
        events = await list_audit_events(session, team_id=config.team_id)
    assert (created_at, updated_at) == (NOW, later)
    update = events[-1]
    assert (update.kind, update.actor, update.occurred_at) == (
        "workspace.updated",
        "U0ADMIN",
        later,
    )
    assert update.details["changed"] == ["bot_token", "channels.ap_invoice", "schedule.gl_entry"]
    for event in events:
        text = f"{event.summary} {event.details}"
        assert BOT_TOKEN not in text and "xoxb-rotated" not in text


async def test_secrets_are_stored_encrypted(engine, secret_box, config):
    await apply(engine, config, secret_box)
    async with AsyncSession(engine) as session:
        token, key = (
            await session.execute(
                sa.select(
                    workspaces.c.bot_token_encrypted, sage_connections.c.client_key_encrypted
                ).join(sage_connections)
            )
        ).one()
    assert BOT_TOKEN not in token and "PRIVATE KEY" not in key
    assert secret_box.decrypt(token) == BOT_TOKEN


async def test_reencrypt_all_moves_every_secret_to_the_newest_key(engine, config):
    old_key, new_key = generate_key(), generate_key()
    api_config = replace(
        config, connection=replace(config.connection, api_key="agent-api-key-123456")
    )
    await apply(engine, api_config, SecretBox([old_key]))
    async with AsyncSession(engine) as session, session.begin():
        count = await reencrypt_all(session, SecretBox([new_key, old_key]))
    assert count == 3  # bot token, client key, API key (the other encrypted columns are empty)
    async with AsyncSession(engine) as session:
        assert await load_workspace(session, config.team_id, SecretBox([new_key])) == api_config
        with pytest.raises(SecretError):
            await load_workspace(session, config.team_id, SecretBox([old_key]))


async def test_reencrypt_all_is_all_or_nothing(engine, config):
    known, unknown = generate_key(), generate_key()
    await apply(engine, config, SecretBox([known]))
    other = replace(config, team_id="T0OTHER01")
    await apply(engine, other, SecretBox([unknown]))
    async with AsyncSession(engine) as session:
        before = (await session.execute(sa.select(workspaces.c.bot_token_encrypted))).all()
    with pytest.raises(SecretError):
        async with AsyncSession(engine) as session, session.begin():
            await reencrypt_all(session, SecretBox([generate_key(), known]))
    async with AsyncSession(engine) as session:
        after = (await session.execute(sa.select(workspaces.c.bot_token_encrypted))).all()
    assert after == before
