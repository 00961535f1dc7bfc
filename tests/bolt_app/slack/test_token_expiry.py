"""A rotating token Slack answers `token_expired` for: refreshed and resent, or the workspace paused.

The workspace installs through the running Bolt app (OAuth with token rotation); the delivery
worker is the one `build_runtime` wires for a worker process, against the Slack stand-in.
"""

from __future__ import annotations

import sqlalchemy as sa

from bolt_app.delivery.outbox import enqueue
from bolt_app.runtime.graph import build_runtime
from bolt_app.settings import Settings
from bolt_app.storage.tables import workspaces
from tests.fixtures.delivery import outbound, utc_now
from tests.fixtures.slack import AP_CHANNEL, TEAM_ID
from tests.fixtures.slack_app import SIGNING_SECRET


def worker_runtime(app, engine, box):
    settings = Settings(
        slack_api_url=app.standin.api_url,
        slack_client_id=app.standin.client_id,
        slack_client_secret=app.standin.client_secret,
        slack_signing_secret=SIGNING_SECRET,
    )
    return build_runtime(settings, engine=engine, box=box, role="worker")


async def queue(app, *keys: str) -> None:
    async with app.sessions() as session, session.begin():
        for key in keys:
            await enqueue(session, outbound(AP_CHANNEL, key), now=utc_now())


async def pause_state(app) -> tuple[bool, str | None]:
    async with app.sessions() as session:
        row = (
            await session.execute(
                sa.select(workspaces.c.paused, workspaces.c.paused_reason).where(
                    workspaces.c.team_id == TEAM_ID
                )
            )
        ).one()
    return row.paused, row.paused_reason


async def stored_bot_token(app) -> str:
    installation = await app.store.find_installation_for_team(TEAM_ID)
    return installation.bot_token


async def test_an_expired_token_is_refreshed_and_the_message_sent(
    slack_app_server, slack_standin, engine, secret_box
):
    assert (await slack_app_server.install(code="code-rotating", rotating=True)).status_code == 302
    expired = await stored_bot_token(slack_app_server)
    slack_standin.expire_token(expired)  # hours before the expiry Slack announced
    await queue(slack_app_server, "inv-1", "inv-2")

    report = await worker_runtime(slack_app_server, engine, secret_box).pipeline.worker.drain()

    assert report.sent == 2 and report.ok
    texts = [m.text for m in slack_standin.posted_messages(AP_CHANNEL)]
    assert texts == ["message inv-1", "message inv-2"]
    fresh = await stored_bot_token(slack_app_server)
    assert fresh != expired
    assert [call.token for call in slack_standin.calls_to("chat.postMessage")] == [
        expired,
        fresh,
        fresh,
    ]
    grants = [c.params.get("grant_type") for c in slack_standin.calls_to("oauth.v2.access")]
    assert grants.count("refresh_token") == 1
    assert await pause_state(slack_app_server) == (False, None)


async def test_an_expired_token_that_cannot_be_refreshed_pauses_until_a_reinstall(
    slack_app_server, slack_standin, engine, secret_box
):
    assert (await slack_app_server.install(code="code-rotating", rotating=True)).status_code == 302
    slack_standin.expire_token(await stored_bot_token(slack_app_server))
    slack_standin.revoke_refresh_tokens(TEAM_ID)
    await queue(slack_app_server, "inv-1")
    worker = worker_runtime(slack_app_server, engine, secret_box).pipeline.worker

    report = await worker.drain()

    assert report.sent == 0 and report.remaining == 1 and not report.dead
    assert await pause_state(slack_app_server) == (True, "token_expired")
    assert slack_standin.posted_messages(AP_CHANNEL) == []

    assert (await slack_app_server.install(code="code-again", rotating=True)).status_code == 302
    assert await pause_state(slack_app_server) == (False, None)
    report = await worker.drain()
    assert report.sent == 1 and report.ok
    assert [m.text for m in slack_standin.posted_messages(AP_CHANNEL)] == ["message inv-1"]


async def test_an_expired_token_that_does_not_rotate_pauses_the_workspace(
    slack_app_server, slack_standin, engine, secret_box
):
    assert (await slack_app_server.install(code="code-plain")).status_code == 302
    slack_standin.expire_token(await stored_bot_token(slack_app_server))
    await queue(slack_app_server, "inv-1")

    report = await worker_runtime(slack_app_server, engine, secret_box).pipeline.worker.drain()

    assert report.remaining == 1 and not report.dead
    assert await pause_state(slack_app_server) == (True, "token_expired")
