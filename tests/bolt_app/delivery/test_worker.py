"""The worker against the Slack stand-in over real HTTP: every Slack answer it must handle."""

import asyncio
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa

from bolt_app.blocks.messages import SlackMessage
from bolt_app.delivery.outbox import DeliveryKind, DeliveryStatus
from bolt_app.delivery.store import resume_workspace, retry_dead_letters
from bolt_app.delivery.tables import deliveries
from bolt_app.errors import SecretError
from bolt_app.storage.audit import list_audit_events
from bolt_app.storage.tables import workspaces
from slack_standin import DEFAULT_BOT_SCOPES
from tests.fixtures.delivery import outbound, utc_now
from tests.fixtures.slack import AP_CHANNEL, BOT_TOKEN, GL_CHANNEL, PO_CHANNEL, TEAM_ID


async def rows(session_factory) -> dict[int, dict]:
    async with session_factory() as session:
        result = await session.execute(sa.select(deliveries).order_by(deliveries.c.id))
        return {row["id"]: dict(row) for row in result.mappings().all()}


def posted_texts(standin, channel) -> list[str]:
    return [m.text for m in standin.posted_messages(channel) if not m.is_reply]


async def test_every_message_ends_delivered_or_dead_with_its_reason_and_none_twice(
    slack_standin, make_worker, queue, session_factory
):
    slack_standin.add_channel(TEAM_ID, "C0ARCHIVE1", "old-stuff")
    slack_standin.archive_channel("C0ARCHIVE1")
    slack_standin.add_channel(TEAM_ID, "C0NOTIN001", "bot-not-invited", bot_member=False)
    # Without chat:write.public, posting to a public channel needs membership, as at Slack.
    scopes = tuple(s for s in DEFAULT_BOT_SCOPES if s != "chat:write.public")
    slack_standin.add_token("xoxb-members-only", TEAM_ID, scopes=scopes)
    slack_standin.inject("chat.postMessage", status=429, retry_after=1, channel=AP_CHANNEL)
    slack_standin.inject("chat.postMessage", status=500, times=2, channel=PO_CHANNEL)
    # Answered long after the client gives up: a timeout. The client's timeout leaves ample
    # room for ordinary answers on a loaded machine (a spurious timeout could post twice).
    slack_standin.inject("chat.postMessage", status=503, delay=6, channel=GL_CHANNEL)
    slack_standin.inject("chat.postMessage", error="msg_too_long", times=2, channel="C0GIVEUP01")
    slack_standin.add_channel(TEAM_ID, "C0GIVEUP01", "always-too-long")
    bad_blocks = SlackMessage(text="fallback of bad blocks", blocks=({"type": "bogus"},))
    ids = await queue(
        outbound(AP_CHANNEL, "rate-limited"),
        outbound(PO_CHANNEL, "two-500s"),
        outbound(GL_CHANNEL, "timed-out"),
        outbound("C0MISSING1", "no-such-channel"),
        outbound("C0ARCHIVE1", "archived"),
        outbound("C0NOTIN001", "joins-first"),
        outbound(AP_CHANNEL, "bad-blocks", message=bad_blocks),
        outbound(PO_CHANNEL, "too-long", text="x" * 40_001),
        outbound("C0GIVEUP01", "too-long-twice"),
    )

    report = await make_worker(timeout=3, token="xoxb-members-only").drain()

    by_key = {row["record_key"]: row for row in (await rows(session_factory)).values()}
    assert {k: r["status"] for k, r in by_key.items()} == {
        "rate-limited": "sent",
        "two-500s": "sent",
        "timed-out": "sent",
        "no-such-channel": "dead",
        "archived": "dead",
        "joins-first": "sent",
        "bad-blocks": "sent",
        "too-long": "sent",
        "too-long-twice": "dead",
    }
    assert by_key["no-such-channel"]["last_error"] == "channel_not_found"
    assert by_key["archived"]["last_error"] == "is_archived"
    assert by_key["too-long-twice"]["last_error"] == "msg_too_long (also as plain text)"
    assert by_key["rate-limited"]["attempts"] == 0  # a 429 is not a failure
    assert by_key["two-500s"]["attempts"] == 2
    assert report.sent == 6 and report.remaining == 0
    assert sorted(d.reason for d in report.dead) == sorted(
        ["channel_not_found", "is_archived", "msg_too_long (also as plain text)"]
    )
    channels = {row["channel_id"] for row in by_key.values()}
    posted = Counter(m.text for c in channels for m in slack_standin.posted_messages(c))
    assert max(posted.values()) == 1, "nothing posted twice"
    assert slack_standin.is_bot_member("C0NOTIN001")
    (bad,) = [m for m in slack_standin.posted_messages(AP_CHANNEL) if m.text.startswith("fallback")]
    assert bad.blocks == ()  # resent as plain text
    assert len(ids) == 9


async def test_rate_limit_waits_retry_after_for_that_channel_only(
    slack_standin, make_worker, queue
):
    slack_standin.inject("chat.postMessage", status=429, retry_after=2, channel=AP_CHANNEL)
    await queue(outbound(AP_CHANNEL, "a1"), outbound(PO_CHANNEL, "p1"), outbound(PO_CHANNEL, "p2"))

    await make_worker().drain()

    calls = [c for c in slack_standin.calls_to("chat.postMessage")]
    limited = next(c for c in calls if c.status == 429)
    ap_ok = next(c for c in calls if c.ok and c.params["channel"] == AP_CHANNEL)
    assert ap_ok.monotonic - limited.monotonic >= 2.0
    po_ok = [c for c in calls if c.ok and c.params["channel"] == PO_CHANNEL]
    assert len(po_ok) == 2 and all(c.monotonic < ap_ok.monotonic for c in po_ok)


async def test_two_channels_limited_at_once_pause_the_whole_workspace(
    slack_standin, make_worker, queue
):
    slack_standin.inject("chat.postMessage", status=429, retry_after=3, channel=AP_CHANNEL)
    slack_standin.inject("chat.postMessage", status=429, retry_after=3, channel=PO_CHANNEL)
    await queue(outbound(AP_CHANNEL, "a1"), outbound(PO_CHANNEL, "p1"))
    # Returns at once, leaving both limited messages queued: the pause is still on.
    first = await make_worker().drain(max_wait=timedelta(milliseconds=500))
    assert first.remaining == 2
    await queue(outbound(GL_CHANNEL, "g1"))
    await make_worker().drain()

    calls = slack_standin.calls_to("chat.postMessage")
    second_limit = [c for c in calls if c.status == 429][-1]
    (gl,) = [c for c in calls if c.params["channel"] == GL_CHANNEL]
    # GL itself was never limited: it waited for the workspace's pause.
    assert gl.ok and gl.monotonic - second_limit.monotonic >= 2.9


async def test_messages_of_a_channel_keep_their_order_through_retries(
    slack_standin, make_worker, queue
):
    slack_standin.inject("chat.postMessage", status=500, times=2, channel=AP_CHANNEL)
    await queue(*(outbound(AP_CHANNEL, f"k{i}", text=f"m{i}") for i in range(5)))

    await make_worker().drain()

    assert posted_texts(slack_standin, AP_CHANNEL) == [f"m{i}" for i in range(5)]


async def test_updates_and_replies_go_to_the_parent_message(slack_standin, make_worker, queue):
    (post,) = await queue(outbound(AP_CHANNEL, "inv-1", text="first version"))
    await queue(
        outbound(AP_CHANNEL, "inv-1", kind=DeliveryKind.UPDATE, parent=post, text="second version"),
        outbound(AP_CHANNEL, "inv-1", kind=DeliveryKind.REPLY, parent=post, text="amount changed"),
    )

    await make_worker().drain()

    (message,) = [m for m in slack_standin.posted_messages(AP_CHANNEL) if not m.is_reply]
    assert message.text == "second version" and message.edits == 1
    (reply,) = slack_standin.thread_replies(AP_CHANNEL, message.ts)
    assert reply.text == "amount changed"


async def test_an_update_whose_post_is_dead_is_dead_too(
    slack_standin, make_worker, queue, session_factory
):
    (post,) = await queue(outbound("C0MISSING1", "inv-1"))
    (update,) = await queue(
        outbound("C0MISSING1", "inv-1", kind=DeliveryKind.UPDATE, parent=post, text="v2")
    )

    report = await make_worker().drain()

    row = (await rows(session_factory))[update]
    assert row["status"] == "dead"
    assert f"delivery {post}" in row["last_error"] and "channel_not_found" in row["last_error"]
    assert len(report.dead) == 2


async def test_a_revoked_token_pauses_the_workspace_and_keeps_its_queue(
    slack_standin, make_worker, queue, session_factory
):
    await queue(outbound(AP_CHANNEL, "a1"), outbound(AP_CHANNEL, "a2"))
    slack_standin.revoke_token(BOT_TOKEN)

    report = await make_worker().drain()

    assert report.sent == 0 and report.remaining == 2
    async with session_factory() as session:
        paused = (
            await session.execute(sa.select(workspaces.c.paused, workspaces.c.paused_reason))
        ).one()
    assert tuple(paused) == (True, "token_revoked")
    assert {r["status"] for r in (await rows(session_factory)).values()} == {"pending"}
    assert len(slack_standin.calls_to("chat.postMessage")) == 1  # stopped at the first refusal

    slack_standin.add_token("xoxb-fresh-token", TEAM_ID)
    async with session_factory() as session, session.begin():
        assert await resume_workspace(session, TEAM_ID, now=utc_now(), actor="U0123ABCD")
        assert not await resume_workspace(session, TEAM_ID, now=utc_now(), actor="U0123ABCD")
    report = await make_worker(token="xoxb-fresh-token").drain()
    assert report.sent == 2 and report.ok
    async with session_factory() as session:
        kinds = [e.kind for e in await list_audit_events(session, team_id=TEAM_ID)]
    assert kinds.count("workspace.paused") == 1 and kinds.count("workspace.resumed") == 1


async def test_dead_letters_can_be_retried_by_an_admin(
    slack_standin, make_worker, queue, session_factory
):
    ids = await queue(outbound("C0LATER001", "k1"), outbound("C0LATER001", "k2"))
    first = await make_worker().drain()
    assert [d.id for d in first.dead] == ids

    slack_standin.add_channel(TEAM_ID, "C0LATER001", "created-later")
    async with session_factory() as session, session.begin():
        assert await retry_dead_letters(session, TEAM_ID, [ids[1]], utc_now()) == 1
    await make_worker().drain()
    async with session_factory() as session, session.begin():
        assert await retry_dead_letters(session, TEAM_ID, None, utc_now()) == 1
    await make_worker().drain()

    assert posted_texts(slack_standin, "C0LATER001") == ["message k2", "message k1"]
    assert {r["status"] for r in (await rows(session_factory)).values()} == {"sent"}


async def test_each_attempt_is_in_the_audit_trail(
    slack_standin, make_worker, queue, session_factory
):
    slack_standin.inject("chat.postMessage", status=500, channel=AP_CHANNEL)
    await queue(outbound(AP_CHANNEL, "inv-9"))

    await make_worker().drain()

    async with session_factory() as session:
        events = await list_audit_events(session, team_id=TEAM_ID)
    attempts = [e.details for e in events if e.kind == "delivery.attempt"]
    assert [(a["outcome"], a["error"]) for a in attempts] == [
        ("retry", "internal_error"),
        ("sent", None),
    ]
    assert attempts[1]["channel"] == AP_CHANNEL and attempts[1]["record_key"] == "inv-9"
    assert attempts[1]["slack_ts"] == slack_standin.posted_messages(AP_CHANNEL)[0].ts


async def test_drain_leaves_what_is_due_too_late_and_says_so(
    slack_standin, make_worker, queue, session_factory
):
    slack_standin.inject("chat.postMessage", status=429, retry_after=30, channel=AP_CHANNEL)
    await queue(outbound(AP_CHANNEL, "a1"), outbound(PO_CHANNEL, "p1"))

    report = await make_worker().drain(max_wait=timedelta(seconds=5))

    assert report.sent == 1 and report.remaining == 1 and not report.ok
    statuses = {r["record_key"]: r["status"] for r in (await rows(session_factory)).values()}
    assert statuses == {"a1": DeliveryStatus.PENDING, "p1": DeliveryStatus.SENT}


async def test_a_workspace_whose_token_cannot_be_read_is_paused_not_dead_lettered(
    slack_standin, make_worker, queue, session_factory
):
    async def unreadable(team_id: str) -> str:
        raise SecretError("The stored bot token cannot be decrypted with MLC_ENCRYPTION_KEYS.")

    await queue(outbound(AP_CHANNEL, "a1"))
    report = await make_worker(token_for_team=unreadable).drain()

    assert report.remaining == 1 and not report.dead
    async with session_factory() as session:
        reason = (await session.execute(sa.select(workspaces.c.paused_reason))).scalar_one()
    assert "cannot be decrypted" in reason
    assert slack_standin.calls_to("chat.postMessage") == []


async def test_a_stopped_worker_stops_between_messages_and_leaves_the_rest_queued(
    slack_standin, make_worker, queue, session_factory
):
    await queue(*(outbound(AP_CHANNEL, f"k{i}") for i in range(3)))
    worker = make_worker(pacing_interval=timedelta(seconds=30))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(10):
        await slack_standin.wait_for_messages(AP_CHANNEL, 1)
    stop.set()
    async with asyncio.timeout(10):  # not the 30 s until the channel's next slot
        await running

    statuses = [r["status"] for r in (await rows(session_factory)).values()]
    assert statuses == ["sent", "pending", "pending"]


async def test_the_running_worker_logs_what_it_delivered_to_each_channel_in_one_line(
    slack_standin, make_worker, queue, caplog
):
    await queue(*(outbound(AP_CHANNEL, f"k{i}") for i in range(2)))
    worker = make_worker(pacing_interval=timedelta(milliseconds=10))
    stop = asyncio.Event()
    with caplog.at_level("INFO", logger="bolt_app.delivery.worker"):
        running = asyncio.create_task(worker.run(stop))
        async with asyncio.timeout(10):
            await slack_standin.wait_for_messages(AP_CHANNEL, 2)
        stop.set()
        async with asyncio.timeout(10):
            await running
    lines = [r.getMessage() for r in caplog.records if r.name == "bolt_app.delivery.worker"]
    assert lines == [f"delivery to {TEAM_ID}/{AP_CHANNEL}: 2 of 2 message(s) sent"]


async def test_a_network_failure_while_getting_the_token_is_retried(
    slack_standin, make_worker, queue, session_factory
):
    failures = [aiohttp.ClientConnectionError("token endpoint unreachable")]

    async def flaky(team_id: str) -> str:
        if failures:
            raise failures.pop()
        return BOT_TOKEN

    await queue(outbound(AP_CHANNEL, "a1"))
    report = await make_worker(token_for_team=flaky).drain()

    assert report.sent == 1 and report.ok
    (row,) = (await rows(session_factory)).values()
    assert (row["status"], row["attempts"]) == ("sent", 1)


@pytest.mark.parametrize(
    ("break_the_token", "reason"),
    [
        (lambda standin: standin.revoke_token(BOT_TOKEN), "token_revoked"),
        (lambda standin: standin.deactivate_workspace(TEAM_ID), "account_inactive"),
        (lambda standin: None, "invalid_auth"),  # a token Slack never issued
    ],
)
async def test_each_unusable_token_answer_pauses_the_workspace(
    slack_standin, make_worker, queue, session_factory, break_the_token, reason
):
    await queue(outbound(AP_CHANNEL, "a1"), outbound(PO_CHANNEL, "p1"))
    break_the_token(slack_standin)
    token = "xoxb-never-issued" if reason == "invalid_auth" else BOT_TOKEN

    report = await make_worker(token=token).drain()

    assert report.sent == 0 and report.remaining == 2 and not report.dead
    async with session_factory() as session:
        paused = (
            await session.execute(sa.select(workspaces.c.paused, workspaces.c.paused_reason))
        ).one()
    assert tuple(paused) == (True, reason)
    assert {r["status"] for r in (await rows(session_factory)).values()} == {"pending"}


async def test_blocks_whose_text_adds_up_past_slacks_limit_are_resent_as_plain_text(
    slack_standin, make_worker, queue, session_factory
):
    sections = tuple(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{n} " + "y" * 2_900}}
        for n in range(5)
    )  # each block within its 3,000 characters, 14,500 together
    await queue(
        outbound(AP_CHANNEL, "long", message=SlackMessage(text="AP digest", blocks=sections))
    )

    report = await make_worker().drain()

    assert report.sent == 1 and report.ok
    first, second = slack_standin.calls_to("chat.postMessage")
    assert first.error == "msg_blocks_too_long"
    assert "blocks" not in second.params and second.ok
    (message,) = slack_standin.posted_messages(AP_CHANNEL)
    assert (message.text, message.blocks) == ("AP digest", ())
