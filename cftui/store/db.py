"""Opening the store, and schema migrations.

This module is the one place that knows the store is SQLite: pragmas (WAL, a
busy timeout, foreign keys) and the file's permissions. The models and
queries are portable; on PostgreSQL ``open_database`` would build a
``PostgresqlDatabase`` and the migrations below run unchanged through
``playhouse.migrate``'s ``PostgresqlMigrator``.

Schema versions (``meta.schema_version``):

1. core: stores, invoices, payment methods, payments, apps, day stats, sync state
2. webhook deliveries
3. Angor projects, stages, investments, profiles
4. the schedule of Fund/Subscribe investments (three nullable columns)
5. Angor refunds, told apart from penalties (two nullable columns)
6. exact Lightning payments and BTCPay's crowdfund rule: a payment's ``value`` and
   ``fee`` as text and in msat (were whole sats); each invoice's crowdfund
   contribution, also summed in the roll-up; the apps' reset period, enforced
   target and "count all store invoices"; and every BTCPay store walks its
   history once more, to fetch the invoices older versions skipped (msat
   payments, long rates)
7. invoices skipped as malformed, kept for a retry (``skipped_invoice``)
8. the dashboard's views: the store's default currency, crowdfund perks sold,
   what each Angor investor took back (three nullable columns), and indexes for
   amounts within a currency, problem invoices and the payments feed
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from peewee import SQL, Database, Field, SqliteDatabase
from peewee import DatabaseError as PeeweeDatabaseError
from playhouse.migrate import SchemaMigrator, migrate

from cftui.errors import DataError
from cftui.private_files import make_private_dir
from cftui.store import daystats, migrate_6
from cftui.store.angor_models import ANGOR_MODELS, AngorInvestment, AngorProject
from cftui.store.models import (
    CONTRIBUTION_FIELDS,
    CORE_MODELS,
    RETRY_MODELS,
    CrowdfundApp,
    CrowdfundPerk,
    Invoice,
    InvoiceDayStat,
    Meta,
    Payment,
    Store,
    SyncState,
    database,
)
from cftui.store.webhook_models import WEBHOOK_MODELS

log = logging.getLogger(__name__)

ALL_MODELS = [*CORE_MODELS, *WEBHOOK_MODELS, *ANGOR_MODELS, *RETRY_MODELS]

# --- SQLite-specific settings: the only SQLite-only code in the store. ---
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


def _set_pragmas(db: Database, pragmas: dict[str, int]) -> None:
    """On the calling thread's connection only (peewee keeps one per thread)."""
    for pragma, value in pragmas.items():
        db.execute_sql(f"PRAGMA {pragma} = {value}")


def tune_bulk_writer(db: Database) -> None:
    """Call on the connection (thread) that does a sync's writes."""
    _set_pragmas(db, BULK_WRITER_PRAGMAS)


def checkpoint(db: Database) -> None:
    """Fold the WAL back into the file without waiting for readers (after a bulk write)."""
    db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")


# A latency-sensitive writer (the webhook receiver answers each delivery only
# after its commit) leaves the copying to a WalCheckpointer. Its own automatic
# checkpoint stays, at ~64 MB of WAL: under a sustained burst the writer never
# pauses long enough for the background checkpoint to find the WAL fully copied,
# so the file would not start over on its own. By then the background has
# copied nearly everything, so that commit only finishes the rest and lets the
# WAL restart. (At 16 MB instead, p99 under the webhook benchmark rose from
# ~12 ms to ~20 ms.)
LATENCY_WRITER_PRAGMAS = {"wal_autocheckpoint": 16_000}


def tune_latency_writer(db: Database) -> None:
    """Call on the connection (thread) of a writer that runs beside a :class:`WalCheckpointer`."""
    _set_pragmas(db, LATENCY_WRITER_PRAGMAS)


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


def next_row_id(db: Database, table: str, column: str = "id") -> int:
    """The first free row id of ``table``, for a writer that numbers new rows
    itself so their children can reference them without reading them back.

    SQLite gives a new row one more than the largest rowid, so this is the id
    it would pick. Valid until the caller's write transaction ends: BEGIN
    IMMEDIATE holds the write lock, so no other connection inserts meanwhile.
    (PostgreSQL would draw the ids from the column's sequence instead.)
    """
    largest = db.execute_sql(f'SELECT MAX("{column}") FROM "{table}"').fetchone()[0]
    return (largest or 0) + 1


def _migrate_1(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(CORE_MODELS, safe=True)


def _migrate_2(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(WEBHOOK_MODELS, safe=True)


def _migrate_3(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(ANGOR_MODELS, safe=True)


def _add_missing_columns(db: Database, migrator: SchemaMigrator, model: type, names: tuple[str, ...]) -> None:
    # A store whose tables create_tables made at a later version already has them (the model has them).
    table = model._meta.table_name
    present = _columns(db, model)
    migrate(*(migrator.add_column(table, name, getattr(model, name)) for name in names if name not in present))


def _migrate_4(db: Database, migrator: SchemaMigrator) -> None:
    _add_missing_columns(db, migrator, AngorInvestment, ("schedule_start", "pattern_id", "stage_count"))


def _migrate_5(db: Database, migrator: SchemaMigrator) -> None:
    _add_missing_columns(db, migrator, AngorProject, ("refunds_count", "refunds_sats"))


def _migrate_6(db: Database, migrator: SchemaMigrator) -> None:
    # A store created at version 4 or earlier lacks these; one created later by create_tables has them.
    payments_were_sats = "value_sats" in _columns(db, Payment)
    if payments_were_sats:
        migrate(migrator.rename_column(Payment._meta.table_name, "value_sats", "value_msat"),
                migrator.rename_column(Payment._meta.table_name, "fee_sats", "fee_msat"))
    _add_columns(db, migrator, Payment, {"value": "''", "fee": "'0'"})
    _add_columns(db, migrator, Invoice, dict.fromkeys(CONTRIBUTION_FIELDS, "0"))
    _add_columns(db, migrator, InvoiceDayStat, dict.fromkeys(CONTRIBUTION_FIELDS, "0"))
    _add_columns(db, migrator, CrowdfundApp, {"reset_every": "'Never'", "reset_every_amount": "1",
                                              "enforce_target": "0", "all_store_invoices": "0"})
    if payments_were_sats:
        migrate_6.payments_to_msat(db)
    migrate_6.fill_contributions(db)
    db.execute_sql(f'DROP INDEX IF EXISTS "{migrate_6.OLD_CROWDFUND_INDEX}"')
    Invoice._schema.create_indexes(safe=True)
    daystats.rebuild()
    # Older versions skipped invoices with msat payments or long rates; a fresh walk fetches them.
    SyncState.update(backfill_done=False, scan_end_time=None, scan_offset=0).where(
        SyncState.source.startswith("btcpay:")
    ).execute()


def _columns(db: Database, model) -> set[str]:
    return {column.name for column in db.get_columns(model._meta.table_name)}


def _add_columns(db: Database, migrator: SchemaMigrator, model, defaults: dict[str, str]) -> None:
    """Add the model's columns ``defaults`` names that the table lacks, each NOT NULL with a SQL default:
    one ALTER TABLE each and no rewrite of the rows (adding NOT NULL later would copy the table)."""
    present = _columns(db, model)
    for name, default in defaults.items():
        if name not in present:
            field: Field = getattr(model, name).clone()
            field.constraints = [SQL(f"DEFAULT {default}")]
            migrate(migrator.add_column(model._meta.table_name, name, field, allow_not_null=True))


def _migrate_7(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(RETRY_MODELS, safe=True)


def _migrate_8(db: Database, migrator: SchemaMigrator) -> None:
    # Self-contained: a store created at version 8 or later already has all of it (the models have it).
    _add_missing_columns(db, migrator, Store, ("default_currency",))
    # Unknown (NULL) until the next Angor sync reads the chain again.
    _add_missing_columns(db, migrator, AngorInvestment, ("recovered_sats", "refunded_sats", "penalty_sats"))
    operations = []
    present = {index.name for table in ("invoice", "payment") for index in db.get_indexes(table)}
    if "invoice_amount_e8_id" in present:
        operations.append(migrator.drop_index("invoice", "invoice_amount_e8_id"))
    for table, columns in (("invoice", ("currency", "amount_e8", "id")),
                           ("invoice", ("additional_status", "created_time", "id")),
                           ("payment", ("received_time", "id"))):
        if f"{table}_{'_'.join(columns)}" not in present:
            operations.append(migrator.add_index(table, columns))
    migrate(*operations)
    db.create_tables([CrowdfundPerk], safe=True)


MIGRATIONS: list[Callable[[Database, SchemaMigrator], None]] = [
    _migrate_1, _migrate_2, _migrate_3, _migrate_4, _migrate_5, _migrate_6, _migrate_7, _migrate_8,
]
SCHEMA_VERSION = len(MIGRATIONS)


def open_database(path: str | os.PathLike, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the store at ``path`` and bring its schema up to date.

    ``path`` may be ``":memory:"`` for throwaway use. The models are bound to
    the returned database through the ``database`` proxy. A store that cannot
    be used (damaged, read-only, on a full disk) is a :class:`DataError`
    saying so (see :func:`storage_error`).
    """
    try:
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
        db = SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
        database.initialize(db)
        db.connect(reuse_if_open=True)
        if migrate:
            upgrade(db)
    except (OSError, PeeweeDatabaseError, sqlite3.Error) as exc:
        raise storage_error(exc, path) or exc from None
    return db


def schema_version(db: Database) -> int:
    if not db.table_exists(Meta._meta.table_name):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    if row is None:
        return 0
    try:
        return int(row.value)
    except ValueError:
        raise DataError(
            f"The store {db.database} has schema_version {row.value!r}, which is not a number: "
            "it was not written by cftui, or it is damaged.",
            hint="Restore it from a backup, or use another --db.",
        ) from None


# SQLite's own words for a store that cannot be used, and what to tell the user.
_STORAGE_PROBLEMS = (
    (("database or disk is full", "no space left"), "full"),
    (("readonly database", "read-only file system", "permission denied"), "read-only"),
    (("file is not a database", "disk image is malformed", "file is encrypted"), "damaged"),
    (("unable to open database file", "not a directory", "is a directory"), "unopenable"),
    (("disk i/o error",), "io"),
)


def _storage_message(kind: str, path: str, detail: str) -> tuple[str, str]:
    return {
        "full": (f"The disk holding the store {path} is full ({detail}); everything stored so far is kept.",
                 "Free some space and run again."),
        "read-only": (f"The store {path} cannot be written ({detail}).",
                      "Check the permissions of the file and its directory (a read-only mount?), or use another --db."),
        "damaged": (f"The store {path} is not a cftui store, or it is damaged ({detail}); it was left as it is.",
                    "Restore it from a backup, or use another --db (a new file is a new store)."),
        "unopenable": (f"Cannot open the store at {path} ({detail}).",
                       "Give --db (or CFTUI_DB) a file path in a directory you can write."),
        "io": (f"A disk error while using the store {path} ({detail}).",
               "Check the disk (dmesg, SMART), then run again."),
    }[kind]


def storage_error(exc: BaseException, path: str | os.PathLike | None = None) -> DataError | None:
    """The one clear :class:`DataError` for a store that cannot be used, or None if ``exc`` is something else.

    The whole chain of causes is read: after "database or disk is full" a
    failed COMMIT makes peewee's rollback fail too, and that second error
    ("cannot rollback - no transaction is active") hides the first.
    """
    where = str(path) if path is not None else str(getattr(database.obj, "database", "") or "(the store)")
    for error in _chain(exc):
        if isinstance(error, DataError):
            return error
        if not isinstance(error, (OSError, PeeweeDatabaseError, sqlite3.Error)):
            continue
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        lowered = detail.lower()
        for needles, kind in _STORAGE_PROBLEMS:
            if any(needle in lowered for needle in needles):
                message, hint = _storage_message(kind, where, detail)
                return DataError(message, hint=hint)
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def upgrade(db: Database) -> int:
    """Run every migration newer than the database's version; return the new version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise DataError(
            f"The store was written by a newer cftui (schema {current}, this one knows {SCHEMA_VERSION}).",
            hint="Upgrade cftui, or use another --db.",
        )
    migrator = SchemaMigrator.from_database(db)
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db, migrator)
            Meta.insert(key="schema_version", value=str(version)).on_conflict(
                conflict_target=[Meta.key], update={Meta.value: str(version)}
            ).execute()
        log.info("store schema upgraded to version %d", version)
    return SCHEMA_VERSION
