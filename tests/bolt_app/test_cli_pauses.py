"""Recovering from a delivery pause from the command line, as an IT admin would."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bolt_app.cli import main
from bolt_app.crypto import generate_key
from bolt_app.storage.engine import create_engine
from bolt_app.storage.tables import workspaces
from bolt_app.storage.workspaces import NO_WORKSPACE
from tests.fixtures.workspace import BOT_TOKEN

TEAM = "T0123ABCD"


def _use(monkeypatch, database_url, workspace_files) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    for name, value in workspace_files.environ.items():
        monkeypatch.setenv(name, value)


async def _execute(database_url: str, statement):
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(statement)
            return result.scalar_one() if statement.is_select else None
    finally:
        await engine.dispose()


def _pause(database_url: str, reason: str) -> None:
    asyncio.run(
        _execute(database_url, sa.update(workspaces).values(paused=True, paused_reason=reason))
    )


def _paused(database_url: str) -> bool:
    return asyncio.run(_execute(database_url, sa.select(workspaces.c.paused)))


def test_workspace_resume_lifts_a_token_pause_and_status_says_how_until_then(
    database_url, workspace_files, monkeypatch, capsys
):
    _use(monkeypatch, database_url, workspace_files)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    _pause(database_url, "token_revoked")
    capsys.readouterr()

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"Workspace {TEAM} (delivery paused: token_revoked)" in out
    assert "Slack refused its bot token (token_revoked)" in out
    assert f"`ml-connector workspace resume --team {TEAM}`" in out

    assert main(["workspace", "resume", "--team", TEAM]) == 0
    assert capsys.readouterr().out == (
        f"Workspace {TEAM} resumed: messages held while paused are due now.\n"
    )
    assert not _paused(database_url)
    assert main(["workspace", "resume"]) == 0
    assert capsys.readouterr().out == "No workspace is paused.\n"
    assert main(["workspace", "resume", "--team", "T0NOPE"]) == 2
    assert "No workspace with team ID T0NOPE is stored" in capsys.readouterr().err


def test_applying_a_file_with_a_new_token_resumes_a_token_pause_and_only_that(
    database_url, workspace_files, monkeypatch, capsys
):
    _use(monkeypatch, database_url, workspace_files)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    _pause(database_url, "invalid_auth")
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0  # same token
    assert _paused(database_url)

    monkeypatch.setenv("TEST_SLACK_BOT_TOKEN", BOT_TOKEN + "new")
    capsys.readouterr()
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Workspace {TEAM} updated.",
        f"Delivery to {TEAM} resumed: the new bot token replaces the refused one.",
    ]
    assert not _paused(database_url)

    _pause(database_url, "paused by <@U0ADMIN01>")  # an admin's pause is theirs to lift
    monkeypatch.setenv("TEST_SLACK_BOT_TOKEN", BOT_TOKEN)
    assert main(["workspace", "apply", str(workspace_files.path)]) == 0
    assert _paused(database_url)


def test_poll_once_with_no_workspace_exits_2_with_the_sentence_status_and_check_give(
    database_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MLC_ENCRYPTION_KEYS", generate_key())
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    for command in (["poll", "--once"], ["status"], ["check"]):
        assert main(command) == 2, command
        captured = capsys.readouterr()
        assert captured.err == f"ml-connector: {NO_WORKSPACE}\n", command
        assert "Delivered" not in captured.out
