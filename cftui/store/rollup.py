"""Exact sums of invoices over any time range, fast at any size.

The whole UTC days inside a range come from the daily roll-up
(``InvoiceDayStat``: a few rows per day), the partial days at its edges from
the invoices themselves through the ``created_time`` index. Every sum is
exact; the cost is the number of days plus at most two days of invoices.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from peewee import ModelSelect, fn

from cftui.store import sql
from cftui.store.daystats import DAY, day_of, day_start, invoice_sums, sum_fields
from cftui.store.filters import no_index
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoiceDayStat

GROUPS = ("day", "status", "additional_status", "currency")
_NO_CONTRIBUTIONS = (0,) * len(CONTRIBUTION_FIELDS)

GroupKey = tuple[Any, ...]  # the values of the grouping columns, in the order ``by`` names them


@dataclass
class Sums:
    count: int = 0
    amount_e8: int = 0
    paid_e8: int = 0
    sats: int = 0  # btc_paid_sats, a null counted as 0 (as the roll-up does)
    # The crowdfund contribution columns (CONTRIBUTION_FIELDS), when asked for.
    contributions: tuple[int, ...] = _NO_CONTRIBUTIONS

    @classmethod
    def of(cls, names: Sequence[str], values: Sequence[Any]) -> Sums:
        """From a row's sums of the roll-up columns ``names`` (``sum_fields()`` or a part); the rest are 0."""
        # PostgreSQL sums BIGINTs as NUMERIC: back to int.
        by_name = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
        contributions = tuple(by_name.get(name, 0) for name in CONTRIBUTION_FIELDS)
        return cls(
            count=by_name["count"],
            amount_e8=by_name.get("amount_e8", 0),
            paid_e8=by_name.get("paid_e8", 0),
            sats=by_name.get("btc_paid_sats", 0),
            contributions=contributions,
        )

    def add(self, other: Sums) -> None:
        self.count += other.count
        self.amount_e8 += other.amount_e8
        self.paid_e8 += other.paid_e8
        self.sats += other.sats
        self.contributions = tuple(a + b for a, b in zip(self.contributions, other.contributions, strict=True))


def _day_ceil(ts: int) -> int:
    return -(-ts // DAY) * DAY


DayRange = tuple[int | None, int | None]  # [first, last) day starts; None = unbounded


def _windows(since: int | None, until: int | None) -> tuple[DayRange | None, list[tuple[int, int]]]:
    """Split [since, until) into whole days (as a day range) and raw edge ranges."""
    first = None if since is None else _day_ceil(since)
    last = None if until is None else day_of(until)
    if since is not None and until is not None and first is not None and last is not None and first >= last:
        return None, ([(since, until)] if since < until else [])
    edges = []
    if since is not None and first is not None and since < first:
        edges.append((since, first))
    if until is not None and last is not None and last < until:
        edges.append((last, until))
    return (first, last), edges


def _grouped(query: ModelSelect[Any], width: int, sums: Sequence[str]) -> Iterator[tuple[GroupKey, Sums]]:
    """(group key, sums) of each row of ``query``: ``width`` grouping columns, then the ``sums``."""
    for row in sql.tuples(query):
        yield row[:width], Sums.of(sums, row[width:])


def _day_rows(
    by: tuple[str, ...], stores: tuple[int, ...], statuses: tuple[str, ...], days: DayRange, count_only: bool,
    contributions: bool,
) -> Iterator[tuple[GroupKey, Sums]]:
    first, last = days
    fields = [getattr(InvoiceDayStat, name) for name in by]
    # Each SUM costs a step per roll-up row: a count reads only one.
    sums = ("count",) if count_only else sum_fields(contributions=contributions)
    query = InvoiceDayStat.select(*fields, *(fn.SUM(getattr(InvoiceDayStat, name)) for name in sums))
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
    return _grouped(query, len(fields), sums)


def _edge_rows(
    by: tuple[str, ...], stores: tuple[int, ...], statuses: tuple[str, ...], start: int, end: int,
    contributions: bool,
) -> Iterator[tuple[GroupKey, Sums]]:
    day = day_start(Invoice.created_time)
    fields = [day if name == "day" else getattr(Invoice, name) for name in by]
    # The range is at most a day: seek on created_time, check the rest per row.
    in_range = (Invoice.created_time >= start) & (Invoice.created_time < end)
    query = Invoice.select(*fields, *invoice_sums(contributions=contributions)).where(in_range)
    if stores:
        query = query.where(no_index(Invoice.store).in_(list(stores)))
    if statuses:
        query = query.where(no_index(Invoice.status).in_(list(statuses)))
    if fields:
        query = query.group_by(*fields)
    return _grouped(query, len(fields), sum_fields(contributions=contributions))


def rollup(
    by: tuple[str, ...],
    *,
    stores: tuple[int, ...] = (),
    statuses: tuple[str, ...] = (),
    since: int | None = None,
    until: int | None = None,
    count_only: bool = False,
    contributions: bool = False,
) -> dict[GroupKey, Sums]:
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
    result: dict[GroupKey, Sums] = {}
    for source in sources:
        for key, sums in source:
            if sums.count:
                result.setdefault(key, Sums()).add(sums)
    return result
