"""Tokens as Slack judges them: who a token is, what refuses it, what it may do."""

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fixtures.slack import ADMIN_USER, AP_CHANNEL, BOT_TOKEN, TEAM_ID
from tests.slack_standin.support import slack_error


async def test_auth_test_identifies_the_bot(slack_standin, slack_client):
    answer = await slack_client.auth_test()
    assert answer["team_id"] == TEAM_ID
    assert answer["bot_id"].startswith("B")
    assert answer["user_id"].startswith("U")
    assert slack_standin.calls[-1].method == "auth.test"
    assert slack_standin.calls[-1].token == BOT_TOKEN


@pytest.mark.parametrize(
    ("spoil", "token", "error"),
    [
        (lambda s: None, "xoxb-never-issued", "invalid_auth"),
        (lambda s: s.revoke_token(BOT_TOKEN), BOT_TOKEN, "token_revoked"),
        (lambda s: s.expire_token(BOT_TOKEN), BOT_TOKEN, "token_expired"),
        (lambda s: s.deactivate_workspace(TEAM_ID), BOT_TOKEN, "account_inactive"),
        (lambda s: s.uninstall(TEAM_ID), BOT_TOKEN, "token_revoked"),
    ],
)
async def test_refused_tokens_surface_as_slack_api_errors(slack_standin, spoil, token, error):
    spoil(slack_standin)
    client = AsyncWebClient(token=token, base_url=slack_standin.api_url)
    raised = await slack_error(client.chat_postMessage(channel=AP_CHANNEL, text="hi"))
    assert raised.response.status_code == 200
    assert raised.response["error"] == error
    assert slack_standin.posted_messages(AP_CHANNEL) == []


async def test_a_call_without_a_token_is_not_authed(slack_standin):
    client = AsyncWebClient(base_url=slack_standin.api_url)
    raised = await slack_error(client.auth_test())
    assert raised.response["error"] == "not_authed"


async def test_missing_scope_names_the_scope(slack_standin):
    slack_standin.add_token("xoxb-no-users", TEAM_ID, scopes=("chat:write",))
    client = AsyncWebClient(token="xoxb-no-users", base_url=slack_standin.api_url)
    raised = await slack_error(client.users_info(user=ADMIN_USER))
    assert raised.response["error"] == "missing_scope"
    assert raised.response["needed"] == "users:read"
