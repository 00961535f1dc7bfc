"""GL accounts: few and rarely changed, so the first poll reads them all; a change is news,
posted as a message of its own that says what changed."""

from __future__ import annotations

from bolt_app.blockkit.kit import Block, fields_section, header, section
from bolt_app.blockkit.text import escape
from bolt_app.records.description import Fields, RecordDescription, RecordMessage
from bolt_app.records.wording import details_footer, field, fields, stamped_by
from sage.records import AccountStatus, GLAccount, RecordType

_ACCOUNT_STATUS = {
    AccountStatus.ACTIVE: "Active",
    AccountStatus.INACTIVE: "Inactive",
    AccountStatus.DELETED: "Deleted",
}


def gl_account_fields(account: GLAccount) -> Fields:
    return {
        "account": account.account,
        "description": account.description,
        "status": account.status.name.lower(),
        "account_type": account.account_type,
        "account_group": account.account_group,
    }


def _account_changes(old: GLAccount, new: GLAccount) -> list[tuple[str, str, str]]:
    pairs = [
        ("Description", old.description, new.description),
        ("Status", _ACCOUNT_STATUS[old.status], _ACCOUNT_STATUS[new.status]),
        ("Account type", old.account_type, new.account_type),
        ("Account group", old.account_group, new.account_group),
    ]
    return [(label, before, after) for label, before, after in pairs if before != after]


def gl_account_message(new: GLAccount, previous: object) -> RecordMessage:
    """A new account, or what changed on an existing one (old → new)."""
    context = stamped_by(new.stamps)
    if not isinstance(previous, GLAccount):
        body = fields(
            [
                field("Account", new.account),
                field("Description", new.description),
                field("Status", _ACCOUNT_STATUS[new.status]),
                field("Account type", new.account_type),
                field("Account group", new.account_group),
                field("Main account", new.main_account_code),
            ]
        )
        text = f"GL account {new.account} {new.description} created"
        return RecordMessage(f"GL account {new.account} created", [body], text, context)
    changes = _account_changes(previous, new)
    lines = [
        f"*{label}*: {escape(before) or '—'} → {escape(after) or '—'}"
        for label, before, after in changes
    ]
    text = f"GL account {new.account} changed: " + "; ".join(
        f"{label} {before} → {after}" for label, before, after in changes
    )
    body = section("\n".join(lines) or "No visible change")
    return RecordMessage(f"GL account {new.account} changed", [body], text, context)


def gl_account_changes(old: GLAccount, new: GLAccount) -> list[str]:
    return [f"{label}: {b} → {a}" for label, b, a in _account_changes(old, new)]


def gl_account_row(account: GLAccount) -> str:
    return (
        f"• *{escape(account.account)}* {escape(account.description)} "
        f"({_ACCOUNT_STATUS[account.status]})"
    )


def gl_account_details(account: GLAccount) -> list[Block]:
    shown = [
        ("Account", escape(account.account)),
        ("Description", escape(account.description)),
        ("Status", account.status.name.title()),
        ("Type", escape(account.account_type)),
        ("Group", escape(account.account_group)),
        ("Main account", escape(account.main_account_code)),
    ]
    return [
        header(f"GL account {account.account}"),
        fields_section(shown),
        details_footer(account.company, account.record_key, account.stamps),
    ]


DESCRIPTION = RecordDescription(
    record_type=RecordType.GL_ACCOUNT,
    record_class=GLAccount,
    noun="GL account",
    plural="GL accounts",
    default_schedule="1h",
    record_key=lambda account: account.record_key,
    message=gl_account_message,
    change_lines=gl_account_changes,
    digest_row=gl_account_row,
    details=gl_account_details,
    tracked_key=lambda account: account.record_key,
    tracked_fields=gl_account_fields,
    whole_baseline=True,
    changes_post_fresh=True,
    reconciled=True,
)
