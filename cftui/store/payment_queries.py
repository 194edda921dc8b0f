"""The contributions feed: payments, newest first, keyset-paged on (received_time, id).

A payment row says who was paid how much through which method: its BTC
(integer msat: Lightning pays parts of a satoshi), its value in the invoice's currency at the invoice's own rate
for that method (exact ``Decimal``), the campaign (crowdfund app) or store it
went to, and whether it is settled. A page walks the ``payment(received_time,
id)`` index and reads one invoice and one payment method per row, so any page
of a million payments costs the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from peewee import JOIN, Tuple

from cftui.money import MSAT_PER_SAT, SATS_PER_BTC
from cftui.store import sql
from cftui.store.models import CrowdfundApp, Invoice, InvoicePaymentMethod, Payment, Store

MSAT_PER_BTC = Decimal(MSAT_PER_SAT * SATS_PER_BTC)
LIGHTNING = ("BTC-LN", "BTC-LNURL", "BTC-LightningNetwork", "BTC-LNURLPAY")


@dataclass(frozen=True)
class PaymentRow:
    pk: int
    received_time: int
    method: str  # BTCPay's payment method id
    value_msat: int
    status: str  # Processing | Settled | Invalid
    store_name: str
    invoice_pk: int
    invoice_id: str
    currency: str  # the invoice's
    value: Decimal | None  # in `currency`, at the invoice's rate for this method; None without a rate
    campaign: str | None  # the crowdfund's title, when the invoice came from one

    @property
    def lightning(self) -> bool:
        return self.method in LIGHTNING or "LN" in self.method.split("-")[1:]

    @property
    def method_label(self) -> str:
        return "Lightning" if self.lightning else "on-chain"


@dataclass(frozen=True)
class FeedCursor:
    received_time: int
    pk: int


@dataclass
class PaymentPage:
    rows: list[PaymentRow]
    has_older: bool


def _value(msat: int, rate: str | None) -> Decimal | None:
    if not rate:
        return None
    try:
        return Decimal(msat) * Decimal(rate) / MSAT_PER_BTC
    except InvalidOperation:
        return None


def recent_payments(
    stores: tuple[int, ...] = (), *, older_than: FeedCursor | None = None, limit: int = 200
) -> PaymentPage:
    """Up to ``limit`` payments, newest first (after ``older_than`` when given); Invalid ones left out."""
    query = (
        Payment.select(
            Payment.id, Payment.received_time, Payment.method, Payment.value_msat, Payment.status,
            Invoice.id, Invoice.invoice_id, Invoice.currency, Invoice.app_id, Invoice.store,
            InvoicePaymentMethod.rate,
        )
        .join(Invoice, on=(Payment.invoice == Invoice.id))
        .join(InvoicePaymentMethod, JOIN.LEFT_OUTER,
              on=((InvoicePaymentMethod.invoice == Invoice.id) & (InvoicePaymentMethod.method == Payment.method)))
        .where(Payment.status != "Invalid")
        .order_by(Payment.received_time.desc(), Payment.id.desc())
        .limit(limit + 1)
    )  # fmt: skip
    if stores:
        query = query.where(Invoice.store.in_(list(stores)))
    if older_than is not None:
        query = query.where(Tuple(Payment.received_time, Payment.id) < Tuple(older_than.received_time, older_than.pk))
    names: dict[int, str] = {pk: name for pk, name in sql.tuples(Store.select(Store.id, Store.name))}
    titles = {
        (store, app_id): title or name
        for store, app_id, title, name in sql.tuples(CrowdfundApp.select(
            CrowdfundApp.store, CrowdfundApp.app_id, CrowdfundApp.title, CrowdfundApp.name
        ))
    }
    rows = [
        PaymentRow(pk, received, method, msat, status, names.get(store, "?"), invoice_pk, invoice_id, currency,
                   _value(msat, rate), titles.get((store, app_id)) if app_id else None)
        for (pk, received, method, msat, status, invoice_pk, invoice_id, currency, app_id, store,
             rate) in sql.tuples(query)
    ]  # fmt: skip
    return PaymentPage(rows[:limit], has_older=len(rows) > limit)
