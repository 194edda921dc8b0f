"""A small seeded store for query and export tests, and plain-Python references.

Values are chosen to hit the edges: ties on every sort column, null
``btc_paid_sats``, mixed-case emails, shared id prefixes, every status and
flag, invoices either side of UTC midnight.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cftui.store import daystats
from cftui.store.models import CrowdfundApp, Invoice, Store, database

DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
OUTCOMES = (
    ("Settled", "None"), ("Settled", "PaidOver"), ("Settled", "PaidLate"), ("Expired", "None"),
    ("Expired", "PaidPartial"), ("Invalid", "Marked"), ("Processing", "None"), ("New", "None"),
)  # fmt: skip
AMOUNTS = ("5", "10.5", "10.50", "25", "0.01", "99.99", "1000", "12.34567891")


@dataclass(frozen=True)
class Sample:
    pk: int
    store: int
    invoice_id: str
    status: str
    additional_status: str
    currency: str
    amount_e8: int
    btc_paid_sats: int | None
    created_time: int
    order_id: str | None
    buyer_email: str | None
    app_id: str | None


def fill(n: int = 400, seed: int = 3) -> list[Sample]:
    """Two stores, two crowdfund apps and ``n`` invoices; returns what was written."""
    rng = random.Random(seed)
    with database.atomic():
        Store.create(name="main", url="https://pay.example.com", store_id="StoreA", added_time=T0)
        Store.create(name="side", url="https://pay.example.com", store_id="StoreB", added_time=T0)
        CrowdfundApp.create(
            store=1, app_id="Fund1", name="Roof", app_type="Crowdfund", target_currency="USD",
            target_amount="500", target_e8=500 * 10**8, end_time=T0 + 10 * DAY + 1, synced_time=T0,
        )  # fmt: skip
        CrowdfundApp.create(store=2, app_id="Fund2", name="Open", app_type="Crowdfund", synced_time=T0)
        rows = []
        for i in range(n):
            status, extra = rng.choice(OUTCOMES)
            currency = rng.choice(("USD", "USD", "EUR", "BTC"))
            amount = rng.choice(AMOUNTS)
            whole, _, frac = amount.partition(".")
            amount_e8 = int(whole) * 10**8 + int((frac + "0" * 8)[:8] or 0)
            sats = rng.choice((None, 0, 1000, 1000, 25_000, 7, 123_456))
            created = T0 - 5 * DAY + rng.randrange(10 * DAY) // 600 * 600  # ties on created_time
            prefix = rng.choice(("Ab", "AB", "ab", "Zz", "Q"))
            invoice_id = prefix + "".join(rng.choices("abcdefXYZ123", k=8))
            email = rng.choice((None, "Alice@Example.com", "alice@example.org", "BOB@x.io", "carol@x.io"))
            store = 1 if rng.random() < 0.6 else 2
            app = ("Fund1" if store == 1 else "Fund2") if rng.random() < 0.3 else None
            rows.append(
                dict(
                    store=store, invoice_id=invoice_id, status=status, additional_status=extra, type="Standard",
                    currency=currency, amount=amount, amount_e8=amount_e8,
                    paid_amount=amount if status == "Settled" else None,
                    paid_e8=amount_e8 if status == "Settled" else None, btc_paid_sats=sats,
                    created_time=created, expiration_time=created + 900, monitoring_time=created + 3600,
                    archived=i % 13 == 0, order_id=f"ord-{i:04d}" if i % 3 else None, buyer_email=email,
                    checkout_link=f"https://pay.example.com/i/{invoice_id}", metadata='{"orderId": "x"}',
                    app_id=app, synced_time=T0,
                )  # fmt: skip
            )
        Invoice.insert_many(rows).execute()
    daystats.rebuild()
    return [
        Sample(pk, *values)
        for pk, *values in Invoice.select(
            Invoice.id, Invoice.store, Invoice.invoice_id, Invoice.status, Invoice.additional_status,
            Invoice.currency, Invoice.amount_e8, Invoice.btc_paid_sats, Invoice.created_time, Invoice.order_id,
            Invoice.buyer_email, Invoice.app_id,
        ).order_by(Invoice.id).tuples()
    ]  # fmt: skip


def matches(s: Sample, *, stores=(), statuses=(), since=None, until=None, text="", app_id=None, additional=()) -> bool:
    """Plain-Python reading of InvoiceFilter."""
    text = text.strip()
    return (
        (not stores or s.store in stores)
        and (not statuses or s.status in statuses)
        and (since is None or s.created_time >= since)
        and (until is None or s.created_time < until)
        and (
            not text
            or s.invoice_id.startswith(text)
            or (s.order_id or "").startswith(text)
            or (s.buyer_email is not None and s.buyer_email.lower().startswith(text.lower()))
        )
        and (app_id is None or s.app_id == app_id)
        and (not additional or s.additional_status in additional)
    )
