"""Opening the store, and schema migrations, on SQLite or PostgreSQL.

:func:`open_database` takes a SQLite file (the default, per user) or a
``postgresql://`` URL (a team's shared store) and binds the models to it;
the engine-specific parts live in :mod:`cftui.store.sqlite` and
:mod:`cftui.store.postgres`, behind :mod:`cftui.store.engine`. The
migrations below are written once, with ``playhouse.migrate`` (which picks
the engine's own migrator), and run on both.

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
from collections.abc import Callable

from peewee import SQL, Database, Field, Model, ProgrammingError
from peewee import DatabaseError as PeeweeDatabaseError
from playhouse.migrate import SchemaMigrator, migrate

from cftui import store_location as location
from cftui.errors import DataError
from cftui.store import daystats, migrate_6, sql
from cftui.store.angor_models import ANGOR_MODELS, AngorInvestment, AngorProject
from cftui.store.engine import engine_of
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
from cftui.store.sqlite import open_sqlite
from cftui.store.webhook_models import WEBHOOK_MODELS

log = logging.getLogger(__name__)

ALL_MODELS = [*CORE_MODELS, *WEBHOOK_MODELS, *ANGOR_MODELS, *RETRY_MODELS]


def _migrate_1(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(CORE_MODELS, safe=True)


def _migrate_2(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(WEBHOOK_MODELS, safe=True)


def _migrate_3(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(ANGOR_MODELS, safe=True)


def _add_missing_columns(db: Database, migrator: SchemaMigrator, model: type[Model], names: tuple[str, ...]) -> None:
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
    # FALSE, not 0: PostgreSQL's BOOLEAN takes no integer (SQLite reads FALSE as 0).
    _add_columns(db, migrator, CrowdfundApp, {"reset_every": "'Never'", "reset_every_amount": "1",
                                              "enforce_target": "FALSE", "all_store_invoices": "FALSE"})
    if payments_were_sats:
        migrate_6.payments_to_msat(db)
    migrate_6.fill_contributions(db)
    sql.execute(f'DROP INDEX IF EXISTS "{migrate_6.OLD_CROWDFUND_INDEX}"', db=db)
    db.create_tables([Invoice], safe=True)  # its indexes: the crowdfund one under its new definition
    daystats.rebuild()
    # Older versions skipped invoices with msat payments or long rates; a fresh walk fetches them.
    SyncState.update(backfill_done=False, scan_end_time=None, scan_offset=0).where(
        SyncState.source.startswith("btcpay:")
    ).execute()


def _columns(db: Database, model: type[Model]) -> set[str]:
    return {column.name for column in db.get_columns(model._meta.table_name)}


def _add_columns(db: Database, migrator: SchemaMigrator, model: type[Model], defaults: dict[str, str]) -> None:
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


def open_database(target: str | os.PathLike[str], *, migrate: bool = True) -> Database:
    """Open the store at ``target`` and bring its schema up to date.

    ``target``: a SQLite file (created if missing; ``":memory:"`` for
    throwaway use, ``sqlite:///path`` also works) or a ``postgresql://`` URL.
    The models are bound to the returned database through the ``database``
    proxy. A store that cannot be used (damaged, read-only, on a full disk)
    is a :class:`DataError` saying so (see :func:`storage_error`).
    """
    text = os.fspath(target)
    try:
        db = _open(text)
        database.initialize(db)
        db.connect(reuse_if_open=True)
        if migrate:
            _upgrade_with_rights(db, text)
    except (OSError, PeeweeDatabaseError, sqlite3.Error) as exc:
        raise storage_error(exc, text) or exc from None
    return db


def _open(text: str) -> Database:
    if location.is_postgres(text):
        from cftui.store.postgres import open_postgres

        return open_postgres(text)
    return open_sqlite(location.sqlite_path(text))


def _upgrade_with_rights(db: Database, text: str) -> None:
    try:
        upgrade(db)
    except ProgrammingError as exc:  # PostgreSQL: a role without the rights to create tables
        if "permission denied" not in str(exc):
            raise
        from cftui.store.postgres import permission_error

        raise permission_error(text, exc) from None


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
            f"The store {location.masked(str(db.database))} has schema_version {row.value!r}, which is not a number: "
            "it was not written by cftui, or it is damaged.",
            hint="Restore it from a backup, or use another --db.",
        ) from None


# SQLite's (and PostgreSQL's) own words for a store that cannot be used, and what to tell the user.
_STORAGE_PROBLEMS = (
    (("database or disk is full", "no space left"), "full"),
    (("readonly database", "read-only file system", "permission denied", "read-only transaction"), "read-only"),
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


def storage_error(exc: BaseException, path: str | os.PathLike[str] | None = None) -> DataError | None:
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
        detail = (detail.strip().splitlines() or [""])[0]  # PostgreSQL adds the statement on further lines
        lowered = detail.lower()
        for needles, kind in _STORAGE_PROBLEMS:
            if any(needle in lowered for needle in needles):
                return _storage_problem(kind, where, detail)
    return None


def _storage_problem(kind: str, where: str, detail: str) -> DataError:
    # A PostgreSQL URL may carry a password; its rights are the role's, not a file's.
    message, hint = _storage_message(kind, location.masked(where), detail)
    if kind == "read-only" and location.is_postgres(where):
        from cftui.store.postgres import WRITABLE_HINT

        hint = WRITABLE_HINT
    return DataError(message, hint=hint)


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _check_not_newer(current: int) -> None:
    if current > SCHEMA_VERSION:
        raise DataError(
            f"The store was written by a newer cftui (schema {current}, this one knows {SCHEMA_VERSION}).",
            hint="Upgrade cftui, or use another --db.",
        )


def upgrade(db: Database) -> int:
    """Run every migration newer than the database's version, all in one transaction; return the new version.

    A second process opening the same new store meanwhile (two daemons
    starting at once) waits for the first and then finds nothing to do.
    """
    found = schema_version(db)
    _check_not_newer(found)
    if found == SCHEMA_VERSION:
        return SCHEMA_VERSION
    engine = engine_of(db)
    with db.atomic():
        engine.lock(db, "schema")  # SQLite: BEGIN IMMEDIATE already holds the file's write lock
        current = schema_version(db)
        _check_not_newer(current)
        migrator = SchemaMigrator.from_database(db)
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version - 1](db, migrator)
            Meta.insert(key="schema_version", value=str(version)).on_conflict(
                conflict_target=[Meta.key], update={Meta.value: str(version)}
            ).execute()
            log.info("store schema upgraded to version %d", version)
        engine.after_upgrade(db)
    return SCHEMA_VERSION
