"""Writes tests/data/schema_v4_crowdfund.sql: the dump of a schema-version-4 store with crowdfund invoices.

The file was written once, by this script at commit 979509b (the last schema 4
code), and committed: the migration test loads it as an old user's store
would be found on disk. Later models differ, so running this script again
would not write a version-4 file; it is kept to show how the file was made.

The rows hit every crowdfund rule of BTCPay's ``GetContributionsByPaymentMethodId``:
a settled invoice, a partial payment on an expired invoice, a pending payment,
a marked-settled invoice without payments, a marked-invalid one with a
payment, a payment after expiry on an unmarked invoice, and a Lightning payment.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from cftui.money import parse_decimal, to_e8
from cftui.store import daystats
from cftui.store.db import open_database
from cftui.store.models import CrowdfundApp, Invoice, InvoicePaymentMethod, Payment, Store, SyncState

T0 = 1_767_225_600
RATE = "60000.00"
# (status, additional status, amount, [(method, sats, payment status, seconds after creation)])
INVOICES = [
    ("Settled", "None", "25.50", [("BTC-CHAIN", 42_500, "Settled", 60)]),
    ("Expired", "PaidPartial", "10", [("BTC-CHAIN", 8_000, "Settled", 60)]),
    ("Processing", "None", "99.99", [("BTC-CHAIN", 166_650, "Processing", 60)]),
    ("Settled", "Marked", "50", []),
    ("Invalid", "Marked", "20", [("BTC-CHAIN", 33_334, "Settled", 60)]),
    ("Expired", "PaidLate", "5", [("BTC-LN", 8_334, "Settled", 1_000)]),
    ("Settled", "None", "12", [("BTC-LN", 20_000, "Settled", 30)]),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v4.sqlite"
        db = open_database(path)
        with db.atomic():
            store = Store.create(name="main", url="https://pay.example.com", store_id="StoreV4", added_time=T0)
            CrowdfundApp.create(store=store, app_id="FundV4", name="Roof", app_type="Crowdfund",
                                target_currency="USD", target_amount="1000", target_e8=1000 * 10**8,
                                start_time=T0 - 86_400, synced_time=T0)
            for i, (status, extra, amount, payments) in enumerate(INVOICES):
                created = T0 + i * 3600
                paid = sum(sats for _, sats, _, _ in payments)
                invoice = Invoice.create(
                    store=store, invoice_id=f"V4Invoice{i}", status=status, additional_status=extra,
                    type="Standard", currency="USD", amount=amount, amount_e8=to_e8(parse_decimal(amount)),
                    btc_paid_sats=paid, created_time=created, expiration_time=created + 900,
                    monitoring_time=created + 3600, order_id=f"order-{i}", buyer_email="a@example.com",
                    metadata="{}", app_id="FundV4", synced_time=T0,
                )
                for method in ("BTC-CHAIN", "BTC-LN"):
                    mine = [p for p in payments if p[0] == method]
                    InvoicePaymentMethod.create(invoice=invoice, method=method, currency="BTC", rate=RATE,
                                                paid_sats=sum(p[1] for p in mine))
                    for n, (_, sats, pay_status, after) in enumerate(mine):
                        Payment.create(invoice=invoice, method=method, payment_id=f"{i:062x}{n:02x}-0",
                                       value_sats=sats, fee_sats=0, status=pay_status,
                                       received_time=created + after)
            SyncState.create(source="btcpay:main", backfill_done=True, last_success_time=T0,
                             newest_seen_time=T0 + 6 * 3600)
            SyncState.create(source="angor", backfill_done=True, last_success_time=T0)
        daystats.rebuild()
        db.close()
        dump = "\n".join(sqlite3.connect(path).iterdump()) + "\n"
    (Path(__file__).parent / "schema_v4_crowdfund.sql").write_text(dump, encoding="utf-8")


if __name__ == "__main__":
    main()
