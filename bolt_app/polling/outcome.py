"""What one poll of one resource did: what `poll --once`, the audit trail and the App Home report."""

from __future__ import annotations

from dataclasses import dataclass

from bolt_app.polling.store import PollKey


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll did; `ran` is False when another worker had this due time already."""

    key: PollKey
    ran: bool = True
    error: str | None = None
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: tuple[str, ...] = ()  # rows that did not parse: "record key: reason"
    waiting: int = 0  # stamped after the signpost, or not settled yet: the next poll has them
    queued: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        """One line a person reads: which resource, and what the poll found and queued."""
        key = self.key
        where = f"{key.team_id} {key.company} {key.record_type}"
        if self.error:
            return f"{where}: failed: {self.error}"
        if not self.ran:
            return f"{where}: skipped, another worker is polling it"
        return (
            f"{where}: {self.read} read, {self.new} new, {self.changed} changed, "
            f"{len(self.skipped)} skipped, {self.waiting} waiting, {self.queued} queued"
        )
