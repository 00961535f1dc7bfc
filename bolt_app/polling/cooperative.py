"""Long loops of a poll give the event loop back every few hundred items.

A poll of 100,000 records hashes, compares and formats for seconds of CPU; run in one go it
would hold the loop that also answers Slack (`serve` must acknowledge within 3 s) and runs the
delivery worker. At a few microseconds to a millisecond per item, 200 items stay well under the
~100 ms a step may take.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

YIELD_EVERY = 200

T = TypeVar("T")


async def cooperatively(items: Iterable[T], every: int = YIELD_EVERY) -> AsyncIterator[T]:
    """The items in order, letting other tasks run after every `every` of them."""
    for index, item in enumerate(items):
        if index and index % every == 0:
            await asyncio.sleep(0)
        yield item
