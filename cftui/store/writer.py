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

from collections.abc import Iterable, Sequence
from typing import Any

from peewee import IntegrityError, __exception_wrapper__

from cftui import clock
from cftui.config import StoreConfig
from cftui.store import contributions, engine
from cftui.store.daystats import Delta, key_of
from cftui.store.models import (
    CONTRIBUTION_FIELDS,
    CrowdfundApp,
    Invoice,
    InvoicePaymentMethod,
    Payment,
    PendingInvoice,
    Store,
    database,
)
from cftui.store.records import AppRecord, InvoiceRecord, PaymentMethodRecord, UpsertResult

# Invoice columns written from a record, in this order everywhere below.
_INVOICE_FIELDS = (
    "status",
    "additional_status",
    "type",
    "currency",
    "amount",
    "amount_e8",
    "paid_amount",
    "paid_e8",
    "btc_paid_sats",
    "created_time",
    "expiration_time",
    "monitoring_time",
    "archived",
    "order_id",
    "buyer_email",
    "item_code",
    "item_desc",
    "checkout_link",
    "metadata",
    "app_id",
    *CONTRIBUTION_FIELDS,
)
_STATUS, _ADDITIONAL, _CURRENCY, _AMOUNT_E8, _PAID_E8, _BTC, _CREATED = 0, 1, 3, 5, 7, 8, 9
_APP_ID = _INVOICE_FIELDS.index("app_id")
_CONTRIBUTIONS = slice(_APP_ID + 1, _APP_ID + 1 + len(CONTRIBUTION_FIELDS))
_PM_FIELDS = (
    "method",
    "currency",
    "destination",
    "payment_link",
    "rate",
    "amount_sats",
    "paid_sats",
    "due_sats",
    "fee_sats",
    "activated",
)
_PAYMENT_FIELDS = (
    "method", "payment_id", "value", "value_msat", "fee", "fee_msat", "status", "received_time", "destination",
)
# Bound on parameters per statement (SQLite allows 32766; stay far below).
_CHUNK = 500


# ------------------------------------------------------------------ SQL helpers


def _name(model: Any, field: str | None = None) -> str:
    q = database.quote
    name = model._meta.table_name if field is None else model._meta.fields[field].column_name
    return f"{q[0]}{name}{q[1]}"


def _params(count: int) -> str:
    return ", ".join([database.param] * count)


def _executemany(sql: str, rows: list[tuple]) -> None:
    if rows:
        # The driver's cursor, for speed; its errors mapped to peewee's portable ones.
        with __exception_wrapper__:
            database.cursor().executemany(sql, rows)


def _insert_many(model: Any, fields: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` the engine's fastest way (executemany on SQLite, COPY on PostgreSQL).

    A row already stored raises peewee's IntegrityError either way (the insert-only path relies on it)."""
    if rows:
        columns = [model._meta.fields[f].column_name for f in fields]
        with __exception_wrapper__:
            engine.current().bulk_insert(database.obj, model._meta.table_name, columns, rows)


def _select_in(sql_head: str, values: Sequence[Any], *head_params: Any) -> list[tuple]:
    """Run ``sql_head + IN (...)`` over ``values`` in chunks; all rows."""
    out: list[tuple] = []
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        cursor = database.execute_sql(f"{sql_head} IN ({_params(len(chunk))})", (*head_params, *chunk))
        out.extend(cursor.fetchall())
    return out


def _delete_in(model: Any, field: str, values: Sequence[Any]) -> None:
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        database.execute_sql(f"DELETE FROM {_name(model)} WHERE {_name(model, field)} IN ({_params(len(chunk))})", chunk)


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


def _row(record: InvoiceRecord, stored: tuple | None) -> tuple:
    """The invoice columns for ``record``; unknowns (None) keep the stored value."""
    btc = record.btc_paid_sats
    app_id = record.app_id
    contribution = contributions.of_record(record)
    shares = contributions.ZERO_UNITS * 2 if contribution is None else contribution.units()
    if stored is not None:
        if btc is None:
            btc = stored[_BTC]
        if app_id is None:
            app_id = stored[_APP_ID]
        if contribution is None:  # payment methods not read in this pass
            shares = stored[_CONTRIBUTIONS]
    return (
        record.status,
        record.additional_status,
        record.type,
        record.currency,
        record.amount,
        record.amount_e8,
        record.paid_amount,
        record.paid_e8,
        btc,
        record.created_time,
        record.expiration_time,
        record.monitoring_time,
        record.archived,
        record.order_id,
        record.buyer_email,
        record.item_code,
        record.item_desc,
        record.checkout_link,
        record.metadata,
        app_id,
        *shares,
    )


def _contribute(delta: Delta, store_id: int, row: tuple, sign: int) -> None:
    delta.add(
        key_of(store_id, row[_CREATED], row[_STATUS], row[_ADDITIONAL], row[_CURRENCY]),
        (1, row[_AMOUNT_E8], row[_PAID_E8] or 0, row[_BTC] or 0, *row[_CONTRIBUTIONS]),
        sign,
    )


def _pm_rows(methods: tuple[PaymentMethodRecord, ...]) -> tuple[frozenset, frozenset]:
    """Comparable (payment methods, payments) of an invoice, without row ids."""
    pms = frozenset(
        (m.method, m.currency, m.destination, m.payment_link, m.rate, m.amount_sats, m.paid_sats,
         m.due_sats, m.fee_sats, bool(m.activated))
        for m in methods
    )
    payments = frozenset(
        (p.method, p.payment_id, p.value, p.value_msat, p.fee, p.fee_msat, p.status, p.received_time, p.destination)
        for m in methods
        for p in m.payments
    )
    return pms, payments


def _stored_pm_rows(row_ids: list[int]) -> dict[int, tuple[set, set]]:
    out: dict[int, tuple[set, set]] = {i: (set(), set()) for i in row_ids}
    pm_cols = ", ".join(_name(InvoicePaymentMethod, f) for f in _PM_FIELDS)
    for row in _select_in(
        f"SELECT {_name(InvoicePaymentMethod, 'invoice')}, {pm_cols} FROM {_name(InvoicePaymentMethod)} "
        f"WHERE {_name(InvoicePaymentMethod, 'invoice')}",
        row_ids,
    ):
        out[row[0]][0].add((*row[1:10], bool(row[10])))
    pay_cols = ", ".join(_name(Payment, f) for f in _PAYMENT_FIELDS)
    for row in _select_in(
        f"SELECT {_name(Payment, 'invoice')}, {pay_cols} FROM {_name(Payment)} WHERE {_name(Payment, 'invoice')}",
        row_ids,
    ):
        out[row[0]][1].add(row[1:])
    return out


def _write_payment_methods(pairs: list[tuple[int, InvoiceRecord]]) -> None:
    """Insert the payment methods and payments of (invoice row id, record) pairs."""
    pm_rows = []
    payment_rows = []
    for row_id, record in pairs:
        for m in record.payment_methods or ():
            pm_rows.append(
                (row_id, m.method, m.currency, m.destination, m.payment_link, m.rate, m.amount_sats,
                 m.paid_sats, m.due_sats, m.fee_sats, m.activated)
            )
            for p in m.payments:
                payment_rows.append(
                    (row_id, p.method, p.payment_id, p.value, p.value_msat, p.fee, p.fee_msat, p.status,
                     p.received_time, p.destination)
                )
    _insert_many(InvoicePaymentMethod, ("invoice", *_PM_FIELDS), pm_rows)
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
    rows = []
    with_methods = []
    for row_id, record in zip(ids, records, strict=True):
        row = _row(record, None)
        rows.append((row_id, store_pk, record.invoice_id, *row, synced_time))
        _contribute(delta, store_pk, row, 1)
        if record.payment_methods:
            with_methods.append((row_id, record))
        if record.status == "Settled":
            result.newly_settled.append(record.invoice_id)
    result.new += len(rows)
    _insert_many(Invoice, ("id", "store", "invoice_id", *_INVOICE_FIELDS, "synced_time"), rows)
    return with_methods


def _upsert(store_pk: int, by_id: dict[str, InvoiceRecord], synced_time: int) -> UpsertResult:
    """Compare each record with its stored row; write only what changed."""
    result = UpsertResult()
    columns = ", ".join(_name(Invoice, f) for f in _INVOICE_FIELDS)
    stored = {
        row[1]: (row[0], tuple(row[2:]))
        for row in _select_in(
            f"SELECT {_name(Invoice, 'id')}, {_name(Invoice, 'invoice_id')}, {columns} FROM {_name(Invoice)} "
            f"WHERE {_name(Invoice, 'store')} = {database.param} AND {_name(Invoice, 'invoice_id')}",
            list(by_id),
            store_pk,
        )
    }
    stored_pms = _stored_pm_rows(
        [stored[i][0] for i, r in by_id.items() if i in stored and r.payment_methods is not None]
    )
    delta = Delta()
    new: list[InvoiceRecord] = []
    updates: list[tuple] = []
    replace_methods: list[tuple[int, InvoiceRecord]] = []
    for invoice_id, record in by_id.items():
        old = stored.get(invoice_id)
        if old is None:
            new.append(record)
            continue
        row_id, old_row = old
        row = _row(record, old_row)
        methods_changed = False
        if record.payment_methods is not None:
            pms, payments = _pm_rows(record.payment_methods)
            old_pms, old_payments = stored_pms[row_id]
            methods_changed = pms != old_pms or payments != old_payments
        if row == old_row and not methods_changed:
            result.unchanged += 1
            continue
        result.updated += 1
        # A change in payment details alone still refreshes synced_time.
        updates.append((*row, synced_time, row_id))
        _contribute(delta, store_pk, old_row, -1)
        _contribute(delta, store_pk, row, 1)
        if record.status == "Settled" and old_row[_STATUS] != "Settled":
            result.newly_settled.append(invoice_id)
        if methods_changed:
            replace_methods.append((row_id, record))

    if updates:
        assignments = ", ".join(f"{_name(Invoice, f)} = {database.param}" for f in (*_INVOICE_FIELDS, "synced_time"))
        _executemany(
            f"UPDATE {_name(Invoice)} SET {assignments} WHERE {_name(Invoice, 'id')} = {database.param}", updates
        )
    if replace_methods:
        row_ids = [row_id for row_id, _ in replace_methods]
        _delete_in(Payment, "invoice", row_ids)
        _delete_in(InvoicePaymentMethod, "invoice", row_ids)
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
    for start in range(0, len(ids), _CHUNK):
        deleted += (
            PendingInvoice.delete()
            .where((PendingInvoice.store == store) & PendingInvoice.invoice_id.in_(ids[start : start + _CHUNK]))
            .execute()
        )
    return deleted
