"""Totals in the store's default currency, converted at the invoices' own rates (store/currency_totals.py)."""

from __future__ import annotations

from decimal import Decimal

from cftui.store import daystats
from cftui.store.currency_totals import currency_totals, default_currency
from cftui.store.models import Invoice, Store, database

DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def invoice(n: int, *, day: int, currency: str, amount: str, sats: int, status="Settled", extra="None", store=1):
    whole, _, frac = amount.partition(".")
    amount_e8 = int(whole) * 10**8 + int((frac + "0" * 8)[:8] or 0)
    created = T0 + day * DAY + 3600
    return dict(
        store=store, invoice_id=f"I{n:04d}", status=status, additional_status=extra, type="Standard", currency=currency,
        amount=amount, amount_e8=amount_e8, paid_amount=amount, paid_e8=amount_e8, btc_paid_sats=sats,
        created_time=created, expiration_time=created + 900, monitoring_time=created + 3600, metadata="{}",
        synced_time=T0,
    )  # fmt: skip


def write(rows) -> None:
    with database.atomic():
        Invoice.insert_many(rows).execute()
    daystats.rebuild()


def stores(*currencies: str | None) -> None:
    for n, currency in enumerate(currencies, start=1):
        Store.create(name=f"s{n}", url="https://pay.example", store_id=f"S{n}", added_time=T0,
                     default_currency=currency)


def test_invoices_in_the_default_currency_count_exactly_others_through_their_btc_at_the_days_rate(db):
    stores("USD")
    write([
        # Day 0: USD rate 100 USD / 100,000 sat (and 50 USD / 50,000 sat): 0.001 USD per sat.
        invoice(1, day=0, currency="USD", amount="100.00", sats=100_000),
        invoice(2, day=0, currency="USD", amount="50.00", sats=50_000),
        invoice(3, day=0, currency="EUR", amount="80.00", sats=90_000),  # 90 USD at day 0's rate
        # Day 1: 0.002 USD per sat; a partly paid USD invoice does not make the rate.
        invoice(4, day=1, currency="USD", amount="20.00", sats=10_000),
        invoice(5, day=1, currency="USD", amount="999.00", sats=1, extra="PaidOver"),
        invoice(6, day=1, currency="BTC", amount="0.00012345", sats=12_345),  # 24.69 USD
        # Day 5: no USD invoice; day 1 is nearer than day 0.
        invoice(7, day=5, currency="JPY", amount="3000", sats=20_000),  # 40 USD at day 1's rate
        # Marked settled: no BTC came in, so it has no USD value.
        invoice(8, day=5, currency="EUR", amount="10.00", sats=0, extra="Marked"),
        # Pending: an EUR invoice paid, not confirmed, on day 1.
        invoice(9, day=1, currency="EUR", amount="5.00", sats=2_500, status="Processing"),
        # Not counted at all.
        invoice(10, day=1, currency="USD", amount="70.00", sats=0, status="Expired"),
    ])  # fmt: skip
    assert default_currency() == "USD"
    totals = currency_totals("USD")
    assert totals.settled == Decimal("100") + Decimal("50") + Decimal("90") + Decimal("20") + Decimal("999") \
        + Decimal("24.69") + Decimal("40")
    assert totals.pending == Decimal("5.00")
    assert (totals.settled_count, totals.converted, totals.not_converted, totals.exact) == (8, 3, 1, False)
    assert totals.counts == {"USD": 4, "EUR": 2, "BTC": 1, "JPY": 1}


def test_a_range_without_its_own_rate_takes_the_nearest_day_outside_it(db):
    stores("USD")
    write([
        invoice(1, day=0, currency="USD", amount="30.00", sats=10_000),  # 0.003 USD per sat
        invoice(2, day=9, currency="EUR", amount="10.00", sats=4_000),
    ])
    totals = currency_totals("USD", since=T0 + 8 * DAY)
    assert totals.settled == Decimal("12.000") and totals.converted == 1 and totals.settled_count == 1


def test_btc_as_the_default_currency_is_what_was_paid_and_exact(db):
    stores("BTC")
    write([
        invoice(1, day=0, currency="USD", amount="100.00", sats=100_000),
        invoice(2, day=0, currency="BTC", amount="0.002", sats=200_000),
    ])
    totals = currency_totals(default_currency())
    assert (totals.settled, totals.exact) == (Decimal("0.003"), True)


def test_no_rate_at_all_gives_no_converted_total_rather_than_a_wrong_one(db):
    stores("USD")
    write([invoice(1, day=0, currency="EUR", amount="10.00", sats=4_000)])
    totals = currency_totals("USD")
    assert totals.settled is None and totals.settled_count == 1


def test_several_stores_use_the_currency_most_of_them_have(db):
    stores("EUR", "USD", "EUR", None)
    assert default_currency() == "EUR"
    assert default_currency((2,)) == "USD"
    assert default_currency((4,)) is None


def test_stores_whose_currency_was_never_read_use_the_most_used_one(db):
    stores(None)
    write([
        invoice(1, day=0, currency="EUR", amount="10.00", sats=4_000),
        invoice(2, day=0, currency="EUR", amount="20.00", sats=8_000),
        invoice(3, day=0, currency="USD", amount="5.00", sats=2_000),
    ])
    totals = currency_totals(default_currency())
    assert totals.currency == "EUR" and totals.settled == Decimal("30.00") + Decimal("5.00")
