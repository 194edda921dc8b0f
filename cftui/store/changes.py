"""Noticing writes by other processes: a sync, a daemon, another host.

The dashboard asks :meth:`ChangeFeed.changes` about once a second which
sources (``invoices``, ``webhooks``, ``angor``) changed since it last asked.

* **SQLite**: a poll of a few cheap high-water marks. Every mark is an
  indexed MAX or a read of the few ``SyncState`` rows: no full scan of a
  million invoices (``MAX(synced_time)`` has no index and took ~230 ms on 1M
  rows). One writer at a time means ids grow in commit order, and a sync
  commits its ``SyncState`` with each page and at its end, so these marks
  see every write that matters.
* **PostgreSQL**: LISTEN/NOTIFY. Triggers on the tables
  (:meth:`cftui.store.postgres.PostgresEngine.after_upgrade`) notify with
  the table's source when a transaction commits. The poll would not be
  exact there: sequence ids are drawn at INSERT, and two daemons commit in
  any order, so a row with a smaller id can land after the mark moved past
  it, and updates move no mark at all. A notification is sent by the server
  at commit, only for committed work and for every writer, on any host,
  whatever its code path. The cost is one idle connection per dashboard;
  draining it is a local read, no query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from peewee import Database, SelectBase, fn

from cftui.store import sql as store_sql
from cftui.store.angor_models import ANGOR_MODELS, AngorProject
from cftui.store.models import CORE_MODELS, RETRY_MODELS, Invoice, Meta, PendingInvoice, SyncState, database
from cftui.store.webhook_models import WEBHOOK_MODELS, WebhookDelivery

log = logging.getLogger(__name__)

INVOICES, WEBHOOKS, ANGOR = "invoices", "webhooks", "angor"
ALL_SOURCES = frozenset({INVOICES, WEBHOOKS, ANGOR})
# Tables whose writes the dashboard does not show.
_QUIET = (Meta, PendingInvoice)


def notifying_tables() -> dict[str, str]:
    """Table -> the source a write to it changes (a table added later to the core counts as invoices)."""
    tables = {}
    groups = ((CORE_MODELS, INVOICES), (RETRY_MODELS, INVOICES), (WEBHOOK_MODELS, WEBHOOKS), (ANGOR_MODELS, ANGOR))
    for models, source in groups:
        for model in models:
            if model not in _QUIET:
                tables[model._meta.table_name] = source
    return tables


def _widen(sources: set[str]) -> frozenset[str]:
    # Processing a delivery re-reads its invoice.
    return frozenset(sources | {INVOICES} if WEBHOOKS in sources else sources)


class ChangeFeed(Protocol):
    def changes(self) -> frozenset[str]:
        """The sources written since the last call (the first call sets the start: empty)."""

    def close(self) -> None: ...


# ---------------------------------------------------------------- SQLite: high-water marks


@dataclass(frozen=True)
class Marks:
    delivery_id: int
    invoice_id: int
    sync_states: tuple[tuple[Any, ...], ...]  # every SyncState row's progress fields
    angor_synced: int

    def changed_sources(self, before: Marks) -> frozenset[str]:
        changed: set[str] = set()
        if self.delivery_id != before.delivery_id:
            changed.add(WEBHOOKS)
        if self.invoice_id != before.invoice_id or self.sync_states != before.sync_states:
            changed.add(INVOICES)
        if self.angor_synced != before.angor_synced:
            changed.add(ANGOR)
        return _widen(changed)


def _max(query: SelectBase) -> int:
    return int(query.scalar() or 0)


def read_marks() -> Marks:
    states = (
        SyncState.select(
            SyncState.source,
            SyncState.last_started_time,
            SyncState.last_success_time,
            SyncState.last_error_time,
            SyncState.scan_offset,
            SyncState.newest_seen_time,
        )
        .order_by(SyncState.source)
    )
    return Marks(
        delivery_id=_max(WebhookDelivery.select(fn.MAX(WebhookDelivery.id))),
        invoice_id=_max(Invoice.select(fn.MAX(Invoice.id))),
        sync_states=tuple(store_sql.tuples(states)),
        angor_synced=_max(AngorProject.select(fn.MAX(AngorProject.synced_time))),
    )


class MarksFeed:
    def __init__(self) -> None:
        self._marks: Marks | None = None

    def changes(self) -> frozenset[str]:
        before, self._marks = self._marks, read_marks()
        return frozenset() if before is None else self._marks.changed_sources(before)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- PostgreSQL: LISTEN/NOTIFY


class NotifyFeed:
    """Listens on a connection of its own (the models' connections stay free for queries)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Any = None
        self._started = False  # listened once: a later (re)connection may have missed notices
        self._warned = False

    def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        from cftui.store.postgres import channel, connect_params

        url = self._db.database
        conn = psycopg.connect(url, autocommit=True, **connect_params(url))
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(self._db))))
        except Exception:
            conn.close()
            raise
        self._conn = conn

    def changes(self) -> frozenset[str]:
        if self._conn is None:
            return self._reconnect()
        try:
            payloads = {notice.payload for notice in self._conn.notifies(timeout=0)}
        except Exception as exc:  # the server went away: listen again on the next call
            log.warning("lost the store's change notifications (%s); listening again", exc)
            self.close()
            return frozenset()
        return _widen(payloads & ALL_SOURCES)

    def _reconnect(self) -> frozenset[str]:
        try:
            self._listen()
        except Exception as exc:  # the server is down: the next call tries again
            if not self._warned:
                log.warning("cannot listen for the store's changes (%s); trying again", exc)
            self._warned = True
            return frozenset()
        first, self._started, self._warned = not self._started, True, False
        # Anything may have changed while nobody listened.
        return frozenset() if first else ALL_SOURCES

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def open_feed(db: Database | None = None) -> ChangeFeed:
    """A feed for the open store (or ``db``); call :meth:`ChangeFeed.changes` once to start it."""
    from cftui.store.engine import engine_of

    db = db if db is not None else database.obj
    return NotifyFeed(db) if engine_of(db).name == "postgresql" else MarksFeed()
