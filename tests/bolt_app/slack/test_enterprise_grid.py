"""An Enterprise Grid workspace: installed through OAuth, then served by background jobs too."""

from __future__ import annotations

import json
import time

from bolt_app.delivery.slack import client_factory
from bolt_app.slack.check import check_slack
from tests.fixtures.slack import ADMIN_USER
from tests.fixtures.slack_app import eventually

GRID_TEAM = "T0GRID0001"
GRID_ORG = "E0GRIDORG1"
GRID_CHANNEL = "C0GRIDAP01"


def grid_home_event(event_id: str) -> bytes:
    """What Slack sends for a Grid workspace: `enterprise_id` beside `team_id`."""
    return json.dumps(
        {
            "token": "unused-verification-token",
            "team_id": GRID_TEAM,
            "enterprise_id": GRID_ORG,
            "api_app_id": "A0STANDIN1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": GRID_ORG,
                    "team_id": GRID_TEAM,
                    "user_id": "U0BOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "event": {"type": "app_home_opened", "user": ADMIN_USER, "tab": "home"},
        }
    ).encode()


async def test_a_grid_workspace_installs_and_then_receives_its_messages(
    slack_app_server, slack_standin
):
    slack_standin.add_workspace(GRID_TEAM, "Grid Finance", enterprise_id=GRID_ORG)
    slack_standin.add_user(GRID_TEAM, ADMIN_USER, "controller", is_admin=True)
    slack_standin.add_channel(GRID_TEAM, GRID_CHANNEL, "ap-invoices", members=(ADMIN_USER,))
    finish = await slack_app_server.install(code="code-grid", team_id=GRID_TEAM)
    assert finish.status_code == 302

    # The delivery worker's client, knowing only the team.
    for_team = client_factory(
        base_url=slack_standin.api_url, token_for_team=slack_app_server.clients.token_for_team
    )
    client = await for_team(GRID_TEAM)
    await client.chat_postMessage(channel=GRID_CHANNEL, text="AP invoice 0001234")
    assert [m.text for m in slack_standin.posted_messages(GRID_CHANNEL)] == ["AP invoice 0001234"]

    results = await check_slack(
        slack_app_server.clients.client,
        slack_app_server.clients.token_for_team,
        team_id=GRID_TEAM,
        channels={},
        paused_reason=None,
        paused=False,
    )
    assert all(result.ok for result in results), results

    # Requests from Slack for the org's workspace are authorized from the same installation.
    assert (await slack_app_server.post_signed(grid_home_event("Ev0GRID1"))).status_code == 200

    async def published():
        return slack_standin.home_view(ADMIN_USER, GRID_TEAM) is not None

    await eventually(published)
