"""A fast, deterministic fill of a store with many invoices, for benchmarks.

``filled_store(n)`` returns the path of a store holding ``n`` invoices over
three stores and two years, with the daily roll-up rebuilt. The file is
cached under ``tests/benchmarks/.results/`` keyed by the fill version, ``n``
and a hash of the schema (so an index change builds a fresh file); reruns
copy nothing and take milliseconds. Open it with ``open_database(path)``.

Rows go in through the raw connection with ``executemany`` in one
transaction, indexes are created after the load (much faster than keeping
them up to date row by row), then ``daystats.rebuild()`` fills the roll-up.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from peewee import SqliteDatabase

from cftui.store import daystats
from cftui.store.contributions import ZERO_UNITS, to_units
from cftui.store.db import ALL_MODELS, open_database
from cftui.store.models import (
    CONTRIBUTION_FIELDS,
    CrowdfundApp,
    Invoice,
    InvoicePaymentMethod,
    Payment,
    Store,
    database,
)

# 3: crowdfund contributions; 4: payments and payment methods for every paid invoice, store currencies
FILL_VERSION = 4
RESULTS = Path(__file__).parent / ".results"
DAY = 86_400
BIG = 1_000_000  # invoices in the store the dashboard and view benchmarks read (the big_store fixture)
END = 1_767_225_600  # 2026-01-01T00:00:00Z: the newest invoice is just before this
SPAN_DAYS = 730
STORES = (("main", "StoreMain111"), ("shop", "StoreShop222"), ("grants", "StoreGrant33"))
APPS = ("AppFund1", "AppFund2")
# (status, additional_status, weight): a plausible mix with every status and flag.
OUTCOMES = (
    ("Settled", "None", 44),
    ("Settled", "PaidOver", 2),
    ("Settled", "PaidLate", 1),
    ("Settled", "Marked", 1),
    ("Expired", "None", 34),
    ("Expired", "PaidPartial", 3),
    ("Expired", "PaidLate", 1),
    ("Invalid", "None", 2),
    ("Invalid", "Marked", 1),
    ("Processing", "None", 4),
    ("New", "None", 7),
)
CURRENCIES = (("USD", 60), ("EUR", 30), ("BTC", 10))
# Fiat per BTC, in cents: turns a fiat amount into the sats that paid it.
RATE_CENTS = {"USD": 6_000_000, "EUR": 5_500_000}
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar")

COLUMNS = (
    "store_id", "invoice_id", "status", "additional_status", "type", "currency", "amount", "amount_e8",
    "paid_amount", "paid_e8", "btc_paid_sats", "created_time", "expiration_time", "monitoring_time",
    "archived", "order_id", "buyer_email", "item_code", "item_desc", "checkout_link", "metadata",
    "app_id", "synced_time", *CONTRIBUTION_FIELDS,
)  # fmt: skip


def schema_hash() -> str:
    """Hash of every CREATE statement the models make: a schema change invalidates the cache."""
    scratch = SqliteDatabase(":memory:")
    statements = []
    with scratch.bind_ctx(ALL_MODELS):
        for model in ALL_MODELS:
            statements.append(model._schema._create_table(safe=False).query()[0])
            statements.extend(ctx.query()[0] for ctx in model._schema._create_indexes(safe=False))
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:12]


def _invoice_rows(n: int, rng: random.Random) -> Iterator[tuple]:
    outcomes = [o[:2] for o in OUTCOMES]
    outcome_weights = [o[2] for o in OUTCOMES]
    currencies = [c for c, _ in CURRENCIES]
    currency_weights = [w for _, w in CURRENCIES]
    start = END - SPAN_DAYS * DAY
    step = SPAN_DAYS * DAY / n  # evenly spread, with jitter below
    for i in range(n):
        store_id = 1 + (i % 7 % 3)  # uneven: store 1 gets the most
        status, extra = rng.choices(outcomes, outcome_weights)[0]
        currency = rng.choices(currencies, currency_weights)[0]
        created = start + int(i * step) + rng.randrange(60)
        if currency == "BTC":
            sats = rng.randrange(1_000, 5_000_000)
            amount, amount_e8 = f"{sats // 100_000_000}.{sats % 100_000_000:08d}", sats
        else:
            cents = rng.choice((500, 1000, 2000, 2500, 5000, 10000)) + rng.randrange(0, 20_000)
            amount, amount_e8 = f"{cents // 100}.{cents % 100:02d}", cents * 1_000_000
            sats = cents * 100_000_000 // RATE_CENTS[currency]
        if status == "Settled":
            paid_sats = sats + (sats // 10 if extra == "PaidOver" else 0)
        elif status == "Processing" or extra in ("PaidPartial", "PaidLate"):
            paid_sats = sats // (2 if extra == "PaidPartial" else 1)
        else:
            paid_sats = 0
        if status == "New" and i % 3 == 0:
            paid_sats = None  # payment methods not read yet
        paid = amount if status in ("Settled", "Processing") else None
        invoice_id = "".join(rng.choices(ALPHABET, k=22))
        who = NAMES[i % len(NAMES)]
        app_id = APPS[i % 2] if store_id == 1 and i % 5 == 0 else None
        # The crowdfund contribution: what was paid at the invoice's rate (many decimal places).
        rate = Decimal(1) if currency == "BTC" else Decimal(RATE_CENTS[currency]) / 100
        paid_value = Decimal(paid_sats or 0).scaleb(-8) * rate
        settled = to_units(paid_value) if status == "Settled" or extra == "PaidPartial" else ZERO_UNITS
        pending = to_units(paid_value) if status == "Processing" else ZERO_UNITS
        yield (
            store_id, invoice_id, status, extra, "Standard", currency, amount, amount_e8,
            paid, amount_e8 if paid else None, paid_sats, created, created + 900, created + 3600,
            i % 97 == 0, f"order-{i:07d}", f"{who}{i % 5000}@Example.com" if i % 5 else None,
            None, None, f"https://pay.example.com/i/{invoice_id}", "{}", app_id, END, *settled, *pending,
        )  # fmt: skip


def fill(path: Path, n: int, *, seed: int = 7) -> None:
    """Write ``n`` invoices (and stores, apps, roll-up) into a new store at ``path``."""
    db = open_database(path)
    rng = random.Random(seed)
    with database.atomic():
        for name, store_id in STORES:
            Store.create(name=name, url="https://pay.example.com", store_id=store_id, added_time=END,
                         default_currency="EUR" if name == "shop" else "USD")
        for k, app_id in enumerate(APPS):
            CrowdfundApp.create(
                store=1, app_id=app_id, name=f"Fund {k + 1}", app_type="Crowdfund", target_currency="USD",
                target_amount="250000", target_e8=250_000 * 10**8, end_time=END + (k + 1) * 30 * DAY, synced_time=END,
            )  # fmt: skip
    indexes = Invoice._meta.fields_to_index()
    for index in indexes:
        db.execute_sql(f'DROP INDEX IF EXISTS "{index._name}"')
    placeholders = ", ".join("?" * len(COLUMNS))
    sql = f'INSERT INTO "invoice" ({", ".join(COLUMNS)}) VALUES ({placeholders})'
    with database.atomic():
        db.connection().executemany(sql, _invoice_rows(n, rng))
    with database.atomic():
        Invoice._schema.create_indexes(safe=True)
    _fill_payments(db)
    daystats.rebuild()
    db.close()


# Invoice currency per BTC, as BTCPay's payment-method rate (decimal text).
RATE_TEXT = "CASE currency WHEN 'USD' THEN '60000.00' WHEN 'EUR' THEN '55000.00' ELSE '1' END"
METHOD = "CASE WHEN id % 3 = 0 THEN 'BTC-LN' ELSE 'BTC-CHAIN' END"


def _fill_payments(db) -> None:
    """One payment (and its payment method, with the rate) per invoice that was paid, in SQL."""
    for model in (Payment, InvoicePaymentMethod):
        for index in model._meta.fields_to_index():
            db.execute_sql(f'DROP INDEX IF EXISTS "{index._name}"')
    with database.atomic():
        db.execute_sql(
            'INSERT INTO "invoice_payment_method" (invoice_id, method, currency, rate, paid_sats, activated) '
            f"SELECT id, {METHOD}, 'BTC', {RATE_TEXT}, btc_paid_sats, 1 FROM invoice WHERE btc_paid_sats > 0"
        )
        db.execute_sql(
            'INSERT INTO "payment" (invoice_id, method, payment_id, value, value_msat, fee, fee_msat, status, '
            "received_time) "
            f"SELECT id, {METHOD}, 'p' || id, printf('%d.%08d', btc_paid_sats / 100000000, btc_paid_sats % 100000000), "
            "btc_paid_sats * 1000, '0', 0, "
            "CASE status WHEN 'Processing' THEN 'Processing' ELSE 'Settled' END, created_time + 600 "
            "FROM invoice WHERE btc_paid_sats > 0"
        )
    with database.atomic():
        Payment._schema.create_indexes(safe=True)
        InvoicePaymentMethod._schema.create_indexes(safe=True)


def filled_store(n: int = 1_000_000) -> Path:
    """The path of a cached store with ``n`` invoices (built on first use)."""
    path = RESULTS / f"store-v{FILL_VERSION}-{n}-{schema_hash()}.sqlite"
    if not path.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        for stale in RESULTS.glob(f"store-*-{n}-*.sqlite*"):
            stale.unlink()
        partial = path.with_suffix(".partial")
        for leftover in RESULTS.glob(partial.name + "*"):
            leftover.unlink()
        fill(partial, n)
        partial.rename(path)
    return path
