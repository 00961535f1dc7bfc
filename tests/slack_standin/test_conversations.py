"""conversations.join/info and users.info: channels and people as the bot sees them."""

from slack_sdk.web.async_client import AsyncWebClient

from tests.fixtures.slack import ADMIN_USER, GL_CHANNEL, MEMBER_USER, TEAM_ID
from tests.slack_standin.support import slack_error


async def test_without_chat_write_public_the_bot_must_join(slack_standin):
    slack_standin.add_token("xoxb-narrow", TEAM_ID, scopes=("chat:write", "channels:join"))
    slack_standin.add_channel(TEAM_ID, "C0PUBLIC2", "east", bot_member=False)
    slack_standin.add_channel(TEAM_ID, "C0SECRET1", "secret", private=True)
    client = AsyncWebClient(token="xoxb-narrow", base_url=slack_standin.api_url)

    raised = await slack_error(client.chat_postMessage(channel="C0PUBLIC2", text="x"))
    assert raised.response["error"] == "not_in_channel"
    joined = await client.conversations_join(channel="C0PUBLIC2")
    assert joined["channel"]["is_member"] is True
    assert slack_standin.is_bot_member("C0PUBLIC2")
    assert (await client.chat_postMessage(channel="C0PUBLIC2", text="x"))["ok"]

    again = await client.conversations_join(channel="C0PUBLIC2")
    assert again["warning"] == "already_in_channel"
    raised = await slack_error(client.conversations_join(channel="C0SECRET1"))
    assert raised.response["error"] == "method_not_supported_for_channel_type"


async def test_conversations_and_users_info(slack_standin, slack_client):
    slack_standin.archive_channel(GL_CHANNEL)
    info = await slack_client.conversations_info(channel=GL_CHANNEL)
    assert info["channel"]["is_archived"] is True
    assert info["channel"]["is_private"] is False
    admin = await slack_client.users_info(user=ADMIN_USER)
    member = await slack_client.users_info(user=MEMBER_USER)
    assert (admin["user"]["is_admin"], member["user"]["is_admin"]) == (True, False)
    raised = await slack_error(slack_client.users_info(user="U0NOBODY1"))
    assert raised.response["error"] == "user_not_found"
