"""Sync benchmark: 100,000 and 1,000,000 simulator invoices, end to end over loopback, on SQLite and PostgreSQL.

Measured in the same run, per engine, against the same simulator process
(``python -m cftui.sim``) and the same pages (``take=1000``, ``endDate``
pinned, archived included, payment methods embedded):

* sync: ``cftui.sync.engine.sync_store`` from an empty store until the
  backfill is done: HTTP, exact parsing and validation, idempotent upserts,
  the daily roll-up, resumable scan state;
* floor: the same pages' raw bytes, fetched beforehand (outside the timing),
  decoded with ``json.loads`` and inserted as plain tuples in one
  transaction into the same schema: invoices, payment methods and payments,
  with no validation. SQLite: ``sqlite3.executemany``. PostgreSQL: psycopg's
  ``COPY`` (its fastest load), with 0 in the integer columns that SQLite
  takes decimal text into as it is (PostgreSQL refuses the text; 0 costs
  nothing). Pages are fetched and replayed in chunks so a million invoices
  (~2.4 GB of JSON) never sit in memory at once.

Target: the sync reaches at least half the floor's invoices/second.

Run: ``pytest tests/benchmarks/bench_sync.py -s``; only 100k:
``CFTUI_BENCH_SYNC_SIZES=100000 pytest tests/benchmarks/bench_sync.py -s``; one engine: ``-k sqlite``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from cftui import clock
from cftui.config import Secret, StoreConfig, SyncConfig
from cftui.store.db import open_database
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, SyncState
from cftui.store.sqlite import SQLITE_PRAGMAS
from cftui.sync.engine import sync_store

NOW = 1_780_000_000
PAGE = 1000
CHUNK_PAGES = 20  # floor pages held in memory at once
SIZES = tuple(int(s) for s in os.environ.get("CFTUI_BENCH_SYNC_SIZES", "100000,1000000").split(","))

pytestmark = pytest.mark.benchmark


class SimProcess:
    """``python -m cftui.sim`` in its own process, as a real server would be."""

    def __init__(self, invoices: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cftui.sim", "--invoices", str(invoices), "--seed", "1", "--now", str(NOW)],
            stdout=subprocess.PIPE,
            text=True,
        )
        fields: dict[str, str] = {}
        for line in self.proc.stdout:
            if line.strip() == "ready":
                break
            fields.update(part.split("=", 1) for part in line.split())
        self.url, self.store_id, self.key = fields["url"], fields["store_id"], fields["api_key"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def run_sync(sim: SimProcess, target: str, invoices: int) -> float:
    db = open_database(target)
    store = StoreConfig(name="bench", url=sim.url, store_id=sim.store_id, api_key=Secret(sim.key))
    started = time.perf_counter()
    result = asyncio.run(sync_store(store, SyncConfig(page_size=PAGE)))
    elapsed = time.perf_counter() - started
    assert result.ok, result.error
    assert result.new == invoices == Invoice.select().count()
    assert SyncState.get_by_id("btcpay:bench").backfill_done
    db.close()
    return elapsed


def _floor_rows(page: list[dict], next_id: int, typed: bool) -> tuple[list[tuple], list[tuple], list[tuple], int]:
    """Plain tuples of a page; ``typed``: 0 where a decimal string would go into an integer column."""
    invoices, methods, payments = [], [], []
    for inv in page:
        next_id += 1
        meta = inv["metadata"]
        amount_e8 = 0 if typed else inv["amount"]
        paid_e8 = (0 if inv["paidAmount"] is not None else None) if typed else inv["paidAmount"]
        invoices.append((
            next_id, 1, inv["id"], inv["status"], inv["additionalStatus"], inv["type"], inv["currency"],
            inv["amount"], amount_e8, inv["paidAmount"], paid_e8, None, inv["createdTime"],
            inv["expirationTime"], inv["monitoringExpiration"], inv["archived"], meta.get("orderId"),
            meta.get("buyerEmail"), meta.get("itemCode"), meta.get("itemDesc"), inv["checkoutLink"],
            json.dumps(meta), None, NOW, *_NO_CONTRIBUTION,
        ))
        for pm in inv["paymentMethods"]:
            sats = (0, 0, 0, 0) if typed else (pm["amount"], pm["paymentMethodPaid"], pm["due"], pm["paymentMethodFee"])
            methods.append((
                next_id, pm["paymentMethodId"], pm["currency"], pm["destination"], pm["paymentLink"], pm["rate"],
                *sats, pm["activated"],
            ))
            for p in pm["payments"]:
                payments.append((
                    next_id, pm["paymentMethodId"], p["id"], p["value"], 0 if typed else p["value"], p["fee"],
                    0 if typed else p["fee"], p["status"], p["receivedDate"], p["destination"],
                ))
    return invoices, methods, payments, next_id


# The crowdfund contribution columns get zeros: the floor does no accounting.
_NO_CONTRIBUTION = (0,) * len(CONTRIBUTION_FIELDS)
TABLES = {
    "invoice": ("id", "store_id", "invoice_id", "status", "additional_status", "type", "currency", "amount",
                "amount_e8", "paid_amount", "paid_e8", "btc_paid_sats", "created_time", "expiration_time",
                "monitoring_time", "archived", "order_id", "buyer_email", "item_code", "item_desc", "checkout_link",
                "metadata", "app_id", "synced_time", *CONTRIBUTION_FIELDS),
    "invoice_payment_method": ("invoice_id", "method", "currency", "destination", "payment_link", "rate",
                               "amount_sats", "paid_sats", "due_sats", "fee_sats", "activated"),
    "payment": ("invoice_id", "method", "payment_id", "value", "value_msat", "fee", "fee_msat", "status",
                "received_time", "destination"),
}  # fmt: skip


class SqliteFloor:
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma, value in SQLITE_PRAGMAS.items():
            self.conn.execute(f"PRAGMA {pragma} = {value}")
        self.conn.execute("BEGIN")

    def insert(self, table: str, rows: list[tuple]) -> None:
        columns = TABLES.get(table) or ("id", "name", "url", "store_id", "added_time")
        names = ", ".join(f'"{c}"' for c in columns)
        self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)

    def commit_and_count(self) -> int:
        self.conn.execute("COMMIT")
        (count,) = self.conn.execute('SELECT COUNT(*) FROM "invoice"').fetchone()
        self.conn.close()
        return count


class PostgresFloor:
    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url)  # not autocommit: one transaction until commit

    def insert(self, table: str, rows: list[tuple]) -> None:
        columns = TABLES.get(table) or ("id", "name", "url", "store_id", "added_time")
        names = ", ".join(f'"{c}"' for c in columns)
        with self.conn.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as stream:
            for row in rows:
                stream.write_row(row)

    def commit_and_count(self) -> int:
        self.conn.commit()
        (count,) = self.conn.execute('SELECT COUNT(*) FROM "invoice"').fetchone()
        self.conn.close()
        return count


def run_floor(sim: SimProcess, target: str, invoices: int) -> float:
    open_database(target).close()  # the same schema and indexes as the sync writes into
    typed = target.startswith("postgresql")
    floor = PostgresFloor(target) if typed else SqliteFloor(target)
    floor.insert("store", [(1, "floor", sim.url, sim.store_id, NOW)])
    http = httpx.Client(base_url=sim.url, headers={"Authorization": f"token {sim.key}"}, timeout=120)
    params = {"take": PAGE, "endDate": NOW, "includeArchived": "true", "includePaymentMethods": "true"}
    elapsed = 0.0
    next_id = 0
    for first in range(0, invoices, PAGE * CHUNK_PAGES):
        raw = [
            http.get(f"/api/v1/stores/{sim.store_id}/invoices", params={**params, "skip": skip}).content
            for skip in range(first, min(first + PAGE * CHUNK_PAGES, invoices), PAGE)
        ]
        started = time.perf_counter()
        for body in raw:
            rows, methods, payments, next_id = _floor_rows(json.loads(body), next_id, typed)
            floor.insert("invoice", rows)
            floor.insert("invoice_payment_method", methods)
            floor.insert("payment", payments)
        elapsed += time.perf_counter() - started
    started = time.perf_counter()
    count = floor.commit_and_count()
    elapsed += time.perf_counter() - started
    assert count == invoices
    http.close()
    return elapsed


@pytest.mark.timeout(3600)  # a million invoices takes minutes, not the suite's 120 s
@pytest.mark.parametrize("invoices", SIZES)
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_sync_throughput(engine, invoices, tmp_path, request):
    if engine == "sqlite":
        sync_target, floor_target = str(tmp_path / "sync.sqlite3"), str(tmp_path / "floor.sqlite3")
        how = "sqlite3.executemany"
    else:
        pg = request.getfixturevalue("bench_pg")
        sync_target, floor_target, how = pg.schema("bench_sync"), pg.schema("bench_floor"), "psycopg COPY"
        print(f"\n{pg.described}")
    clock.freeze(NOW + 60)
    sim = SimProcess(invoices)
    try:
        # The sync goes first, against a cold simulator: no cache it could profit from.
        sync_s = run_sync(sim, sync_target, invoices)
        floor_s = run_floor(sim, floor_target, invoices)
    finally:
        sim.stop()
        clock.freeze(None)
    sync_rate, floor_rate = invoices / sync_s, invoices / floor_s
    ratio = sync_rate / floor_rate
    print(
        f"\n{engine}: sync {invoices:,} invoices: {sync_s:.1f} s = {sync_rate:,.0f} invoices/s end to end | "
        f"floor (json.loads + {how}, pages prefetched): {floor_s:.1f} s = {floor_rate:,.0f} invoices/s | "
        f"ratio {ratio:.2f} (target >= 0.50)"
    )
    assert ratio > 0  # the figures are the result; the target is reported, not asserted
