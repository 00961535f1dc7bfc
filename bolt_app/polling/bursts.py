"""Burst collapse: a poll that finds more than N new or N changed records for one channel posts
one digest each.

A month-end import, a backfill or a batch posted in Sage must not bury a channel under hundreds
of messages; the digest says how many, their total, the first few, and where to see the rest.
A burst of changes also updates at most `DEFAULT_BURST_UPDATES` of the earlier messages in
place (the newest, which people still see), without a thread reply each: at Slack's pace of one
message per second per channel, the whole burst then costs under a minute of that channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

DEFAULT_BURST_THRESHOLD = 20
DEFAULT_BURST_UPDATES = 50

T = TypeVar("T")


def collapse_bursts(
    posts: Iterable[T], channel_of: Callable[[T], str], threshold: int = DEFAULT_BURST_THRESHOLD
) -> tuple[list[T], dict[str, list[T]]]:
    """(posts to send one by one, {channel: posts to fold into one digest}), order kept."""
    by_channel: dict[str, list[T]] = {}
    for post in posts:
        by_channel.setdefault(channel_of(post), []).append(post)
    single: list[T] = []
    digests: dict[str, list[T]] = {}
    for channel, group in by_channel.items():
        if len(group) > threshold:
            digests[channel] = group
        else:
            single.extend(group)
    return single, digests


def newest_parents(
    changes: Iterable[T], parent_of: Callable[[T], int | None], budget: int = DEFAULT_BURST_UPDATES
) -> list[T]:
    """The changes whose earlier message is among the `budget` newest, oldest first (the
    order Slack is called in); changes without an earlier message are left out."""
    if budget <= 0:
        return []
    with_parent = [change for change in changes if parent_of(change) is not None]
    with_parent.sort(key=lambda change: parent_of(change) or 0)
    return with_parent[-budget:]
