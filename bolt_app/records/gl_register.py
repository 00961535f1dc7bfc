"""GL registers: gl-postings lines grouped per journal register, tracked per register."""

from __future__ import annotations

from bolt_app.records.description import RecordDescription
from sage.records import GLRegister, RecordType

DESCRIPTION = RecordDescription(
    record_type=RecordType.GL_ENTRY,
    record_class=GLRegister,
    noun="GL register",
    plural="GL registers",
    default_schedule="1h",
    record_key=lambda register: register.key,
    amount=lambda register: register.total_debit,
    amount_label="debits",
    problems=lambda register: tuple(p for line in register.lines for p in line.problems),
    register_lines=True,
)
