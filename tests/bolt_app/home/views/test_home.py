from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bolt_app.blocks.reminders import PendingGroup, PendingItem
from bolt_app.home.views.home import (
    ACTION_PAUSE,
    ACTION_POLL_NOW,
    ACTION_RESUME,
    ACTION_TEST_CONNECTION,
    DeadLetterRow,
    DeliveryRow,
    HomeState,
    RouteRow,
    StatusPanel,
    build_home_view,
)
from bolt_app.home.views.rules import build_rules_modal
from bolt_app.status.model import ResourceStatus
from bolt_app.workspace.rules import RoutingRule
from sage.connection import AuthMode, ConnectionSettings
from sage.records import RecordType
from tests.bolt_app.home.views.blockkit import assert_within_limits, walk_texts

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def action_ids(view: dict) -> set[str]:
    ids: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if "action_id" in node:
                ids.add(node["action_id"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(view["blocks"])
    return ids


def all_text(view: dict) -> str:
    return "\n".join(text["text"] for text in walk_texts(view))


def big_state(*, is_admin: bool, companies: int = 10, rules: int = 20, paused=False) -> HomeState:
    codes = [f"C{n:02d}" for n in range(companies)]
    resources = tuple(
        ResourceStatus(
            company=code,
            record_type=record_type,
            channel="C0AP00001",
            schedule="15m",
            last_poll_at=NOW - timedelta(minutes=3),
            last_success_at=NOW - timedelta(minutes=3),
            next_poll_at=NOW + timedelta(minutes=12),
            records_seen_last_poll=4,
            last_error="agent answered 503 sage_unavailable " * 20 if code == "C03" else None,
        )
        for code in codes
        for record_type in RecordType
    )
    item = PendingItem("ABC", "01-AIRWAY invoice 10045", Decimal("1250.00"), date(2026, 11, 1))
    return HomeState(
        team_id="T0123ABCD",
        is_admin=is_admin,
        extra_admins=("U0ADMIN01",),
        status=StatusPanel(
            paused=paused, resources=resources, queue_pending=3, queue_dead=7, paused_reason=None
        ),
        pending=(
            PendingGroup("AP invoices entered, not posted", 12, Decimal("15000.10"), (item,) * 5),
            PendingGroup("AP invoices on hold", 2, Decimal("300"), (item,) * 2),
            PendingGroup("Purchase orders still New", 0, Decimal(0), ()),
        ),
        connection=ConnectionSettings(
            agent_url="https://sage01.corp.example:8443",
            companies=tuple(codes),
            auth=AuthMode.API_KEY,
            timezone=ZoneInfo("America/Chicago"),
            api_key="very-secret-key",
        ),
        routes=tuple(RouteRow(rt, "C0AP00001", "15m") for rt in RecordType),
        rules=tuple(
            RoutingRule(
                RecordType.PURCHASE_ORDER, "C0EAST001", warehouse="EST", min_amount=Decimal(n)
            )
            for n in range(rules)
        ),
        dead_letters=tuple(
            DeadLetterRow(n, "C0AP00001", RecordType.AP_INVOICE, f"K{n}", "channel_not_found", NOW)
            for n in range(7)
        ),
        last_deliveries=tuple(
            DeliveryRow("C0AP00001", RecordType.AP_INVOICE, f"K{n}", "sent", NOW) for n in range(30)
        ),
    )


def test_admin_home_has_a_channel_selector_per_record_type():
    view = build_home_view(big_state(is_admin=True))
    assert view["type"] == "home"
    selectors = [
        block["accessory"]
        for block in view["blocks"]
        if block.get("accessory", {}).get("type") == "conversations_select"
    ]
    assert {s["action_id"] for s in selectors} == {f"route_{rt.value}" for rt in RecordType}
    assert all(s["initial_conversation"] == "C0AP00001" for s in selectors)
    assert {ACTION_POLL_NOW, ACTION_TEST_CONNECTION, ACTION_PAUSE} <= action_ids(view)


def test_home_for_10_companies_and_20_rules_stays_under_100_blocks():
    view = build_home_view(big_state(is_admin=True, companies=10, rules=20))
    assert_within_limits(view)
    text = all_text(view)
    assert "C09" in text  # every one of the 10 companies is on the status panel
    assert "…and 15 more" in text  # rules beyond the summary are counted, not listed


def test_home_for_many_companies_summarises_the_rest():
    view = build_home_view(big_state(is_admin=True, companies=60, rules=200))
    assert_within_limits(view)
    assert "50 more companies in `/sage-status`" in all_text(view)


def test_paused_home_offers_resume():
    view = build_home_view(big_state(is_admin=True, paused=True))
    assert ACTION_RESUME in action_ids(view)
    assert ACTION_PAUSE not in action_ids(view)
    assert "Polling is paused" in all_text(view)


def test_non_admin_sees_status_and_pending_and_who_can_change():
    view = build_home_view(big_state(is_admin=False))
    assert_within_limits(view)
    assert action_ids(view) == set()
    text = all_text(view)
    assert "Only workspace admins and owners, and <@U0ADMIN01> can change" in text
    assert "AP invoices entered, not posted*: 12, $15,000.10" in text
    assert "Queue: 3 waiting, 7 dead letters" in text


def test_no_secret_reaches_the_home_view():
    view = build_home_view(big_state(is_admin=True))
    assert "very-secret-key" not in str(view)


def test_sage_text_cannot_ping_anyone():
    state = big_state(is_admin=False)
    evil = PendingItem("ABC", "<!channel> vendor", Decimal(1), None)
    state = HomeState(
        team_id="T0123ABCD",
        is_admin=False,
        status=state.status,
        pending=(PendingGroup("On hold", 1, Decimal(1), (evil,)),),
    )
    assert "<!channel>" not in str(build_home_view(state))


def test_a_fresh_install_tells_an_admin_what_to_do_next():
    state = big_state(is_admin=True)
    view = build_home_view(
        HomeState(team_id="T0123ABCD", is_admin=True, status=state.status, pending=())
    )
    assert_within_limits(view)
    text = all_text(view)
    assert "ml-connector workspace apply" in text and "T0123ABCD" in text
    assert "edit_connection" in action_ids(view)


def test_rules_are_described_in_words():
    view = build_home_view(big_state(is_admin=True, rules=1))
    assert "Purchase orders (warehouse EST and over $0.00) to <#C0EAST001>" in all_text(view)


def test_rules_modal_lists_rules_and_stays_within_limits():
    rules = big_state(is_admin=True, rules=200).rules
    view = build_rules_modal(rules)
    assert_within_limits(view)
    text = all_text(view)
    assert "…and 115 more" in text
    assert "remove_rule" in action_ids(view)
    small = build_rules_modal(rules[:2])
    assert_within_limits(small)
    assert "2. Purchase orders (warehouse EST and over $1.00)" in all_text(small)
