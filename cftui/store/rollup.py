"""Exact sums of invoices over any time range, fast at any size.

The whole UTC days inside a range come from the daily roll-up
(``InvoiceDayStat``: a few rows per day), the partial days at its edges from
the invoices themselves through the ``created_time`` index. Every sum is
exact; the cost is the number of days plus at most two days of invoices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from peewee import fn

from cftui.store.daystats import DAY, day_of, day_start
from cftui.store.filters import no_index
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoiceDayStat

GROUPS = ("day", "status", "additional_status", "currency")
_NO_CONTRIBUTIONS = (0,) * len(CONTRIBUTION_FIELDS)


@dataclass
class Sums:
    count: int = 0
    amount_e8: int = 0
    paid_e8: int = 0
    sats: int = 0  # btc_paid_sats, a null counted as 0 (as the roll-up does)
    # The crowdfund contribution columns (CONTRIBUTION_FIELDS), when asked for.
    contributions: tuple[int, ...] = _NO_CONTRIBUTIONS

    @classmethod
    def of(cls, values) -> Sums:
        """From a row's sums: count, amount, paid, sats, then any contribution columns."""
        numbers = [int(v or 0) for v in values]
        return cls(*numbers[:4], contributions=tuple(numbers[4:]) or _NO_CONTRIBUTIONS)

    def add(self, other: Sums) -> None:
        self.count += other.count
        self.amount_e8 += other.amount_e8
        self.paid_e8 += other.paid_e8
        self.sats += other.sats
        self.contributions = tuple(a + b for a, b in zip(self.contributions, other.contributions))


def _day_ceil(ts: int) -> int:
    return -(-ts // DAY) * DAY


def _windows(since: int | None, until: int | None) -> tuple[tuple[int | None, int | None] | None, list[tuple[int, int]]]:
    """Split [since, until) into whole days (as a day range) and raw edge ranges."""
    first = None if since is None else _day_ceil(since)
    last = None if until is None else day_of(until)
    if first is not None and last is not None and first >= last:
        return None, ([(since, until)] if since < until else [])
    edges = []
    if since is not None and since < first:
        edges.append((since, first))
    if until is not None and last < until:
        edges.append((last, until))
    return (first, last), edges


def _day_rows(by, stores, statuses, days, count_only: bool, contributions: bool) -> Iterator[tuple]:
    first, last = days
    fields = [getattr(InvoiceDayStat, name) for name in by]
    # Each SUM costs a step per roll-up row: a count reads only one.
    sums = (InvoiceDayStat.count,) if count_only else (
        InvoiceDayStat.count, InvoiceDayStat.amount_e8, InvoiceDayStat.paid_e8, InvoiceDayStat.btc_paid_sats,
        *(getattr(InvoiceDayStat, name) for name in CONTRIBUTION_FIELDS if contributions),
    )  # fmt: skip
    query = InvoiceDayStat.select(*fields, *(fn.SUM(column) for column in sums))
    if first is not None:
        query = query.where(InvoiceDayStat.day >= first)
    if last is not None:
        query = query.where(InvoiceDayStat.day < last)
    if stores:
        query = query.where(InvoiceDayStat.store.in_(list(stores)))
    if statuses:
        query = query.where(InvoiceDayStat.status.in_(list(statuses)))
    if fields:
        query = query.group_by(*fields)
    return query.tuples().iterator()


def _edge_rows(by, stores, statuses, start: int, end: int, contributions: bool) -> Iterator[tuple]:
    day = day_start(Invoice.created_time)
    fields = [day if name == "day" else getattr(Invoice, name) for name in by]
    # The range is at most a day: seek on created_time, check the rest per row.
    query = Invoice.select(
        *fields,
        fn.COUNT(Invoice.id),
        fn.SUM(Invoice.amount_e8),
        fn.COALESCE(fn.SUM(Invoice.paid_e8), 0),
        fn.COALESCE(fn.SUM(Invoice.btc_paid_sats), 0),
        *(fn.SUM(getattr(Invoice, name)) for name in CONTRIBUTION_FIELDS if contributions),
    ).where((Invoice.created_time >= start) & (Invoice.created_time < end))
    if stores:
        query = query.where(no_index(Invoice.store).in_(list(stores)))
    if statuses:
        query = query.where(no_index(Invoice.status).in_(list(statuses)))
    if fields:
        query = query.group_by(*fields)
    return query.tuples().iterator()


def rollup(
    by: tuple[str, ...],
    *,
    stores: tuple[int, ...] = (),
    statuses: tuple[str, ...] = (),
    since: int | None = None,
    until: int | None = None,
    count_only: bool = False,
    contributions: bool = False,
) -> dict[tuple, Sums]:
    """Sums of the invoices created in [since, until), grouped by ``by`` (names from GROUPS).

    ``count_only``: only ``Sums.count`` is wanted (the other sums may be left 0).
    ``contributions``: the crowdfund contribution columns are wanted too.
    """
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group the roll-up by {sorted(unknown)}")
    days, edges = _windows(since, until)
    sources = [_edge_rows(by, stores, statuses, start, end, contributions) for start, end in edges]
    if days is not None:
        sources.append(_day_rows(by, stores, statuses, days, count_only, contributions))
    result: dict[tuple, Sums] = {}
    width = len(by)
    for source in sources:
        for row in source:
            sums = Sums.of(row[width:])  # fields absent with count_only stay 0
            if sums.count:
                result.setdefault(tuple(row[:width]), Sums()).add(sums)
    return result
