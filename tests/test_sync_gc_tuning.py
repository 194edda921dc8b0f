"""A sync raises the young-generation GC threshold while it runs and restores it after."""

from __future__ import annotations

import gc

import pytest

from cftui.sync.gc_tuning import SYNC_YOUNG_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_thresholds_are_raised_then_restored_even_when_nested():
    with fewer_collections():
        assert gc.get_threshold() == (SYNC_YOUNG_THRESHOLD, 10, 10)
        with fewer_collections():  # a second sync in the same process
            assert gc.get_threshold()[0] == SYNC_YOUNG_THRESHOLD
        assert gc.get_threshold()[0] == SYNC_YOUNG_THRESHOLD  # the first one still runs
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_after_an_error_and_never_lowered():
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("sync failed")
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(100_000, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 100_000
    assert gc.get_threshold()[0] == 100_000
