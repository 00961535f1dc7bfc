"""The Slack half of `check` against the stand-in: each problem an admin can fix, named."""

from __future__ import annotations

import socket

from slack_sdk.web.async_client import AsyncWebClient

from bolt_app.slack.check import check_slack
from bolt_app.slack.installations import WorkspaceNotInstalled
from sage.records import RecordType
from tests.fixtures.slack import AP_CHANNEL, BOT_TOKEN, GL_CHANNEL, TEAM_ID


async def run_check(
    standin, *, token=BOT_TOKEN, channels=None, paused=False, reason=None, api_url=None
):
    async def token_for_team(team_id: str) -> str:
        if token is None:
            raise WorkspaceNotInstalled(f"Workspace {team_id} has no Slack token.")
        return token

    results = await check_slack(
        lambda value: AsyncWebClient(token=value, base_url=api_url or standin.api_url, timeout=5),
        token_for_team,
        team_id=TEAM_ID,
        channels=channels if channels is not None else {RecordType.AP_INVOICE: AP_CHANNEL},
        paused=paused,
        paused_reason=reason,
    )
    return [result.line() for result in results]


async def test_a_working_install_passes_every_line(slack_standin):
    lines = await run_check(
        slack_standin, channels={RecordType.AP_INVOICE: AP_CHANNEL, RecordType.GL_ENTRY: GL_CHANNEL}
    )
    assert lines[0] == "PASS  Slack workspace: polling is active"
    assert lines[1].startswith(
        f"PASS  Slack token: bot ml-connector in Stand-in Finance ({TEAM_ID})"
    )
    assert lines[2:] == [
        f"PASS  Slack channel for ap_invoice ({AP_CHANNEL}): #ap-invoices: the app is a member",
        f"PASS  Slack channel for gl_entry ({GL_CHANNEL}): #general-ledger: the app is a member",
    ]


async def test_a_paused_workspace_says_why(slack_standin):
    lines = await run_check(slack_standin, paused=True, reason="uninstalled")
    assert lines[0] == "FAIL  Slack workspace: polling is paused (uninstalled)"


async def test_a_revoked_token_fails_and_channels_are_not_tried(slack_standin):
    slack_standin.revoke_token(BOT_TOKEN)
    lines = await run_check(slack_standin)
    assert lines[1] == (
        "FAIL  Slack token: token_revoked: the token was revoked (app uninstalled?); "
        "reinstall the app"
    )
    assert lines[2] == (
        f"FAIL  Slack channel for ap_invoice ({AP_CHANNEL}): not tried: the token failed"
    )


async def test_no_token_at_all_is_one_clear_line(slack_standin):
    lines = await run_check(slack_standin, token=None)
    assert lines[1] == f"FAIL  Slack token: Workspace {TEAM_ID} has no Slack token."


async def test_a_token_of_another_workspace_is_refused(slack_standin):
    slack_standin.add_workspace("T0OTHER01", "Elsewhere", bot_token="xoxb-other-workspace")
    lines = await run_check(slack_standin, token="xoxb-other-workspace")
    assert lines[1] == f"FAIL  Slack token: the token belongs to workspace T0OTHER01, not {TEAM_ID}"


async def test_channel_problems_are_named_with_the_fix(slack_standin):
    slack_standin.add_channel(TEAM_ID, "G0SECRET1", "board", private=True, bot_member=False)
    slack_standin.add_channel(TEAM_ID, "C0OLD0001", "old-ap", archived=True)
    slack_standin.add_channel(TEAM_ID, "C0PUBLIC1", "purchasing-all", bot_member=False)
    lines = await run_check(
        slack_standin,
        channels={
            RecordType.AP_INVOICE: "C0OLD0001",
            RecordType.PURCHASE_ORDER: "C0PUBLIC1",
            RecordType.GL_ENTRY: "G0SECRET1",
            RecordType.GL_ACCOUNT: "C0NOSUCH1",
        },
    )
    assert lines[2:] == [
        "FAIL  Slack channel for ap_invoice (C0OLD0001): #old-ap is archived; "
        "route ap_invoice elsewhere",
        "PASS  Slack channel for purchase_order (C0PUBLIC1): #purchasing-all: "
        "public, posted to without joining",
        "FAIL  Slack channel for gl_entry (G0SECRET1): not found: a wrong ID, or a private "
        "channel the app was not invited to (/invite the app there)",
        "FAIL  Slack channel for gl_account (C0NOSUCH1): not found: a wrong ID, or a private "
        "channel the app was not invited to (/invite the app there)",
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_slack_unreachable_is_one_sentence_naming_the_host_and_the_fix(slack_standin):
    port = _free_port()  # nothing listens there
    lines = await run_check(slack_standin, api_url=f"http://127.0.0.1:{port}/api/")
    assert lines[1] == (
        f"FAIL  Slack token: Slack cannot be reached at 127.0.0.1 port {port}: connection "
        "refused; check the network, a proxy, or SLACK_API_URL"
    )
    assert lines[2].endswith("not tried: Slack cannot be reached")


async def test_a_slack_host_name_that_does_not_resolve_is_said_so(slack_standin):
    lines = await run_check(slack_standin, api_url="http://slack.invalid/api/")
    assert lines[1] == (
        "FAIL  Slack token: Slack cannot be reached: the host name slack.invalid does not "
        "resolve; check the network, a proxy, or SLACK_API_URL"
    )
