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
