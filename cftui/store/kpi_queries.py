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

from peewee import Expression, Field, fn

from cftui import clock
from cftui.domain import ACCEPTED_VERDICTS, ALL_STATUSES
from cftui.money import E8
from cftui.store.angor_models import AngorProject
from cftui.store.daystats import DAY, day_of
from cftui.store.filters import no_index
from cftui.store.models import Invoice
from cftui.store.rollup import rollup
from cftui.store.webhook_models import WebhookDelivery

SETTLED = "Settled"
PROCESSING = "Processing"
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


def _ratio(numerator: int, denominator: int, places: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_EVEN)


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
    return [value for (value,) in query.tuples()]


def _median(column, fixed, ranged, n: int, nulls: int, walk: bool) -> Decimal | None:
    """Median of ``column`` over ``n`` matches of which ``nulls`` are null (read as 0)."""
    if n <= 0:
        return None
    low, high = (n - 1) // 2, n // 2
    values = [0] * max(0, min(nulls, high + 1) - low)
    start = max(low, nulls)
    if start <= high:
        values += _nth_values(column, fixed, ranged, start - nulls, high + 1 - start, walk)
    return (Decimal(values[0]) + Decimal(values[-1])) / 2


def _range_terms(stores, since, until, indexable: bool) -> list[Expression]:
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


def kpis(stores: tuple[int, ...] = (), since: int | None = None, until: int | None = None) -> Kpis:
    """Overview KPIs for invoices created in [since, until) (None = unbounded) in ``stores`` (empty = all)."""
    groups = rollup(("status", "additional_status", "currency"), stores=stores, since=since, until=until)
    status_counts: dict[str, int] = dict.fromkeys(ALL_STATUSES, 0)
    extra_counts: dict[str, int] = defaultdict(int)
    fiat_e8: dict[str, dict[str, int]] = {SETTLED: defaultdict(int), PROCESSING: defaultdict(int)}
    counts = {SETTLED: defaultdict(int), PROCESSING: defaultdict(int)}
    sats = {SETTLED: 0, PROCESSING: 0}
    abandoned = 0
    for (status, extra, currency), sums in groups.items():
        status_counts[status] = status_counts.get(status, 0) + sums.count
        extra_counts[extra] += sums.count
        if status == "Expired" and extra == "None":
            abandoned += sums.count
        if status in fiat_e8:
            fiat_e8[status][currency] += sums.amount_e8
            counts[status][currency] += sums.count
            sats[status] += sums.sats

    def totals(status: str) -> Totals:
        fiat = {c: Decimal(v) / E8 for c, v in sorted(fiat_e8[status].items())}
        return Totals(sum(counts[status].values()), sats[status], fiat)

    settled = totals(SETTLED)
    narrowed = bool(stores) or since is not None or until is not None
    everywhere = (
        {key[0]: s.count for key, s in rollup(("currency",), statuses=(SETTLED,)).items()}
        if narrowed
        else dict(counts[SETTLED])
    )
    seek = [Invoice.status == SETTLED]
    median_fiat = {}
    for currency, n in sorted(counts[SETTLED].items()):
        walk = _walk_is_cheaper(n, everywhere.get(currency, n))
        fixed = [*seek, Invoice.currency == currency if walk else no_index(Invoice.currency) == currency]
        ranged = _range_terms(stores, since, until, indexable=not walk)
        median = _median(Invoice.amount_e8, fixed, ranged, n, 0, walk)
        if median is not None:
            median_fiat[currency] = median / E8  # exact: a half e8 at most
    walk = _walk_is_cheaper(settled.count, sum(everywhere.values()))
    ranged = _range_terms(stores, since, until, indexable=not walk)
    null_sats = (
        Invoice.select(fn.COUNT(Invoice.id)).where(*seek, Invoice.btc_paid_sats.is_null(), *ranged).scalar()
        if settled.count
        else 0
    )
    return Kpis(
        total=sum(status_counts.values()),
        settled=settled,
        pending=totals(PROCESSING),
        average_sats=_ratio(settled.sats, settled.count, Decimal(1)),
        median_sats=_median(Invoice.btc_paid_sats, seek, ranged, settled.count, null_sats, walk),
        average_fiat={
            c: _ratio(fiat_e8[SETTLED][c], n, Decimal(1)) / E8 for c, n in sorted(counts[SETTLED].items()) if n
        },
        median_fiat=median_fiat,
        conversion=_ratio(
            status_counts[SETTLED],
            status_counts[SETTLED] + status_counts["Expired"] + status_counts["Invalid"],
            RATIO_PLACES,
        ),
        abandoned=abandoned,
        partial=extra_counts["PaidPartial"],
        late=extra_counts["PaidLate"],
        overpaid=extra_counts["PaidOver"],
        status_counts=status_counts,
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
        .tuples()
    )
    by_status: dict[str, int] = {}
    raised = target = investors = 0
    for status, count, raised_sats, target_sats, investor_count in rows:
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
        .tuples()
    )
    received = rejected = 0
    for verdict, count in rows:
        received += count
        if verdict not in ACCEPTED_VERDICTS:
            rejected += count
    last = WebhookDelivery.select(fn.MAX(WebhookDelivery.received_ms)).scalar()
    return WebhookSummary(received, rejected, last)
