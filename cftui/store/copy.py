"""Copying a whole store into another one (`cftui store migrate --to URL`), exactly.

Typically a per-user SQLite file into a team's new PostgreSQL database; any
store into any other works the same way. Rows keep their ids, so every
reference and every keyset position stays as it was.

**All or nothing.** The target is written in one transaction and checked
before it commits. Each table is read back from the target and tallied the
way the source was while it was copied: the number of rows, the exact sum of
every integer column (satoshis, e8 amounts, times, counts) and a digest of
every value of every row (so decimal text, emails and metadata are compared
too). The source's row count is also taken from the database itself. Any
difference, an error or a killed process leaves the target as it was;
running the command again starts over. (A million-invoice store copies in
minutes, so starting over costs little, and there is never a half-copied
store to reason about.)

The source is read inside one read transaction (a snapshot): a sync writing
to it meanwhile is neither blocked nor half-copied. Reads are keyset
batches, so memory stays flat at any size. A target that holds anything is
refused unless ``replace`` is given.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from peewee import AutoField, BooleanField, Database, IntegerField, fn

from cftui import store_location as location
from cftui.errors import DataError
from cftui.store.db import ALL_MODELS, open_database
from cftui.store.engine import engine_of
from cftui.store.models import Meta
from cftui.store.sql import Row, execute

BATCH = 5_000
# In an order every foreign key is satisfied in (ALL_MODELS is), minus Meta: the target keeps its own.
MODELS = [model for model in ALL_MODELS if model is not Meta]

Progress = Callable[[str, int], None]  # (table, rows copied so far)


@dataclass
class Tally:
    """What a table holds: rows, the exact sum of each integer column, and a digest of every value."""

    table: str
    rows: int = 0
    sums: dict[str, int] = field(default_factory=dict)
    digest: Any = field(default_factory=lambda: hashlib.blake2b(digest_size=16), repr=False, compare=False)

    def add(self, rows: list[Row], integer_positions: dict[str, int]) -> None:
        self.rows += len(rows)
        for name, position in integer_positions.items():
            self.sums[name] = self.sums.get(name, 0) + sum(row[position] or 0 for row in rows)
        for row in rows:
            self.digest.update(repr(row).encode())

    def same_as(self, other: Tally) -> bool:
        return (self.rows, self.sums, self.digest.digest()) == (other.rows, other.sums, other.digest.digest())


@dataclass
class CopyResult:
    tables: list[Tally]
    seconds: float

    def tally(self, table: str) -> Tally:
        return next(t for t in self.tables if t.table == table)


def _integer_positions(model: Any) -> dict[str, int]:
    return {f.name: i for i, f in enumerate(model._meta.sorted_fields) if isinstance(f, IntegerField)}


def _with_bools(row: Row, flags: list[int]) -> Row:
    values = list(row)
    for i in flags:
        if values[i] is not None:
            values[i] = bool(values[i])
    return tuple(values)


def _batches(db: Database, model: Any) -> Iterator[list[Row]]:
    """Every row of ``model`` in ``db`` in primary-key order, ``BATCH`` at a time.

    Plain driver rows (peewee's per-value conversion would cost as much as the
    copy itself), with booleans made ``bool``: SQLite stores them as 0/1, so
    both engines give the same Python values."""
    key = model._meta.primary_key
    fields = model._meta.sorted_fields
    position = fields.index(key)
    flags = [i for i, f in enumerate(fields) if isinstance(f, BooleanField)]
    last = None
    while True:
        query = model.select(*fields).order_by(key).limit(BATCH)
        if last is not None:
            query = query.where(key > last)
        text, params = query.bind(db).sql()
        rows = execute(text, params, db=db).fetchall()
        if not rows:
            return
        if flags:
            rows = [_with_bools(row, flags) for row in rows]
        yield rows
        last = rows[-1][position]


def _copy_table(source: Database, target: Database, model: Any, progress: Progress) -> Tally:
    columns = [f.column_name for f in model._meta.sorted_fields]
    positions = _integer_positions(model)
    tally = Tally(model._meta.table_name)
    for rows in _batches(source, model):
        engine_of(target).bulk_insert(target, tally.table, columns, rows)
        tally.add(rows, positions)
        progress(tally.table, tally.rows)
    counted = model.select(fn.COUNT(model._meta.primary_key)).bind(source).scalar()
    if counted != tally.rows:
        raise _mismatch(tally.table, f"{tally.rows} rows read of the {counted} it holds")
    if isinstance(model._meta.primary_key, AutoField):
        engine_of(target).ids_copied(target, tally.table)
    return tally


def _read_back(target: Database, model: Any) -> Tally:
    positions = _integer_positions(model)
    tally = Tally(model._meta.table_name)
    for rows in _batches(target, model):
        tally.add(rows, positions)
    return tally


def _mismatch(table: str, what: str) -> DataError:
    return DataError(
        f"The copy of table {table} does not match the source ({what}); nothing was written.",
        hint="Run it again; if it happens again, report it with the log.",
    )


def _check(source_tally: Tally, target_tally: Tally) -> None:
    if source_tally.same_as(target_tally):
        return
    if source_tally.rows != target_tally.rows:
        raise _mismatch(source_tally.table, f"{source_tally.rows} rows, {target_tally.rows} copied")
    differ = [name for name, total in source_tally.sums.items() if target_tally.sums.get(name) != total]
    raise _mismatch(source_tally.table, f"sums of {', '.join(differ)} differ" if differ else "values differ")


@contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """A read transaction: every batch sees the store as it was when the copy began."""
    if engine_of(db).name == "postgresql":
        with db.atomic(isolation_level="REPEATABLE READ"):
            yield
    else:
        with db.atomic("DEFERRED"):  # under WAL, a snapshot that lets writers go on
            yield


def _refuse_unless_empty(target: Database, url: str) -> None:
    if any(model.select().bind(target).exists() for model in MODELS):
        raise DataError(
            f"The store at {location.masked(url)} already holds data; nothing was copied.",
            hint="Copy into an empty store, or add --replace to overwrite everything it holds.",
        )


def copy_store(
    source_location: str, target_location: str, *, replace: bool = False, progress: Progress = lambda t, n: None
) -> CopyResult:
    """Copy the store at ``source_location`` into the one at ``target_location`` (see the module doc)."""
    if source_location == target_location:
        raise DataError("The store to copy into is the one in use; name another with --to.")
    started = time.monotonic()
    source = open_database(source_location)  # an older store is upgraded first, as by any command
    target = open_database(target_location)
    try:
        if not replace:
            _refuse_unless_empty(target, target_location)
        tallies = []
        with _snapshot(source), target.atomic():
            for model in reversed(MODELS):  # children first: no foreign key stands in the way
                model.delete().bind(target).execute()
            for model in MODELS:
                tallies.append(_copy_table(source, target, model, progress))
            for model, tally in zip(MODELS, tallies, strict=True):
                _check(tally, _read_back(target, model))
        engine_of(target).after_bulk_load(target)
    finally:
        target.close()
        source.close()
    return CopyResult(tallies, time.monotonic() - started)
