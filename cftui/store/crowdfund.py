"""Crowdfund progress as BTCPay's own crowdfund page shows it.

:func:`crowdfund_progress` is the one query: a typed :class:`CrowdfundProgress`
row per crowdfund app, every figure exact and each with the upstream rule it
follows (``rules``, ready to show). The rules, read at btcpayserver v2.4.1:

* Which invoices (``AppService.GetInvoicesForApp``): those created from the
  app (their ``orderUrl`` names it), or every invoice of the store when the app
  counts all store invoices; in any status, archived ones included; created
  since the goal last reset (``CrowdfundPlugin.GetInfo``: ``resetEvery`` times
  ``resetEveryAmount`` from the start date, each step from the last one).
* Settled and pending (``InvoiceRepository.GetContributionsByPaymentMethodId``,
  over the invoices in the target currency, compared without case): see
  :mod:`cftui.store.contributions`, plus, with an enforced target
  (``enforceTargetAmount``), the price of each New invoice as pending instead
  of its payments.
* "Raised" on BTCPay's page is settled + pending; its bar shows each of them
  as a share of the target. Contributors are the invoices Settled or
  Processing, in any currency.

The sums run in SQL: per app on a partial covering index of the crowdfund
invoices, or, for an app that counts every store invoice, on the daily
roll-up (:mod:`cftui.store.rollup`).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from peewee import SQL, fn

from cftui import clock
from cftui.money import currency_places
from cftui.store import sql
from cftui.store.contributions import EXACT, from_units
from cftui.store.daystats import DAY
from cftui.store.models import CONTRIBUTION_FIELDS, CrowdfundApp, Invoice, Store
from cftui.store.rollup import rollup

PAID_STATUSES = ("Settled", "Processing")
RESET_UNITS = ("Hour", "Day", "Month", "Year")
_PERCENT = Decimal("0.01")
_UNITS = len(CONTRIBUTION_FIELDS) // 2


@dataclass(frozen=True)
class CrowdfundProgress:
    """One crowdfund app's progress. Amounts are exact ``Decimal`` in ``currency``
    (use :meth:`shown` to round one as BTCPay displays it)."""

    store_pk: int  # the Store row
    store_name: str
    app_id: str
    name: str
    title: str | None
    archived: bool
    enabled: bool
    currency: str | None  # the target currency; None: nothing can count
    target: Decimal | None  # None: no target
    settled: Decimal  # BTCPay's CurrentAmount
    pending: Decimal  # BTCPay's CurrentPendingAmount
    contributions: int  # BTCPay's TotalContributors
    btc_paid_sats: int  # paymentMethodPaid of the counted invoices, any status or currency
    start_time: int | None
    end_time: int | None
    days_left: int | None  # whole days to end_time when read, 0 once ended; None without an end date
    period_start: int | None  # the goal's last reset; None when it never resets
    next_reset: int | None
    reset_every: str  # Never | Hour | Day | Month | Year
    reset_every_amount: int
    hardcap: bool  # enforceTargetAmount
    all_store_invoices: bool  # counts every invoice of the store
    rules: tuple[str, ...]  # one sentence per figure: what it counts, after which upstream code

    @property
    def title_or_name(self) -> str:
        return self.title or self.name

    @property
    def raised(self) -> Decimal:
        """Settled plus pending: the "Raised" figure of BTCPay's crowdfund page."""
        return EXACT.add(self.settled, self.pending)

    @property
    def percent(self) -> Decimal | None:
        """Settled as a percentage of the target (BTCPay's ProgressPercentage), to 0.01."""
        return self._share(self.settled)

    @property
    def percent_raised(self) -> Decimal | None:
        """Settled and pending as a percentage of the target (the page's "of goal"), to 0.01."""
        return self._share(self.raised)

    def shown(self, amount: Decimal) -> Decimal:
        """``amount`` rounded to the currency's places, half to even, as ViewCrowdfund.cshtml's Math.Round
        does (the page's script then formats a float with Intl.NumberFormat: it can differ on an exact half)."""
        quantum = Decimal(1).scaleb(-currency_places(self.currency or ""))
        return amount.quantize(quantum, rounding=ROUND_HALF_EVEN, context=EXACT)

    def _share(self, amount: Decimal) -> Decimal | None:
        if not self.target:
            return None
        percent = EXACT.divide(EXACT.multiply(amount, Decimal(100)), self.target)
        return percent.quantize(_PERCENT, rounding=ROUND_HALF_EVEN, context=EXACT)


def crowdfund_progress(stores: tuple[int, ...] = (), *, app_id: str | None = None) -> list[CrowdfundProgress]:
    """Every crowdfund app (of ``stores``; of all stores when empty), ordered by store, name, id.

    ``app_id``: only that app (a campaign view).
    """
    names: dict[int, str] = {pk: name for pk, name in sql.tuples(Store.select(Store.id, Store.name))}
    apps = CrowdfundApp.select().order_by(CrowdfundApp.store, CrowdfundApp.name, CrowdfundApp.id)
    if stores:
        apps = apps.where(CrowdfundApp.store.in_(list(stores)))
    if app_id is not None:
        apps = apps.where(CrowdfundApp.app_id == app_id)
    now = clock.now_s()
    return [_progress(app, names.get(app.store_id, "?"), now) for app in apps]


def _progress(app: CrowdfundApp, store_name: str, now: int) -> CrowdfundProgress:
    period_start, next_reset = reset_period(app.start_time, app.reset_every, app.reset_every_amount, now)
    rows = _all_store_rows(app, period_start) if app.all_store_invoices else _app_rows(app, period_start)
    settled, pending, contributions, btc = _tally(rows, app.target_currency, bool(app.enforce_target))
    target = None if app.target_e8 is None else Decimal(app.target_e8).scaleb(-8)
    return CrowdfundProgress(
        store_pk=app.store_id, store_name=store_name, app_id=app.app_id, name=app.name, title=app.title,
        archived=bool(app.archived), enabled=bool(app.enabled), currency=app.target_currency, target=target,
        settled=settled, pending=pending, contributions=contributions, btc_paid_sats=btc,
        start_time=app.start_time, end_time=app.end_time, days_left=_days_left(app.end_time, now),
        period_start=period_start, next_reset=next_reset,
        reset_every=app.reset_every if period_start is not None else "Never",
        reset_every_amount=app.reset_every_amount, hardcap=bool(app.enforce_target),
        all_store_invoices=bool(app.all_store_invoices), rules=_rules(app, period_start),
    )  # fmt: skip


def _days_left(end_time: int | None, now: int) -> int | None:
    return None if end_time is None else max(0, -(-(end_time - now) // DAY))


# ---------------------------------------------------------------- the sums

Row = tuple[Any, ...]  # status, currency, count, amount_e8, btc_paid_sats, then the contribution columns


def _app_rows(app: CrowdfundApp, since: int | None) -> Iterable[Row]:
    # Seeks the partial index (app_id, store, created_time, ...) and reads nothing else. COUNT(*), not of
    # the id: PostgreSQL's index holds no id (SQLite's holds the rowid), so counting ids would read the table.
    query = Invoice.select(
        Invoice.status, Invoice.currency, fn.COUNT(SQL("*")), fn.SUM(Invoice.amount_e8),
        fn.COALESCE(fn.SUM(Invoice.btc_paid_sats), 0), *(fn.SUM(getattr(Invoice, f)) for f in CONTRIBUTION_FIELDS),
    ).where(Invoice.app_id == app.app_id, Invoice.store == app.store_id)  # fmt: skip
    if since is not None:
        query = query.where(Invoice.created_time >= since)
    return sql.tuples(query.group_by(Invoice.status, Invoice.currency))


def _all_store_rows(app: CrowdfundApp, since: int | None) -> Iterable[Row]:
    sums = rollup(("status", "currency"), stores=(app.store_id,), since=since, contributions=True)
    return [
        (status, currency, s.count, s.amount_e8, s.sats, *s.contributions) for (status, currency), s in sums.items()
    ]


def _tally(rows: Iterable[Row], target: str | None, hardcap: bool) -> tuple[Decimal, Decimal, int, int]:
    """(settled, pending, contributions, BTC paid) from grouped rows."""
    settled, pending = [0] * _UNITS, [0] * _UNITS
    new_prices_e8 = contributions = btc = 0
    wanted = None if target is None else target.upper()
    for status, currency, count, amount_e8, sats, *sums in rows:
        # PostgreSQL sums BIGINTs as NUMERIC: back to int before any Decimal arithmetic rounds them.
        units = [int(value or 0) for value in sums]
        if status in PAID_STATUSES:
            contributions += count
        btc += int(sats or 0)
        if currency.upper() != wanted:
            continue
        if hardcap and status == "New":
            new_prices_e8 += int(amount_e8 or 0)
            continue
        settled = [a + b for a, b in zip(settled, units[:_UNITS], strict=True)]
        pending = [a + b for a, b in zip(pending, units[_UNITS:], strict=True)]
    pending_total = EXACT.add(from_units(*pending), Decimal(new_prices_e8).scaleb(-8))
    return from_units(*settled), pending_total, contributions, btc


# ---------------------------------------------------------------- reset periods


def reset_period(start: int | None, every: str, amount: int, now: int) -> tuple[int | None, int | None]:
    """(last reset, next reset) as ``CrowdfundPlugin.GetInfo`` finds them; (None, None) if it never resets.

    Upstream walks from the start date one period at a time, each from the
    last (so a month from Jan 31 is Feb 28, then Mar 28). Before the start, the
    period starts at the start date.
    """
    if start is None or every not in RESET_UNITS or amount < 1:
        return None, None
    if every in ("Hour", "Day"):
        step = amount * (3600 if every == "Hour" else DAY)
        last = start + max(0, (now - start) // step) * step
        return last, (last + step if now >= start else start)
    months = amount * (12 if every == "Year" else 1)
    last = following = start
    while now >= following:
        last, following = following, _add_months(following, months)
    return last, following


def _add_months(ts: int, months: int) -> int:
    """.NET's DateTime.AddMonths: the same day of month, clamped to the month's length."""
    moment = datetime.fromtimestamp(ts, UTC)
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return calendar.timegm(moment.replace(year=year, month=month0 + 1, day=day).timetuple())


# ---------------------------------------------------------------- rules


def _rules(app: CrowdfundApp, period_start: int | None) -> tuple[str, ...]:
    currency = app.target_currency or "the target currency (none set)"
    pending = "pending: the same for payments still confirming"
    if app.enforce_target:
        pending += ", and the price of each unpaid New invoice, because the target is enforced (enforceTargetAmount)"
    if app.all_store_invoices:
        scope = (f"counts every invoice of the store in {currency}, as the app counts all store invoices "
                 "(set by crowdfund_all_invoices; AppService.GetInvoicesForApp)")
    else:
        scope = (f"counts the invoices created from the app in {currency} (AppService.GetInvoicesForApp); "
                 "BTCPay's \"count all invoices of the store\" setting is not readable through the Greenfield "
                 "API: name the app in crowdfund_all_invoices if it is on")
    rules = [
        scope,
        "settled: payments confirmed by the invoice's expiry (at any time once it is marked settled), net of "
        "method fees, at the invoice's rate; an invoice marked settled without payments counts its price, one "
        "marked invalid counts nothing (InvoiceRepository.GetContributionsByPaymentMethodId)",
        pending,
        "raised = settled + pending, the \"Raised\" of BTCPay's crowdfund page; the percentage is settled of "
        "the target (CrowdfundPlugin.GetInfo)",
        "contributions: the invoices Settled or Processing, in any currency (CrowdfundPlugin.GetInfo)",
        "BTC paid: paymentMethodPaid of the counted invoices, whatever their status or currency",
    ]
    if period_start is not None:
        unit = app.reset_every.lower() + ("s" if app.reset_every_amount != 1 else "")
        rules.insert(1, f"the goal resets every {app.reset_every_amount} {unit}: invoices created since "
                        f"{clock.iso(period_start)} (CrowdfundPlugin.GetInfo)")
    return tuple(rules)
