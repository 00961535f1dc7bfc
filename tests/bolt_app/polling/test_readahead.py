import asyncio

import pytest

from bolt_app.polling.readahead import read_ahead


class Listing:
    """An agent listing of `pages` pages that counts how far it has been read."""

    def __init__(self, pages: int, fail_at: int | None = None) -> None:
        self.pages, self.fail_at, self.fetched = pages, fail_at, 0
        self.closed = False

    async def read(self):
        try:
            for number in range(self.pages):
                if number == self.fail_at:
                    raise ConnectionError("the agent went away")
                self.fetched += 1
                yield number
                await asyncio.sleep(0)
        finally:
            self.closed = True


async def test_pages_come_in_order_while_the_next_ones_are_fetched():
    listing = Listing(10)
    seen = []
    async with read_ahead(listing.read(), depth=2) as pages:
        async for page in pages:
            await asyncio.sleep(0.01)  # the poll planning and committing a batch
            assert listing.fetched <= page + 1 + 2 + 1  # never more than `depth` ahead
            seen.append(page)
    assert seen == list(range(10))


async def test_the_next_page_is_fetched_while_one_is_worked_on():
    listing = Listing(3)
    async with read_ahead(listing.read(), depth=2) as pages:
        first = await anext(pages)
        await asyncio.sleep(0.01)
        assert first == 0 and listing.fetched == 3


async def test_an_agent_error_is_raised_where_its_page_would_come():
    listing = Listing(5, fail_at=3)
    seen = []
    with pytest.raises(ConnectionError, match="the agent went away"):
        async with read_ahead(listing.read()) as pages:
            async for page in pages:
                seen.append(page)
    assert seen == [0, 1, 2]


async def test_leaving_early_stops_reading_the_agent():
    listing = Listing(1000)
    with pytest.raises(RuntimeError):
        async with read_ahead(listing.read(), depth=2) as pages:
            async for _ in pages:
                raise RuntimeError("the database refused the batch")
    assert listing.fetched <= 4 and listing.closed
