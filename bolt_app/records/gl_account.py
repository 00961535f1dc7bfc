"""GL accounts: few and rarely changed, so the first poll reads them all; a change is news."""

from __future__ import annotations

from bolt_app.records.description import Fields, RecordDescription
from sage.records import GLAccount, RecordType


def gl_account_fields(account: GLAccount) -> Fields:
    return {
        "account": account.account,
        "description": account.description,
        "status": account.status.name.lower(),
        "account_type": account.account_type,
        "account_group": account.account_group,
    }


DESCRIPTION = RecordDescription(
    record_type=RecordType.GL_ACCOUNT,
    record_class=GLAccount,
    noun="GL account",
    plural="GL accounts",
    default_schedule="1h",
    record_key=lambda account: account.record_key,
    tracked_key=lambda account: account.record_key,
    tracked_fields=gl_account_fields,
    whole_baseline=True,
    changes_post_fresh=True,
)
