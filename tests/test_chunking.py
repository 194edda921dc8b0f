"""One way to cut a long list, and IN (…) lists that fit the oldest SQLite's parameter limit."""

from __future__ import annotations

import random
import sqlite3

import pytest
from test_writer import make_record

from cftui.config import Secret, StoreConfig
from cftui.store import retry
from cftui.store.chunking import IN_LIST_LIMIT, chunks
from cftui.store.models import Payment, SkippedInvoice, database
from cftui.store.retry import Skip
from cftui.store.writer import clear_pending, ensure_store, pending_invoices, queue_invoice, upsert_invoices

OLDEST_SQLITE_LIMIT = 999  # SQLITE_MAX_VARIABLE_NUMBER before SQLite 3.32


def test_chunks_are_consecutive_slices_of_at_most_n():
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks("abcdef", 3)) == ["abc", "def"]
    assert list(chunks([], 500)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1], 0))


@pytest.mark.parametrize("engine_name", ["sqlite"])  # the limit is SQLite's
def test_clearing_more_ids_than_one_statement_may_bind(db):
    store = ensure_store(StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S", api_key=Secret("k")))
    ids = [f"inv{i:05d}" for i in range(2 * OLDEST_SQLITE_LIMIT + 3)]
    with database.atomic():
        retry.record(store, [Skip(i, None, "bad amount") for i in ids])
    # As an SQLite older than 3.32 would: a statement binding more than 999 parameters fails.
    database.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, OLDEST_SQLITE_LIMIT)
    assert retry.clear(store, ids) == len(ids)
    assert SkippedInvoice.select().count() == 0


@pytest.mark.parametrize("engine_name", ["sqlite"])  # the limit is SQLite's
def test_the_writer_compares_and_replaces_more_invoices_than_one_statement_may_bind(db):
    store = ensure_store(StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S1", api_key=Secret("k")))
    count = OLDEST_SQLITE_LIMIT + 501
    assert count > 2 * IN_LIST_LIMIT  # three lists of each kind
    upsert_invoices(store, [make_record(i, random.Random(i), paid_sats=1_000) for i in range(count)], synced_time=1)
    database.connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, OLDEST_SQLITE_LIMIT)
    # Each reads its stored row and payments through an IN (…) list, and its payments change: replaced.
    changed = [make_record(i, random.Random(i), paid_sats=2_000) for i in range(count)]
    assert upsert_invoices(store, changed, synced_time=2).updated == count
    assert Payment.select().where(Payment.value_msat == 2_000_000).count() == count
    assert pending_invoices(store) == []
    for i in range(count):
        queue_invoice(store, f"inv{i:05d}", "webhook while the API was down")
    assert clear_pending(store, [f"inv{i:05d}" for i in range(count)]) == count
