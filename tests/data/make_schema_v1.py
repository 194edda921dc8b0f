"""Writes tests/data/schema_v1.sql: the dump of a schema-version-1 store with a few rows.

Run once (``python tests/data/make_schema_v1.py``) and commit the .sql: the
migration test loads it as an old user's store would be found on disk.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from playhouse.migrate import SchemaMigrator

from cftui.money import parse_decimal, to_e8
from cftui.store import daystats
from cftui.store.db import MIGRATIONS, open_database
from cftui.store.models import CrowdfundApp, Invoice, InvoicePaymentMethod, Meta, Payment, Store, SyncState

T0 = 1_767_225_600


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v1.sqlite"
        db = open_database(path, migrate=False)
        with db.atomic():
            MIGRATIONS[0](db, SchemaMigrator.from_database(db))  # version 1 only
            Meta.create(key="schema_version", value="1")
            store = Store.create(name="main", url="https://pay.example.com", store_id="StoreV1", added_time=T0)
            CrowdfundApp.create(store=store, app_id="FundV1", name="Roof", app_type="Crowdfund",
                                target_currency="USD", target_amount="1000", target_e8=1000 * 10**8, synced_time=T0)
            for i, (status, amount, sats) in enumerate([("Settled", "25.50", 42_500), ("Expired", "10", 0),
                                                        ("Processing", "99.99", 166_650)]):
                invoice = Invoice.create(
                    store=store, invoice_id=f"V1Invoice{i}", status=status, additional_status="None",
                    type="Standard", currency="USD", amount=amount, amount_e8=to_e8(parse_decimal(amount)),
                    btc_paid_sats=sats, created_time=T0 + i * 3600, expiration_time=T0 + i * 3600 + 900,
                    monitoring_time=T0 + i * 3600 + 3600, order_id=f"order-{i}", buyer_email="a@example.com",
                    metadata="{}", app_id="FundV1", synced_time=T0,
                )
                InvoicePaymentMethod.create(invoice=invoice, method="BTC-CHAIN", currency="BTC", paid_sats=sats)
                if sats:
                    Payment.create(invoice=invoice, method="BTC-CHAIN", payment_id=f"{i:064x}-0", value_sats=sats,
                                   status=status if status == "Settled" else "Processing", received_time=T0 + i)
            SyncState.create(source="btcpay:main", backfill_done=True, last_success_time=T0)
        daystats.rebuild()
        db.close()
        dump = "\n".join(sqlite3.connect(path).iterdump()) + "\n"
    (Path(__file__).parent / "schema_v1.sql").write_text(dump, encoding="utf-8")


if __name__ == "__main__":
    main()
