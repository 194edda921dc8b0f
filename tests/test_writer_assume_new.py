"""The writer's insert-only path for backfill pages (``assume_new=True``) on a real store (both engines):
the same rows, counts and roll-up as the comparing path, and a safe fallback when a record is stored."""

from __future__ import annotations

import dataclasses
import random

import peewee
import pytest
from test_writer import make_record, rollup

from cftui.config import StoreConfig
from cftui.store import daystats
from cftui.store.db import open_database
from cftui.store.models import Invoice, InvoiceDayStat, InvoicePaymentMethod, Payment
from cftui.store.writer import ensure_store, upsert_invoices


def snapshot() -> tuple[set, set, set, set]:
    """Everything stored, keyed by invoice id instead of row ids."""
    invoices = set(
        Invoice.select(Invoice.invoice_id, Invoice.status, Invoice.btc_paid_sats, Invoice.synced_time).tuples()
    )
    methods = set(
        InvoicePaymentMethod.select(Invoice.invoice_id, InvoicePaymentMethod.method, InvoicePaymentMethod.paid_sats)
        .join(Invoice).tuples()
    )
    payments = set(
        Payment.select(Invoice.invoice_id, Payment.payment_id, Payment.value, Payment.value_msat).join(Invoice).tuples()
    )
    return invoices, methods, payments, rollup()


@pytest.fixture
def open_store(new_store_target):
    def opener(name: str):
        open_database(new_store_target(name))
        return ensure_store(StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S1"))

    return opener


def write_rounds(store, rounds, assume_new: bool) -> list[tuple]:
    results = []
    for synced, batch in enumerate(rounds, 100):
        r = upsert_invoices(store, batch, synced_time=synced, assume_new=assume_new)
        results.append((r.new, r.updated, r.unchanged, sorted(r.newly_settled)))
    return results


def test_insert_only_path_matches_the_comparing_path(open_store):
    rng = random.Random(11)
    records = [make_record(i, rng, with_methods=i % 5 != 0) for i in range(400)]
    rounds = [records[:150], records[150:300], records[300:]]
    store = open_store("compare")
    compared = write_rounds(store, rounds, assume_new=False), snapshot()
    store = open_store("insert")
    inserted = write_rounds(store, rounds, assume_new=True), snapshot()
    assert inserted == compared
    assert inserted[0][0][0] == 150 and len(inserted[1][2]) > 0  # rows and payments were really written
    daystats.rebuild()
    assert rollup() == inserted[1][3]


def test_a_stored_record_falls_back_to_comparing(open_store):
    rng = random.Random(12)
    records = [make_record(i, rng, status=("New", "None"), paid_sats=0) for i in range(50)]
    changed = make_record(7, random.Random(1), status=("Settled", "None"), paid_sats=5_000)
    # A resumed page: some of it is stored already, one of those changed meanwhile.
    rounds = [records[:20], [*records[10:19], changed, *records[20:]]]
    store = open_store("compare")
    compared = write_rounds(store, rounds, assume_new=False), snapshot()
    store = open_store("insert")
    inserted = write_rounds(store, rounds, assume_new=True), snapshot()
    assert inserted == compared
    assert inserted[0][1][:3] == (30, 1, 9)
    assert Invoice.select().count() == 50 and Payment.select().count() == 1
    daystats.rebuild()
    assert rollup() == inserted[1][3]


def test_a_bad_record_still_rolls_back_everything(open_store):
    store = open_store("bad")
    rng = random.Random(13)
    broken = dataclasses.replace(make_record(2, rng), currency=None)  # violates NOT NULL
    with pytest.raises(peewee.IntegrityError):
        upsert_invoices(store, [make_record(1, rng), broken], synced_time=100, assume_new=True)
    assert Invoice.select().count() == 0 and InvoiceDayStat.select().count() == 0


def test_emptied_rollup_rows_are_deleted(open_store):
    store = open_store("emptied")
    record = make_record(1, random.Random(14), status=("New", "None"), paid_sats=0)
    upsert_invoices(store, [record], synced_time=100, assume_new=True)
    assert [(r.status, r.count) for r in InvoiceDayStat.select()] == [("New", 1)]
    settled = make_record(1, random.Random(15), status=("Settled", "None"), paid_sats=1_000)
    upsert_invoices(store, [settled], synced_time=200)
    assert [(r.status, r.count, r.btc_paid_sats) for r in InvoiceDayStat.select()] == [("Settled", 1, 1_000)]
