"""`[[reminders]]` in the workspace file: parsed with defaults, stored, shown, refused clearly."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.commands.workspace import render_workspace
from bolt_app.errors import ConfigError
from bolt_app.storage.workspaces import apply_workspace, load_workspace
from bolt_app.workspace.file import load_workspace_file
from bolt_app.workspace.reminders import Reminder, ReminderSection
from bolt_app.workspace.schedule import CronSchedule
from tests.fixtures.workspace import BOT_TOKEN

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REMINDERS = """
[[reminders]]
channel = "C0AP00001"
schedule = "0 8 * * 1-5"

[[reminders]]
channel = "C0PO00001"
schedule = "30 7 * * 1"
include = ["new_orders", "on_hold"]
due_within_days = 3
new_after_days = 14
always = true
"""


def test_reminders_load_with_defaults_in_message_order(workspace_files):
    config = load_workspace_file(
        workspace_files.write(workspace_files.text + REMINDERS), workspace_files.environ
    )
    assert config.reminders == (
        Reminder("C0AP00001", CronSchedule("0 8 * * 1-5")),
        Reminder(
            "C0PO00001",
            CronSchedule("30 7 * * 1"),
            include=(ReminderSection.ON_HOLD, ReminderSection.NEW_ORDERS),
            due_within_days=3,
            new_after_days=14,
            always=True,
        ),
    )
    assert config.reminders[0].include == tuple(ReminderSection)
    assert (config.reminders[0].due_within_days, config.reminders[0].always) == (7, False)


async def test_reminders_are_stored_and_shown_as_the_file_gives_them(
    workspace_files, engine, secret_box
):
    config = load_workspace_file(
        workspace_files.write(workspace_files.text + REMINDERS), workspace_files.environ
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions.begin() as session:
        await apply_workspace(session, config, secret_box, now=NOW)
    async with sessions() as session:
        stored = await load_workspace(session, config.team_id, secret_box)
    assert stored.reminders == config.reminders
    shown = render_workspace(stored)
    assert BOT_TOKEN not in shown
    reparsed = tomllib.loads(shown.replace('"(set)"', '"x"'))["reminders"]
    assert reparsed[1] == {
        "channel": "C0PO00001",
        "schedule": "30 7 * * 1",
        "include": ["on_hold", "new_orders"],
        "due_within_days": 3,
        "new_after_days": 14,
        "always": True,
    }


BAD = {
    "no channel": ('channel = "C0AP00001"\n', "", "reminders[1].channel: is required"),
    "not a channel": ('"C0AP00001"', '"#finance"', "reminders[1].channel: '#finance' is not"),
    "a duration": ('"0 8 * * 1-5"', '"15m"', "reminders[1].schedule: '15m' is a duration"),
    "bad cron": ('"0 8 * * 1-5"', '"0 25 * * *"', "reminders[1].schedule: '0 25 * * *' is not"),
    "unknown section": (
        'include = ["new_orders", "on_hold"]',
        'include = ["late"]',
        "reminders[2].include: 'late' is not a section",
    ),
    "negative days": ("= 3", "= -1", "reminders[2].due_within_days: must be a whole number"),
    "always as text": ("always = true", 'always = "yes"', "reminders[2].always: must be true"),
    "unknown field": ("always = true", "alway = true", "reminders[2].alway: unknown field"),
    "same channel twice": ('"C0PO00001"', '"C0AP00001"', "C0AP00001 already has a reminder"),
}


@pytest.mark.parametrize(("old", "new", "said"), BAD.values(), ids=BAD.keys())
def test_a_bad_reminder_is_one_sentence_naming_its_field(workspace_files, old, new, said):
    path = workspace_files.write(workspace_files.text + REMINDERS.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_workspace_file(path, workspace_files.environ)
    message = str(caught.value)
    assert str(path) in message and said in message and "\n" not in message
