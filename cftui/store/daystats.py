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
from typing import Any

from peewee import SQL, fn

from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoiceDayStat, database

DAY = 86_400

Key = tuple[int, int, str, str, str]  # store id, day, status, additional_status, currency
# The summed columns, in this order in every delta row and statement below.
SUM_FIELDS = ("count", "amount_e8", "paid_e8", "btc_paid_sats", *CONTRIBUTION_FIELDS)


def day_of(ts: int) -> int:
    return ts - ts % DAY


def day_start(column: Any) -> Any:
    """SQL for :func:`day_of` of a column: integer division on SQLite and PostgreSQL
    (peewee reads % as LIKE). The constant is written into the SQL, not bound:
    PostgreSQL matches a GROUP BY expression to the SELECT's only when they
    are the same text, and two bound parameters are two different ones."""
    return (column / SQL(str(DAY))) * SQL(str(DAY))


def key_of(store_id: int, created_time: int, status: str, additional_status: str, currency: str) -> Key:
    return (store_id, day_of(created_time), status, additional_status, currency)


class Delta:
    """Accumulates +/- contributions, then writes them in one pass."""

    def __init__(self) -> None:
        self._rows: dict[Key, list[int]] = {}

    def add(self, key: Key, sums: tuple[int, ...], sign: int = 1) -> None:
        """``sums``: one invoice's values of :data:`SUM_FIELDS` (its count, 1, first)."""
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = [sign * value for value in sums]
            return
        for i, value in enumerate(sums):
            row[i] += sign * value

    def remove(self, key: Key, sums: tuple[int, ...]) -> None:
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
        emptied = [key for key, v in self._rows.items() if v[0] < 0]
        self._rows.clear()
        if rows:
            database.cursor().executemany(_upsert_sql(), rows)
        if emptied:
            database.cursor().executemany(_delete_empty_sql(), emptied)


_KEY_FIELDS = ("store", "day", "status", "additional_status", "currency")


def _column(field: str) -> str:
    q = database.quote
    return f"{q[0]}{InvoiceDayStat._meta.fields[field].column_name}{q[1]}"


def _upsert_sql() -> str:
    q = database.quote
    table = f"{q[0]}{InvoiceDayStat._meta.table_name}{q[1]}"
    fields = (*_KEY_FIELDS, *SUM_FIELDS)
    params = ", ".join([database.param] * len(fields))
    sums = ", ".join(f"{_column(f)} = {table}.{_column(f)} + EXCLUDED.{_column(f)}" for f in SUM_FIELDS)
    return (
        f"INSERT INTO {table} ({', '.join(_column(f) for f in fields)}) VALUES ({params}) "
        f"ON CONFLICT ({', '.join(_column(f) for f in _KEY_FIELDS)}) DO UPDATE SET {sums}"
    )


def _delete_empty_sql() -> str:
    q = database.quote
    table = f"{q[0]}{InvoiceDayStat._meta.table_name}{q[1]}"
    where = " AND ".join(f"{_column(f)} = {database.param}" for f in _KEY_FIELDS)
    return f"DELETE FROM {table} WHERE {where} AND {_column('count')} = 0"


def rebuild(store_ids: Iterable[int] | None = None) -> None:
    """Recompute the roll-up from the invoices (in SQL, one pass)."""
    day = day_start(Invoice.created_time)
    query = Invoice.select(
        Invoice.store,
        day.alias("day"),
        Invoice.status,
        Invoice.additional_status,
        Invoice.currency,
        fn.COUNT(Invoice.id),
        fn.SUM(Invoice.amount_e8),
        fn.COALESCE(fn.SUM(Invoice.paid_e8), 0),
        fn.COALESCE(fn.SUM(Invoice.btc_paid_sats), 0),
        *(fn.SUM(getattr(Invoice, name)) for name in CONTRIBUTION_FIELDS),
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
