"""Overview figures: KPIs, the daily series, Angor and webhook summaries (crowdfunds: :mod:`cftui.store.crowdfund`).

Sums and counts come from :func:`cftui.store.rollup.rollup` (exact, a few
thousand rows at most). Medians cannot be rolled up; they are read by
walking an index in value order (``ORDER BY amount LIMIT 2 OFFSET n/2`` over
a covering index) or, for a narrow range, by sorting the range's rows,
whichever visits fewer rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from peewee import Expression, Field, fn

from cftui import clock
from cftui.domain import ACCEPTED_VERDICTS, ALL_STATUSES, InvoiceStatus
from cftui.money import E8
from cftui.store import sql
from cftui.store.angor_models import AngorProject
from cftui.store.daystats import DAY, day_of
from cftui.store.filters import no_index
from cftui.store.models import Invoice
from cftui.store.rollup import rollup
from cftui.store.webhook_models import WebhookDelivery

SETTLED: Final[InvoiceStatus] = "Settled"
PROCESSING: Final[InvoiceStatus] = "Processing"
RATIO_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Totals:
    """Invoices in one state: how many, the BTC paid, and the amounts per invoice currency."""

    count: int
    sats: int
    fiat: dict[str, Decimal]


@dataclass(frozen=True)
class Kpis:
    total: int  # invoices created in the range
    settled: Totals  # raised
    pending: Totals  # Processing: paid, awaiting confirmations
    average_sats: Decimal | None  # per settled invoice, to the whole sat
    median_sats: Decimal | None  # a null btc_paid_sats counts as 0, as in the roll-up
    average_fiat: dict[str, Decimal]  # per currency, 8 places
    median_fiat: dict[str, Decimal]  # exact (the mean of the middle two for an even count)
    conversion: Decimal | None  # settled / (settled + expired + invalid), 0..1; None with no final invoice
    abandoned: int  # expired unpaid
    partial: int  # additional status PaidPartial
    late: int  # PaidLate
    overpaid: int  # PaidOver
    status_counts: dict[str, int]  # every status, 0 when none


@dataclass(frozen=True)
class DayPoint:
    day: int  # unix seconds of 00:00 UTC
    settled_sats: int
    invoices: int


@dataclass(frozen=True)
class AngorSummary:
    projects: int
    by_status: dict[str, int]
    raised_sats: int
    target_sats: int
    investors: int


@dataclass(frozen=True)
class WebhookSummary:
    received_24h: int
    rejected_24h: int  # verdict other than verified / duplicate
    last_received_ms: int | None


def _quotient(numerator: int, denominator: int, places: Decimal) -> Decimal:
    """``numerator / denominator`` (not 0) to ``places``, half to even."""
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_EVEN)


def _ratio(numerator: int, denominator: int, places: Decimal) -> Decimal | None:
    """:func:`_quotient`, or None for a 0 denominator."""
    return _quotient(numerator, denominator, places) if denominator else None


def _nth_values(
    column: Field,
    fixed: list[Expression],
    ranged: list[Expression],
    first: int,
    count: int,
    walk: bool,
) -> list[int]:
    """Values at positions first.. of ``column`` in ascending order among matches.

    ``walk``: read the covering index in value order (``fixed`` equality terms
    seek, the rest is checked per entry). Otherwise seek on ``ranged`` (the
    created_time range) and sort.
    """
    column_or_copy = column if walk else no_index(column)
    query = (
        Invoice.select(column)
        .where(*fixed, *ranged, column_or_copy.is_null(False))
        .order_by(column_or_copy)
        .limit(count)
        .offset(first or None)
    )
    return [value for (value,) in sql.tuples(query)]


def _median(
    column: Field, fixed: list[Expression], ranged: list[Expression], n: int, nulls: int, walk: bool
) -> Decimal | None:
    """Median of ``column`` over ``n`` matches of which ``nulls`` are null (read as 0)."""
    if n <= 0:
        return None
    low, high = (n - 1) // 2, n // 2
    values = [0] * max(0, min(nulls, high + 1) - low)
    start = max(low, nulls)
    if start <= high:
        values += _nth_values(column, fixed, ranged, start - nulls, high + 1 - start, walk)
    return (Decimal(values[0]) + Decimal(values[-1])) / 2


def _range_terms(stores: tuple[int, ...], since: int | None, until: int | None, indexable: bool) -> list[Expression]:
    created = Invoice.created_time if indexable else no_index(Invoice.created_time)
    terms = [no_index(Invoice.store).in_(list(stores))] if stores else []
    if since is not None:
        terms.append(created >= since)
    if until is not None:
        terms.append(created < until)
    return terms


def _walk_is_cheaper(matches: int, everywhere: int) -> bool:
    # A value-order walk reaches the middle after ~everywhere/2 entries (index
    # only); the range plan reads and sorts every match (~3 steps each).
    return everywhere < 6 * matches


@dataclass
class _Tally:
    """The roll-up's groups of a range, summed the ways the KPIs read them."""

    status_counts: dict[str, int]  # every status, 0 when none
    extra_counts: dict[str, int]  # by additional status
    abandoned: int  # expired unpaid
    # Settled and Processing only: amounts (e8) and counts per currency, BTC paid.
    fiat_e8: dict[str, dict[str, int]]
    counts: dict[str, dict[str, int]]
    sats: dict[str, int]

    def totals(self, status: InvoiceStatus) -> Totals:
        fiat = {c: Decimal(v) / E8 for c, v in sorted(self.fiat_e8[status].items())}
        return Totals(sum(self.counts[status].values()), self.sats[status], fiat)

    def average_fiat(self) -> dict[str, Decimal]:
        """Per settled invoice, per currency, to the e8."""
        settled = self.fiat_e8[SETTLED]
        return {c: _quotient(settled[c], n, Decimal(1)) / E8 for c, n in sorted(self.counts[SETTLED].items()) if n}

    def conversion(self) -> Decimal | None:
        final = self.status_counts[SETTLED] + self.status_counts["Expired"] + self.status_counts["Invalid"]
        return _ratio(self.status_counts[SETTLED], final, RATIO_PLACES)


def _tally(stores: tuple[int, ...], since: int | None, until: int | None) -> _Tally:
    groups = rollup(("status", "additional_status", "currency"), stores=stores, since=since, until=until)
    tally = _Tally(
        status_counts=dict.fromkeys(ALL_STATUSES, 0),
        extra_counts=defaultdict(int),
        abandoned=0,
        fiat_e8={SETTLED: defaultdict(int), PROCESSING: defaultdict(int)},
        counts={SETTLED: defaultdict(int), PROCESSING: defaultdict(int)},
        sats={SETTLED: 0, PROCESSING: 0},
    )
    for (status, extra, currency), sums in groups.items():
        tally.status_counts[status] = tally.status_counts.get(status, 0) + sums.count
        tally.extra_counts[extra] += sums.count
        if status == "Expired" and extra == "None":
            tally.abandoned += sums.count
        if status in tally.fiat_e8:
            tally.fiat_e8[status][currency] += sums.amount_e8
            tally.counts[status][currency] += sums.count
            tally.sats[status] += sums.sats
    return tally


def _settled_everywhere(narrowed: bool, settled_counts: dict[str, int]) -> dict[str, int]:
    """Settled invoices per currency in the whole store (what a value-order walk passes through)."""
    if not narrowed:
        return dict(settled_counts)
    return {currency: s.count for (currency,), s in rollup(("currency",), statuses=(SETTLED,)).items()}


def _median_fiat(
    settled_counts: dict[str, int], everywhere: dict[str, int], stores: tuple[int, ...], since: int | None,
    until: int | None,
) -> dict[str, Decimal]:
    """The median settled amount per currency, exact (the mean of the middle two for an even count)."""
    medians = {}
    for currency, n in sorted(settled_counts.items()):
        walk = _walk_is_cheaper(n, everywhere.get(currency, n))
        same_currency = Invoice.currency == currency if walk else no_index(Invoice.currency) == currency
        fixed = [Invoice.status == SETTLED, same_currency]
        ranged = _range_terms(stores, since, until, indexable=not walk)
        median = _median(Invoice.amount_e8, fixed, ranged, n, 0, walk)
        if median is not None:
            medians[currency] = median / E8  # exact: a half e8 at most
    return medians


def _median_sats(
    settled: int, everywhere: int, stores: tuple[int, ...], since: int | None, until: int | None
) -> Decimal | None:
    """The median BTC paid per settled invoice (a null ``btc_paid_sats`` counts as 0, as in the roll-up)."""
    walk = _walk_is_cheaper(settled, everywhere)
    seek = [Invoice.status == SETTLED]
    ranged = _range_terms(stores, since, until, indexable=not walk)
    null_sats = (
        Invoice.select(fn.COUNT(Invoice.id)).where(*seek, Invoice.btc_paid_sats.is_null(), *ranged).scalar()
        if settled
        else 0
    )
    return _median(Invoice.btc_paid_sats, seek, ranged, settled, null_sats, walk)


def kpis(stores: tuple[int, ...] = (), since: int | None = None, until: int | None = None) -> Kpis:
    """Overview KPIs for invoices created in [since, until) (None = unbounded) in ``stores`` (empty = all)."""
    tally = _tally(stores, since, until)
    settled = tally.totals(SETTLED)
    narrowed = bool(stores) or since is not None or until is not None
    everywhere = _settled_everywhere(narrowed, tally.counts[SETTLED])
    return Kpis(
        total=sum(tally.status_counts.values()),
        settled=settled,
        pending=tally.totals(PROCESSING),
        average_sats=_ratio(settled.sats, settled.count, Decimal(1)),
        median_sats=_median_sats(settled.count, sum(everywhere.values()), stores, since, until),
        average_fiat=tally.average_fiat(),
        median_fiat=_median_fiat(tally.counts[SETTLED], everywhere, stores, since, until),
        conversion=tally.conversion(),
        abandoned=tally.abandoned,
        partial=tally.extra_counts["PaidPartial"],
        late=tally.extra_counts["PaidLate"],
        overpaid=tally.extra_counts["PaidOver"],
        status_counts=tally.status_counts,
    )


def daily_series(
    stores: tuple[int, ...] = (), since: int | None = None, until: int | None = None
) -> list[DayPoint]:
    """Per UTC day in the range: BTC raised (settled sats) and invoices created; empty days are 0.

    With no ``since`` the series starts at the first day with an invoice;
    with no ``until`` it ends today.
    """
    groups = rollup(("day", "status"), stores=stores, since=since, until=until)
    invoices: dict[int, int] = defaultdict(int)
    raised: dict[int, int] = defaultdict(int)
    for (day, status), sums in groups.items():
        invoices[day] += sums.count
        if status == SETTLED:
            raised[day] += sums.sats
    if since is not None:
        first = day_of(since)
    elif invoices:
        first = min(invoices)
    else:
        return []
    last = day_of(until - 1) if until is not None else day_of(clock.now_s())
    return [DayPoint(day, raised.get(day, 0), invoices.get(day, 0)) for day in range(first, last + 1, DAY)]


def angor_summary() -> AngorSummary:
    rows = (
        AngorProject.select(
            AngorProject.status,
            fn.COUNT(AngorProject.project_id),
            fn.SUM(AngorProject.raised_sats),
            fn.SUM(AngorProject.target_sats),
            fn.SUM(AngorProject.investor_count),
        )
        .group_by(AngorProject.status)
    )
    by_status: dict[str, int] = {}
    raised = target = investors = 0
    for status, count, raised_sats, target_sats, investor_count in sql.tuples(rows):
        by_status[status] = count
        raised += int(raised_sats or 0)  # PostgreSQL sums BIGINTs as NUMERIC
        target += int(target_sats or 0)
        investors += int(investor_count or 0)
    return AngorSummary(sum(by_status.values()), by_status, raised, target, investors)


def webhook_summary(now: int) -> WebhookSummary:
    """Deliveries received in the 24 hours before ``now`` (unix s), and how many were rejected."""
    since_ms = (now - DAY) * 1000
    rows = (
        WebhookDelivery.select(WebhookDelivery.verdict, fn.COUNT(WebhookDelivery.id))
        .where(WebhookDelivery.received_ms >= since_ms)
        .group_by(WebhookDelivery.verdict)
    )
    received = rejected = 0
    for verdict, count in sql.tuples(rows):
        received += count
        if verdict not in ACCEPTED_VERDICTS:
            rejected += count
    last = WebhookDelivery.select(fn.MAX(WebhookDelivery.received_ms)).scalar()
    return WebhookSummary(received, rejected, last)
