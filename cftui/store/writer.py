"""Writes parsed records into the store: idempotent, transactional, fast.

:func:`upsert_invoices` is the hot path of a million-invoice sync. Per call
it does a handful of statements whatever the batch size: one batched read of
the rows it may replace, ``executemany`` inserts and updates, and one roll-up
write. It compares every record with the stored row and writes only real
changes, so running a sync twice changes nothing (and ``synced_time`` moves
only for rows that changed, which is how the dashboard notices fresh data).
A backfill page is expected to be new (``assume_new``): it is inserted
without the read and the comparison, and compared only if the insert finds a
stored row. New invoices are numbered here (ids reserved from the engine), so
their payment methods point at them without reading the ids back. The daily
roll-up (:mod:`cftui.store.daystats`) is kept in the same transaction: the
old row's contribution is removed and the new one added.

Writers of one store take turns (``engine.lock``): the comparison reads the
stored rows and the roll-up delta is computed from them, so no other
transaction may change them in between. SQLite's single write lock gives
that for free; on PostgreSQL it is a lock per store, so daemons syncing
different stores still write at once.

The SQL here is plain DB-API with the database's own quoting and parameter
style, so it stays portable like the models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import NamedTuple

from peewee import IntegrityError, Model

from cftui import clock
from cftui.config import StoreConfig
from cftui.store import contributions, engine, sql
from cftui.store.chunking import IN_LIST_LIMIT, chunks
from cftui.store.daystats import DaySums, Delta, key_of
from cftui.store.models import (
    CrowdfundApp,
    Invoice,
    InvoicePaymentMethod,
    Payment,
    PendingInvoice,
    Store,
    database,
)
from cftui.store.records import AppRecord, InvoiceRecord, PaymentMethodRecord, PaymentRecord, UpsertResult


class InvoiceColumns(NamedTuple):
    """The invoice columns written from a record. The names are ``Invoice``'s fields: every statement below
    lists its columns from them, so the values and the columns cannot drift apart."""

    status: str
    additional_status: str
    type: str
    currency: str
    amount: str
    amount_e8: int
    paid_amount: str | None
    paid_e8: int | None
    btc_paid_sats: int | None
    created_time: int
    expiration_time: int
    monitoring_time: int
    archived: bool
    order_id: str | None
    buyer_email: str | None
    item_code: str | None
    item_desc: str | None
    checkout_link: str | None
    metadata: str
    app_id: str | None
    # The crowdfund contribution (cftui/store/contributions.py): settled, then pending.
    cf_settled_e8: int
    cf_settled_e18: int
    cf_settled_e28: int
    cf_pending_e8: int
    cf_pending_e18: int
    cf_pending_e28: int

    def contribution_units(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.cf_settled_e8, self.cf_settled_e18, self.cf_settled_e28,
            self.cf_pending_e8, self.cf_pending_e18, self.cf_pending_e28,
        )  # fmt: skip


class MethodColumns(NamedTuple):
    """A payment method's columns (``InvoicePaymentMethod``'s fields, its invoice aside)."""

    method: str
    currency: str
    destination: str | None
    payment_link: str | None
    rate: str | None
    amount_sats: int | None
    paid_sats: int
    due_sats: int | None
    fee_sats: int | None
    activated: bool


# A payment's columns are its record's fields (``Payment``'s fields, its invoice aside): stored payments are read
# back as records, so a record and its row compare as they are.
_PAYMENT_FIELDS = tuple(f.name for f in dataclasses.fields(PaymentRecord))
_payment_values = attrgetter(*_PAYMENT_FIELDS)  # a record's values in that order
_method_values = attrgetter(*MethodColumns._fields)


class _Stored(NamedTuple):
    """An invoice as stored: its row id and the columns a record would write."""

    row_id: int
    columns: InvoiceColumns


class _StoredMethods(NamedTuple):
    methods: set[MethodColumns]
    payments: set[PaymentRecord]


_INVOICE_FIELDS = InvoiceColumns._fields


def _insert_many(model: type[Model], fields: Sequence[str], rows: list[Sequence[object]]) -> None:
    """Insert ``rows`` the engine's fastest way (executemany on SQLite, COPY on PostgreSQL).

    A row already stored raises peewee's IntegrityError either way (the insert-only path relies on it)."""
    if rows:
        column_names = [model._meta.fields[f].column_name for f in fields]
        with sql.portable_errors:
            engine.current().bulk_insert(database.obj, model._meta.table_name, column_names, rows)


# ------------------------------------------------------------------ stores


def ensure_store(store_cfg: StoreConfig) -> Store:
    """The ``Store`` row for a configured store, created or brought up to date.

    Two processes may create it at once (two daemons starting on one
    PostgreSQL store): the second insert is ignored and both read one row.
    """
    store = Store.get_or_none(Store.name == store_cfg.name)
    if store is None:
        Store.insert(
            name=store_cfg.name, url=store_cfg.url, store_id=store_cfg.store_id, added_time=clock.now_s()
        ).on_conflict_ignore().execute()
        store = Store.get(Store.name == store_cfg.name)
    if store.url != store_cfg.url or store.store_id != store_cfg.store_id:
        store.url, store.store_id = store_cfg.url, store_cfg.store_id
        store.save()
    return store


# ------------------------------------------------------------------ invoices


def lock_store(store_pk: int) -> None:
    """Inside a transaction: other writers of this store's invoices wait until it ends."""
    engine.current().lock(database.obj, f"store:{store_pk}")


def _columns(record: InvoiceRecord, stored: InvoiceColumns | None) -> InvoiceColumns:
    """The invoice columns for ``record``; unknowns (None) keep the stored value."""
    btc = record.btc_paid_sats
    app_id = record.app_id
    contribution = contributions.of_record(record)
    units = contributions.ZERO_UNITS * 2 if contribution is None else contribution.units()
    if stored is not None:
        if btc is None:
            btc = stored.btc_paid_sats
        if app_id is None:
            app_id = stored.app_id
        if contribution is None:  # payment methods not read in this pass
            units = stored.contribution_units()
    settled_e8, settled_e18, settled_e28, pending_e8, pending_e18, pending_e28 = units
    return InvoiceColumns(
        status=record.status,
        additional_status=record.additional_status,
        type=record.type,
        currency=record.currency,
        amount=record.amount,
        amount_e8=record.amount_e8,
        paid_amount=record.paid_amount,
        paid_e8=record.paid_e8,
        btc_paid_sats=btc,
        created_time=record.created_time,
        expiration_time=record.expiration_time,
        monitoring_time=record.monitoring_time,
        archived=record.archived,
        order_id=record.order_id,
        buyer_email=record.buyer_email,
        item_code=record.item_code,
        item_desc=record.item_desc,
        checkout_link=record.checkout_link,
        metadata=record.metadata,
        app_id=app_id,
        cf_settled_e8=settled_e8,
        cf_settled_e18=settled_e18,
        cf_settled_e28=settled_e28,
        cf_pending_e8=pending_e8,
        cf_pending_e18=pending_e18,
        cf_pending_e28=pending_e28,
    )


def _contribute(delta: Delta, store_id: int, row: InvoiceColumns, sign: int) -> None:
    settled_e8, settled_e18, settled_e28, pending_e8, pending_e18, pending_e28 = row.contribution_units()
    sums = DaySums(
        count=1,
        amount_e8=row.amount_e8,
        paid_e8=row.paid_e8 or 0,
        btc_paid_sats=row.btc_paid_sats or 0,
        cf_settled_e8=settled_e8,
        cf_settled_e18=settled_e18,
        cf_settled_e28=settled_e28,
        cf_pending_e8=pending_e8,
        cf_pending_e18=pending_e18,
        cf_pending_e28=pending_e28,
    )
    delta.add(key_of(store_id, row.created_time, row.status, row.additional_status, row.currency), sums, sign)


def _method_columns(m: PaymentMethodRecord) -> MethodColumns:
    """A payment method's columns: its record's fields but its payments."""
    return MethodColumns._make(_method_values(m))


def _pm_rows(methods: tuple[PaymentMethodRecord, ...]) -> tuple[frozenset[MethodColumns], frozenset[PaymentRecord]]:
    """Comparable (payment methods, payments) of an invoice, without row ids."""
    pms = frozenset(_method_columns(m) for m in methods)
    payments = frozenset(p for m in methods for p in m.payments)
    return pms, payments


def _stored_pm_rows(row_ids: list[int]) -> dict[int, _StoredMethods]:
    out = {i: _StoredMethods(set(), set()) for i in row_ids}
    pm_invoice = sql.column(InvoicePaymentMethod, "invoice")
    pm_select = f"SELECT {pm_invoice}, {sql.columns(InvoicePaymentMethod, MethodColumns._fields)}"
    pm_head = f"{pm_select} FROM {sql.table(InvoicePaymentMethod)} WHERE {pm_invoice}"
    for invoice_pk, *values in sql.select_in(pm_head, row_ids):
        # SQLite gives `activated` as 0/1: equal to False/True, and hashed alike, so the sets compare right.
        out[invoice_pk].methods.add(MethodColumns._make(values))
    pay_invoice = sql.column(Payment, "invoice")
    pay_select = f"SELECT {pay_invoice}, {sql.columns(Payment, _PAYMENT_FIELDS)}"
    for invoice_pk, *values in sql.select_in(f"{pay_select} FROM {sql.table(Payment)} WHERE {pay_invoice}", row_ids):
        out[invoice_pk].payments.add(PaymentRecord(*values))
    return out


def _write_payment_methods(pairs: list[tuple[int, InvoiceRecord]]) -> None:
    """Insert the payment methods and payments of (invoice row id, record) pairs."""
    pm_rows: list[Sequence[object]] = []
    payment_rows: list[Sequence[object]] = []
    for row_id, record in pairs:
        for m in record.payment_methods or ():
            pm_rows.append((row_id, *_method_columns(m)))
            payment_rows.extend((row_id, *_payment_values(p)) for p in m.payments)
    _insert_many(InvoicePaymentMethod, ("invoice", *MethodColumns._fields), pm_rows)
    _insert_many(Payment, ("invoice", *_PAYMENT_FIELDS), payment_rows)


def upsert_invoices(
    store: Store, records: Iterable[InvoiceRecord], *, synced_time: int, assume_new: bool = False
) -> UpsertResult:
    """Insert new invoices and update changed ones, in one transaction.

    Payment methods and payments of an invoice are replaced only when the
    record carries them (``payment_methods is not None``). A record repeated
    in ``records`` counts once (the last one wins).

    ``assume_new``: the caller expects none of them to be stored (a backfill
    page), so they are inserted without reading and comparing stored rows
    first. If one is stored after all (a resumed page, a webhook's write) the
    insert fails as a whole and the records take the comparing path: the
    result is the same either way.
    """
    by_id = {record.invoice_id: record for record in records}
    if not by_id:
        return UpsertResult()
    with database.atomic():
        lock_store(store.id)
        if assume_new:
            try:
                with database.atomic():  # a savepoint: a failed insert leaves nothing behind
                    return _insert_new(store.id, by_id, synced_time)
            except IntegrityError:
                pass
        return _upsert(store.id, by_id, synced_time)


def _insert_new(store_pk: int, by_id: dict[str, InvoiceRecord], synced_time: int) -> UpsertResult:
    result = UpsertResult()
    delta = Delta()
    _write_payment_methods(_insert(store_pk, list(by_id.values()), synced_time, delta, result))
    delta.apply()
    return result


def _insert(
    store_pk: int, records: list[InvoiceRecord], synced_time: int, delta: Delta, result: UpsertResult
) -> list[tuple[int, InvoiceRecord]]:
    """Insert invoices not stored yet; returns (row id, record) of those with payment methods.

    The rows are numbered here (inside the write transaction) so their payment
    methods can point at them without a query reading the new ids back.
    """
    ids = engine.current().reserve_ids(database.obj, Invoice._meta.table_name, len(records))
    rows: list[Sequence[object]] = []
    with_methods = []
    for row_id, record in zip(ids, records, strict=True):
        row = _columns(record, None)
        rows.append((row_id, store_pk, record.invoice_id, *row, synced_time))
        _contribute(delta, store_pk, row, 1)
        if record.payment_methods:
            with_methods.append((row_id, record))
        if record.status == "Settled":
            result.newly_settled.append(record.invoice_id)
    result.new += len(rows)
    _insert_many(Invoice, ("id", "store", "invoice_id", *_INVOICE_FIELDS, "synced_time"), rows)
    return with_methods


def _stored_invoices(store_pk: int, invoice_ids: list[str]) -> dict[str, _Stored]:
    """The stored invoices of the store among ``invoice_ids``, by invoice id."""
    head = (
        f"SELECT {sql.columns(Invoice, ('id', 'invoice_id', *_INVOICE_FIELDS))} FROM {sql.table(Invoice)} "
        f"WHERE {sql.column(Invoice, 'store')} = {sql.params(1)} AND {sql.column(Invoice, 'invoice_id')}"
    )
    return {
        invoice_id: _Stored(row_id, InvoiceColumns._make(values))
        for row_id, invoice_id, *values in sql.select_in(head, invoice_ids, store_pk)
    }


def _upsert(store_pk: int, by_id: dict[str, InvoiceRecord], synced_time: int) -> UpsertResult:
    """Compare each record with its stored row; write only what changed."""
    result = UpsertResult()
    stored = _stored_invoices(store_pk, list(by_id))
    stored_pms = _stored_pm_rows(
        [stored[i].row_id for i, r in by_id.items() if i in stored and r.payment_methods is not None]
    )
    delta = Delta()
    new: list[InvoiceRecord] = []
    updates: list[Sequence[object]] = []
    replace_methods: list[tuple[int, InvoiceRecord]] = []
    for invoice_id, record in by_id.items():
        old = stored.get(invoice_id)
        if old is None:
            new.append(record)
            continue
        row = _columns(record, old.columns)
        methods_changed = False
        if record.payment_methods is not None:
            pms, payments = _pm_rows(record.payment_methods)
            methods_changed = pms != stored_pms[old.row_id].methods or payments != stored_pms[old.row_id].payments
        if row == old.columns and not methods_changed:
            result.unchanged += 1
            continue
        result.updated += 1
        # A change in payment details alone still refreshes synced_time.
        updates.append((*row, synced_time, old.row_id))
        _contribute(delta, store_pk, old.columns, -1)
        _contribute(delta, store_pk, row, 1)
        if record.status == "Settled" and old.columns.status != "Settled":
            result.newly_settled.append(invoice_id)
        if methods_changed:
            replace_methods.append((old.row_id, record))

    if updates:
        fields = (*_INVOICE_FIELDS, "synced_time")
        assignments = ", ".join(f"{sql.column(Invoice, f)} = {sql.params(1)}" for f in fields)
        where = f"{sql.column(Invoice, 'id')} = {sql.params(1)}"
        sql.executemany(f"UPDATE {sql.table(Invoice)} SET {assignments} WHERE {where}", updates)
    if replace_methods:
        row_ids = [row_id for row_id, _ in replace_methods]
        sql.delete_in(Payment, "invoice", row_ids)
        sql.delete_in(InvoicePaymentMethod, "invoice", row_ids)
    if new:
        replace_methods.extend(_insert(store_pk, new, synced_time, delta, result))
    _write_payment_methods(replace_methods)
    if delta:
        delta.apply()
    return result


# ------------------------------------------------------------------ apps


def upsert_apps(
    store: Store,
    apps: Iterable[AppRecord],
    *,
    synced_time: int | None = None,
    all_store_invoices: frozenset[str] = frozenset(),
) -> int:
    """Insert or update the store's apps; returns how many rows changed.

    ``all_store_invoices``: ids of the apps whose goal counts every invoice of
    the store (BTCPay's "count all invoices" setting, which the API does not
    expose; the config names them).
    """
    at = clock.now_s() if synced_time is None else synced_time
    changed = 0
    fields = (
        "name", "title", "app_type", "archived", "enabled", "target_currency", "target_amount", "target_e8",
        "start_time", "end_time", "created_time", "reset_every", "reset_every_amount", "enforce_target",
    )
    with database.atomic():
        lock_store(store.id)
        existing = {row.app_id: row for row in CrowdfundApp.select().where(CrowdfundApp.store == store)}
        for app in apps:
            values = {f: getattr(app, f) for f in fields}
            values["all_store_invoices"] = app.app_id in all_store_invoices
            row = existing.get(app.app_id)
            if row is None:
                CrowdfundApp.create(store=store, app_id=app.app_id, synced_time=at, **values)
                changed += 1
            elif any(getattr(row, f) != v for f, v in values.items()):
                CrowdfundApp.update(synced_time=at, **values).where(CrowdfundApp.id == row.id).execute()
                changed += 1
    return changed


# ------------------------------------------------------------------ pending invoices


def queue_invoice(store: Store, invoice_id: str, reason: str) -> None:
    """Remember to re-fetch ``invoice_id`` on the next sync (e.g. the API was down)."""
    PendingInvoice.insert(store=store, invoice_id=invoice_id, reason=reason, queued_time=clock.now_s()).on_conflict(
        conflict_target=[PendingInvoice.store, PendingInvoice.invoice_id],
        update={PendingInvoice.reason: reason, PendingInvoice.queued_time: clock.now_s()},
    ).execute()


def pending_invoices(store: Store) -> list[str]:
    """Invoice ids queued for the store, oldest first."""
    query = (
        PendingInvoice.select(PendingInvoice.invoice_id)
        .where(PendingInvoice.store == store)
        .order_by(PendingInvoice.queued_time, PendingInvoice.id)
    )
    return [row.invoice_id for row in query]


def clear_pending(store: Store, invoice_ids: Iterable[str]) -> int:
    ids = list(invoice_ids)
    if not ids:
        return 0
    deleted = 0
    for chunk in chunks(ids, IN_LIST_LIMIT):
        deleted += (
            PendingInvoice.delete()
            .where((PendingInvoice.store == store) & PendingInvoice.invoice_id.in_(list(chunk)))
            .execute()
        )
    return deleted
