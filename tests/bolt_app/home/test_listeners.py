"""App Home scenarios through a real Bolt AsyncApp, signed requests and the Slack stand-in."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import async_sessionmaker

from bolt_app.blocks.messages import SlackMessage
from bolt_app.delivery.outbox import DeliveryKind, OutboundMessage, enqueue
from bolt_app.delivery.tables import deliveries
from bolt_app.home.listeners import HomeServices
from bolt_app.polling.registers import merge_register
from bolt_app.polling.registers import register_key as register_key_text
from bolt_app.polling.service import PollService
from bolt_app.polling.store import PollKey, SeenRecord, SeenUpdate, save_seen
from bolt_app.slack.app import SlackAppServices, build_app
from bolt_app.slack.check import check_slack
from bolt_app.status.model import load_status
from bolt_app.storage.audit import list_audit_events
from bolt_app.storage.tables import sage_connections, workspaces
from bolt_app.storage.workspaces import (
    apply_workspace,
    load_polling_settings,
    load_workspace,
    store_polling_settings,
)
from bolt_app.workspace.model import PollingSettings, WorkspaceConfig
from bolt_app.workspace.reminders import Reminder, ReminderSection
from bolt_app.workspace.schedule import DEFAULT_SCHEDULES, CronSchedule
from mlc_common.certs import write_pki
from sage.connection import AuthMode, ConnectionSettings
from sage.parsing import parse_gl_posting
from sage.records import RecordType
from tests.bolt_app.home.slack_requests import (
    SIGNING_SECRET,
    block_action,
    dispatch,
    home_opened,
    text_values,
    until,
    view_submission,
)
from tests.fixtures.slack import (
    ADMIN_USER,
    AP_CHANNEL,
    BOT_TOKEN,
    GL_CHANNEL,
    MEMBER_USER,
    PO_CHANNEL,
    TEAM_ID,
)

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")


def simulator_settings(server) -> ConnectionSettings:
    pki = server.pki
    return ConnectionSettings(
        agent_url=server.base_url,
        companies=("ABC",),
        auth=AuthMode.MTLS,
        timezone=CHICAGO,
        client_cert_pem=Path(pki.client_cert).read_text(),
        client_key_pem=Path(pki.client_key).read_text(),
        ca_cert_pem=Path(pki.ca_cert).read_text(),
    )


@pytest.fixture
def database_url(tmp_path) -> str:
    """SQLite only: these are Slack scenarios; the storage they use is tested on both backends."""
    return f"sqlite:///{tmp_path / 'ml_connector.db'}"


@pytest.fixture
def sessions(engine):
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def seed(sessions, secret_box):
    async def seed(
        connection: ConnectionSettings | None = None, admins=(), channels=None
    ) -> WorkspaceConfig:
        config = WorkspaceConfig(
            team_id=TEAM_ID,
            connection=connection,
            channels=channels
            or {RecordType.AP_INVOICE: AP_CHANNEL, RecordType.PURCHASE_ORDER: PO_CHANNEL},
            schedules=dict(DEFAULT_SCHEDULES),
            admins=tuple(admins),
        )
        async with sessions.begin() as session:
            await apply_workspace(session, config, secret_box, now=NOW)
        return config

    return seed


@pytest.fixture
def make_app(slack_standin, sessions, secret_box):
    """The product's Bolt app (`build_app`, single-workspace token) with the App Home wired in;
    keyword arguments replace HomeServices fields."""

    async def token_for_team(team_id: str) -> str:
        return BOT_TOKEN

    def make(**overrides) -> AsyncApp:
        home = HomeServices(
            sessions=sessions,
            box=secret_box,
            poller=PollService(sessions, box=secret_box),
            check_slack=check_slack,
        )
        services = SlackAppServices(
            sessions=sessions,
            now=lambda: datetime.now(UTC),
            home=dataclasses.replace(home, **overrides),
        )
        return build_app(
            signing_secret=SIGNING_SECRET,
            client=AsyncWebClient(base_url=slack_standin.api_url, timeout=5),
            services=services,
            token_for_team=token_for_team,
        )

    return make


@pytest.fixture
def app(make_app) -> AsyncApp:
    return make_app()


def test_starting_with_slack_bot_token_set_logs_no_unused_token_warning(
    make_app, monkeypatch, caplog
):
    """Bolt itself reads SLACK_BOT_TOKEN (hence setenv) and would say it "will be unused"."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    with caplog.at_level("WARNING"):
        make_app()
    assert "will be unused" not in caplog.text


def other_ca_pem(directory: Path) -> str:
    """A CA that did not sign the simulator's server certificate."""
    return Path(write_pki(directory / "other-ca").ca_cert).read_text()


def sqlite_bytes(database_url: str) -> bytes:
    return Path(database_url.removeprefix("sqlite:///")).read_bytes()


def selectors(view: dict) -> dict[str, dict]:
    return {
        block["accessory"]["action_id"]: block["accessory"]
        for block in view["blocks"]
        if block.get("accessory", {}).get("type") == "conversations_select"
    }


def home_text(standin, user: str) -> str:
    return json.dumps(standin.home_view(user, TEAM_ID))


async def open_home(app, standin, user: str) -> dict:
    before = len(standin.calls_to("views.publish"))
    response = await dispatch(app, home_opened(TEAM_ID, user))
    assert response.status == 200
    await until(lambda: len(standin.calls_to("views.publish")) > before)
    return standin.home_view(user, TEAM_ID)


async def test_admin_home_has_a_channel_selector_per_record_type(app, slack_standin, seed):
    await seed()
    view = await open_home(app, slack_standin, ADMIN_USER)
    found = selectors(view)
    assert set(found) == {f"route_{rt.value}" for rt in RecordType}
    assert found["route_ap_invoice"]["initial_conversation"] == AP_CHANNEL
    assert "initial_conversation" not in found["route_gl_entry"]


async def test_member_home_shows_status_and_who_can_change(app, slack_standin, seed):
    await seed(admins=("U0FINANCE",))
    view = await open_home(app, slack_standin, MEMBER_USER)
    assert selectors(view) == {}
    assert "Only workspace admins and owners, and <@U0FINANCE> can change" in json.dumps(view)


async def choose_channel(app, standin, user: str, record_type: RecordType, channel: str):
    before = len(standin.calls_to("views.publish"))
    action = {
        "type": "conversations_select",
        "action_id": f"route_{record_type.value}",
        "selected_conversation": channel,
    }
    response = await dispatch(app, block_action(TEAM_ID, user, action, view={"type": "home"}))
    assert response.status == 200
    await until(lambda: len(standin.calls_to("views.publish")) > before)


async def test_an_admins_channel_choice_is_stored_and_audited(
    app, slack_standin, seed, sessions, secret_box
):
    await seed()
    await choose_channel(app, slack_standin, ADMIN_USER, RecordType.PURCHASE_ORDER, GL_CHANNEL)
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert stored is not None and stored.channels[RecordType.PURCHASE_ORDER] == GL_CHANNEL
    last = events[-1]
    assert last.actor == f"slack:{ADMIN_USER}"
    assert "channels.purchase_order" in last.details["changed"]
    assert "Purchase orders now go to <#C0GL00001>" in home_text(slack_standin, ADMIN_USER)


async def test_a_members_channel_choice_is_refused_with_an_explanation(
    app, slack_standin, seed, sessions, secret_box
):
    await seed()
    await choose_channel(app, slack_standin, MEMBER_USER, RecordType.PURCHASE_ORDER, GL_CHANNEL)
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
    assert stored is not None and stored.channels[RecordType.PURCHASE_ORDER] == PO_CHANNEL
    text = home_text(slack_standin, MEMBER_USER)
    assert "Only workspace admins and owners can change settings here" in text
    assert "Nothing was changed" in text


async def test_a_stored_admin_may_change_settings_without_being_a_workspace_admin(
    app, slack_standin, seed, sessions, secret_box
):
    await seed(admins=(MEMBER_USER,))
    await choose_channel(app, slack_standin, MEMBER_USER, RecordType.GL_ENTRY, GL_CHANNEL)
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
    assert stored is not None and stored.channels[RecordType.GL_ENTRY] == GL_CHANNEL


def connection_values(**overrides: str) -> dict:
    fields = {
        "agent_url": "https://sage01.corp.example:8443",
        "companies": "ABC, TST",
        "timezone": "America/Chicago",
        "api_key": "",
        "client_cert": "",
        "client_key": "",
        "ca_cert": "",
        "pin_sha256": "",
        "record_url": "",
    }
    auth = overrides.pop("auth", "mtls")
    fields.update(overrides)
    values = text_values(**fields)
    values["auth"] = {"auth": {"type": "radio_buttons", "selected_option": {"value": auth}}}
    return values


async def submit_connection(app, user: str, values: dict):
    response = await dispatch(app, view_submission(TEAM_ID, user, "connection_settings", values))
    assert response.status == 200
    return json.loads(response.body) if response.body else {}


async def test_connection_modal_stores_secrets_encrypted(
    app, slack_standin, seed, sessions, secret_box, test_pki, database_url
):
    await seed()
    before = len(slack_standin.calls_to("views.publish"))
    answer = await submit_connection(
        app,
        ADMIN_USER,
        connection_values(
            client_cert=test_pki.client_cert_pem,
            client_key=test_pki.client_key_pem,
            ca_cert=test_pki.ca_cert_pem,
        ),
    )
    assert answer == {}
    await until(lambda: len(slack_standin.calls_to("views.publish")) > before)
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
        row = (await session.execute(sa.select(sage_connections))).mappings().one()
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert stored is not None and stored.connection is not None
    assert stored.connection.client_key_pem == test_pki.client_key_pem
    assert stored.connection.companies == ("ABC", "TST")
    key_body = test_pki.client_key_pem.splitlines()[1]
    assert key_body not in json.dumps({k: str(v) for k, v in row.items()})
    assert events[-1].actor == f"slack:{ADMIN_USER}"
    assert key_body not in json.dumps([e.details for e in events] + [e.summary for e in events])
    if database_url.startswith("sqlite"):
        assert key_body.encode() not in sqlite_bytes(database_url)

    # The modal again: the key is "set", not shown; saving with it empty keeps it.
    await dispatch(
        app, block_action(TEAM_ID, ADMIN_USER, {"type": "button", "action_id": "edit_connection"})
    )
    modal = await until(lambda: slack_standin.calls_to("views.open"))
    assert key_body not in json.dumps(modal[-1].params)
    assert "Client private key (PEM): set" in json.dumps(modal[-1].params)
    before = len(slack_standin.calls_to("views.publish"))
    assert await submit_connection(app, ADMIN_USER, connection_values(companies="ABC")) == {}
    await until(lambda: len(slack_standin.calls_to("views.publish")) > before)
    async with sessions() as session:
        kept = await load_workspace(session, TEAM_ID, secret_box)
    assert kept is not None and kept.connection is not None
    assert kept.connection.companies == ("ABC",)
    assert kept.connection.client_key_pem == test_pki.client_key_pem


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("agent_url", "http://sage01.corp.example", "is not an https:// URL"),
        ("agent_url", "https://admin:hunter2@sage01.corp.example", "user name or password"),
        ("companies", "ABC, abcd", "is not a three-character company code"),
        ("client_cert", "-----BEGIN CERTIFICATE-----\nnot base64\n", "PEM certificate"),
        ("client_key", "OTHER_KEY", "does not match the certificate"),
        ("ca_cert", "garbage", "PEM certificate"),
        ("timezone", "Mars/Olympus", "is not a known time zone"),
        ("pin_sha256", "AB:CD", "SHA-256 fingerprint"),
    ],
)
async def test_each_bad_connection_field_is_answered_on_that_field(
    app, seed, sessions, secret_box, test_pki, field, value, words
):
    await seed()
    good = {
        "client_cert": test_pki.client_cert_pem,
        "client_key": test_pki.client_key_pem,
    }
    good[field] = test_pki.other_key_pem if value == "OTHER_KEY" else value
    answer = await submit_connection(app, ADMIN_USER, connection_values(**good))
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [field]
    assert words in answer["errors"][field]
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
    assert stored is not None and stored.connection is None


async def test_api_key_mode_needs_a_key(app, seed):
    await seed()
    answer = await submit_connection(app, ADMIN_USER, connection_values(auth="api_key"))
    assert answer == {
        "response_action": "errors",
        "errors": {"api_key": "Paste the agent's API key."},
    }


async def test_a_members_connection_submission_is_refused(app, seed, sessions, secret_box):
    await seed()
    answer = await submit_connection(
        app, MEMBER_USER, connection_values(auth="api_key", api_key="k")
    )
    assert answer["response_action"] == "update"
    assert "Only workspace admins and owners" in json.dumps(answer["view"])
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
    assert stored is not None and stored.connection is None


async def test_schedules_are_validated_per_field_and_stored(app, seed, sessions, secret_box):
    await seed()
    values = text_values(schedule_ap_invoice="5m", schedule_gl_entry="every tuesday")
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_schedules", values))
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["schedule_gl_entry"]
    values = text_values(schedule_ap_invoice="5m", schedule_gl_account="0 18 * * 1-5")
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_schedules", values))
    assert response.body == ""
    async with sessions() as session:
        stored = await load_workspace(session, TEAM_ID, secret_box)
    assert stored is not None
    assert str(stored.schedules[RecordType.AP_INVOICE]) == "5m"
    assert str(stored.schedules[RecordType.GL_ACCOUNT]) == "0 18 * * 1-5"


async def test_pause_and_resume_are_stored_and_audited(app, slack_standin, seed, sessions):
    await seed()
    publishes = len(slack_standin.calls_to("views.publish"))
    await dispatch(
        app, block_action(TEAM_ID, ADMIN_USER, {"type": "button", "action_id": "pause_polling"})
    )
    await until(lambda: len(slack_standin.calls_to("views.publish")) > publishes)
    async with sessions() as session:
        paused = await session.scalar(sa.select(workspaces.c.paused))
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert paused is True
    assert events[-1].kind == "workspace.paused" and events[-1].actor == f"slack:{ADMIN_USER}"
    assert "resume_polling" in home_text(slack_standin, ADMIN_USER)
    await click(app, ADMIN_USER, "poll_now")
    await until(
        lambda: "Polling is paused: resume it first" in home_text(slack_standin, ADMIN_USER)
    )
    await click(app, ADMIN_USER, "resume_polling")
    await until(lambda: "Polling resumed." in home_text(slack_standin, ADMIN_USER))
    async with sessions() as session:
        assert await session.scalar(sa.select(workspaces.c.paused)) is False


async def paused_now(sessions) -> bool:
    async with sessions() as session:
        return await session.scalar(sa.select(workspaces.c.paused))


async def test_a_click_asks_users_info_once_even_though_the_home_is_redrawn(
    app, slack_standin, seed, sessions
):
    await seed()
    await click(app, ADMIN_USER, "pause_polling")
    await until(lambda: "Polling paused." in home_text(slack_standin, ADMIN_USER))
    assert len(slack_standin.calls_to("users.info")) == 1


async def test_an_admin_is_recognised_through_a_rate_limited_users_info(
    app, slack_standin, seed, sessions
):
    await seed()
    slack_standin.inject("users.info", status=429, retry_after=1)
    await click(app, ADMIN_USER, "pause_polling")
    await until(lambda: "Polling paused." in home_text(slack_standin, ADMIN_USER))
    assert await paused_now(sessions) is True
    assert [call.status for call in slack_standin.calls_to("users.info")] == [429, 200]


async def test_a_rate_limit_past_the_clicks_budget_changes_nothing_and_says_why(
    app, slack_standin, seed, sessions
):
    await seed()
    slack_standin.inject("users.info", status=429, retry_after=30)
    await click(app, ADMIN_USER, "pause_polling")
    await until(lambda: "Slack did not say in time" in home_text(slack_standin, ADMIN_USER))
    assert "can change settings here" not in home_text(slack_standin, ADMIN_USER)  # no refusal
    assert await paused_now(sessions) is False
    assert len(slack_standin.calls_to("users.info")) == 1  # the Home asked no second time


ALL_ROUTED = {
    RecordType.AP_INVOICE: AP_CHANNEL,
    RecordType.PURCHASE_ORDER: PO_CHANNEL,
    RecordType.GL_ENTRY: GL_CHANNEL,
    RecordType.GL_ACCOUNT: GL_CHANNEL,
}


async def click(app, user: str, action_id: str, value: str | None = None):
    action = {"type": "button", "action_id": action_id}
    if value is not None:
        action["value"] = value
    response = await dispatch(app, block_action(TEAM_ID, user, action, view={"type": "home"}))
    assert response.status == 200


async def test_poll_now_polls_the_workspace(app, slack_standin, seed, sessions, mtls_simulator):
    await seed(simulator_settings(mtls_simulator), channels=ALL_ROUTED)
    await click(app, ADMIN_USER, "poll_now")
    await until(lambda: "Polled 4 of 4 resources" in home_text(slack_standin, ADMIN_USER))
    async with sessions() as session:
        status = await load_status(session, TEAM_ID, datetime.now(UTC))
        events = await list_audit_events(session, team_id=TEAM_ID)
    assert all(resource.last_success_at is not None for resource in status.resources)
    assert status.queue.pending > 0  # the "connected" messages, for the delivery worker
    assert any(e.kind == "poll.requested" and e.actor == f"slack:{ADMIN_USER}" for e in events)


async def test_a_member_cannot_poll_now(app, slack_standin, seed, sessions, mtls_simulator):
    await seed(simulator_settings(mtls_simulator), channels=ALL_ROUTED)
    await click(app, MEMBER_USER, "poll_now")
    await until(lambda: "Nothing was changed" in home_text(slack_standin, MEMBER_USER))
    async with sessions() as session:
        status = await load_status(session, TEAM_ID, datetime.now(UTC))
    assert all(resource.last_poll_at is None for resource in status.resources)


async def test_pending_panel_counts_what_the_connector_has_seen(
    app, slack_standin, seed, sessions, mtls_simulator
):
    await seed(simulator_settings(mtls_simulator), channels=ALL_ROUTED)
    async with sessions.begin() as session:
        await store_polling_settings(session, TEAM_ID, PollingSettings(backfill_days=365))
    await click(app, ADMIN_USER, "poll_now")
    await until(lambda: "Polled 4 of 4 resources" in home_text(slack_standin, ADMIN_USER))
    await open_home(app, slack_standin, MEMBER_USER)
    text = home_text(slack_standin, MEMBER_USER)
    invoices = mtls_simulator.data.rows("ABC", "ap-invoices")
    entered = [r for r in invoices if r["SourceTable"] == "AP_InvoiceHeader"]
    on_hold = [r for r in invoices if r["HoldPayment"] == "Y" and r.get("Balance") != "0.00"]
    new_orders = [
        r for r in mtls_simulator.data.rows("ABC", "purchase-orders") if r["OrderStatus"] == "N"
    ]
    entered_total = sum(Decimal(r["InvoiceAmt"]) for r in entered)
    assert f"AP invoices entered, not posted*: {len(entered)}, ${entered_total:,.2f}" in text
    assert f"AP invoices on hold*: {len(on_hold)}," in text
    assert f"Purchase orders still New*: {len(new_orders)}," in text
    oldest = min(entered, key=lambda r: r["InvoiceDate"])
    assert f"invoice {oldest['InvoiceNo'].strip()}" in text


async def test_test_connection_shows_a_failing_line_for_an_untrusted_agent_certificate(
    app, slack_standin, seed, mtls_simulator, tmp_path
):
    settings = dataclasses.replace(
        simulator_settings(mtls_simulator), ca_cert_pem=other_ca_pem(tmp_path)
    )
    await seed(settings)
    await click(app, ADMIN_USER, "test_connection")
    opened = await until(lambda: slack_standin.calls_to("views.open"))
    assert "Trying the agent" in json.dumps(opened[0].params)
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    text = json.dumps(updated[-1].params)
    assert ":x: *agent TLS and certificate*" in text
    assert "checks failed" in text


async def test_test_connection_passes_against_a_trusted_agent(
    app, slack_standin, seed, mtls_simulator
):
    await seed(simulator_settings(mtls_simulator))
    await click(app, ADMIN_USER, "test_connection")
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    text = json.dumps(updated[-1].params)
    assert "Every check passed" in text, text
    assert ":white_check_mark: *Slack token*" in text
    assert ":white_check_mark: *agent TLS and certificate*" in text


async def test_dead_letters_are_retried_by_an_admin(app, slack_standin, seed, sessions):
    await seed()
    async with sessions.begin() as session:
        delivery_id = await enqueue(
            session,
            OutboundMessage(
                team_id=TEAM_ID,
                channel_id=AP_CHANNEL,
                kind=DeliveryKind.POST,
                message=SlackMessage(text="hello", blocks=()),
                company="ABC",
                record_type=RecordType.AP_INVOICE,
                record_key="K1",
            ),
            now=datetime.now(UTC),
        )
        await session.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status="dead", last_error="channel_not_found")
        )
    view = await open_home(app, slack_standin, ADMIN_USER)
    assert "channel_not_found" in json.dumps(view)
    await click(app, ADMIN_USER, "retry_dead_letter", str(delivery_id))
    await until(lambda: "1 dead letter(s) queued again" in home_text(slack_standin, ADMIN_USER))
    async with sessions() as session:
        status = await session.scalar(
            sa.select(deliveries.c.status).where(deliveries.c.id == delivery_id)
        )
    assert status == "pending"


def details_click(company: str, record_type: RecordType, key: str) -> dict:
    value = json.dumps({"company": company, "record_type": record_type.value, "record_key": key})
    return block_action(
        TEAM_ID,
        MEMBER_USER,
        {"type": "button", "action_id": "record_details", "value": value},
        message={"ts": "1700000000.000100", "channel": PO_CHANNEL},
    )


async def test_a_details_window_slack_would_not_open_is_explained_in_the_channel(
    app, slack_standin, seed, mtls_simulator
):
    await seed(simulator_settings(mtls_simulator))
    slack_standin.inject("views.open", error="expired_trigger_id")
    response = await dispatch(app, details_click("ABC", RecordType.PURCHASE_ORDER, "0000150"))
    assert response.status == 200
    (note,) = await until(lambda: slack_standin.ephemeral_messages(PO_CHANNEL))
    assert note.user == MEMBER_USER
    assert "did not open (Slack's 3 seconds to open it had passed)" in note.text
    assert "Click the button again" in note.text
    assert slack_standin.calls_to("views.update") == []  # nothing to fill in


@pytest.mark.parametrize(
    "action_id", ["edit_connection", "edit_schedules", "manage_rules", "manage_reminders"]
)
async def test_a_settings_window_slack_would_not_open_is_explained_on_the_home(
    app, slack_standin, seed, action_id
):
    await seed()
    slack_standin.inject("views.open", error="invalid_trigger_id")
    await click(app, ADMIN_USER, action_id)
    await until(
        lambda: (
            "did not open (Slack answered invalid_trigger_id)"
            in home_text(slack_standin, ADMIN_USER)
        )
    )


async def test_details_modal_for_a_po_shows_its_lines(app, slack_standin, seed, mtls_simulator):
    await seed(simulator_settings(mtls_simulator))
    row = mtls_simulator.data.rows("ABC", "purchase-orders")[0]
    response = await dispatch(
        app, details_click("ABC", RecordType.PURCHASE_ORDER, row["RecordKey"])
    )
    assert response.status == 200
    opened = await until(lambda: slack_standin.calls_to("views.open"))
    assert "Fetching" in json.dumps(opened[0].params)
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    text = json.dumps(updated[-1].params)
    assert f"Purchase order {row['PurchaseOrderNo']}" in text
    for line in row["Lines"]:
        assert f"`{line['ItemCode']}`" in text


async def test_details_modal_for_a_gl_register_shows_every_line(
    app, slack_standin, seed, sessions, mtls_simulator
):
    await seed(simulator_settings(mtls_simulator))
    rows = mtls_simulator.data.rows("ABC", "gl-postings")
    first = rows[0]
    register_key = (first["SourceJournal"], first["JournalRegisterNo"])
    register = [r for r in rows if (r["SourceJournal"], r["JournalRegisterNo"]) == register_key]
    # What the poller recorded when it announced the register: its first line only.
    seen_line = parse_gl_posting(first, "ABC", CHICAGO)
    state = merge_register("ABC", register_key, None, [seen_line], CHICAGO)
    async with sessions.begin() as session:
        await save_seen(
            session,
            PollKey(TEAM_ID, "ABC", RecordType.GL_ENTRY),
            [
                SeenUpdate(
                    register_key_text(register_key),
                    GL_CHANNEL,
                    SeenRecord(state.version, state.snapshot, None),
                )
            ],
            now=datetime.now(UTC),
        )
    await dispatch(app, details_click("ABC", RecordType.GL_ENTRY, register_key_text(register_key)))
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    text = json.dumps(updated[-1].params)
    assert f"GL register {first['SourceJournal']}-{first['JournalRegisterNo']}" in text
    assert len(register) > 1
    for line in register:
        assert f"`{line['Account']}`" in text


async def test_details_modal_for_an_unseen_gl_register_says_why(
    app, slack_standin, seed, mtls_simulator
):
    await seed(simulator_settings(mtls_simulator))
    await dispatch(app, details_click("ABC", RecordType.GL_ENTRY, "GJ-999999"))
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    assert "is not among the records the connector has seen" in json.dumps(updated[-1].params)


async def test_details_modal_says_so_when_the_agent_is_unreachable(
    make_app, slack_standin, seed, mtls_simulator
):
    app = make_app(agent_timeout=1)  # the client's own retries would take longer
    settings = simulator_settings(mtls_simulator)
    await mtls_simulator.stop()
    await seed(settings)
    await dispatch(app, details_click("ABC", RecordType.PURCHASE_ORDER, "0000150"))
    updated = await until(lambda: slack_standin.calls_to("views.update"))
    assert "could not be reached" in json.dumps(updated[-1].params)


def rule_values(**fields: str) -> dict:
    values: dict = {}
    for name, value in fields.items():
        block = f"rule_{name}"
        if name == "record_type":
            element = {"type": "static_select", "selected_option": {"value": value}}
        elif name == "channel":
            element = {"type": "conversations_select", "selected_conversation": value}
        else:
            element = {"type": "plain_text_input", "value": value}
        values[block] = {block: element}
    return values


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("min_amount", "1e309", "Must be below 10,000,000,000,000,000"),
        ("warehouse", "W" * 10_240, "is not a Sage warehouse code"),
    ],
)
async def test_a_rule_value_past_what_sage_holds_is_answered_on_its_field(
    app, seed, sessions, field, value, words
):
    await seed()
    values = rule_values(record_type="purchase_order", channel=GL_CHANNEL, **{field: value})
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_rules", values))
    assert response.status == 200
    answer = json.loads(response.body)
    assert list(answer["errors"]) == [f"rule_{field}"]
    assert words in answer["errors"][f"rule_{field}"]
    async with sessions() as session:
        assert (await load_polling_settings(session, TEAM_ID)).rules == ()


@pytest.mark.parametrize("action_id", ["retry_dead_letter", "remove_rule", "remove_reminder"])
async def test_a_button_whose_value_names_nothing_gets_an_answer_not_an_error(
    app, slack_standin, seed, action_id
):
    await seed()
    response = await dispatch(
        app,
        block_action(
            TEAM_ID,
            ADMIN_USER,
            {"type": "button", "action_id": action_id, "value": "1; DROP TABLE deliveries"},
            view={"type": "home"},
        ),
    )
    assert response.status == 200
    await until(lambda: "nothing was changed" in home_text(slack_standin, ADMIN_USER))


async def test_routing_rules_are_added_validated_and_removed(app, slack_standin, seed, sessions):
    await seed()
    bad = rule_values(record_type="purchase_order", channel=GL_CHANNEL, mention="@finance")
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_rules", bad))
    answer = json.loads(response.body)
    assert list(answer["errors"]) == ["rule_mention"]
    assert "user group ID" in answer["errors"]["rule_mention"]

    good = rule_values(record_type="purchase_order", channel=GL_CHANNEL, warehouse="EST")
    publishes = len(slack_standin.calls_to("views.publish"))
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_rules", good))
    assert response.body == ""
    await until(lambda: len(slack_standin.calls_to("views.publish")) > publishes)
    async with sessions() as session:
        rules = (await load_polling_settings(session, TEAM_ID)).rules
    assert [(r.record_type, r.channel, r.warehouse) for r in rules] == [
        (RecordType.PURCHASE_ORDER, GL_CHANNEL, "EST")
    ]
    assert "Purchase orders (warehouse EST) to <#C0GL00001>" in home_text(slack_standin, ADMIN_USER)

    refused = block_action(
        TEAM_ID, MEMBER_USER, {"type": "button", "action_id": "remove_rule", "value": "0"},
        view={"id": "V0RULES01", "type": "modal"},
    )  # fmt: skip
    await dispatch(app, refused)
    await until(lambda: "Nothing was changed" in home_text(slack_standin, MEMBER_USER))
    async with sessions() as session:
        assert len((await load_polling_settings(session, TEAM_ID)).rules) == 1
    await click(app, ADMIN_USER, "manage_rules")
    stack = await until(lambda: slack_standin.modal_stack(TEAM_ID))
    modal_id = stack[-1]["id"]
    remove = block_action(
        TEAM_ID, ADMIN_USER, {"type": "button", "action_id": "remove_rule", "value": "0"},
        view={"id": modal_id, "type": "modal"},
    )  # fmt: skip
    await dispatch(app, remove)
    await until(lambda: "No routing rules yet" in json.dumps(slack_standin.modal_stack(TEAM_ID)))
    async with sessions() as session:
        assert (await load_polling_settings(session, TEAM_ID)).rules == ()
        events = await list_audit_events(session, team_id=TEAM_ID)
    kinds = [(e.kind, e.actor) for e in events if e.kind == "rules.changed"]
    assert kinds == [("rules.changed", f"slack:{ADMIN_USER}")] * 2


async def test_a_route_change_reaches_a_running_poller_without_a_restart(
    app, slack_standin, seed, sessions, secret_box
):
    await seed(
        ConnectionSettings(
            "https://sage01.corp.example", ("ABC",), AuthMode.API_KEY, CHICAGO, api_key="k"
        )
    )
    poller = PollService(sessions, box=secret_box)  # as the worker holds it, started before
    assert RecordType.GL_ENTRY not in {key.record_type for key in await poller.targets(TEAM_ID)}
    await choose_channel(app, slack_standin, ADMIN_USER, RecordType.GL_ENTRY, GL_CHANNEL)
    assert RecordType.GL_ENTRY in {key.record_type for key in await poller.targets(TEAM_ID)}


async def test_choosing_a_private_channel_without_the_app_says_to_invite_it(
    app, slack_standin, seed
):
    await seed()
    slack_standin.add_channel(TEAM_ID, "G0PRIVATE1", "controllers", private=True, bot_member=False)
    await choose_channel(app, slack_standin, ADMIN_USER, RecordType.GL_ACCOUNT, "G0PRIVATE1")
    text = home_text(slack_standin, ADMIN_USER)
    assert "GL accounts now go to <#G0PRIVATE1>" in text
    assert "a private channel the app was not invited to (/invite the app there)" in text


def reminder_values(*, include=("due", "on_hold"), always=False, **fields: str) -> dict:
    values: dict = {
        "reminder_include": {
            "reminder_include": {
                "type": "checkboxes",
                "selected_options": [{"value": name} for name in include],
            }
        },
        "reminder_always": {
            "reminder_always": {
                "type": "checkboxes",
                "selected_options": [{"value": "always"}] if always else [],
            }
        },
    }
    for name, value in fields.items():
        block = f"reminder_{name}"
        element = (
            {"type": "conversations_select", "selected_conversation": value}
            if name == "channel"
            else {"type": "plain_text_input", "value": value}
        )
        values[block] = {block: element}
    return values


async def test_reminders_are_added_validated_and_removed_by_admins(
    app, slack_standin, seed, sessions, secret_box
):
    await seed()
    bad = reminder_values(channel=AP_CHANNEL, schedule="15m", due_within_days="7")
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_reminders", bad))
    answer = json.loads(response.body)
    assert list(answer["errors"]) == ["reminder_schedule"]
    assert "cron line" in answer["errors"]["reminder_schedule"]
    bad = reminder_values(channel=AP_CHANNEL, schedule="0 8 * * 1-5", new_after_days="a week")
    answer = json.loads(
        (await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_reminders", bad))).body
    )
    assert list(answer["errors"]) == ["reminder_new_after_days"]

    good = reminder_values(
        channel=AP_CHANNEL, schedule="0 8 * * 1-5", due_within_days="3", new_after_days="10"
    )
    refused = await dispatch(app, view_submission(TEAM_ID, MEMBER_USER, "home_reminders", good))
    assert "Nothing was changed" in refused.body
    response = await dispatch(app, view_submission(TEAM_ID, ADMIN_USER, "home_reminders", good))
    assert response.body == ""
    async with sessions() as session:
        stored = (await load_workspace(session, TEAM_ID, secret_box)).reminders
    assert stored == (
        Reminder(
            AP_CHANNEL,
            CronSchedule("0 8 * * 1-5"),
            include=(ReminderSection.DUE, ReminderSection.ON_HOLD),
            due_within_days=3,
            new_after_days=10,
        ),
    )

    await click(app, ADMIN_USER, "manage_reminders")
    stack = await until(lambda: slack_standin.modal_stack(TEAM_ID))
    assert "0 8 * * 1-5" in json.dumps(stack[-1])
    remove = block_action(
        TEAM_ID, ADMIN_USER, {"type": "button", "action_id": "remove_reminder", "value": "0"},
        view={"id": stack[-1]["id"], "type": "modal"},
    )  # fmt: skip
    await dispatch(app, remove)
    await until(lambda: "No reminders yet" in json.dumps(slack_standin.modal_stack(TEAM_ID)))
    async with sessions() as session:
        assert (await load_workspace(session, TEAM_ID, secret_box)).reminders == ()
        events = await list_audit_events(session, team_id=TEAM_ID)
    changes = [e for e in events if e.kind == "workspace.updated"]
    assert [(e.actor, e.details["changed"]) for e in changes] == [
        (f"slack:{ADMIN_USER}", ["reminders"])
    ] * 2
