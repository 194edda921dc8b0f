"""Totals in one currency: the stores' default currency, converted at the invoices' own rates.

BTCPay gives each invoice a rate between its own currency and BTC, and no
other (contract §2.4; the store's tracked rates are only in its reports). So
a figure in the store's currency ``D`` is built like this:

* invoices in ``D`` count their own amount, exactly;
* any other invoice counts the BTC it paid (the invoice's own rate made that
  BTC amount), valued at the ``D`` rate of the same UTC day, taken from the
  same stores' ``D`` invoices settled that day (their amount over their BTC
  paid); a day without one uses the nearest day that has one.

Everything is summed in SQL through the daily roll-up (a few rows a day), then
converted in exact ``Decimal`` arithmetic: 10^6 invoices cost what a few
hundred days cost. The result says how much of it was converted, so the
screen can mark it "≈".
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Final

from cftui.domain import InvoiceStatus
from cftui.money import E8
from cftui.store import sql
from cftui.store.models import Store
from cftui.store.rollup import GroupKey, Sums, rollup

SETTLED: Final[InvoiceStatus] = "Settled"
PROCESSING: Final[InvoiceStatus] = "Processing"
BTC = "BTC"


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str  # what everything is shown in
    settled: Decimal | None  # None: other currencies exist but no rate to convert them
    pending: Decimal | None  # Processing invoices, the same way
    settled_count: int
    exact: bool  # nothing was converted (every invoice is in `currency`, or `currency` is BTC)
    converted: int  # invoices valued through their BTC at a day's rate
    not_converted: int  # marked invoices in another currency: no BTC paid, no value in `currency`
    counts: dict[str, int] = field(default_factory=dict)  # settled invoices per invoice currency

    @property
    def average(self) -> Decimal | None:
        return None if self.settled is None or not self.settled_count else self.settled / self.settled_count


def default_currency(stores: tuple[int, ...] = ()) -> str | None:
    """The stores' default currency in BTCPay (the most common one among several; None if never read)."""
    query = Store.select(Store.default_currency).where(Store.default_currency.is_null(False))
    if stores:
        query = query.where(Store.id.in_(list(stores)))
    found = Counter[str](currency for (currency,) in sql.tuples(query))
    return max(found, key=lambda c: (found[c], c == "USD")) if found else None


def _day_rates(groups: dict[GroupKey, Sums], currency: str) -> dict[int, Decimal]:
    """``currency`` e8 per sat, per day, from that day's cleanly settled invoices in ``currency``."""
    amount: dict[int, int] = defaultdict(int)
    sats: dict[int, int] = defaultdict(int)
    for (day, status, extra, invoice_currency), sums in groups.items():
        if invoice_currency == currency and status == SETTLED and extra == "None" and sums.sats > 0:
            amount[day] += sums.amount_e8
            sats[day] += sums.sats
    return {day: Decimal(amount[day]) / Decimal(sats[day]) for day in amount}


class _Nearest:
    """The rate of the nearest day that has one."""

    def __init__(self, rates: dict[int, Decimal]) -> None:
        self.days = sorted(rates)
        self.rates = rates

    def __call__(self, day: int) -> Decimal:
        at = bisect.bisect_left(self.days, day)
        candidates = self.days[max(0, at - 1) : at + 1]
        return self.rates[min(candidates, key=lambda d: (abs(d - day), d))]


def _value(
    groups: dict[GroupKey, Sums], status: InvoiceStatus, currency: str, rate: _Nearest | None
) -> tuple[Decimal | None, int, int, int]:
    """(total in ``currency`` e8, invoices, converted, not converted) for one status."""
    total = Decimal(0)
    count = converted = missing = 0
    for (day, group_status, extra, invoice_currency), sums in groups.items():
        if group_status != status:
            continue
        count += sums.count
        if currency == BTC:  # what was paid, as the Raised figure counts it
            total += sums.sats
        elif invoice_currency == currency:
            total += sums.amount_e8
        elif extra == "Marked" and not sums.sats:
            missing += sums.count
        elif rate is None:
            return None, count, converted, missing
        else:
            total += sums.sats * rate(day)
            converted += sums.count
    return total, count, converted, missing


def _most_used(groups: dict[GroupKey, Sums]) -> str:
    """The invoice currency of most settled invoices (BTC when there are none)."""
    counts: Counter[str] = Counter()
    for (_, status, _, invoice_currency), sums in groups.items():
        if status == SETTLED:
            counts[invoice_currency] += sums.count
    return max(sorted(counts), key=counts.__getitem__) if counts else BTC


def currency_totals(
    currency: str | None, stores: tuple[int, ...] = (), since: int | None = None, until: int | None = None
) -> CurrencyTotals:
    """Settled and pending invoices created in [since, until), valued in ``currency``.

    ``currency`` None: the currency most settled invoices of the range use
    (for stores whose default currency was never read).
    """
    by = ("day", "status", "additional_status", "currency")
    groups = rollup(by, stores=stores, statuses=(SETTLED, PROCESSING), since=since, until=until)
    currency = currency or _most_used(groups)
    rates = _day_rates(groups, currency)
    if not rates and currency != BTC and (since is not None or until is not None):
        # No invoice in `currency` settled in the range: the nearest days outside it.
        rates = _day_rates(rollup(by, stores=stores, statuses=(SETTLED,)), currency)
    rate = _Nearest(rates) if rates else None
    with localcontext() as ctx:
        ctx.prec = 60  # sums of e8 values times rates: exact until the final rounding on screen
        settled, count, converted, missing = _value(groups, SETTLED, currency, rate)
        pending, _, pending_converted, _ = _value(groups, PROCESSING, currency, rate)
        counts: Counter[str] = Counter()
        for (_, status, _, invoice_currency), sums in groups.items():
            if status == SETTLED:
                counts[invoice_currency] += sums.count
        return CurrencyTotals(
            currency=currency,
            settled=None if settled is None else settled / E8,
            pending=None if pending is None else pending / E8,
            settled_count=count,
            exact=currency == BTC or (converted == 0 and pending_converted == 0),
            converted=converted,
            not_converted=missing,
            counts=dict(counts),
        )
