"""Plain SQL on the store's database, typed and portable.

The hot paths (the writer, the roll-up, migrations) skip peewee's query
builder and speak DB-API: the statement text in the open database's own
quoting and parameter style, the driver's cursor underneath. Peewee's stubs
leave ``execute_sql`` and ``cursor`` untyped and type a ``.tuples()`` query as
yielding model instances, so the store goes through the few functions here,
which say what comes back: a cursor, rows as tuples.

An ``IN (…)`` list of any length is cut with :mod:`cftui.store.chunking`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, cast

from peewee import BaseQuery, Database, ExceptionWrapper, Model, SelectQuery
from peewee import __exception_wrapper__ as _peewee_errors  # type: ignore[attr-defined]  # not in peewee's stubs

from cftui.store.chunking import IN_LIST_LIMIT, chunks
from cftui.store.models import database

Row = tuple[Any, ...]  # one row as the driver returns it; its shape is the statement's column list


class DbCursor(Protocol):
    """The part of a DB-API cursor (sqlite3's, psycopg's) the store uses."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object: ...


# Maps the driver's exceptions to peewee's portable ones (IntegrityError, OperationalError...), as
# peewee's own execute_sql does; a bare driver cursor raises the driver's.
portable_errors: ExceptionWrapper = _peewee_errors


def execute(sql: str, params: Sequence[Any] = (), *, db: Database | None = None) -> DbCursor:
    """Run one statement on ``db`` (the open store by default); its cursor, to fetch from."""
    target: Database = database.obj if db is None else db
    # peewee's stubs declare execute_sql without types; it returns the driver's cursor.
    return cast(DbCursor, target.execute_sql(sql, params))  # type: ignore[no-untyped-call]  # see above


def cursor(db: Database | None = None) -> DbCursor:
    """A fresh cursor of ``db``'s connection (the open store by default)."""
    target: Database = database.obj if db is None else db
    # peewee's stubs declare cursor() without types; it is the driver's cursor.
    return cast(DbCursor, target.cursor())  # type: ignore[no-untyped-call]  # see above


def executemany(sql: str, rows: Sequence[Sequence[Any]], *, db: Database | None = None) -> None:
    """Run ``sql`` once per row, in one driver call; errors as peewee's portable ones. Nothing for no rows."""
    if rows:
        with portable_errors:
            cursor(db).executemany(sql, rows)


def tuples(query: BaseQuery) -> Iterator[Row]:
    """The rows of a peewee query as plain tuples, streamed (its select list gives their shape)."""
    # .tuples() makes the query yield tuples at run time; the stubs still type its items as the model.
    return cast(Iterator[Row], iter(query.tuples().iterator()))


def first_tuple(query: SelectQuery) -> Row | None:
    """The first row of a peewee query as a plain tuple, or None."""
    for row in tuples(query.limit(1)):
        return row
    return None


def quoted(name: str) -> str:
    """A table or column name in the open database's quotes."""
    opening, closing = database.quote
    return f"{opening}{name}{closing}"


def table(model: type[Model]) -> str:
    return quoted(model._meta.table_name)


def column(model: type[Model], field: str) -> str:
    """The column of ``model``'s field named ``field`` (a foreign key's is ``<name>_id``)."""
    return quoted(model._meta.fields[field].column_name)


def columns(model: type[Model], fields: Iterable[str]) -> str:
    """``a, b, c``: the columns of ``fields``, for a select or insert list."""
    return ", ".join(column(model, field) for field in fields)


def params(count: int) -> str:
    """``?, ?, ?`` (or ``%s``): ``count`` parameter markers in the open database's style."""
    return ", ".join([database.param] * count)


def select_in(sql_head: str, values: Sequence[Any], *head_params: Any) -> list[Row]:
    """All rows of ``sql_head IN (values)``, one statement per :data:`IN_LIST_LIMIT` values.

    ``sql_head`` ends with the column the list applies to (``SELECT … WHERE "x"``); ``head_params`` are the
    values of its own markers, before the list's."""
    out: list[Row] = []
    for chunk in chunks(values, IN_LIST_LIMIT):
        out.extend(execute(f"{sql_head} IN ({params(len(chunk))})", (*head_params, *chunk)).fetchall())
    return out


def delete_in(model: type[Model], field: str, values: Sequence[Any]) -> None:
    """Delete ``model``'s rows whose ``field`` is one of ``values``."""
    for chunk in chunks(values, IN_LIST_LIMIT):
        execute(f"DELETE FROM {table(model)} WHERE {column(model, field)} IN ({params(len(chunk))})", chunk)
