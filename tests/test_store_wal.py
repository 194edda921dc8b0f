"""The background WAL checkpointer: it folds committed pages back into the database file from its own thread."""

from __future__ import annotations

import os
import time

import pytest

from cftui.store.sqlite import ENGINE, WalCheckpointer
from cftui.store.models import Meta

PAYLOAD = "x" * 4000  # one page each, so the file sizes below are easy to reason about
ROWS = 500  # ~2 MB: over SQLite's default automatic checkpoint (1,000 pages) if it were still on


# The WAL is SQLite's own: these tests run on the SQLite store only.
pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"])


def tune_latency_writer(db) -> None:
    ENGINE.tune_latency_writer(db)


def _write(rows: int) -> None:
    with Meta._meta.database.atomic():
        for i in range(rows):
            Meta.insert(key=f"k{i}", value=PAYLOAD).execute()


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_latency_writer_leaves_its_commits_in_the_wal(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    _write(ROWS)
    # Nothing was copied back by the commit itself: the database file did not grow.
    assert os.path.getsize(tmp_path / "store.sqlite3") == before
    assert os.path.getsize(tmp_path / "store.sqlite3-wal") > ROWS * 4000


def test_the_checkpointer_copies_committed_pages_back_after_a_write(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    checkpointer = WalCheckpointer(db, interval=0.01)
    checkpointer.start()
    try:
        _write(ROWS)
        time.sleep(0.1)
        # Not told about the write yet: it leaves the WAL alone.
        assert os.path.getsize(tmp_path / "store.sqlite3") == before
        checkpointer.wrote()
        assert _wait_for(lambda: os.path.getsize(tmp_path / "store.sqlite3") > before + ROWS * 4000)
    finally:
        checkpointer.stop()
    assert not checkpointer._thread.is_alive()
    assert Meta.select().where(Meta.value == PAYLOAD).count() == ROWS


def test_stopping_checkpoints_what_is_left(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    checkpointer = WalCheckpointer(db, interval=3600)  # would never wake on its own within the test
    checkpointer.start()
    _write(ROWS)
    checkpointer.wrote()
    checkpointer.stop()
    assert os.path.getsize(tmp_path / "store.sqlite3") > before + ROWS * 4000
