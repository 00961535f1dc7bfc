"""Burst collapse: a poll that finds more than N new records for one channel posts one digest.

A month-end import or a backfill must not bury a channel under hundreds of messages; the digest
says how many, their total, the first few, and where to see the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

DEFAULT_BURST_THRESHOLD = 20

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
