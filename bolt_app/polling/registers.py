"""GL registers: gl-postings lines grouped per (SourceJournal, JournalRegisterNo).

A batch writes its lines over a minute or so and reads are not transactional, so a register is
announced only once none of its lines is younger than the signpost (quiet for the settle lag);
one whose debits and credits do not match yet (lines still coming, seconds apart) waits longer,
until its newest line is `REGISTER_QUIET` older than the signpost, so a half-read register is
not announced as out of balance.
Lines that arrive after the announcement are "late": the message is updated and a reply says so.
The stored snapshot holds every line, so an update can rebuild the whole register (and the
version before it) even when its early lines have left the read window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bolt_app.polling.codec import from_json, to_json
from bolt_app.polling.tracking import version_of
from bolt_app.polling.window import PollWindow, is_due
from sage.records import GLPosting, GLRegister

REGISTER_QUIET = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class RegisterSplit:
    """Registers ready to announce, and the oldest stamp of those still being written."""

    settled: tuple[tuple[tuple[str, str], tuple[GLPosting, ...]], ...]
    hold_from: datetime | None
    held_count: int


def split_registers(
    lines: Iterable[GLPosting], window: PollWindow, *, quiet: timedelta = REGISTER_QUIET
) -> RegisterSplit:
    """Groups lines; a register with any line past the signpost waits whole for the next poll,
    and so does one that does not balance yet and had a line within `quiet` of the signpost."""
    groups: dict[tuple[str, str], list[GLPosting]] = {}
    for line in lines:
        groups.setdefault(line.register_key, []).append(line)
    settled = []
    held_stamps: list[datetime] = []
    held = 0
    for key, group in groups.items():
        if all(is_due(line.stamps.changed_at, window) for line in group) and (
            _balances(group) or _quiet_since(group, window.signpost - quiet)
        ):
            settled.append((key, tuple(group)))
        else:
            held += len(group)
            held_stamps.extend(s for line in group if (s := line.stamps.changed_at) is not None)
    return RegisterSplit(tuple(settled), min(held_stamps, default=None), held)


def _balances(lines: Sequence[GLPosting]) -> bool:
    return sum(line.debit for line in lines) == sum(line.credit for line in lines)


def _quiet_since(lines: Sequence[GLPosting], moment: datetime) -> bool:
    return all(line.stamps.changed_at is None or line.stamps.changed_at <= moment for line in lines)


def register_key(key: tuple[str, str]) -> str:
    return f"{key[0]}-{key[1]}"


@dataclass(frozen=True, slots=True)
class RegisterState:
    """A register with every line known so far, what was known before, and the lines added."""

    register: GLRegister
    previous: GLRegister | None
    added: tuple[GLPosting, ...]
    snapshot: dict[str, Any]

    @property
    def version(self) -> str:
        return version_of(self.snapshot)


def _register(
    company: str, key: tuple[str, str], snapshot: Mapping[str, Any], zone: ZoneInfo
) -> GLRegister:
    lines = sorted(
        (from_json(GLPosting, data, zone) for data in snapshot.values()),
        key=lambda line: (line.sequence_no, line.record_key),
    )
    return GLRegister(
        company=company, source_journal=key[0], register_no=key[1], lines=tuple(lines)
    )


def merge_register(
    company: str,
    key: tuple[str, str],
    previous: Mapping[str, Any] | None,
    lines: Sequence[GLPosting],
    zone: ZoneInfo,
) -> RegisterState:
    """Adds lines not in `previous` (keyed by RecordKey); re-read lines change nothing."""
    known = dict(previous or {})
    added = tuple(line for line in lines if line.record_key not in known)
    snapshot = {**known, **{line.record_key: to_json(line) for line in added}}
    return RegisterState(
        register=_register(company, key, snapshot, zone),
        previous=None if previous is None else _register(company, key, known, zone),
        added=added,
        snapshot=snapshot,
    )
