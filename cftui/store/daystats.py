"""The daily invoice roll-up (``InvoiceDayStat``), kept exact.

Each invoice contributes to exactly one roll-up row, keyed by
(store, UTC day of ``created_time``, status, additional_status, currency),
with count 1, ``amount_e8``, ``paid_e8 or 0``, ``btc_paid_sats or 0`` and its
six crowdfund contribution columns (:mod:`cftui.store.contributions`).
The writer calls :func:`apply` with the contributions it removes (the old
version of a changed invoice) and adds (the new version), inside the same
transaction as the invoice rows, so the roll-up can never drift.
:func:`rebuild` recomputes it from scratch (after bulk loads; and tests use
it to prove the incremental path matches).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from peewee import SQL, Function, fn

from cftui.store import sql
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoiceDayStat, database

DAY = 86_400


class DayKey(NamedTuple):
    """The roll-up row an invoice counts in; the names are ``InvoiceDayStat``'s key columns."""

    store: int
    day: int  # unix seconds of 00:00 UTC
    status: str
    additional_status: str
    currency: str


class DaySums(NamedTuple):
    """What one invoice adds to its roll-up row; the names are ``InvoiceDayStat``'s summed columns."""

    # The column's name; as a field it hides tuple.count(), which nothing calls on these.
    count: int  # type: ignore[assignment]  # see above
    amount_e8: int
    paid_e8: int  # a null counts as 0
    btc_paid_sats: int  # a null counts as 0
    cf_settled_e8: int
    cf_settled_e18: int
    cf_settled_e28: int
    cf_pending_e8: int
    cf_pending_e18: int
    cf_pending_e28: int


# The summed columns, in the order of every delta row and statement below.
SUM_FIELDS: tuple[str, ...] = DaySums._fields
_KEY_FIELDS: tuple[str, ...] = DayKey._fields


def day_of(ts: int) -> int:
    return ts - ts % DAY


def day_start(column: Any) -> Any:
    """SQL for :func:`day_of` of a column: integer division on SQLite and PostgreSQL
    (peewee reads % as LIKE). The constant is written into the SQL, not bound:
    PostgreSQL matches a GROUP BY expression to the SELECT's only when they
    are the same text, and two bound parameters are two different ones."""
    return (column / SQL(str(DAY))) * SQL(str(DAY))


def key_of(store_id: int, created_time: int, status: str, additional_status: str, currency: str) -> DayKey:
    return DayKey(
        store=store_id, day=day_of(created_time), status=status, additional_status=additional_status, currency=currency
    )


def sum_fields(*, contributions: bool = True) -> tuple[str, ...]:
    """:data:`SUM_FIELDS`, or without the crowdfund contribution columns (the last six)."""
    return SUM_FIELDS if contributions else tuple(name for name in SUM_FIELDS if name not in CONTRIBUTION_FIELDS)


def invoice_sums(*, contributions: bool = True) -> list[Function]:
    """The aggregates over invoices that make a roll-up row's sums, in :func:`sum_fields` order.

    The one list of them: the roll-up is rebuilt with it and a range's partial days are summed with it."""
    nulls_as_zero = {"paid_e8", "btc_paid_sats"}  # nullable on an invoice, 0 in the roll-up
    return [
        fn.COUNT(Invoice.id) if name == "count"
        else fn.COALESCE(fn.SUM(getattr(Invoice, name)), 0) if name in nulls_as_zero
        else fn.SUM(getattr(Invoice, name))
        for name in sum_fields(contributions=contributions)
    ]  # fmt: skip


class Delta:
    """Accumulates +/- contributions, then writes them in one pass."""

    def __init__(self) -> None:
        self._rows: dict[DayKey, list[int]] = {}

    def add(self, key: DayKey, sums: DaySums, sign: int = 1) -> None:
        """Count one invoice's ``sums`` in the row ``key`` (``sign`` -1: take them out)."""
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = [sign * value for value in sums]
            return
        for i, value in enumerate(sums):
            row[i] += sign * value

    def remove(self, key: DayKey, sums: DaySums) -> None:
        self.add(key, sums, sign=-1)

    def __bool__(self) -> bool:
        return any(any(v) for v in self._rows.values())

    def apply(self) -> None:
        """Write the accumulated delta (call inside the writer's transaction).

        Plain ``executemany`` of one upsert statement: it runs once per page of
        a million-invoice sync, where building model queries cost more than the
        writes. Only rows whose count went down can have reached zero, so only
        those are looked at for deletion (not the whole table).
        """
        rows = [(*key, *v) for key, v in self._rows.items() if any(v)]
        emptied = [key for key, v in self._rows.items() if v[0] < 0]  # v[0]: the count (DaySums order)
        self._rows.clear()
        sql.executemany(_upsert_sql(), rows)
        sql.executemany(_delete_empty_sql(), emptied)


def _column(field: str) -> str:
    return sql.column(InvoiceDayStat, field)


def _upsert_sql() -> str:
    table = sql.table(InvoiceDayStat)
    fields = (*_KEY_FIELDS, *SUM_FIELDS)
    sums = ", ".join(f"{_column(f)} = {table}.{_column(f)} + EXCLUDED.{_column(f)}" for f in SUM_FIELDS)
    return (
        f"INSERT INTO {table} ({sql.columns(InvoiceDayStat, fields)}) VALUES ({sql.params(len(fields))}) "
        f"ON CONFLICT ({sql.columns(InvoiceDayStat, _KEY_FIELDS)}) DO UPDATE SET {sums}"
    )


def _delete_empty_sql() -> str:
    where = " AND ".join(f"{_column(f)} = {sql.params(1)}" for f in _KEY_FIELDS)
    return f"DELETE FROM {sql.table(InvoiceDayStat)} WHERE {where} AND {_column('count')} = 0"


def rebuild(store_ids: Iterable[int] | None = None) -> None:
    """Recompute the roll-up from the invoices (in SQL, one pass)."""
    day = day_start(Invoice.created_time)
    query = Invoice.select(
        Invoice.store,
        day.alias("day"),
        Invoice.status,
        Invoice.additional_status,
        Invoice.currency,
        *invoice_sums(),
    ).group_by(Invoice.store, day, Invoice.status, Invoice.additional_status, Invoice.currency)
    delete = InvoiceDayStat.delete()
    if store_ids is not None:
        ids = list(store_ids)
        query = query.where(Invoice.store.in_(ids))
        delete = delete.where(InvoiceDayStat.store.in_(ids))
    with database.atomic():
        delete.execute()
        InvoiceDayStat.insert_from(
            query, [getattr(InvoiceDayStat, name) for name in (*_KEY_FIELDS, *SUM_FIELDS)]
        ).execute()
