"""Fixed invoice data for the UI tests and snapshots.

Deterministic (a seeded generator, times relative to a frozen NOW) and written
through the real store writer, so the roll-up and every query see exactly
what a sync would have written.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cftui.config import Config, Paths, Secret, StoreConfig, UIConfig
from cftui.money import to_e8
from cftui.store import writer
from cftui.store.models import SyncState
from cftui.store.records import AppRecord, InvoiceRecord, PaymentMethodRecord, PaymentRecord

NOW = 1_780_000_000  # 2026-05-28 20:26:40 UTC
DAY = 86_400
STORES = ("main", "shop")
INVOICES_PER_STORE = 150
APP_ID = "3kGbHhYq8bZ4cN5dE6fG7hJ8kL9"

# (status, additional status) in a fixed rotation: every combination the UI shows.
STATUS_CYCLE = (
    ("Settled", "None"),
    ("Settled", "None"),
    ("Expired", "None"),
    ("Settled", "PaidOver"),
    ("Processing", "None"),
    ("New", "None"),
    ("Expired", "PaidPartial"),
    ("Settled", "None"),
    ("Invalid", "Marked"),
    ("Settled", "PaidLate"),
)


def store_config(name: str) -> StoreConfig:
    return StoreConfig(
        name=name,
        url=f"https://{name}.btcpay.example",
        store_id=f"{name.upper()}StoreId1234567890abcdefghij",
        api_key=Secret(f"api-key-of-{name}-0123456789abcdef0123456789abcdef"),
    )


def make_config(stores: tuple[str, ...] = STORES, **ui) -> Config:
    return Config(btcpay=tuple(store_config(name) for name in stores), ui=UIConfig(**ui))


def make_paths(tmp_path: Path) -> Paths:
    return Paths(config=tmp_path / "config.toml", db=tmp_path / "cftui.sqlite3", log_dir=tmp_path / "logs")


def _btc(sats: int) -> str:
    return f"{Decimal(sats).scaleb(-8):.8f}"


def _invoice_id(rng: random.Random, store: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return store[0].upper() + "".join(rng.choice(alphabet) for _ in range(21))


def _record(rng: random.Random, store_cfg: StoreConfig, n: int) -> InvoiceRecord:
    status, additional = STATUS_CYCLE[n % len(STATUS_CYCLE)]
    currency = "EUR" if n % 4 == 3 else "USD"
    amount = Decimal(rng.randrange(500, 250_000)) / 100
    created = NOW - n * 5 * 3600 - rng.randrange(0, 3600)  # one every ~5 h, about 31 days back
    rate_sats_per_unit = 1_000 if currency == "USD" else 1_100  # sats per 1 USD/EUR
    due = int(amount * rate_sats_per_unit)
    paid = {"Settled": due, "Processing": due, "New": 0, "Expired": 0, "Invalid": due}[status]
    if additional == "PaidOver":
        paid = due + 12_345
    elif additional in ("PaidPartial",):
        paid = due // 2
    payments: tuple[PaymentRecord, ...] = ()
    methods: list[PaymentMethodRecord] = []
    on_chain = n % 3 != 0
    if paid:
        payment_status = "Processing" if status == "Processing" else "Settled"
        if on_chain:
            txid = f"{rng.getrandbits(256):064x}"
            payments = (PaymentRecord("BTC-CHAIN", f"{txid}-{n % 3}", _btc(paid), paid * 1000, _btc(141), 141_000,
                                      payment_status, created + 600, f"bc1q{n:038d}"),)
        else:
            payments = (PaymentRecord("BTC-LN", f"{rng.getrandbits(256):064x}", _btc(paid), paid * 1000, "0", 0,
                                      payment_status, created + 30, None),)
    methods.append(
        PaymentMethodRecord(
            method="BTC-CHAIN",
            currency="BTC",
            destination=f"bc1q{n:038d}",
            payment_link=f"bitcoin:bc1q{n:038d}?amount={Decimal(due) / 100_000_000}",
            rate=str(Decimal(100_000_000) / rate_sats_per_unit),
            amount_sats=due,
            paid_sats=paid if on_chain else 0,
            due_sats=due - (paid if on_chain else 0),
            fee_sats=141,
            activated=True,
            payments=payments if on_chain else (),
        )
    )
    methods.append(
        PaymentMethodRecord(
            method="BTC-LN",
            currency="BTC",
            destination=f"lnbc{due}n1p{n:030d}",
            payment_link=None,
            rate=str(Decimal(100_000_000) / rate_sats_per_unit),
            amount_sats=due,
            paid_sats=0 if on_chain else paid,
            due_sats=due - (0 if on_chain else paid),
            fee_sats=0,
            activated=True,
            payments=() if on_chain else payments,
        )
    )
    invoice_id = _invoice_id(rng, store_cfg.name)
    in_app = n % 5 == 0 and store_cfg.name == "main"
    metadata = {"orderId": f"order-{store_cfg.name}-{n:04d}", "buyerEmail": f"buyer{n}@example.com", "itemDesc": f"Perk #{n % 7}"}
    if in_app:
        metadata["appId"] = APP_ID
    return InvoiceRecord(
        invoice_id=invoice_id,
        store_id=store_cfg.store_id,
        status=status,
        additional_status=additional,
        type="Standard",
        currency=currency,
        amount=str(amount),
        amount_e8=to_e8(amount),
        paid_amount=str(amount if paid else Decimal(0)),
        paid_e8=to_e8(amount) if paid else 0,
        created_time=created,
        expiration_time=created + 900,
        monitoring_time=created + 86_400,
        archived=n % 37 == 0,
        order_id=f"order-{store_cfg.name}-{n:04d}",
        buyer_email=f"buyer{n}@example.com",
        item_code=f"perk-{n % 7}",
        item_desc=f"Perk #{n % 7}",
        checkout_link=f"{store_cfg.url}/i/{invoice_id}",
        metadata=json.dumps(metadata),
        app_id=APP_ID if in_app else None,
        payment_methods=tuple(methods),
    )


@dataclass
class Filled:
    invoice_ids: dict[str, list[str]]  # store name -> ids, newest first

    @property
    def newest_main(self) -> str:
        return self.invoice_ids["main"][0]


def fill_invoices(stores: tuple[str, ...] = STORES, per_store: int = INVOICES_PER_STORE) -> Filled:
    """Write the fixed invoices, one crowdfund app and sync states into the open store."""
    rng = random.Random(20260528)
    ids: dict[str, list[str]] = {}
    for name in stores:
        cfg = store_config(name)
        store = writer.ensure_store(cfg)
        records = [_record(rng, cfg, n) for n in range(per_store)]
        writer.upsert_invoices(store, records, synced_time=NOW - 120)
        ids[name] = [r.invoice_id for r in records]
        if name == "main":
            writer.upsert_apps(
                store,
                [
                    AppRecord(
                        app_id=APP_ID,
                        name="node-fund",
                        app_type="Crowdfund",
                        archived=False,
                        created_time=NOW - 40 * DAY,
                        title="Community node fund",
                        target_currency="USD",
                        target_amount="25000",
                        target_e8=to_e8(Decimal(25000)),
                        start_time=NOW - 40 * DAY,
                        end_time=NOW + 12 * DAY,
                    )
                ],
                synced_time=NOW - 120,
            )
    SyncState.insert(source="btcpay:main", last_success_time=NOW - 120, backfill_done=True).execute()
    if "shop" in stores:
        SyncState.insert(
            source="btcpay:shop",
            last_success_time=NOW - 7200,
            last_error="BTCPay at shop.btcpay.example is unreachable (connection refused).",
            last_error_time=NOW - 60,
        ).execute()
    return Filled(ids)


def extra_invoice(store_cfg: StoreConfig, invoice_id: str, created_time: int) -> InvoiceRecord:
    """One more invoice, as a later sync would bring it."""
    base = _record(random.Random(invoice_id), store_cfg, 0)
    return dataclasses.replace(
        base, invoice_id=invoice_id, created_time=created_time, checkout_link=f"{store_cfg.url}/i/{invoice_id}"
    )


async def settle(app, pilot) -> None:
    """Wait until every worker finished and the messages they posted are handled."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
