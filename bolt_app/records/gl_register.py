"""GL registers: gl-postings lines grouped per journal register, tracked per register."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bolt_app.blockkit.kit import Block, context, divider, fields_section, header, section
from bolt_app.blockkit.text import counted, escape, format_date, format_money
from bolt_app.records.description import RecordDescription, RecordMessage
from bolt_app.records.wording import field, fields, packed
from sage.records import GLRegister, RecordType

TOP_ACCOUNTS = 5


@dataclass(frozen=True, slots=True)
class _AccountActivity:
    account: str
    description: str
    debit: Decimal
    credit: Decimal

    @property
    def size(self) -> Decimal:
        return max(self.debit, self.credit)

    def line(self) -> str:
        sides = [
            f"{name} {format_money(amount)}"
            for name, amount in (("debit", self.debit), ("credit", self.credit))
            if amount
        ]
        return f"`{escape(self.account)}` {escape(self.description)}: {', '.join(sides) or format_money(Decimal(0))}"


def _largest_accounts(register: GLRegister, count: int = TOP_ACCOUNTS) -> list[_AccountActivity]:
    """The accounts with the most activity in the register, largest first."""
    totals: dict[str, _AccountActivity] = {}
    for line in register.lines:
        seen = totals.get(line.account)
        totals[line.account] = _AccountActivity(
            line.account,
            seen.description if seen else line.account_description,
            (seen.debit if seen else Decimal(0)) + line.debit,
            (seen.credit if seen else Decimal(0)) + line.credit,
        )
    return sorted(totals.values(), key=lambda a: (-a.size, a.account))[:count]


def gl_register_message(register: GLRegister, _previous: object) -> RecordMessage:
    debit, credit = register.total_debit, register.total_credit
    body: list[Block] = []
    if not register.is_balanced:
        body.append(
            section(
                f":warning: *Out of balance by {format_money(abs(debit - credit))}*: "
                f"debits {format_money(debit)}, credits {format_money(credit)}"
            )
        )
    body.append(
        fields(
            [
                field("Posting date", format_date(register.posting_date)),
                field("Lines", str(len(register.lines))),
                field("Total debits", format_money(debit)),
                field("Total credits", format_money(credit)),
                field("Source journal", register.source_journal),
                field("Register no.", register.register_no),
            ]
        )
    )
    accounts = _largest_accounts(register)
    if accounts:
        body.append(section("*Largest accounts*\n" + "\n".join(a.line() for a in accounts)))
    balance = "balanced" if register.is_balanced else "OUT OF BALANCE"
    return RecordMessage(
        title=f"GL register {register.key} posted",
        body=body,
        text=f"GL register {register.key} posted {format_date(register.posting_date)}: "
        f"{counted(len(register.lines), 'line', 'lines')}, debits {format_money(debit)}, "
        f"credits {format_money(credit)} ({balance})",
    )


def gl_register_changes(old: GLRegister, new: GLRegister) -> list[str]:
    known = {line.record_key for line in old.lines}
    late = sum(1 for line in new.lines if line.record_key not in known)
    changes = [f"{counted(late, 'late line', 'late lines')} added"] if late else []
    if (new.total_debit, new.total_credit) != (old.total_debit, old.total_credit):
        changes.append(
            f"Debits {format_money(new.total_debit)}, credits {format_money(new.total_credit)}"
        )
    if old.is_balanced and not new.is_balanced:
        changes.append("Now out of balance")
    elif new.is_balanced and not old.is_balanced:
        changes.append("Now balanced")
    return changes


def gl_register_row(register: GLRegister) -> str:
    warning = "" if register.is_balanced else " :warning: out of balance"
    return (
        f"• *{escape(register.key)}* {format_date(register.posting_date)}: "
        f"{counted(len(register.lines), 'line', 'lines')}, "
        f"debits {format_money(register.total_debit)}{warning}"
    )


def gl_register_details(register: GLRegister) -> list[Block]:
    balance = (
        ":white_check_mark: balanced" if register.is_balanced else ":warning: *does not balance*"
    )
    shown = [
        ("Posting date", format_date(register.posting_date)),
        ("Lines", str(len(register.lines))),
        ("Debits", format_money(register.total_debit)),
        ("Credits", format_money(register.total_credit)),
        ("Balance", balance),
        ("Company", escape(register.company)),
    ]
    blocks: list[Block] = [
        header(f"GL register {register.key}"),
        fields_section(shown),
        divider(),
    ]
    rows = [
        f"`{escape(line.account)}` {escape(line.account_description)}"
        f" · Dr {format_money(line.debit)} · Cr {format_money(line.credit)}"
        + (f" · {escape(line.comment)}" if line.comment else "")
        for line in register.lines
    ]
    blocks += packed(rows, "lines") or [section("No lines.")]
    blocks.append(
        context(f"Register `{escape(register.key)}` · company {escape(register.company)}")
    )
    return blocks


DESCRIPTION = RecordDescription(
    record_type=RecordType.GL_ENTRY,
    record_class=GLRegister,
    noun="GL register",
    plural="GL registers",
    default_schedule="1h",
    record_key=lambda register: register.key,
    message=gl_register_message,
    change_lines=gl_register_changes,
    digest_row=gl_register_row,
    details=gl_register_details,
    amount=lambda register: register.total_debit,
    amount_label="debits",
    problems=lambda register: tuple(p for line in register.lines for p in line.problems),
    register_lines=True,
)
