"""Which slice of the agent's change log one poll reads, and where the cursor may move after it.

All stamps are the agent's wall clock (aware datetimes in the Sage server's zone): the connector's
own clock never bounds a read, so a skewed connector neither skips nor repeats records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_LOOKBACK = timedelta(minutes=10)
DEFAULT_SETTLE_LAG = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class PollWindow:
    """`since` is sent to the agent (inclusive); records stamped after `signpost` wait."""

    since: datetime | None  # None: from the beginning
    signpost: datetime
    baseline: bool  # first connection without backfill: remember what exists, post nothing


def plan_window(
    cursor: datetime | None,
    server_now: datetime,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    settle_lag: timedelta = DEFAULT_SETTLE_LAG,
    backfill: timedelta | None = None,
    whole_baseline: bool = False,
) -> PollWindow:
    """The lookback re-reads late writes and coarse stamps; seen versions make that silent.

    `whole_baseline` remembers every existing record at first connection (the chart of
    accounts is small, and a later change can then be shown as old -> new).
    """
    signpost = server_now - settle_lag
    if cursor is not None:
        since = cursor - repeated_hour(cursor) - lookback
        return PollWindow(since=since, signpost=signpost, baseline=False)
    if backfill:
        return PollWindow(since=server_now - backfill, signpost=signpost, baseline=False)
    # A baseline records everything up to the agent's "now" as already seen.
    since = None if whole_baseline else server_now - lookback
    return PollWindow(since=since, signpost=server_now, baseline=True)


def repeated_hour(wall: datetime) -> timedelta:
    """How far the agent's clock went back if `wall` lies in an autumn repeat, else zero.

    Stamps are wall clock: after a fall-back the second 01:00-02:00 is stamped below a cursor
    left at 01:50 by the first one. While the cursor names a repeated wall time, the window
    reaches back over the whole repeat, so nothing written in the second pass is skipped;
    seen versions keep the re-read silent.
    """
    first = wall.replace(fold=0).utcoffset()
    second = wall.replace(fold=1).utcoffset()
    if first is None or second is None or first <= second:
        return timedelta(0)
    return first - second


def is_due(stamp: datetime | None, window: PollWindow) -> bool:
    """A record is handled now unless it was stamped after the signpost (maybe half-written)."""
    return stamp is None or stamp <= window.signpost


def advance_cursor(
    cursor: datetime | None,
    window: PollWindow,
    read_stamps: Iterable[datetime | None],
    *,
    hold_from: datetime | None = None,
) -> datetime | None:
    """Forward only, to the newest stamp actually handled, never past the signpost.

    `hold_from` is the oldest stamp of something deliberately left unfinished (a GL register
    still being written); the cursor stays at or before it so the next poll reads it again.
    A first connection (no cursor yet) always leaves one, at the signpost when it read nothing
    there, so the next poll is not taken for a first connection again (a second "connected").
    """
    stamps = [stamp for stamp in read_stamps if stamp is not None]
    candidate = min(max(stamps), window.signpost) if stamps else None
    if window.baseline or (cursor is None and candidate is None):
        candidate = window.signpost
    if hold_from is not None and candidate is not None:
        candidate = min(candidate, hold_from)
    if candidate is None:
        return cursor
    if cursor is None:
        return candidate
    return max(cursor, candidate)
