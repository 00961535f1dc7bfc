"""The collector after start-up: what start-up made is left alone, later garbage still goes."""

import gc
import weakref

import pytest

from mlc_common.heap import YOUNG_COLLECTION_EVERY, settle_start_up


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def restored_collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_what_start_up_made_is_no_longer_walked_by_collections(restored_collector):
    loaded = {"module": "state"}
    settle_start_up()
    assert not any(item is loaded for item in gc.get_objects())
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY


def test_a_cycle_made_after_start_up_is_still_collected(restored_collector):
    settle_start_up()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None
