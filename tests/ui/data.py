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

# Invoice currencies in a fixed rotation: mostly USD, then EUR, JPY (no decimals) and BTC.
CURRENCY_CYCLE = ("USD", "USD", "USD", "EUR", "USD", "JPY", "USD", "BTC")
PLACES = {"USD": 2, "EUR": 2, "JPY": 0, "BTC": 8}
SATS_PER_UNIT = {"USD": 1_000, "EUR": 1_100, "JPY": 7, "BTC": 100_000_000}
# BTCPay's defaultCurrency of each store (what the Overview converts totals into).
DEFAULT_CURRENCY = {"main": "USD", "shop": "EUR"}

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
    currency = CURRENCY_CYCLE[n % len(CURRENCY_CYCLE)]
    amount = Decimal(rng.randrange(500, 250_000)).scaleb(-PLACES[currency])
    created = NOW - n * 5 * 3600 - rng.randrange(0, 3600)  # one every ~5 h, about 31 days back
    rate_sats_per_unit = SATS_PER_UNIT[currency]
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
            rate=str((Decimal(100_000_000) / rate_sats_per_unit).quantize(Decimal(1).scaleb(-PLACES[currency]))),
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
            rate=str((Decimal(100_000_000) / rate_sats_per_unit).quantize(Decimal(1).scaleb(-PLACES[currency]))),
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
    metadata = {
        "orderId": f"order-{store_cfg.name}-{n:04d}",
        "buyerEmail": f"buyer{n}@example.com",
        "itemDesc": f"Perk #{n % 7}",
    }
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
        store.default_currency = DEFAULT_CURRENCY.get(name)
        store.save()
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


def shown_text(widget, width: int = 200) -> str:
    """What a Static shows, as plain text, rendered ``width`` columns wide (its content may be a Rich table)."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(widget.content)
    return console.export_text()


APP_SHOP = "8ZfQwE3rT5yU7iO9pA1sD2fG4hJ"
APP_ENDED = "5LkJhGfDsA3qWeRtYuIoP7zXcVb"


def _campaign_invoice(
    store_cfg: StoreConfig, n: int, app_id: str, status: str, amount: str, currency: str, created: int, perk: str
) -> InvoiceRecord:
    base = extra_invoice(store_cfg, f"CMP{app_id[:4]}{n:015d}", created)
    paid = status in ("Settled", "Processing")
    sats = int(Decimal(amount) * SATS_PER_UNIT[currency])
    methods = tuple(
        dataclasses.replace(m, paid_sats=sats if (paid and m.method == "BTC-LN") else 0,
                            rate=str((Decimal(100_000_000) / SATS_PER_UNIT[currency]).quantize(Decimal("0.01"))),
                            payments=(PaymentRecord("BTC-LN", f"{n:064x}", _btc(sats), sats * 1000, "0", 0, status,
                                                    created + 20, None),)
                            if (paid and m.method == "BTC-LN") else ())
        for m in base.payment_methods
    )  # fmt: skip
    return dataclasses.replace(
        base, status=status, additional_status="None", currency=currency, amount=amount,
        amount_e8=to_e8(Decimal(amount)),
        expiration_time=created + 900, monitoring_time=created + 86_400,  # paid before it expired: it counts
        paid_amount=amount if paid else "0", paid_e8=to_e8(Decimal(amount)) if paid else 0, app_id=app_id,
        item_code=perk, payment_methods=methods,
    )  # fmt: skip


def fill_campaigns() -> None:
    """On top of fill_invoices: pending contributions and perks for the main crowdfund, an open-ended EUR
    crowdfund in shop and an ended one without a goal; what BTCPay reports each perk sold."""
    from cftui.store.perks import replace_perks
    from cftui.store.records import PerkRecord

    main, shop = store_config("main"), store_config("shop")
    main_store, shop_store = writer.ensure_store(main), writer.ensure_store(shop)
    writer.upsert_invoices(main_store, [
        _campaign_invoice(main, 1, APP_ID, "Processing", "250.00", "USD", NOW - 1800, "sponsor"),
        _campaign_invoice(main, 2, APP_ID, "Processing", "1000.00", "USD", NOW - 900, "sponsor"),
    ], synced_time=NOW)  # fmt: skip
    writer.upsert_apps(shop_store, [
        AppRecord(app_id=APP_SHOP, name="garden", app_type="Crowdfund", archived=False, created_time=NOW - 90 * DAY,
                  title="Community garden", target_currency="EUR", target_amount="6000", target_e8=to_e8(Decimal(6000)),
                  start_time=NOW - 90 * DAY, end_time=None),
        AppRecord(app_id=APP_ENDED, name="meetup", app_type="Crowdfund", archived=False, created_time=NOW - 200 * DAY,
                  title="Spring meetup", target_currency="USD", start_time=NOW - 200 * DAY, end_time=NOW - 100 * DAY),
    ], synced_time=NOW)  # fmt: skip
    writer.upsert_invoices(shop_store, [
        _campaign_invoice(shop, 10 + i, APP_SHOP, "Settled", amount, "EUR", NOW - (i + 1) * 7200, perk)
        for i, (amount, perk) in enumerate(
            (("25.00", "seed"), ("120.00", "bed"), ("25.00", "seed"), ("500.00", "bench"))
        )
    ], synced_time=NOW)  # fmt: skip
    replace_perks(main_store, APP_ID, [
        PerkRecord("supporter", "Supporter", 9, "225.00", to_e8(Decimal("225")), 0),
        PerkRecord("sponsor", "Sponsor", 4, "1500.00", to_e8(Decimal("1500")), 1),
        PerkRecord("any-amount", "Any amount", 2, "333.33", to_e8(Decimal("333.33")), 2),
    ], synced_time=NOW)  # fmt: skip
    replace_perks(shop_store, APP_SHOP, [
        PerkRecord("seed", "Seed packet", 2, "50.00", to_e8(Decimal("50")), 0),
        PerkRecord("bed", "A raised bed", 1, "120.00", to_e8(Decimal("120")), 1),
        PerkRecord("bench", "Bench with your name", 1, "500.00", to_e8(Decimal("500")), 2),
    ], synced_time=NOW)  # fmt: skip
