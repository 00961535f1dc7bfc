"""Scenario tests: signed requests through the real app and uvicorn, against the Slack stand-in."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bolt_app.crypto import SecretBox, generate_key
from bolt_app.polling.scheduler import PollScheduler
from bolt_app.polling.service import PollService
from bolt_app.slack.installations import EncryptedInstallationStore
from bolt_app.storage.audit import list_audit_events
from bolt_app.storage.secrets import reencrypt_all
from bolt_app.storage.tables import slack_event_receipts, workspaces
from bolt_app.storage.workspaces import apply_workspace
from bolt_app.workspace.model import WorkspaceConfig
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType
from tests.fixtures.slack import ADMIN_USER, AP_CHANNEL, BOT_TOKEN, MEMBER_USER, TEAM_ID
from tests.fixtures.slack_app import (
    RunningSlackApp,
    command_body,
    event_body,
    eventually,
    sign_request,
    start_slack_app,
    utc_now,
)


def configured_workspace(agent_url: str = "https://sage01.corp.example:8443") -> WorkspaceConfig:
    return WorkspaceConfig(
        team_id=TEAM_ID,
        connection=ConnectionSettings(
            agent_url=agent_url,
            companies=("ABC",),
            auth=AuthMode.API_KEY,
            timezone=ZoneInfo("America/Chicago"),
            api_key="sage-agent-api-key",
        ),
        channels={RecordType.AP_INVOICE: AP_CHANNEL},
        schedules={},
        bot_token=BOT_TOKEN,
    )


async def apply(app: RunningSlackApp, box: SecretBox, config: WorkspaceConfig) -> None:
    async with app.sessions.begin() as session:
        await apply_workspace(session, config, box, now=utc_now())


async def workspace_row(app: RunningSlackApp):
    async with app.sessions() as session:
        return (
            (await session.execute(sa.select(workspaces).where(workspaces.c.team_id == TEAM_ID)))
            .mappings()
            .one_or_none()
        )


def uninstall_event(event_id: str = "Ev0UNINSTALL") -> bytes:
    return event_body(TEAM_ID, {"type": "app_uninstalled", "event_ts": "1"}, event_id=event_id)


def home_event(user: str, event_id: str) -> bytes:
    return event_body(
        TEAM_ID,
        {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"},
        event_id=event_id,
    )


# ---- request verification ---------------------------------------------------------------


async def _rejected(app: RunningSlackApp, headers: dict[str, str], body: bytes) -> None:
    response = await app.http.post(
        f"{app.url}/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )
    assert response.status_code == 401
    async with app.sessions() as session:
        receipts = (await session.execute(sa.select(slack_event_receipts))).all()
    assert receipts == []
    row = await workspace_row(app)
    assert row is not None and row["paused"] is False
    assert app.standin.calls == []


async def test_a_forged_signature_gets_401_and_changes_nothing(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    body = uninstall_event()
    await _rejected(slack_app_server, sign_request(body, secret="not-the-signing-secret"), body)


async def test_a_body_altered_after_signing_gets_401(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    headers = sign_request(home_event(ADMIN_USER, "Ev1"))
    await _rejected(slack_app_server, headers, uninstall_event())


async def test_a_stale_timestamp_gets_401_even_with_a_valid_signature(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    body = uninstall_event()
    six_minutes_ago = int(time.time()) - 6 * 60
    await _rejected(slack_app_server, sign_request(body, timestamp=six_minutes_ago), body)


async def test_an_unsigned_request_gets_401(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    await _rejected(slack_app_server, {}, uninstall_event())


# ---- events ------------------------------------------------------------------------------


async def test_a_retried_event_is_handled_once_even_by_another_process(
    slack_app_server, engine, secret_box, slack_standin
):
    other_process = await start_slack_app(engine=engine, box=secret_box, standin=slack_standin)
    try:
        await slack_app_server.install(code="code-retry")
        first = await slack_app_server.post_signed(home_event(ADMIN_USER, "Ev0HOME1"))
        assert first.status_code == 200

        async def published(count: int):
            async def check():
                return len(slack_standin.calls_to("views.publish")) >= count

            return check

        await eventually(await published(1))
        retry = await other_process.post_signed(
            home_event(ADMIN_USER, "Ev0HOME1"),
            **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert retry.status_code == 200
        # A later, different event is handled: by then a handled retry would have shown too.
        await other_process.post_signed(home_event(MEMBER_USER, "Ev0HOME2"))
        await eventually(await published(2))
        await asyncio.sleep(0.2)
        users = [call.params["user_id"] for call in slack_standin.calls_to("views.publish")]
        assert sorted(users) == sorted([ADMIN_USER, MEMBER_USER])
    finally:
        await other_process.http.aclose()
        await other_process.server.stop()


async def test_app_home_tells_a_fresh_install_what_to_do_next(slack_app_server, slack_standin):
    await slack_app_server.install(code="code-home")
    response = await slack_app_server.post_signed(home_event(ADMIN_USER, "Ev0HOME3"))
    assert response.status_code == 200

    async def published():
        return slack_standin.home_view(ADMIN_USER) is not None

    await eventually(published)
    text = json.dumps(slack_standin.home_view(ADMIN_USER))
    assert "ml-connector workspace apply" in text
    assert TEAM_ID in text


async def test_app_uninstalled_deletes_tokens_stops_polls_and_keeps_the_audit_trail(
    slack_app_server, secret_box
):
    await apply(slack_app_server, secret_box, configured_workspace())
    scheduler = PollScheduler(
        PollService(slack_app_server.sessions, box=secret_box), slack_app_server.sessions
    )
    await scheduler.reconcile()
    assert list(scheduler.specs) == [f"poll:{TEAM_ID}:ABC:ap_invoice"]
    response = await slack_app_server.post_signed(uninstall_event())
    assert response.status_code == 200

    async def paused():
        row = await workspace_row(slack_app_server)
        return row["paused"]

    await eventually(paused)
    row = await workspace_row(slack_app_server)
    assert row["paused_reason"] == "uninstalled"
    assert row["bot_token_encrypted"] is None
    async with slack_app_server.sessions() as session:
        kinds = [event.kind for event in await list_audit_events(session, team_id=TEAM_ID)]
    assert kinds == ["workspace.created", "slack.uninstalled"]
    await scheduler.reconcile()
    assert scheduler.specs == {}


# ---- OAuth ---------------------------------------------------------------------------------


def database_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_an_oauth_install_stores_only_ciphertext_and_posting_uses_the_new_token(
    slack_app_server, slack_standin, database_url
):
    finish = await slack_app_server.install(code="code-install-1")
    assert finish.status_code == 302
    assert finish.headers["location"] == (
        f"slack://app?team={TEAM_ID}&id={slack_standin.app_id}&tab=home"
    )
    issued = [c for c in slack_standin.calls_to("auth.test") if c.token != BOT_TOKEN][0].token
    assert issued.startswith("xoxb-")

    client = await slack_app_server.clients.for_team(TEAM_ID)
    await client.chat_postMessage(channel=AP_CHANNEL, text="hello from the new install")
    assert slack_standin.calls_to("chat.postMessage")[-1].token == issued
    assert slack_standin.posted_messages(AP_CHANNEL)[-1].text == "hello from the new install"

    if database_url.startswith("sqlite"):
        assert issued.encode() not in database_bytes(database_url)
    async with slack_app_server.sessions() as session:
        stored = (await session.execute(sa.text("SELECT bot_token FROM slack_bots"))).scalar_one()
        kinds = [event.kind for event in await list_audit_events(session, team_id=TEAM_ID)]
    assert stored != issued and issued not in stored
    assert kinds == ["slack.installed"]
    row = await workspace_row(slack_app_server)
    assert row["paused"] is False


async def test_keys_rotate_reencrypts_the_slack_tokens(engine, slack_standin):
    old_key, new_key = generate_key(), generate_key()
    app = await start_slack_app(engine=engine, box=SecretBox([old_key]), standin=slack_standin)
    try:
        await app.install(code="code-keys", rotating=True)
        token = await app.clients.token_for_team(TEAM_ID)
        async with app.sessions.begin() as session:
            count = await reencrypt_all(session, SecretBox([new_key, old_key]))
        assert count == 4  # bot and refresh token, in slack_installations and slack_bots
        store = EncryptedInstallationStore(
            client_id=slack_standin.client_id, engine=engine, box=SecretBox([new_key])
        )
        bot = await store.async_find_bot(enterprise_id=None, team_id=TEAM_ID)
        assert bot.bot_token == token and bot.bot_refresh_token.startswith("xoxe-")
    finally:
        await app.http.aclose()
        await app.server.stop()


async def test_an_oauth_callback_with_a_forged_state_installs_nothing(
    slack_app_server, slack_standin
):
    slack_standin.add_oauth_code("code-forged", TEAM_ID, ADMIN_USER)
    response = await slack_app_server.http.get(
        f"{slack_app_server.url}/slack/oauth_redirect",
        params={"code": "code-forged", "state": "made-up"},
        headers={"Cookie": "slack-app-oauth-state=made-up"},
    )
    assert response.status_code == 401
    assert slack_standin.calls_to("oauth.v2.access") == []
    assert await slack_app_server.store.async_find_bot(enterprise_id=None, team_id=TEAM_ID) is None


async def test_a_rotating_token_is_refreshed_for_a_background_post(slack_app_server, slack_standin):
    finish = await slack_app_server.install(code="code-rotate", rotating=True)
    assert finish.status_code == 302
    first = await slack_app_server.clients.token_for_team(TEAM_ID)
    assert first.startswith("xoxe.xoxb-")
    async with slack_app_server.sessions.begin() as session:  # as if 11 hours had passed
        for table in ("slack_installations", "slack_bots"):
            await session.execute(
                sa.text(f"UPDATE {table} SET bot_token_expires_at = :soon"),
                {"soon": utc_now().replace(tzinfo=None)},
            )
    client = await slack_app_server.clients.for_team(TEAM_ID)
    await client.chat_postMessage(channel=AP_CHANNEL, text="after rotation")
    refresh = slack_standin.calls_to("oauth.v2.access")[-1]
    assert refresh.params["grant_type"] == "refresh_token" and refresh.ok
    posted = slack_standin.calls_to("chat.postMessage")[-1]
    assert posted.ok and posted.token != first
    assert await slack_app_server.clients.token_for_team(TEAM_ID) == posted.token


async def test_uninstall_after_an_oauth_install_forgets_its_tokens(slack_app_server, slack_standin):
    await slack_app_server.install(code="code-then-uninstall")
    await slack_app_server.post_signed(uninstall_event("Ev0UNINSTALL2"))

    async def paused():
        row = await workspace_row(slack_app_server)
        return row["paused"]

    await eventually(paused)
    store = slack_app_server.store
    assert await store.async_find_bot(enterprise_id=None, team_id=TEAM_ID) is None
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_ID) is None


async def test_a_reinstall_resumes_a_workspace_paused_for_lost_tokens_only(
    slack_app_server, secret_box
):
    await apply(slack_app_server, secret_box, configured_workspace())
    for reason, resumed in (("token_revoked", True), ("an admin paused it", False)):
        async with slack_app_server.sessions.begin() as session:
            await session.execute(sa.update(workspaces).values(paused=True, paused_reason=reason))
        assert (await slack_app_server.install(code=f"code-{reason}")).status_code == 302
        assert (await workspace_row(slack_app_server))["paused"] is not resumed


async def test_tokens_revoked_for_the_bot_pauses_the_workspace(slack_app_server, secret_box):
    await apply(slack_app_server, secret_box, configured_workspace())
    body = event_body(
        TEAM_ID,
        {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"], "oauth": []}, "event_ts": "1"},
        event_id="Ev0REVOKED",
    )
    assert (await slack_app_server.post_signed(body)).status_code == 200

    async def paused():
        row = await workspace_row(slack_app_server)
        return row["paused"]

    await eventually(paused)
    assert (await workspace_row(slack_app_server))["paused_reason"] == "tokens_revoked"


async def sage_status_reply(app: RunningSlackApp, response_urls, key: str) -> dict:
    """An admin types /sage-status; what the app answers at the response_url."""
    body = command_body(
        TEAM_ID, ADMIN_USER, response_url=response_urls.url(key), command="/sage-status"
    )
    ack = await app.post_signed(body, content_type="application/x-www-form-urlencoded")
    assert ack.status_code == 200
    async with asyncio.timeout(5):
        (reply,) = await response_urls.wait_for(1)
    return reply


async def test_a_workspace_with_a_file_bot_token_is_served_beside_oauth_installs(
    slack_app_server, secret_box, response_urls
):
    await apply(slack_app_server, secret_box, configured_workspace())  # bot_token, no OAuth
    reply = await sage_status_reply(slack_app_server, response_urls, "file")
    assert "ABC · AP invoices" in json.dumps(reply["blocks"], ensure_ascii=False)
    assert slack_standin_tokens(slack_app_server) == {BOT_TOKEN}


def slack_standin_tokens(app: RunningSlackApp) -> set[str]:
    return {call.token for call in app.standin.calls_to("auth.test")}


# ---- /sage-status ----


class HangingAgent:
    """Accepts connections and never answers: an agent that hangs."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.connections += 1
        await reader.read()  # until the client gives up

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def hanging_agent():
    agent = HangingAgent()
    agent.server = await asyncio.start_server(agent._accept, "127.0.0.1", 0)
    try:
        yield agent
    finally:
        agent.server.close()


# -------------------------------------------------------------------------


async def test_sage_status_is_answered_ephemerally_while_the_agent_hangs(
    slack_app_server, secret_box, response_urls, hanging_agent
):
    await slack_app_server.install(code="code-status")
    await apply(slack_app_server, secret_box, configured_workspace(agent_url=hanging_agent.url))
    body = command_body(
        TEAM_ID, ADMIN_USER, response_url=response_urls.url("status"), command="/sage-status"
    )
    async with asyncio.timeout(3):
        ack = await slack_app_server.post_signed(
            body, content_type="application/x-www-form-urlencoded"
        )
        assert ack.status_code == 200
        (reply,) = await response_urls.wait_for(1)
    assert reply["response_type"] == "ephemeral"
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "ABC · AP invoices" in shown and f"<#{AP_CHANNEL}>" in shown
    assert "Queue: *0* pending, *0* failed for good" in shown
    assert hanging_agent.connections == 0


async def test_sage_status_shows_a_pause_reason_as_typed_and_pings_nobody(
    slack_app_server, secret_box, response_urls
):
    await apply(slack_app_server, secret_box, configured_workspace())
    async with slack_app_server.sessions.begin() as session:
        await session.execute(
            sa.update(workspaces).values(paused=True, paused_reason="<!channel> & <https://x|y>")
        )
    reply = await sage_status_reply(slack_app_server, response_urls, "escaped")
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "&lt;!channel&gt; &amp; &lt;https://x|y&gt;" in shown
    assert "<!channel>" not in shown
