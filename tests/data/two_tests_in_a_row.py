"""Run by tests/test_isolation.py in a pytest of its own, not collected in the suite: two tests in a row,
the first leaves its store open and bound, the second checks the shared fixtures cleaned up after it."""

from __future__ import annotations

import pytest

from cftui.store.db import open_database
from cftui.store.models import Invoice

left_open = []


def test_leaves_its_store_open_and_bound(tmp_path):
    left_open.append(open_database(tmp_path / "store.sqlite3"))
    assert Invoice.select().count() == 0


def test_the_next_test_finds_it_closed_and_nothing_bound():
    assert left_open[0].is_closed()
    with pytest.raises(AttributeError, match="uninitialized"):
        Invoice.select().count()
