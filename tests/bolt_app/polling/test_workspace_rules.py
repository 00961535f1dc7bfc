"""`[[rules]]` and `backfill_days` in the workspace file: parsed, stored, loaded, shown."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bolt_app.commands.workspace import render_workspace
from bolt_app.errors import ConfigError
from bolt_app.storage.workspaces import ApplyOutcome, apply_workspace, load_workspace
from bolt_app.workspace.file import load_workspace_file
from bolt_app.workspace.rules import RoutingRule
from sage.records import RecordType

RULES = """
[[rules]]
record_type = "purchase_order"
warehouse = "EST"
channel = "C0EAST001"

[[rules]]
record_type = "ap_invoice"
min_amount = "10000"
mention = "S0FIN0001"
"""


def with_rules(workspace_files, rules: str = RULES, backfill: str = "backfill_days = 7\n"):
    text = workspace_files.text.replace("[sage]", backfill + "\n[sage]", 1) + rules
    return workspace_files.write(text)


async def test_rules_and_backfill_are_stored_loaded_and_shown(
    workspace_files, engine, secret_box, test_pki
):
    config = load_workspace_file(with_rules(workspace_files), workspace_files.environ)
    assert config.backfill_days == 7
    assert config.rules == (
        RoutingRule(RecordType.PURCHASE_ORDER, channel="C0EAST001", warehouse="EST"),
        RoutingRule(RecordType.AP_INVOICE, min_amount=Decimal(10000), mention="S0FIN0001"),
    )
    now = datetime(2026, 11, 26, tzinfo=UTC)
    async with AsyncSession(engine) as session, session.begin():
        assert await apply_workspace(session, config, secret_box, now=now) is ApplyOutcome.CREATED
        assert await load_workspace(session, config.team_id, secret_box) == config
        assert await apply_workspace(session, config, secret_box, now=now) is ApplyOutcome.UNCHANGED
    shown = render_workspace(config)
    assert "backfill_days = 7" in shown
    assert (
        '[[rules]]\nrecord_type = "ap_invoice"\nmin_amount = "10000"\nmention = "S0FIN0001"'
        in shown
    )


@pytest.mark.parametrize(
    ("rules", "backfill", "named"),
    [
        ('[[rules]]\nrecord_type = "ap_invoice"\nmention = "<!channel>"\n', "", "rules[1].mention"),
        ("", "backfill_days = -1\n", "backfill_days"),
        ("", 'backfill_days = "7"\n', "backfill_days"),
    ],
)
def test_a_bad_rule_or_backfill_names_the_file_and_field(workspace_files, rules, backfill, named):
    path = with_rules(workspace_files, rules, backfill)
    with pytest.raises(ConfigError) as error:
        load_workspace_file(path, workspace_files.environ)
    assert str(path) in str(error.value) and named in str(error.value)
