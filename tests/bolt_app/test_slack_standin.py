"""The Slack stand-in answers the real slack_sdk client the way Slack does."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import httpx
import pytest
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slack_standin import SlackStandIn, validate_blocks
from tests.fixtures.slack import (
    ADMIN_USER,
    AP_CHANNEL,
    BOT_TOKEN,
    GL_CHANNEL,
    MEMBER_USER,
    PO_CHANNEL,
    TEAM_ID,
)


async def slack_error(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


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


async def test_form_encoded_post_with_token_param_is_accepted(slack_standin):
    blocks = [section("*Invoice* 1001")]
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            slack_standin.api_url + "chat.postMessage",
            data={
                "token": BOT_TOKEN,
                "channel": AP_CHANNEL,
                "text": "Invoice 1001",
                "blocks": json.dumps(blocks),
            },
        )
    assert answer.status_code == 200
    assert answer.json()["ok"] is True
    [message] = slack_standin.posted_messages(AP_CHANNEL)
    assert message.blocks == tuple(blocks)
    assert slack_standin.calls[-1].token == BOT_TOKEN
    assert "token" not in slack_standin.calls[-1].params


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


def test_validate_blocks_accepts_limits_and_refuses_beyond_them():
    fields = [{"type": "mrkdwn", "text": "f" * 2000}] * 10
    button = {"type": "button", "text": {"type": "plain_text", "text": "b" * 75}, "action_id": "a"}
    good = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3000}, "fields": fields},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button]},
        {"type": "divider"},
    ]
    assert validate_blocks(good) == []
    assert validate_blocks([section("x")] * 50) == []
    too_many_fields = [{"type": "section", "fields": fields + fields[:1]}]
    long_button = {**button, "text": {"type": "plain_text", "text": "b" * 76}}
    assert validate_blocks(too_many_fields)
    assert validate_blocks([{"type": "actions", "elements": [long_button]}])
    assert validate_blocks(
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]
    )
    assert validate_blocks([section("")])
    assert validate_blocks("not a list")


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


async def test_missing_scope_names_the_scope(slack_standin):
    slack_standin.add_token("xoxb-no-users", TEAM_ID, scopes=("chat:write",))
    client = AsyncWebClient(token="xoxb-no-users", base_url=slack_standin.api_url)
    raised = await slack_error(client.users_info(user=ADMIN_USER))
    assert raised.response["error"] == "missing_scope"
    assert raised.response["needed"] == "users:read"


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


async def test_home_view_is_stored_per_user_and_limited(slack_standin, slack_client):
    home = {"type": "home", "blocks": [section("Routes")]}
    first = await slack_client.views_publish(user_id=ADMIN_USER, view=home)
    second = await slack_client.views_publish(
        user_id=ADMIN_USER, view={**home, "blocks": [section("v2")]}
    )
    assert first["view"]["id"] == second["view"]["id"]
    assert slack_standin.home_view(ADMIN_USER)["blocks"] == [section("v2")]
    assert slack_standin.home_view(MEMBER_USER) is None

    raised = await slack_error(
        slack_client.views_publish(
            user_id=ADMIN_USER, view={"type": "home", "blocks": [section("x")] * 101}
        )
    )
    assert raised.response["error"] == "invalid_arguments"
    assert slack_standin.home_view(ADMIN_USER)["blocks"] == [section("v2")]


async def test_modals_open_push_update(slack_standin, slack_client):
    def modal(title: str, n: int = 1) -> dict:
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": title},
            "blocks": [section("d")] * n,
        }

    opened = await slack_client.views_open(trigger_id="1.2.abc", view=modal("Details"))
    await slack_client.views_push(trigger_id="1.3.abc", view=modal("More"))
    updated = await slack_client.views_update(
        view_id=opened["view"]["id"], view=modal("Details v2")
    )
    assert updated["view"]["title"]["text"] == "Details v2"
    assert [v["title"]["text"] for v in slack_standin.modal_stack(TEAM_ID)] == [
        "Details v2",
        "More",
    ]

    for view in (modal("Too many", 101), modal("A title longer than 24 chars")):
        raised = await slack_error(slack_client.views_open(trigger_id="1.4.abc", view=view))
        assert raised.response["error"] == "invalid_arguments"
    raised = await slack_error(slack_client.views_update(view_id="V0NOSUCH", view=modal("x")))
    assert raised.response["error"] == "not_found"


async def test_oauth_install_returns_slacks_payload_and_the_token_works(slack_standin):
    slack_standin.add_oauth_code("code-1", TEAM_ID, ADMIN_USER, user_scopes=("identify",))
    client = AsyncWebClient(base_url=slack_standin.api_url)
    install = await client.oauth_v2_access(
        client_id=slack_standin.client_id, client_secret=slack_standin.client_secret, code="code-1"
    )
    assert install["token_type"] == "bot"
    assert install["team"] == {"id": TEAM_ID, "name": "Stand-in Finance"}
    assert install["authed_user"]["id"] == ADMIN_USER
    assert install["authed_user"]["access_token"].startswith("xoxp-")
    assert "chat:write" in install["scope"].split(",")
    assert "refresh_token" not in install
    bot = AsyncWebClient(token=install["access_token"], base_url=slack_standin.api_url)
    assert (await bot.auth_test())["user_id"] == install["bot_user_id"]

    raised = await slack_error(
        client.oauth_v2_access(
            client_id=slack_standin.client_id,
            client_secret=slack_standin.client_secret,
            code="code-1",
        )
    )
    assert raised.response["error"] == "invalid_code"
    raised = await slack_error(
        client.oauth_v2_access(
            client_id=slack_standin.client_id, client_secret="wrong", code="code-1"
        )
    )
    assert raised.response["error"] == "bad_client_secret"


async def test_token_rotation_refresh_grant():
    now = [datetime(2026, 11, 26, 15, 0, tzinfo=UTC)]
    async with SlackStandIn(wall_clock=lambda: now[0]) as slack_standin:
        slack_standin.add_workspace(TEAM_ID, "Stand-in Finance")
        await _rotate_and_refresh(slack_standin, now)


async def _rotate_and_refresh(slack_standin: SlackStandIn, now: list[datetime]) -> None:
    slack_standin.add_oauth_code("code-2", TEAM_ID, ADMIN_USER, token_rotation=True)
    client = AsyncWebClient(base_url=slack_standin.api_url)
    creds = {"client_id": slack_standin.client_id, "client_secret": slack_standin.client_secret}
    install = await client.oauth_v2_access(code="code-2", **creds)
    assert install["access_token"].startswith("xoxe.xoxb-1-")
    assert install["refresh_token"].startswith("xoxe-1-")
    assert install["expires_in"] == 43_200

    now[0] += timedelta(seconds=43_200)
    expired = AsyncWebClient(token=install["access_token"], base_url=slack_standin.api_url)
    raised = await slack_error(expired.auth_test())
    assert raised.response["error"] == "token_expired"

    refreshed = await client.oauth_v2_access(
        grant_type="refresh_token", refresh_token=install["refresh_token"], **creds
    )
    assert refreshed["token_type"] == "bot"
    assert refreshed["access_token"] != install["access_token"]
    fresh = AsyncWebClient(token=refreshed["access_token"], base_url=slack_standin.api_url)
    assert (await fresh.auth_test())["team_id"] == TEAM_ID
    raised = await slack_error(
        client.oauth_v2_access(grant_type="refresh_token", refresh_token="xoxe-1-bogus", **creds)
    )
    assert raised.response["error"] == "invalid_refresh_token"


async def test_injected_rate_limit_carries_retry_after(slack_standin, slack_client):
    slack_standin.inject("chat.postMessage", retry_after=7)
    raised = await slack_error(slack_client.chat_postMessage(channel=AP_CHANNEL, text="x"))
    assert raised.response.status_code == 429
    assert raised.response.headers["Retry-After"] == "7"
    assert raised.response["error"] == "ratelimited"
    # used up: the next call goes through
    assert (await slack_client.chat_postMessage(channel=AP_CHANNEL, text="x"))["ok"]
    assert [c.status for c in slack_standin.calls_to("chat.postMessage")] == [429, 200]


@pytest.mark.parametrize(
    ("inject", "status", "error"),
    [
        ({"status": 500}, 500, "internal_error"),
        ({"status": 503}, 503, "service_unavailable"),
        ({"status": 502, "error": "fatal_error"}, 502, "fatal_error"),
        ({"error": "internal_error"}, 200, "internal_error"),
        ({"error": "not_in_channel"}, 200, "not_in_channel"),
        ({"error": "is_archived"}, 200, "is_archived"),
    ],
)
async def test_injected_errors_post_nothing(slack_standin, slack_client, inject, status, error):
    slack_standin.inject("chat.postMessage", **inject)
    raised = await slack_error(slack_client.chat_postMessage(channel=AP_CHANNEL, text="x"))
    assert (raised.response.status_code, raised.response["error"]) == (status, error)
    assert slack_standin.posted_messages(AP_CHANNEL) == []


async def test_injection_can_target_one_channel_several_times(slack_standin, slack_client):
    slack_standin.inject("chat.postMessage", error="channel_not_found", channel=PO_CHANNEL, times=2)
    assert (await slack_client.chat_postMessage(channel=AP_CHANNEL, text="x"))["ok"]
    for _ in range(2):
        await slack_error(slack_client.chat_postMessage(channel=PO_CHANNEL, text="x"))
    assert (await slack_client.chat_postMessage(channel=PO_CHANNEL, text="x"))["ok"]


async def test_slow_answer_times_the_client_out_but_the_post_lands(slack_standin):
    slack_standin.inject("chat.postMessage", delay=0.5)
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=slack_standin.api_url, timeout=0.1)
    with pytest.raises((TimeoutError, aiohttp.ServerTimeoutError)):
        await impatient.chat_postMessage(channel=AP_CHANNEL, text="slow")
    # the server finishes the request after the client gave up, as Slack does
    async with asyncio.timeout(5):
        [landed] = await slack_standin.wait_for_messages(AP_CHANNEL, 1)
    assert landed.text == "slow"


async def test_strict_pacing_refuses_and_records_a_second_post_within_a_second():
    now = [100.0]
    async with SlackStandIn(strict_pacing=True, clock=lambda: now[0]) as standin:
        standin.add_workspace(TEAM_ID, bot_token=BOT_TOKEN)
        standin.add_channel(TEAM_ID, AP_CHANNEL)
        standin.add_channel(TEAM_ID, PO_CHANNEL)
        client = AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)

        await client.chat_postMessage(channel=AP_CHANNEL, text="1")
        await client.chat_postMessage(channel=PO_CHANNEL, text="other channel, same instant")
        now[0] += 0.4
        raised = await slack_error(client.chat_postMessage(channel=AP_CHANNEL, text="too soon"))
        assert raised.response.status_code == 429
        assert raised.response.headers["Retry-After"] == "1"
        now[0] += 0.6
        await client.chat_postMessage(channel=AP_CHANNEL, text="2")

        [violation] = standin.pacing_violations
        assert violation.channel == AP_CHANNEL
        assert violation.interval == pytest.approx(0.4)
        assert [m.text for m in standin.posted_messages(AP_CHANNEL)] == ["1", "2"]


async def test_calls_record_method_params_token_and_times(slack_standin, slack_client):
    before = datetime.now(UTC)
    await slack_client.chat_postMessage(channel=AP_CHANNEL, text="hello", blocks=[section("b")])
    [call] = slack_standin.calls_to("chat.postMessage")
    assert call.ok
    assert call.params["blocks"] == [section("b")]
    assert call.params["text"] == "hello"
    assert call.token == BOT_TOKEN
    assert call.wall >= before - timedelta(seconds=1)
    assert call.monotonic > 0


async def test_response_url_records_what_the_app_answers(slack_standin):
    url = slack_standin.new_response_url()
    answer = await AsyncWebhookClient(url).send(text="Status", response_type="ephemeral")
    assert (answer.status_code, answer.body) == (200, "ok")
    assert slack_standin.responses(url) == [{"text": "Status", "response_type": "ephemeral"}]


async def test_messages_are_posted_as_the_workspace_bot(slack_standin, slack_client):
    await slack_client.chat_postMessage(channel=AP_CHANNEL, text="x")
    [message] = slack_standin.posted_messages(AP_CHANNEL)
    assert message.user == slack_standin.bot_user_id(TEAM_ID)


async def test_unknown_method(slack_client):
    raised = await slack_error(slack_client.api_call("chat.nosuch"))
    assert raised.response["error"] == "unknown_method"


async def test_bolt_install_and_sdk_token_rotation_work_against_the_stand_in(
    slack_standin, tmp_path
):
    slack_standin.add_oauth_code("code-3", TEAM_ID, ADMIN_USER, token_rotation=True)
    client = AsyncWebClient(base_url=slack_standin.api_url)
    creds = {"client_id": slack_standin.client_id, "client_secret": slack_standin.client_secret}
    flow = AsyncOAuthFlow(
        client=client,
        settings=AsyncOAuthSettings(
            **creds,
            scopes=["chat:write", "commands"],
            installation_store=FileInstallationStore(base_dir=str(tmp_path / "installs")),
            state_store=FileOAuthStateStore(
                expiration_seconds=600, base_dir=str(tmp_path / "states")
            ),
        ),
    )
    installation = await flow.run_installation("code-3")
    assert installation.team_id == TEAM_ID
    assert installation.bot_id and installation.bot_refresh_token

    rotator = AsyncTokenRotator(**creds, client=client)
    rotated = await rotator.perform_token_rotation(
        installation=installation, minutes_before_expiration=24 * 60
    )
    assert rotated.bot_token != installation.bot_token
    bot = AsyncWebClient(token=rotated.bot_token, base_url=slack_standin.api_url)
    assert (await bot.auth_test())["bot_id"] == installation.bot_id
