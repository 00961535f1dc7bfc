"""Reading the agent's next page while the poll plans and commits the one it has.

The agent is another machine (another process at least): without reading ahead, the connector
waits for each page, then the agent waits while the connector works on it. A bounded queue keeps
at most `depth` pages ahead, so memory stays a few pages whatever the poll's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


@asynccontextmanager
async def read_ahead(
    source: AsyncGenerator[T, None], depth: int = 2
) -> AsyncIterator[AsyncIterator[T]]:
    """`source`'s items, fetched up to `depth` ahead by a task of their own; an error of the
    source is raised where its item would have come, and leaving the block stops the task and
    closes the source (its open response with it)."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def fill() -> None:
        try:
            async for item in source:
                await queue.put(item)
        except Exception as error:  # noqa: BLE001 - handed to the reader, raised there
            await queue.put(_Failed(error))
            return
        finally:
            await source.aclose()
        await queue.put(_DONE)

    async def items() -> AsyncIterator[T]:
        while (item := await queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]

    filler = asyncio.create_task(fill())
    try:
        yield items()
    finally:
        filler.cancel()
        await asyncio.gather(filler, return_exceptions=True)


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
