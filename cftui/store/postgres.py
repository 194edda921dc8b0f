"""The PostgreSQL engine: one store shared by a team's daemons and dashboards.

Peewee's own :class:`~peewee.PostgresqlDatabase` on psycopg 3; nothing
here speaks the wire protocol. What SQLite got from its single write lock is
made explicit:

* **Writers of one store take turns.** :meth:`PostgresEngine.lock` takes a
  transaction-scoped advisory lock on a name (``store:<id>`` for a store's
  invoices, ``webhook_delivery`` for the receivers' inserts). Two daemons
  syncing different BTCPay stores never wait for each other; a sync and a
  webhook writing the same store do, exactly as on SQLite, so the
  compare-then-write upsert and its roll-up deltas never see a stale row.
* **New ids come from the sequences** (``nextval``), never from ``MAX(id)``.
* **Change notifications.** A statement trigger on every table the dashboard
  shows calls ``pg_notify`` with the table's source (``invoices``,
  ``webhooks``, ``angor``); the notice is delivered when, and only if, the
  transaction commits. :mod:`cftui.store.changes` listens for them.

The database must sort text by code point (``LC_COLLATE 'C'``, as SQLite
does): prefix search is a range over an index, and keyset pages must order
the same way on both engines. It is checked when the store opens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from peewee import Database, OperationalError, PostgresqlDatabase

from cftui import store_location as location
from cftui.errors import AuthError, ConfigError, DataError, UnreachableError
from cftui.store import sql

log = logging.getLogger(__name__)

MIN_SERVER_VERSION = 110000  # EXECUTE FUNCTION in triggers, hashtextextended
CHANNEL_PREFIX = "cftui:"  # + the schema: two stores in one database do not hear each other
TRIGGER = "cftui_changed"
SETUP_HINT = "See the README, \"A team store on PostgreSQL\", for the database and role to create."
ROLE_HINT = "The store's role needs to own the schema the store lives in. " + SETUP_HINT
WRITABLE_HINT = (
    "A store needs a server that takes writes (the primary, not a read replica) and a role that owns the "
    "store's schema. " + SETUP_HINT
)
# Defaults for libpq parameters the URL does not set.
CONNECT_DEFAULTS = {
    "application_name": "cftui",
    "connect_timeout": "10",
    # A daemon's connection idles between syncs; keepalives notice a dead peer
    # (and keep firewalls from dropping it) instead of hanging on the next query.
    "keepalives": "1",
    "keepalives_idle": "60",
}


class PostgresStore(PostgresqlDatabase):
    """Peewee's PostgresqlDatabase that replaces a connection the server dropped.

    Peewee keeps one connection per thread for the life of the process. After
    a server restart or a failover that connection is dead; psycopg marks it
    ``broken``, and the next use outside a transaction opens a new one instead
    of failing forever. (A transaction cut off midway still fails: its writes
    are gone, and its caller reports or retries it as for any other error.)
    """

    _state: Any  # peewee's per-thread connection state (not in its stubs)

    # peewee's stubs declare connection() and cursor() without types: hence the two ignores below.
    def connection(self) -> Any:
        self._replace_broken()
        return super().connection()  # type: ignore[no-untyped-call]  # see above

    def cursor(self, named_cursor: Any = None) -> Any:
        self._replace_broken()
        return super().cursor(named_cursor)  # type: ignore[no-untyped-call]  # see above

    def _replace_broken(self) -> None:
        conn = self._state.conn
        if conn is not None and getattr(conn, "broken", False) and not self.in_transaction():
            log.warning("the connection to the PostgreSQL store was lost; opening a new one")
            self._state.reset()


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "A PostgreSQL store needs the psycopg driver, which is not installed.",
            hint="Install it with: pip install 'cftui[postgresql]' (or pip install 'psycopg[binary]').",
        ) from None
    return psycopg


def connect_params(url: str) -> dict[str, Any]:
    """:data:`CONNECT_DEFAULTS` minus what the URL sets itself."""
    given = _driver().conninfo.conninfo_to_dict(url)
    return {key: value for key, value in CONNECT_DEFAULTS.items() if key not in given}


def open_postgres(url: str) -> PostgresStore:
    """Connect to the store at ``url`` and check the database fits (encoding, collation, schema)."""
    psycopg = _driver()
    try:
        params = connect_params(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"The store URL {location.masked(url)} is not valid: {_first_line(exc)}.") from None
    db = PostgresStore(url, prefer_psycopg3=True, **params)
    try:
        db.connect()
    except OperationalError as exc:
        raise connect_error(url, exc) from None
    _check_database(db, url)
    return db


def connect_error(url: str, exc: BaseException) -> Exception:
    """One line for a failed connection; the password never appears in it."""
    message = location.masked(_first_line(exc))
    shown = location.masked(url)
    if "password" in message or "authentication" in message or "permission denied" in message:
        return AuthError(
            f"The PostgreSQL store at {shown} refused the login: {message}.",
            hint="Check the user and password (in the URL, PGPASSWORD or ~/.pgpass).",
        )
    return UnreachableError(
        f"Cannot connect to the PostgreSQL store at {shown}: {message}.",
        hint="Check that the server runs and the URL's host, port and database are right.",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0].rstrip(".")


def _check_database(db: Database, url: str) -> None:
    row = sql.execute(
        "SELECT current_setting('server_version_num')::int, pg_encoding_to_char(encoding), datcollate, "
        # Code-point order, as SQLite sorts: '-' (0x2D) before 'b', 'B' before 'a'.
        "'a-c' < 'ab' AND 'B' < 'a', current_schema() "
        "FROM pg_database WHERE datname = current_database()",
        db=db,
    ).fetchone()
    assert row is not None  # the database we are connected to is in pg_database
    version, encoding, collate, binary_order, schema = row
    shown = location.masked(url)
    if version < MIN_SERVER_VERSION:
        raise DataError(f"The PostgreSQL server of {shown} is version {version // 10000}; cftui needs 11 or newer.")
    if encoding != "UTF8" or not binary_order:
        raise DataError(
            f"The database of {shown} has encoding {encoding} and collation {collate}; "
            "cftui needs UTF8 and the C collation (text sorted by code point, as on SQLite).",
            hint="Create it with ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0. " + SETUP_HINT,
        )
    if schema is None:
        raise DataError(
            f"The role of {shown} has no schema to keep the store in (none of its search_path exists).",
            hint="Create one it owns (CREATE SCHEMA cftui AUTHORIZATION <role>) and set its search_path. "
            + SETUP_HINT,
        )


def permission_error(url: str, exc: BaseException) -> DataError:
    return DataError(
        f"The role of {location.masked(url)} may not change the store's schema: {_first_line(exc)}.",
        hint=ROLE_HINT,
    )


class _NoCheckpointer:
    """PostgreSQL needs no WAL upkeep from its clients."""

    def start(self) -> None:
        pass

    def wrote(self) -> None:
        pass

    def stop(self) -> None:
        pass


class PostgresEngine:
    name = "postgresql"

    def shared(self, db: Database) -> bool:
        return True

    def tune_bulk_writer(self, db: Database) -> None:
        pass

    def tune_latency_writer(self, db: Database) -> None:
        pass

    def checkpoint(self, db: Database) -> None:
        pass

    def background_checkpointer(self, db: Database, *, name: str) -> _NoCheckpointer:
        return _NoCheckpointer()

    def reserve_ids(self, db: Database, table: str, count: int) -> Sequence[int]:
        if count <= 0:
            return []
        cursor = sql.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (f'"{table}"', count), db=db
        )
        return [value for (value,) in cursor.fetchall()]

    def inserted_id(self, cursor: Any) -> int | None:
        # Peewee's INSERTs on PostgreSQL end in RETURNING id; a conflict ignored returns no row.
        row = cursor.fetchone() if cursor.description is not None else None
        return row[0] if row else None

    def pipeline(self, conn: Any) -> AbstractContextManager[object]:
        pipeline: AbstractContextManager[object] = conn.pipeline()
        return pipeline  # psycopg's pipeline mode: one round trip for the statements inside

    def lock(self, db: Database, key: str) -> None:
        # Scoped to the schema, so two stores in one database never wait on each other.
        sql.execute("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 0))", (key,), db=db)

    def bulk_insert(self, db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        # COPY: one stream instead of a statement per row (several times faster than executemany).
        names = ", ".join(f'"{c}"' for c in columns)
        cursor: Any = sql.cursor(db)  # psycopg's, whose COPY is no part of the DB-API
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as stream:
            for row in rows:
                stream.write_row(row)

    def after_bulk_load(self, db: Database) -> None:
        """VACUUM ANALYZE now rather than whenever autovacuum comes by: statistics for the planner, and the
        visibility map that lets the medians' value-order walks read only the index (on a million freshly
        copied invoices the all-time KPIs took 1.2 s before it, 66 ms after). Outside any transaction."""
        tables = ", ".join(f'"{table}"' for table in db.get_tables())  # the store's own: the role owns those
        sql.execute(f"VACUUM ANALYZE {tables}", db=db)

    def ids_copied(self, db: Database, table: str) -> None:
        # The sequence would hand out ids the copied rows already have.
        sql.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), MAX(\"id\")) FROM \"{table}\" HAVING COUNT(*) > 0",
            (f'"{table}"',),
            db=db,
        )

    def after_upgrade(self, db: Database) -> None:
        from cftui.store.changes import notifying_tables

        with db.atomic():
            sql.execute(
                f"CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"PERFORM pg_notify('{CHANNEL_PREFIX}' || TG_TABLE_SCHEMA, TG_ARGV[0]); RETURN NULL; END $$",
                db=db,
            )
            for table, source in notifying_tables().items():
                sql.execute(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}"', db=db)
                sql.execute(
                    f'CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}('{source}')",
                    db=db,
                )


def channel(db: Database) -> str:
    """The notification channel of the store ``db`` opened (its schema's)."""
    row = sql.execute("SELECT current_schema()", db=db).fetchone()
    assert row is not None  # a SELECT without FROM returns one row
    (schema,) = row  # never null: open_postgres refuses a role without a schema
    return f"{CHANNEL_PREFIX}{schema}"


ENGINE = PostgresEngine()
