"""A captured signed click, replayed inside the signature's window, changes nothing."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

from bolt_app.home.views.home import ACTION_PAUSE, ACTION_RESUME
from bolt_app.storage.audit import list_audit_events
from tests.bolt_app.slack.test_app import apply, configured_workspace, workspace_row
from tests.fixtures.slack import ADMIN_USER, TEAM_ID
from tests.fixtures.slack_app import eventually


def click(action_id: str, action_ts: str) -> bytes:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": ADMIN_USER, "team_id": TEAM_ID},
        "api_app_id": "A0STANDIN1",
        "trigger_id": f"{action_ts}.1.trigger",
        "container": {"type": "view", "view_id": "V0HOME"},
        "view": {"id": "V0HOME", "type": "home", "team_id": TEAM_ID},
        "actions": [
            {"action_id": action_id, "block_id": "b", "type": "button", "action_ts": action_ts}
        ],
    }
    return ("payload=" + quote(json.dumps(payload))).encode()


async def paused(app) -> bool:
    return (await workspace_row(app))["paused"]


async def test_a_replayed_pause_click_changes_nothing(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    form = "application/x-www-form-urlencoded"
    pause = click(ACTION_PAUSE, f"{time.time():.6f}")
    assert (await slack_app_server.post_signed(pause, content_type=form)).status_code == 200

    async def is_paused():
        return await paused(slack_app_server)

    await eventually(is_paused)
    resume = click(ACTION_RESUME, f"{time.time() + 1:.6f}")
    assert (await slack_app_server.post_signed(resume, content_type=form)).status_code == 200

    async def is_running():
        return not await paused(slack_app_server)

    await eventually(is_running)
    replay = await slack_app_server.post_signed(pause, content_type=form)
    assert replay.status_code == 200  # acked, so Slack shows no error, but not acted on
    await asyncio.sleep(0.5)  # a replay that acted would have paused by now
    assert not await paused(slack_app_server)
    async with slack_app_server.sessions() as session:
        kinds = [event.kind for event in await list_audit_events(session, team_id=TEAM_ID)]
    assert kinds.count("workspace.paused") == 1, kinds
