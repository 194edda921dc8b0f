"""The store writer on a real store (SQLite and PostgreSQL): idempotent upserts and an exact roll-up."""

from __future__ import annotations

import dataclasses
import random

import peewee
import pytest

from cftui import clock
from cftui.btcpay.parse import parse_invoice
from cftui.config import StoreConfig
from cftui.store import daystats
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoiceDayStat, InvoicePaymentMethod, Payment, Store
from cftui.store.records import AppRecord
from cftui.store.writer import (
    clear_pending,
    ensure_store,
    pending_invoices,
    queue_invoice,
    upsert_apps,
    upsert_invoices,
)

STATUSES = [("New", "None"), ("Processing", "None"), ("Settled", "None"), ("Settled", "PaidOver"),
            ("Expired", "PaidPartial"), ("Invalid", "Marked")]


@pytest.fixture
def store(db):
    return ensure_store(StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S1"))


def btc(sats: int) -> str:
    return f"{sats // 100_000_000}.{sats % 100_000_000:08d}"


def make_record(i: int, rng: random.Random, *, status=None, paid_sats=None, with_methods=True):
    status, additional = status or rng.choice(STATUSES)
    sats = rng.randrange(0, 5_000_000) if paid_sats is None else paid_sats
    obj = {
        "id": f"inv{i:05d}", "storeId": "S1", "amount": f"{rng.randrange(1, 100000)}.{rng.randrange(100):02d}",
        "paidAmount": "1.00", "currency": rng.choice(["USD", "EUR", "JPY"]), "type": "Standard",
        "createdTime": 1_700_000_000 + i * 3_001, "expirationTime": 1_700_000_900 + i * 3_001,
        "monitoringExpiration": 1_700_086_400 + i * 3_001, "status": status, "additionalStatus": additional,
        "archived": i % 7 == 0, "metadata": {"orderId": f"o{i}"},
    }
    methods = [{
        "paymentMethodId": "BTC-CHAIN", "currency": "BTC", "rate": "60000", "paymentMethodPaid": btc(sats),
        "totalPaid": "0", "due": "0", "amount": "0.001", "paymentMethodFee": "0", "activated": True,
        "destination": "bc1q", "paymentLink": "bitcoin:bc1q",
        "payments": [{"id": f"{i:064x}-0", "receivedDate": 1_700_000_100, "value": btc(sats), "fee": "0",
                      "status": "Settled", "destination": "bc1q"}] if sats else [],
    }]
    return parse_invoice(obj, payment_methods=methods if with_methods else None)


def rollup() -> set[tuple]:
    return set(
        InvoiceDayStat.select(
            InvoiceDayStat.store, InvoiceDayStat.day, InvoiceDayStat.status, InvoiceDayStat.additional_status,
            InvoiceDayStat.currency, InvoiceDayStat.count, InvoiceDayStat.amount_e8, InvoiceDayStat.paid_e8,
            InvoiceDayStat.btc_paid_sats, *(getattr(InvoiceDayStat, name) for name in CONTRIBUTION_FIELDS),
        ).tuples()
    )


def test_second_upsert_changes_nothing(store):
    rng = random.Random(1)
    records = [make_record(i, rng) for i in range(300)]
    first = upsert_invoices(store, records, synced_time=100)
    assert (first.new, first.updated, first.unchanged) == (300, 0, 0)
    assert Invoice.select().count() == 300
    settled = {r.invoice_id for r in records if r.status == "Settled"}
    assert set(first.newly_settled) == settled
    second = upsert_invoices(store, records, synced_time=200)
    assert (second.new, second.updated, second.unchanged, second.newly_settled) == (0, 0, 300, [])
    # Nothing was rewritten: synced_time still says the first write.
    assert {row.synced_time for row in Invoice.select(Invoice.synced_time)} == {100}
    total = sum(r.btc_paid_sats for r in records)
    assert sum(row.btc_paid_sats for row in Invoice.select(Invoice.btc_paid_sats)) == total
    assert sum(row.value_msat for row in Payment.select(Payment.value_msat)) == total * 1000


def test_changes_are_written_and_reported(store):
    rng = random.Random(2)
    upsert_invoices(store, [make_record(i, rng, status=("New", "None"), paid_sats=0) for i in range(10)],
                    synced_time=100)
    changed = make_record(3, random.Random(99), status=("Settled", "None"), paid_sats=12_345)
    result = upsert_invoices(store, [changed], synced_time=200)
    assert (result.updated, result.newly_settled) == (1, ["inv00003"])
    row = Invoice.get(Invoice.invoice_id == "inv00003")
    assert (row.status, row.btc_paid_sats, row.synced_time) == ("Settled", 12_345, 200)
    assert [(p.value, p.value_msat) for p in Payment.select().where(Payment.invoice == row)] == [
        ("0.00012345", 12_345_000)]


def test_record_without_payment_methods_keeps_stored_ones(store):
    rng = random.Random(3)
    full = make_record(1, rng, status=("Settled", "None"), paid_sats=777)
    upsert_invoices(store, [full], synced_time=100)
    bare = dataclasses.replace(full, payment_methods=None, archived=not full.archived)
    result = upsert_invoices(store, [bare], synced_time=200)
    assert result.updated == 1
    row = Invoice.get(Invoice.invoice_id == "inv00001")
    assert row.btc_paid_sats == 777 and row.archived == bare.archived
    assert InvoicePaymentMethod.select().count() == 1 and Payment.select().count() == 1


def test_incremental_rollup_equals_rebuild(store):
    rng = random.Random(4)
    for round_ in range(5):
        # Overlapping batches with changed statuses and payments each round.
        batch = [make_record(i, rng, with_methods=rng.random() < 0.7) for i in range(round_ * 40, round_ * 40 + 120)]
        upsert_invoices(store, batch, synced_time=round_)
    incremental = rollup()
    assert incremental and all(row[5] > 0 for row in incremental)
    daystats.rebuild()
    assert rollup() == incremental


def test_upsert_is_atomic(store):
    rng = random.Random(5)
    good = make_record(1, rng)
    broken = dataclasses.replace(make_record(2, rng), currency=None)  # violates NOT NULL
    with pytest.raises(peewee.IntegrityError):
        upsert_invoices(store, [good, broken], synced_time=100)
    assert Invoice.select().count() == 0 and InvoiceDayStat.select().count() == 0


def test_pending_queue(store):
    clock.freeze(1_000)
    try:
        queue_invoice(store, "a", "webhook while API down")
        clock.freeze(1_001)
        queue_invoice(store, "b", "webhook while API down")
        clock.freeze(1_002)
        queue_invoice(store, "a", "again")  # still queued once, now the newest
    finally:
        clock.freeze(None)
    assert pending_invoices(store) == ["b", "a"]
    assert clear_pending(store, ["a"]) == 1
    assert pending_invoices(store) == ["b"]


def test_apps_upsert_is_idempotent(store):
    apps = [AppRecord(app_id="a1", name="Fund", app_type="Crowdfund", archived=False, created_time=5,
                      target_currency="USD", target_amount="100", target_e8=10_000_000_000)]
    assert upsert_apps(store, apps) == 1
    assert upsert_apps(store, apps) == 0
    assert upsert_apps(store, [dataclasses.replace(apps[0], archived=True)]) == 1


def test_ensure_store_follows_the_config(store):
    again = ensure_store(StoreConfig(name="main", url="http://127.0.0.1:2", store_id="S1"))
    assert again.id == store.id and Store.get_by_id(store.id).url == "http://127.0.0.1:2"
