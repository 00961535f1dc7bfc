"""chat.postMessage, chat.update and chat.postEphemeral answer as Slack does."""

import pytest

from tests.fixtures.slack import AP_CHANNEL, MEMBER_USER, PO_CHANNEL, TEAM_ID
from tests.slack_standin.support import section, slack_error


async def test_posts_get_unique_increasing_slack_timestamps(slack_standin, slack_client):
    answers = [
        await slack_client.chat_postMessage(channel=channel, text=str(n))
        for n in range(5)
        for channel in (AP_CHANNEL, PO_CHANNEL)
    ]
    stamps = [answer["ts"] for answer in answers]
    assert len(set(stamps)) == len(stamps)
    assert stamps == sorted(stamps, key=float)
    seconds, micros = stamps[0].split(".")
    assert len(seconds) == 10 and len(micros) == 6


async def test_update_and_thread_reply_show_in_posted_messages(slack_standin, slack_client):
    metadata = {"event_type": "sage_record", "event_payload": {"record_key": "K1"}}
    first = await slack_client.chat_postMessage(
        channel=AP_CHANNEL, text="Invoice entered", blocks=[section("entered")], metadata=metadata
    )
    await slack_client.chat_update(
        channel=AP_CHANNEL, ts=first["ts"], text="Invoice posted", blocks=[section("posted")]
    )
    reply = await slack_client.chat_postMessage(
        channel=AP_CHANNEL, thread_ts=first["ts"], text="Posted"
    )
    assert reply["message"]["thread_ts"] == first["ts"]

    original, threaded = slack_standin.posted_messages(AP_CHANNEL)
    assert (original.text, original.edits, original.is_reply) == ("Invoice posted", 1, False)
    assert original.blocks == (section("posted"),)
    assert original.metadata == metadata
    assert threaded.thread_ts == first["ts"]
    assert slack_standin.thread_replies(AP_CHANNEL, first["ts"]) == [threaded]


async def test_update_of_an_unknown_message_is_message_not_found(slack_client):
    raised = await slack_error(
        slack_client.chat_update(channel=AP_CHANNEL, ts="1700000000.000100", text="x")
    )
    assert raised.response["error"] == "message_not_found"


async def test_reply_to_an_unknown_thread_is_refused(slack_client):
    raised = await slack_error(
        slack_client.chat_postMessage(channel=AP_CHANNEL, thread_ts="1.000100", text="x")
    )
    assert raised.response["error"] == "thread_not_found"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C0NOSUCH1", "text": "x"}, "channel_not_found"),
        ({"channel": AP_CHANNEL}, "no_text"),
        ({"channel": AP_CHANNEL, "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": AP_CHANNEL, "text": "x", "blocks": [section("b")] * 51}, "invalid_blocks"),
        ({"channel": AP_CHANNEL, "text": "x", "blocks": [{"type": "sectionn"}]}, "invalid_blocks"),
        ({"channel": AP_CHANNEL, "text": "x", "blocks": [section("y" * 3001)]}, "invalid_blocks"),
        (
            {
                "channel": AP_CHANNEL,
                "text": "x",
                "blocks": [section("y" * 3000)] * 4 + [section("z")],
            },
            "msg_blocks_too_long",
        ),
        (
            {"channel": AP_CHANNEL, "text": "x", "metadata": {"event_type": 3}},
            "invalid_metadata_format",
        ),
    ],
)
async def test_bad_posts_get_slack_error_names(slack_standin, slack_client, kwargs, error):
    raised = await slack_error(slack_client.chat_postMessage(**kwargs))
    assert raised.response["error"] == error
    assert slack_standin.posted_messages(AP_CHANNEL) == []


async def test_invalid_blocks_says_where(slack_client):
    blocks = [section("ok"), {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    raised = await slack_error(
        slack_client.chat_postMessage(channel=AP_CHANNEL, text="x", blocks=blocks)
    )
    assert raised.response["errors"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/1/text/text]"
    ]


async def test_channel_membership_rules(slack_standin, slack_client):
    slack_standin.add_channel(TEAM_ID, "C0PUBLIC2", "east", bot_member=False)
    slack_standin.add_channel(TEAM_ID, "C0SECRET1", "secret", private=True, bot_member=False)
    slack_standin.add_channel(TEAM_ID, "C0OLD0001", "old", archived=True)

    # chat:write.public lets the bot post to a public channel it is not in
    assert (await slack_client.chat_postMessage(channel="C0PUBLIC2", text="x"))["ok"]
    raised = await slack_error(slack_client.chat_postMessage(channel="C0SECRET1", text="x"))
    assert raised.response["error"] == "channel_not_found"
    raised = await slack_error(slack_client.chat_postMessage(channel="C0OLD0001", text="x"))
    assert raised.response["error"] == "is_archived"


async def test_ephemeral_reaches_only_channel_members(slack_standin, slack_client):
    answer = await slack_client.chat_postEphemeral(
        channel=AP_CHANNEL, user=MEMBER_USER, text="just you"
    )
    assert answer["message_ts"]
    [ephemeral] = slack_standin.ephemeral_messages(AP_CHANNEL)
    assert (ephemeral.user, ephemeral.text) == (MEMBER_USER, "just you")
    assert slack_standin.posted_messages(AP_CHANNEL) == []
    slack_standin.add_user(TEAM_ID, "U0OUTSIDE", "outsider")
    raised = await slack_error(
        slack_client.chat_postEphemeral(channel=AP_CHANNEL, user="U0OUTSIDE", text="x")
    )
    assert raised.response["error"] == "user_not_in_channel"


async def test_messages_are_posted_as_the_workspace_bot(slack_standin, slack_client):
    await slack_client.chat_postMessage(channel=AP_CHANNEL, text="x")
    [message] = slack_standin.posted_messages(AP_CHANNEL)
    assert message.user == slack_standin.bot_user_id(TEAM_ID)
