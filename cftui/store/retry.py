"""The retry list: invoices a sync skipped because their record did not parse (``SkippedInvoice``).

A sync records each skipped record here in the transaction of its page, and
every later sync reads them again: by id when the record had one, else the
one second of its ``createdTime``. A row goes once its invoice is stored,
or once the server says the invoice is gone. ``doctor``, `cftui sync` and the
dashboard's status line show how many are waiting, and which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cftui import clock
from cftui.store.chunking import IN_LIST_LIMIT, chunks
from cftui.store.models import SkippedInvoice, Store
from cftui.store.writer import lock_store

SHOWN_IDS = 20  # ids named in a summary; the count covers the rest


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that did not parse: its id if it had a usable one, else its created time if that was usable."""

    invoice_id: str | None
    created_time: int | None
    reason: str

    @property
    def retryable(self) -> bool:
        return self.invoice_id is not None or self.created_time is not None


@dataclass(frozen=True, slots=True)
class Waiting:
    """What a summary shows: how many invoices wait for a retry, and the first of them."""

    count: int
    labels: tuple[str, ...]


def label(row: SkippedInvoice) -> str:
    return row.invoice_id if row.invoice_id else f"(no id, created {clock.iso(row.created_time)})"


def record(store: Store, skips: Iterable[Skip]) -> None:
    """Add each skip, or count one more attempt for a skip already listed (call inside the page's transaction).

    Under the store's write lock: two syncs of one store meeting the same record at once would otherwise both
    find no row and both insert it (on PostgreSQL; SQLite's one write lock already keeps them apart)."""
    lock_store(store.id)
    now = clock.now_s()
    for skip in skips:
        if not skip.retryable:
            continue
        where = (SkippedInvoice.store == store) & (
            (SkippedInvoice.invoice_id == skip.invoice_id)
            if skip.invoice_id is not None
            else (SkippedInvoice.invoice_id.is_null() & (SkippedInvoice.created_time == skip.created_time))
        )
        updated = (
            SkippedInvoice.update(reason=skip.reason, skipped_time=now, attempts=SkippedInvoice.attempts + 1)
            .where(where)
            .execute()
        )
        if not updated:
            SkippedInvoice.create(store=store, invoice_id=skip.invoice_id, created_time=skip.created_time,
                                  reason=skip.reason, skipped_time=now)


def clear(store: Store, invoice_ids: Iterable[str]) -> int:
    """Drop the listed invoices that are now stored (or gone from the server)."""
    ids = list(invoice_ids)
    deleted = 0
    for chunk in chunks(ids, IN_LIST_LIMIT):
        deleted += (
            SkippedInvoice.delete()
            .where((SkippedInvoice.store == store) & SkippedInvoice.invoice_id.in_(chunk))
            .execute()
        )
    return deleted


def attempts_at_second(store: Store, created_time: int) -> int | None:
    """The attempts of the by-time entry for ``created_time``, None if it is gone."""
    row = SkippedInvoice.get_or_none(
        (SkippedInvoice.store == store)
        & SkippedInvoice.invoice_id.is_null()
        & (SkippedInvoice.created_time == created_time)
    )
    return row.attempts if row is not None else None


def clear_second(store: Store, created_time: int, attempts_before: int) -> None:
    """Drop a by-time entry once a re-read of its second skipped nothing again (its attempts did not grow)."""
    SkippedInvoice.delete().where(
        (SkippedInvoice.store == store)
        & SkippedInvoice.invoice_id.is_null()
        & (SkippedInvoice.created_time == created_time)
        & (SkippedInvoice.attempts == attempts_before)
    ).execute()


def waiting(store: Store, limit: int) -> list[SkippedInvoice]:
    """The store's entries, the least tried first (so a few stubborn ones cannot starve the rest)."""
    query = (
        SkippedInvoice.select()
        .where(SkippedInvoice.store == store)
        .order_by(SkippedInvoice.attempts, SkippedInvoice.id)
        .limit(limit)
    )
    return list(query)


def summary(store_name: str) -> Waiting:
    """How many invoices of the store named ``store_name`` wait for a retry, and the first of them."""
    query = (
        SkippedInvoice.select(SkippedInvoice)
        .join(Store)
        .where(Store.name == store_name)
        .order_by(SkippedInvoice.id)
    )
    count = query.count()
    return Waiting(count, tuple(label(row) for row in query.limit(SHOWN_IDS)))
