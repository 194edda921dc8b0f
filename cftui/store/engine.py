"""The operations whose SQL differs between SQLite and PostgreSQL, behind one interface.

The models and queries are portable; the few things that are not (how new
row ids are drawn, how an INSERT reports its id, how writers of one store
are kept apart, WAL upkeep) are methods of an engine:
:class:`~cftui.store.sqlite.SqliteEngine` or
:class:`~cftui.store.postgres.PostgresEngine`. Code asks
``engine_of(db)`` (or :func:`current` for the open store) instead of probing
the database object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from peewee import Database, PostgresqlDatabase

from cftui.store.models import database


class Checkpointer(Protocol):
    def start(self) -> None: ...
    def wrote(self) -> None: ...
    def stop(self) -> None: ...


class Engine(Protocol):
    name: str  # "sqlite" | "postgresql"

    def shared(self, db: Database) -> bool:
        """True when other threads and processes see the same data (not a ``:memory:`` SQLite)."""

    def tune_bulk_writer(self, db: Database) -> None:
        """Settings for the calling thread's connection when it does a sync's bulk writes."""

    def tune_latency_writer(self, db: Database) -> None:
        """Settings for the calling thread's connection when it answers requests after each commit."""

    def checkpoint(self, db: Database) -> None:
        """Housekeeping after a burst of writes (SQLite folds its WAL back)."""

    def background_checkpointer(self, db: Database, *, name: str) -> Checkpointer:
        """That housekeeping on a thread of its own, for a latency-sensitive writer."""

    def reserve_ids(self, db: Database, table: str, count: int) -> Sequence[int]:
        """``count`` fresh ``id`` values of ``table`` for rows the caller inserts in its transaction."""

    def inserted_id(self, cursor: Any) -> int | None:
        """The id of the row the cursor's INSERT just made; None when a conflict left it out."""

    def pipeline(self, conn: Any) -> AbstractContextManager[object]:
        """Statements run on ``conn`` inside it may be sent together, their results read after it ends."""

    def lock(self, db: Database, key: str) -> None:
        """Keep other writers that lock ``key`` out until this transaction ends."""

    def bulk_insert(self, db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert many rows of plain Python values (inside the caller's transaction), the engine's fastest way."""

    def after_bulk_load(self, db: Database) -> None:
        """After a whole store was loaded at once: what the planner needs to know about it."""

    def ids_copied(self, db: Database, table: str) -> None:
        """Rows came into ``table`` with their ids given: new rows must be numbered after them."""

    def after_upgrade(self, db: Database) -> None:
        """Run after the schema changed (PostgreSQL: the change-notification triggers)."""


def engine_of(db: Database) -> Engine:
    if isinstance(db, PostgresqlDatabase):
        from cftui.store.postgres import ENGINE

        return ENGINE
    from cftui.store.sqlite import ENGINE as SQLITE

    return SQLITE


def current() -> Engine:
    """The engine of the open store."""
    return engine_of(database.obj)
