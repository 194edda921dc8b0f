"""The background WAL checkpointer: it folds committed pages back into the database file from its own thread."""

from __future__ import annotations

import os
import threading

import pytest
from waiting import wait_for

from cftui.store.models import Meta, database
from cftui.store.sqlite import ENGINE, WalCheckpointer

PAYLOAD = "x" * 4000  # one page each, so the file sizes below are easy to reason about
ROWS = 500  # ~2 MB: over SQLite's default automatic checkpoint (1,000 pages) if it were still on


# The WAL is SQLite's own: these tests run on the SQLite store only.
pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"])


def tune_latency_writer(db) -> None:
    ENGINE.tune_latency_writer(db)


def _write(rows: int) -> None:
    with database.atomic():
        for i in range(rows):
            Meta.insert(key=f"k{i}", value=PAYLOAD).execute()


def running(thread_name: str) -> bool:
    return any(thread.name == thread_name for thread in threading.enumerate())


def test_a_latency_writer_leaves_its_commits_in_the_wal(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    _write(ROWS)
    # Nothing was copied back by the commit itself: the database file did not grow.
    assert os.path.getsize(tmp_path / "store.sqlite3") == before
    assert os.path.getsize(tmp_path / "store.sqlite3-wal") > ROWS * 4000


def test_a_checkpointer_not_told_of_a_write_leaves_the_wal_alone(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    checkpointer = WalCheckpointer(db, interval=0.01, name="test-wal-checkpoint")
    checkpointer.start()
    _write(ROWS)  # many of its passes while this runs
    # stop() returns after its last pass (and ends the thread): a later point than any window a sleep would give.
    checkpointer.stop()
    assert not running("test-wal-checkpoint")
    assert os.path.getsize(tmp_path / "store.sqlite3") == before


def test_the_checkpointer_copies_committed_pages_back_after_a_write(db, tmp_path):
    tune_latency_writer(db)
    before = os.path.getsize(tmp_path / "store.sqlite3")
    checkpointer = WalCheckpointer(db, interval=0.01, name="test-wal-checkpoint")
    checkpointer.start()
    try:
        _write(ROWS)
        checkpointer.wrote()
        wait_for(lambda: os.path.getsize(tmp_path / "store.sqlite3") > before + ROWS * 4000, "the pages copied back")
    finally:
        checkpointer.stop()
    assert not running("test-wal-checkpoint")
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
