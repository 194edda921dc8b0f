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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from peewee import Database, ProgrammingError
from playhouse.migrate import SchemaMigrator, migrate

from cftui.errors import DataError
from cftui.store import location
from cftui.store.angor_models import ANGOR_MODELS, AngorInvestment, AngorProject
from cftui.store.engine import engine_of
from cftui.store.models import CORE_MODELS, Meta, database
from cftui.store.sqlite import open_sqlite
from cftui.store.webhook_models import WEBHOOK_MODELS

log = logging.getLogger(__name__)

ALL_MODELS = [*CORE_MODELS, *WEBHOOK_MODELS, *ANGOR_MODELS]


def _migrate_1(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(CORE_MODELS, safe=True)


def _migrate_2(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(WEBHOOK_MODELS, safe=True)


def _migrate_3(db: Database, migrator: SchemaMigrator) -> None:
    db.create_tables(ANGOR_MODELS, safe=True)


def _add_missing_columns(db: Database, migrator: SchemaMigrator, model: type, names: tuple[str, ...]) -> None:
    # A store whose tables create_tables made at a later version already has them (the model has them).
    table = model._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    migrate(*(migrator.add_column(table, name, getattr(model, name)) for name in names if name not in present))


def _migrate_4(db: Database, migrator: SchemaMigrator) -> None:
    _add_missing_columns(db, migrator, AngorInvestment, ("schedule_start", "pattern_id", "stage_count"))


def _migrate_5(db: Database, migrator: SchemaMigrator) -> None:
    _add_missing_columns(db, migrator, AngorProject, ("refunds_count", "refunds_sats"))


MIGRATIONS: list[Callable[[Database, SchemaMigrator], None]] = [
    _migrate_1, _migrate_2, _migrate_3, _migrate_4, _migrate_5,
]
SCHEMA_VERSION = len(MIGRATIONS)


def open_database(target: str | os.PathLike, *, migrate: bool = True) -> Database:
    """Open the store at ``target`` and bring its schema up to date.

    ``target``: a SQLite file (created if missing; ``":memory:"`` for
    throwaway use, ``sqlite:///path`` also works) or a ``postgresql://`` URL.
    The models are bound to the returned database through the ``database``
    proxy.
    """
    text = os.fspath(target)
    if location.is_postgres(text):
        from cftui.store.postgres import open_postgres

        db: Database = open_postgres(text)
    else:
        db = open_sqlite(location.sqlite_path(text))
    database.initialize(db)
    db.connect(reuse_if_open=True)
    if migrate:
        try:
            upgrade(db)
        except ProgrammingError as exc:  # PostgreSQL: a role without the rights to create tables
            if "permission denied" not in str(exc):
                raise
            from cftui.store.postgres import permission_error

            raise permission_error(text, exc) from None
    return db


def schema_version(db: Database) -> int:
    if not db.table_exists(Meta._meta.table_name):
        return 0
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


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
