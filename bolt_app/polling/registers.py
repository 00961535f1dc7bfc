"""GL registers: gl-postings lines grouped per (SourceJournal, JournalRegisterNo).

A batch writes its lines over a minute or so and reads are not transactional, so a register is
announced only once none of its lines is younger than the signpost (quiet for the settle lag).
Lines that arrive after the announcement are "late": the message is updated and a reply says so.
The stored snapshot holds every line, so an update can rebuild the whole register even when its
early lines have left the read window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bolt_app.polling.tracking import version_of
from bolt_app.polling.window import PollWindow, is_due
from sage.records import AuditStamps, GLPosting, GLRegister


@dataclass(frozen=True, slots=True)
class RegisterSplit:
    """Registers ready to announce, and the oldest stamp of those still being written."""

    settled: tuple[tuple[tuple[str, str], tuple[GLPosting, ...]], ...]
    hold_from: datetime | None
    held_count: int


def split_registers(lines: Iterable[GLPosting], window: PollWindow) -> RegisterSplit:
    """Groups lines; a register with any line past the signpost waits whole for the next poll."""
    groups: dict[tuple[str, str], list[GLPosting]] = {}
    for line in lines:
        groups.setdefault(line.register_key, []).append(line)
    settled = []
    held_stamps: list[datetime] = []
    held = 0
    for key, group in groups.items():
        if all(is_due(line.stamps.changed_at, window) for line in group):
            settled.append((key, tuple(group)))
        else:
            held += len(group)
            held_stamps.extend(s for line in group if (s := line.stamps.changed_at) is not None)
    return RegisterSplit(tuple(settled), min(held_stamps, default=None), held)


def register_key(key: tuple[str, str]) -> str:
    return f"{key[0]}-{key[1]}"


def _line_to_json(line: GLPosting) -> dict[str, str]:
    return {
        "account_key": line.account_key,
        "account": line.account,
        "account_description": line.account_description,
        "posting_date": line.posting_date.isoformat() if line.posting_date else "",
        "sequence_no": line.sequence_no,
        "comment": line.comment,
        "debit": str(line.debit),
        "credit": str(line.credit),
        "batch_no": line.batch_no,
        "source_module": line.source_module,
        "created_at": line.stamps.created_at.isoformat() if line.stamps.created_at else "",
        "created_by": line.stamps.created_by,
    }


def _line_from_json(
    company: str, key: tuple[str, str], record_key: str, data: Mapping[str, str]
) -> GLPosting:
    return GLPosting(
        company=company,
        record_key=record_key,
        account_key=data["account_key"],
        account=data["account"],
        account_description=data["account_description"],
        posting_date=date.fromisoformat(data["posting_date"]) if data["posting_date"] else None,
        source_journal=key[0],
        register_no=key[1],
        sequence_no=data["sequence_no"],
        comment=data["comment"],
        debit=Decimal(data["debit"]),
        credit=Decimal(data["credit"]),
        batch_no=data["batch_no"],
        source_module=data["source_module"],
        stamps=AuditStamps(
            created_at=datetime.fromisoformat(data["created_at"]) if data["created_at"] else None,
            created_by=data["created_by"],
        ),
    )


@dataclass(frozen=True, slots=True)
class RegisterState:
    """A register with every line known so far, and the lines this poll added."""

    register: GLRegister
    added: tuple[GLPosting, ...]
    snapshot: dict[str, dict[str, str]]

    @property
    def version(self) -> str:
        return version_of(self.snapshot)


def merge_register(
    company: str,
    key: tuple[str, str],
    previous: Mapping[str, Mapping[str, str]] | None,
    lines: Sequence[GLPosting],
) -> RegisterState:
    """Adds lines not in `previous` (keyed by RecordKey); re-read lines change nothing."""
    known = dict(previous or {})
    added = tuple(line for line in lines if line.record_key not in known)
    snapshot = {k: dict(v) for k, v in known.items()}
    for line in added:
        snapshot[line.record_key] = _line_to_json(line)
    ordered = sorted(snapshot.items(), key=lambda item: (item[1]["sequence_no"], item[0]))
    register = GLRegister(
        company=company,
        source_journal=key[0],
        register_no=key[1],
        lines=tuple(_line_from_json(company, key, rk, data) for rk, data in ordered),
    )
    return RegisterState(register, added, snapshot)


def late_lines_note(added: Sequence[GLPosting]) -> str:
    debit = sum((line.debit for line in added), Decimal(0))
    credit = sum((line.credit for line in added), Decimal(0))
    noun = "line" if len(added) == 1 else "lines"
    return f"{len(added)} late {noun} added: debits +{debit:,.2f}, credits +{credit:,.2f}"
