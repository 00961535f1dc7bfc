"""Block Kit builders: the fields a finance team reads, Sage text made inert, limits kept."""

import json
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bolt_app.blockkit.text import escape, format_money, truncate
from bolt_app.blocks.messages import (
    DETAILS_ACTION_ID,
    MAX_FALLBACK_TEXT,
    RecordRef,
    SlackMessage,
    block_kit_builder_url,
    build_change_digest_message,
    build_change_reply,
    build_connected_message,
    build_digest_message,
    build_record_message,
    describe_change,
    render_text,
    summarize,
)
from sage.records import (
    AccountStatus,
    APInvoiceSource,
    GLAccount,
    GLPosting,
    GLRegister,
    OrderStatus,
    RecordType,
)
from slack_standin import validate_blocks
from tests.bolt_app.sample_records import STAMPS, ap_invoice, purchase_order
from tests.fixtures.slack import AP_CHANNEL, PO_CHANNEL


def posting(
    n: int, account: str, description: str, debit: str = "0", credit: str = "0"
) -> GLPosting:
    return GLPosting(
        company="ABC",
        record_key=f"GL{n:08d}",
        account_key=account.replace("-", ""),
        account=account,
        account_description=description,
        posting_date=date(2026, 11, 26),
        source_journal="GJ",
        register_no="000042",
        sequence_no=f"{n:06d}",
        comment="",
        debit=Decimal(debit),
        credit=Decimal(credit),
        batch_no="",
        source_module="G/L",
        stamps=STAMPS,
    )


def register(*lines: GLPosting) -> GLRegister:
    lines = lines or (
        posting(1, "1000-00-00", "Cash", credit="1500.00"),
        posting(2, "6100-00-00", "Freight", debit="1250.00"),
        posting(3, "6200-00-00", "Office supplies", debit="250.00"),
    )
    return GLRegister("ABC", "GJ", "000042", tuple(lines))


def gl_account(**changes) -> GLAccount:
    account = GLAccount(
        company="ABC",
        record_key="0000012",
        account_key="610000000",
        account="6100-00-00",
        raw_account="61000000",
        description="Freight",
        main_account_code="6100",
        account_type="E",
        account_group="Expenses",
        status=AccountStatus.ACTIVE,
        stamps=STAMPS,
    )
    return replace(account, **changes)


def text_objects(message: SlackMessage) -> list[dict]:
    """Every text object in the blocks (header, section text and fields, context, buttons)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(message.blocks)
    return found


def all_text(message: SlackMessage) -> str:
    return "\n".join([message.text, *(t["text"] for t in text_objects(message))])


def fields_of(message: SlackMessage) -> dict[str, str]:
    pairs = {}
    for block in message.blocks:
        for item in block.get("fields", ()):
            label, _, value = item["text"].partition("\n")
            pairs[label.strip("*")] = value
    return pairs


def buttons(message: SlackMessage) -> dict[str, dict]:
    return {
        element["action_id"]: element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def assert_within_slack_limits(message: SlackMessage) -> None:
    assert validate_blocks(list(message.blocks)) == []
    assert len(message.text) <= MAX_FALLBACK_TEXT
    assert all(t["verbatim"] for t in text_objects(message) if t["type"] == "mrkdwn")
    for text in [message.text, *(t["text"] for t in text_objects(message))]:
        assert "<" not in text and ">" not in text
        # every & starts an entity: truncation never cuts one in half
        assert re.fullmatch(r"([^&]|&amp;|&lt;|&gt;)*", text, flags=re.DOTALL), text


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("1250", "$1,250.00"),
        ("-75.1", "-$75.10"),
        ("0", "$0.00"),
        ("1234567.891", "$1,234,567.89"),
        ("0.005", "$0.01"),
        ("-0.001", "$0.00"),
    ],
)
def test_money_is_formatted_like_a_finance_team_writes_it(amount, shown):
    assert format_money(Decimal(amount)) == shown


def test_ap_invoice_shows_what_finance_looks_for():
    message = build_record_message(ap_invoice())
    assert message.blocks[0]["text"]["text"] == "AP invoice INV-1001 · Airway Freight Systems"
    assert fields_of(message) == {
        "Vendor": "Airway Freight Systems (01-AIRWAY)",
        "Invoice no.": "INV-1001",
        "Amount": "$1,250.00",
        "Status": "Entered",
        "Invoice date": "Nov 20, 2026",
        "Due date": "Dec 20, 2026",
        "Terms": "30",
        "PO no.": "0000123",
    }
    context = message.blocks[-1]
    assert context["type"] == "context"
    assert "Record key 01AIRWAY1001" in context["elements"][0]["text"]
    assert "Freight for November" in all_text(message)
    assert message.text == (
        "AP invoice INV-1001 from Airway Freight Systems (01-AIRWAY): $1,250.00, "
        "due Dec 20, 2026 (Entered)"
    )
    assert message.metadata == {
        "event_type": "sage_record",
        "event_payload": {
            "record_type": "ap_invoice",
            "company": "ABC",
            "record_key": "01AIRWAY1001",
        },
    }
    details = buttons(message)[DETAILS_ACTION_ID]
    assert RecordRef.from_value(details["value"]) == RecordRef(
        "ABC", RecordType.AP_INVOICE, "01AIRWAY1001"
    )
    assert set(buttons(message)) == {DETAILS_ACTION_ID}  # no record_url, no link
    assert_within_slack_limits(message)


def test_posted_credit_memo_shows_negative_amount_and_balance():
    memo = ap_invoice(
        source=APInvoiceSource.POSTED,
        amount=Decimal("-75.10"),
        balance=Decimal("-75.10"),
        on_hold=True,
    )
    fields = fields_of(build_record_message(memo))
    assert (fields["Amount"], fields["Balance"], fields["Status"]) == (
        "-$75.10",
        "-$75.10",
        "Posted, on hold",
    )
    paid = ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal(0))
    assert fields_of(build_record_message(paid))["Status"] == "Paid"


def test_record_url_becomes_a_link_button_with_encoded_placeholders():
    invoice = ap_invoice(record_key="01 AIRWAY/1001")
    template = "https://erp.example.com/sage/{company}/{resource}/{record_key}?view={x}"
    message = build_record_message(invoice, record_url=template)
    link = buttons(message)["record_open"]
    assert link["url"] == "https://erp.example.com/sage/ABC/ap-invoices/01%20AIRWAY%2F1001?view={x}"
    assert link["text"]["text"] == "Open in Sage"


def test_purchase_order_message():
    message = build_record_message(purchase_order(status=OrderStatus.OPEN))
    fields = fields_of(message)
    assert fields["PO no."] == "0000123"
    assert fields["Vendor"] == "Continental Supply (01-CONTINE)"
    assert fields["Lines"] == "3"
    assert fields["Total"] == "$1,300.00"
    assert fields["Order date"] == "Nov 25, 2026"
    assert fields["Warehouse"] == "EST"
    assert fields["Status"] == "Open"
    assert message.metadata["event_payload"]["record_type"] == "purchase_order"
    assert "3 lines" in message.text
    assert_within_slack_limits(message)


def test_balanced_register_shows_totals_and_largest_accounts():
    message = build_record_message(register())
    fields = fields_of(message)
    assert fields["Posting date"] == "Nov 26, 2026"
    assert fields["Lines"] == "3"
    assert fields["Total debits"] == fields["Total credits"] == "$1,500.00"
    assert "Out of balance" not in all_text(message)
    largest = next(
        b["text"]["text"]
        for b in message.blocks
        if "Largest accounts" in b.get("text", {}).get("text", "")
    )
    assert largest.splitlines()[1:] == [
        "`1000-00-00` Cash: credit $1,500.00",
        "`6100-00-00` Freight: debit $1,250.00",
        "`6200-00-00` Office supplies: debit $250.00",
    ]
    assert message.metadata["event_payload"]["record_key"] == "GJ-000042"
    assert_within_slack_limits(message)


def test_unbalanced_register_warns():
    lines = (
        posting(1, "1000-00-00", "Cash", credit="100.00"),
        posting(2, "6100-00-00", "Freight", debit="90.00"),
    )
    message = build_record_message(register(*lines))
    warning = message.blocks[1]["text"]["text"]
    assert warning == ":warning: *Out of balance by $10.00*: debits $90.00, credits $100.00"
    assert "OUT OF BALANCE" in message.text


def test_gl_account_created_and_changed():
    created = build_record_message(gl_account())
    assert created.blocks[0]["text"]["text"] == "GL account 6100-00-00 created"
    assert fields_of(created)["Description"] == "Freight"

    new = gl_account(description="Freight & delivery", status=AccountStatus.INACTIVE)
    changed = build_record_message(new, previous=gl_account())
    assert changed.blocks[0]["text"]["text"] == "GL account 6100-00-00 changed"
    assert changed.blocks[1]["text"]["text"] == (
        "*Description*: Freight → Freight &amp; delivery\n*Status*: Active → Inactive"
    )
    assert_within_slack_limits(changed)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            ap_invoice(),
            ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal("1250")),
            "Posted",
        ),
        (ap_invoice(), ap_invoice(on_hold=True), "Put on hold"),
        (
            ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal("1250")),
            ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal("0")),
            "Paid",
        ),
        (purchase_order(), purchase_order(status=OrderStatus.OPEN), "Status: New → Open"),
        (
            register(),
            register(
                *register().lines, *(posting(n, "7000-00-00", "Late", debit="1") for n in (4, 5, 6))
            ),
            "3 late lines added; Debits $1,503.00, credits $1,500.00; Now out of balance",
        ),
        (gl_account(), gl_account(status=AccountStatus.INACTIVE), "Status: Active → Inactive"),
        (purchase_order(), purchase_order(comment="changed, but not shown"), "Details updated"),
    ],
)
def test_change_reply_is_one_line(old, new, line):
    assert describe_change(old, new) == line
    reply = build_change_reply(old, new)
    assert reply.text == escape(line)
    assert [b["text"]["text"] for b in reply.blocks] == [escape(line)]
    assert reply.metadata["event_payload"]["record_key"] == getattr(new, "record_key", "GJ-000042")


def test_change_reply_refuses_different_record_types():
    with pytest.raises(TypeError):
        describe_change(ap_invoice(), purchase_order())


def test_vendor_full_of_mentions_and_links_is_neutralised():
    hostile = "<!channel> <@U0123ABCD> <https://evil.example|click> & <!subteam^S1>"
    message = build_record_message(
        ap_invoice(vendor_name=hostile, invoice_no="<!here>", comment=hostile)
    )
    assert_within_slack_limits(message)
    assert (
        "&lt;!channel&gt; &lt;@U0123ABCD&gt; &lt;https://evil.example|click&gt; &amp;"
        in message.text
    )
    assert "<!channel>" in render_text(message)  # a person still reads the vendor's real name


def test_ten_thousand_character_comment_stays_within_limits():
    comment = "Approved by the controller after review. " * 250
    assert len(comment) > 10_000
    for message in (
        build_record_message(ap_invoice(comment=comment)),
        build_record_message(purchase_order(comment=comment)),
    ):
        assert_within_slack_limits(message)
        comment_text = next(
            b["text"]["text"]
            for b in message.blocks
            if "*Comment*" in b.get("text", {}).get("text", "")
        )
        assert len(comment_text) == 3000
        assert comment_text.endswith("…")


def test_escape_keeps_text_utf8_encodable():
    assert escape("a\ud800b \U0001f600 <&>") == "a\ufffdb \U0001f600 &lt;&amp;&gt;"


def test_truncate_backs_off_an_entity_it_would_cut():
    assert truncate(escape("ab<cd"), 4) == "ab…"
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 3) == "abc"


def test_digest_of_sixty_purchase_orders():
    orders = [purchase_order(record_key=f"{n:07d}", po_no=f"{n:07d}") for n in range(1, 61)]
    message = build_digest_message(
        RecordType.PURCHASE_ORDER, summarize(RecordType.PURCHASE_ORDER, orders), limit=10
    )
    assert message.blocks[0]["text"]["text"] == "60 new purchase orders"
    assert "total *$78,000.00*" in message.blocks[1]["text"]["text"]
    body = all_text(message)
    assert body.count("• *PO ") == 10
    assert "*PO 0000010*" in body and "*PO 0000011*" not in body
    assert "…and 50 more not listed here" in body
    assert message.text == "60 new purchase orders in company ABC, total $78,000.00"
    assert message.metadata["event_payload"] == {
        "record_type": "purchase_order",
        "company": "ABC",
        "count": 60,
        "changed": False,
    }
    assert_within_slack_limits(message)


def test_a_digest_row_says_where_an_invoice_stands():
    # A burst can hold invoices entered before the connection and paid now: the row says so.
    paid = ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal("0.00"))
    text = render_text(
        build_digest_message(
            RecordType.AP_INVOICE, summarize(RecordType.AP_INVOICE, [paid, ap_invoice()])
        )
    )
    assert "due Dec 20, 2026, Paid" in text and "due Dec 20, 2026, Entered" in text


def test_a_digest_of_mixed_changes_says_each_change_and_which_messages_are_stale():
    entered = ap_invoice()
    held = replace(entered, on_hold=True)
    posted = replace(entered, source=APInvoiceSource.POSTED, balance=entered.amount)
    records = [held, posted] * 15
    summary = summarize(
        RecordType.AP_INVOICE, records, [describe_change(entered, new) for new in records]
    )
    message = build_change_digest_message(RecordType.AP_INVOICE, summary, left_as_posted=20)
    assert message.blocks[0]["text"]["text"] == "30 AP invoices changed"
    body = render_text(message)
    assert ": Put on hold" in body and ": Posted" in body
    assert "20 earlier messages about these were not updated" in body
    assert message.metadata["event_payload"]["changed"] is True
    assert_within_slack_limits(message)


def test_digest_rows_for_every_record_type_fit():
    long = "x" * 5000
    for record_type, records in (
        (RecordType.AP_INVOICE, [ap_invoice(vendor_name=long)] * 60),
        (RecordType.GL_ENTRY, [register()] * 3),
        (RecordType.GL_ACCOUNT, [gl_account(description=long)] * 45),
    ):
        message = build_digest_message(record_type, summarize(record_type, records), limit=100)
        assert_within_slack_limits(message)
    with pytest.raises(ValueError):
        summarize(RecordType.AP_INVOICE, [])


def test_connected_message():
    message = build_connected_message("ABC", RecordType.AP_INVOICE)
    assert "Connected to Sage 100 company *ABC*" in message.blocks[0]["text"]["text"]
    assert "AP invoices" in message.text
    assert_within_slack_limits(message)


def test_render_text_reads_like_the_message():
    rendered = render_text(
        build_record_message(ap_invoice(), record_url="https://erp/{record_key}")
    )
    assert rendered.splitlines()[0] == "AP invoice INV-1001 · Airway Freight Systems"
    assert "Vendor: Airway Freight Systems (01-AIRWAY)" in rendered
    assert "Amount: $1,250.00" in rendered
    assert "[Open in Sage https://erp/01AIRWAY1001]" in rendered


def test_block_kit_builder_url_carries_the_blocks():
    message = build_record_message(purchase_order())
    url = block_kit_builder_url(message)
    prefix = "https://app.slack.com/block-kit-builder/#"
    assert url.startswith(prefix)
    assert json.loads(unquote(url.removeprefix(prefix))) == {"blocks": list(message.blocks)}


def test_record_ref_rejects_foreign_values():
    for value in ("", "{}", '{"company":"A","record_type":"nope","record_key":"k"}', "[1]"):
        with pytest.raises(ValueError):
            RecordRef.from_value(value)


async def test_built_messages_post_through_the_slack_api(slack_standin, slack_client):
    original = await slack_client.chat_postMessage(
        channel=AP_CHANNEL, **build_record_message(ap_invoice()).as_chat_kwargs()
    )
    posted = ap_invoice(source=APInvoiceSource.POSTED, balance=Decimal("1250"))
    await slack_client.chat_update(
        channel=AP_CHANNEL, ts=original["ts"], **build_record_message(posted).as_chat_kwargs()
    )
    await slack_client.chat_postMessage(
        channel=AP_CHANNEL,
        thread_ts=original["ts"],
        **build_change_reply(ap_invoice(), posted).as_chat_kwargs(),
    )
    orders = [purchase_order(po_no=f"{n:07d}", comment="c" * 10_000) for n in range(60)]
    await slack_client.chat_postMessage(
        channel=PO_CHANNEL,
        **build_digest_message(
            RecordType.PURCHASE_ORDER, summarize(RecordType.PURCHASE_ORDER, orders), 40
        ).as_chat_kwargs(),
    )

    message, reply = slack_standin.posted_messages(AP_CHANNEL)
    assert fields_of(SlackMessage(message.text, message.blocks))["Status"] == "Posted"
    assert message.metadata["event_payload"]["record_key"] == "01AIRWAY1001"
    assert reply.text == "Posted"
    assert len(slack_standin.posted_messages(PO_CHANNEL)) == 1


hostile_text = st.text(
    alphabet=st.sampled_from("<>&!@|#:*_~`; amplgtx\n") | st.characters(), max_size=4000
) | st.text(alphabet="<>&x", min_size=2990, max_size=3100)  # entities straddling every cut
short_text = st.text(alphabet=st.sampled_from("<>&!@|amplgt;") | st.characters(), max_size=300)
amounts = st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vendor=hostile_text,
    number=short_text,
    comment=hostile_text,
    key=short_text,
    amount=amounts,
    url=st.one_of(st.none(), st.just("https://erp.example/{company}/{resource}/{record_key}")),
)
def test_arbitrary_sage_text_is_always_inert_and_within_limits(
    vendor, number, comment, key, amount, url
):
    invoice = ap_invoice(
        vendor_name=vendor,
        vendor_no=number,
        invoice_no=number,
        comment=comment,
        record_key=key,
        amount=amount,
        terms_code=number,
    )
    order = purchase_order(
        vendor_name=vendor,
        po_no=number,
        comment=comment,
        record_key=key,
        warehouse_code=number,
        freight_amount=amount,
    )
    account = gl_account(description=vendor, account=number, record_key=key)
    reg = register(
        posting(1, number, vendor, debit=str(abs(amount))), posting(2, key, comment, credit="1")
    )
    for message in (
        build_record_message(invoice, record_url=url),
        build_record_message(order, record_url=url),
        build_record_message(account, record_url=url),
        build_record_message(account, previous=gl_account(), record_url=url),
        build_record_message(reg, record_url=url),
        build_change_reply(ap_invoice(), invoice),
        build_change_reply(purchase_order(), order),
        build_digest_message(
            RecordType.AP_INVOICE, summarize(RecordType.AP_INVOICE, [invoice] * 25), limit=25
        ),
        build_connected_message(number, RecordType.GL_ENTRY),
    ):
        assert_within_slack_limits(message)
