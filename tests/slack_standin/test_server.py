"""The wire: bodies and tokens read as Slack reads them, faults, pacing, the call record."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from slack_standin import SlackStandIn
from tests.fixtures.slack import AP_CHANNEL, BOT_TOKEN, PO_CHANNEL, TEAM_ID
from tests.slack_standin.support import section, slack_error


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


@contextlib.asynccontextmanager
async def strictly_paced(now: list[float]) -> AsyncIterator[tuple[SlackStandIn, AsyncWebClient]]:
    """A strict stand-in at Slack's 1 s and the default tolerance, on the clock `now[0]`."""
    async with SlackStandIn(strict_pacing=True, clock=lambda: now[0]) as standin:
        standin.add_workspace(TEAM_ID, bot_token=BOT_TOKEN)
        standin.add_channel(TEAM_ID, AP_CHANNEL)
        standin.add_channel(TEAM_ID, PO_CHANNEL)
        yield standin, AsyncWebClient(token=BOT_TOKEN, base_url=standin.api_url)


async def posts_at(client: AsyncWebClient, now: list[float], moments: list[float]) -> list[bool]:
    """Post to AP_CHANNEL at each moment; whether each was accepted."""
    accepted = []
    for moment in moments:
        now[0] = moment
        try:
            await client.chat_postMessage(channel=AP_CHANNEL, text=f"at {moment}")
        except SlackApiError as error:
            assert (error.response.status_code, error.response["error"]) == (429, "ratelimited")
            accepted.append(False)
        else:
            accepted.append(True)
    return accepted


async def test_strict_pacing_refuses_and_records_a_second_post_well_within_the_interval():
    now = [100.0]
    async with strictly_paced(now) as (standin, client):
        await client.chat_postMessage(channel=AP_CHANNEL, text="1")
        await client.chat_postMessage(channel=PO_CHANNEL, text="other channel, same instant")
        now[0] += 0.4
        raised = await slack_error(client.chat_postMessage(channel=AP_CHANNEL, text="too soon"))
        assert raised.response.status_code == 429
        assert raised.response.headers["Retry-After"] == "1"
        now[0] += 0.55  # 0.95 s after the first: late by less than the 0.1 s tolerance
        await client.chat_postMessage(channel=AP_CHANNEL, text="2")

        [violation] = standin.pacing_violations
        assert violation.channel == AP_CHANNEL
        assert violation.theoretical_arrival == pytest.approx(101.0)
        assert violation.early_by == pytest.approx(0.6)
        assert [m.text for m in standin.posted_messages(AP_CHANNEL)] == ["1", "2"]


async def test_strict_pacing_forgives_posts_at_the_rate_that_arrive_jittered():
    now = [0.0]
    # Sent one a second; each arrives 0 to 90 ms late, so two arrive 0.91 s apart.
    moments = [k + (0.09 if k % 2 == 0 else 0.0) for k in range(20)]
    async with strictly_paced(now) as (standin, client):
        assert await posts_at(client, now, moments) == [True] * 20
        assert standin.pacing_violations == []


async def test_strict_pacing_holds_the_rate_not_just_the_gap():
    now = [0.0]
    # Each gap (0.97 s) is within the tolerance of the interval, but the posts run ahead of
    # one a second by 30 ms more each time: the fifth is more than 0.1 s early.
    moments = [k * 0.97 for k in range(6)]
    async with strictly_paced(now) as (standin, client):
        assert await posts_at(client, now, moments) == [True, True, True, True, False, True]
        assert [v.theoretical_arrival for v in standin.pacing_violations] == [pytest.approx(4.0)]


async def test_strict_pacing_refuses_a_burst_of_two():
    now = [50.0]
    async with strictly_paced(now) as (standin, client):
        assert await posts_at(client, now, [50.0, 50.0]) == [True, False]
        assert len(standin.posted_messages(AP_CHANNEL)) == 1


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


async def test_unknown_method(slack_client):
    raised = await slack_error(slack_client.api_call("chat.nosuch"))
    assert raised.response["error"] == "unknown_method"
