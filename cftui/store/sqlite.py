"""The SQLite engine: the per-user file, its pragmas and its WAL checkpoints.

Everything here is SQLite-only; :mod:`cftui.store.engine` names the
operations both engines provide, and :mod:`cftui.store.postgres` is the other
half.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from peewee import Database, SqliteDatabase

from cftui.private_files import make_private_dir
from cftui.store import sql

log = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers (the UI) never block the writer (sync)
    "busy_timeout": 10_000,  # ms to wait for a lock before failing
    "foreign_keys": 1,
    "synchronous": "normal",  # safe with WAL: a crash loses at most the last commit
    "cache_size": -32_000,  # 32 MB page cache
}

# The sync's own writer connection checkpoints the WAL less often: it commits
# one page at a time, and checkpointing after each would rewrite the same
# index pages again and again. (~80 MB of WAL between checkpoints.)
BULK_WRITER_PRAGMAS = {"wal_autocheckpoint": 20_000}

# A latency-sensitive writer (the webhook receiver answers each delivery only
# after its commit) leaves the copying to a WalCheckpointer. Its own automatic
# checkpoint stays, at ~64 MB of WAL: under a sustained burst the writer never
# pauses long enough for the background checkpoint to find the WAL fully copied,
# so the file would not start over on its own. By then the background has
# copied nearly everything, so that commit only finishes the rest and lets the
# WAL restart. (At 16 MB instead, p99 under the webhook benchmark rose from
# ~12 ms to ~20 ms.)
LATENCY_WRITER_PRAGMAS = {"wal_autocheckpoint": 16_000}


def open_sqlite(path: str | os.PathLike[str]) -> SqliteDatabase:
    """The database of the file at ``path`` (created owner-only if missing), or ``":memory:"``."""
    if str(path) != ":memory:":
        file = Path(path)
        make_private_dir(file.parent)
        if not file.exists():
            # The store holds buyer emails and metadata: owner-only.
            file.touch(mode=0o600)
    # BEGIN IMMEDIATE: a write transaction takes the write lock at its start
    # and so waits out busy_timeout. A deferred BEGIN that later upgrades to a
    # write fails at once with "database is locked" under WAL whenever another
    # connection (a second sync, the webhook receiver) committed meanwhile.
    return SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")


def _set_pragmas(db: Database, pragmas: dict[str, int]) -> None:
    """On the calling thread's connection only (peewee keeps one per thread)."""
    for pragma, value in pragmas.items():
        sql.execute(f"PRAGMA {pragma} = {value}", db=db)


def checkpoint(db: Database) -> None:
    """Fold the WAL back into the file without waiting for readers (after a bulk write)."""
    sql.execute("PRAGMA wal_checkpoint(PASSIVE)", db=db)


class WalCheckpointer:
    """Checkpoints the WAL from a thread and connection of its own.

    SQLite's automatic checkpoint runs inside the commit that crosses 1,000
    WAL pages: that one commit copies ~4 MB back into the database and waits
    for an fsync, and under a webhook burst every request in its batch waits
    with it (p99 doubled). A PASSIVE checkpoint on another connection runs
    beside the writer instead (WAL lets a checkpoint and a writer proceed at
    once) and does its I/O with the GIL released.

    The writer calls :meth:`wrote` after a commit (a flag, nothing more); the
    thread checkpoints at most every ``interval`` seconds, and only if there
    was a write since the last time.
    """

    def __init__(self, db: Database, *, interval: float = 0.25, name: str = "cftui-wal-checkpoint") -> None:
        self._db = db
        self._interval = interval
        self._dirty = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wrote(self) -> None:
        self._dirty = True

    def stop(self) -> None:
        """Checkpoint what is left, close the thread's connection and end it (blocks until done)."""
        if self._thread.is_alive():
            self._stopping.set()
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stopping.wait(self._interval):
                self._checkpoint_if_dirty()
            self._checkpoint_if_dirty()
        finally:
            self._db.close()  # this thread's connection (peewee keeps one per thread)

    def _checkpoint_if_dirty(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        try:
            checkpoint(self._db)
        except Exception as exc:  # busy or I/O trouble: the writer's backstop checkpoint still bounds the WAL
            log.warning("WAL checkpoint failed (%s); will try again", exc)
            self._dirty = True


class SqliteEngine:
    """One file, one writer at a time (BEGIN IMMEDIATE takes the write lock), readers beside it (WAL)."""

    name = "sqlite"

    def shared(self, db: Database) -> bool:
        # An in-memory database lives in one connection: other threads cannot see it.
        return getattr(db, "database", None) != ":memory:"

    def tune_bulk_writer(self, db: Database) -> None:
        _set_pragmas(db, BULK_WRITER_PRAGMAS)

    def tune_latency_writer(self, db: Database) -> None:
        _set_pragmas(db, LATENCY_WRITER_PRAGMAS)

    def checkpoint(self, db: Database) -> None:
        checkpoint(db)

    def background_checkpointer(self, db: Database, *, name: str) -> WalCheckpointer:
        return WalCheckpointer(db, name=name)

    def reserve_ids(self, db: Database, table: str, count: int) -> Sequence[int]:
        """SQLite gives a new row one more than the largest rowid, so these are the ids it would pick.

        Valid until the caller's write transaction ends: BEGIN IMMEDIATE holds
        the write lock, so no other connection inserts meanwhile.
        """
        row = sql.execute(f'SELECT MAX("id") FROM "{table}"', db=db).fetchone()
        assert row is not None  # an aggregate without GROUP BY returns one row
        (largest,) = row
        return range((largest or 0) + 1, (largest or 0) + 1 + count)

    def inserted_id(self, cursor: Any) -> int | None:
        """The id of the row the cursor's INSERT just made; None when it made none (a conflict ignored)."""
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def pipeline(self, conn: Any) -> AbstractContextManager[object]:
        return nullcontext()  # in-process: nothing to save by sending statements together

    def lock(self, db: Database, key: str) -> None:
        """Nothing to do: the transaction's BEGIN IMMEDIATE already holds the file's one write lock."""

    def bulk_insert(self, db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        params = ", ".join("?" * len(columns))
        sql.cursor(db).executemany(f'INSERT INTO "{table}" ({names}) VALUES ({params})', rows)

    def after_bulk_load(self, db: Database) -> None:
        """Nothing: the queries choose their plans without statistics on SQLite (see cftui.store.queries)."""

    def ids_copied(self, db: Database, table: str) -> None:
        """Nothing to do: a new row gets one more than the largest rowid."""

    def after_upgrade(self, db: Database) -> None:
        """No triggers: the change watch polls high-water marks (:mod:`cftui.store.changes`)."""


ENGINE = SqliteEngine()
