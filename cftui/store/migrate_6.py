"""The data steps of schema migration 6 (``cftui.store.db``): payments in msat, crowdfund contributions.

Both walk the invoices in id order, a chunk at a time, so a store of a million
invoices is migrated in bounded memory.
"""

from __future__ import annotations

from collections import defaultdict

from peewee import Database

from cftui.money import MSAT_PER_SAT, SATS_PER_BTC
from cftui.store import sql
from cftui.store.contributions import Share, contribution
from cftui.store.models import CONTRIBUTION_FIELDS, Invoice, InvoicePaymentMethod, Payment

# The crowdfund index of schema 4, replaced by models.CROWDFUND_INDEX.
OLD_CROWDFUND_INDEX = "invoice_app_id_store_id_status_currency_amount_e8_btc_paid_sats"
CHUNK = 5000


def _btc_text(sats: int) -> str:
    """Whole sats as the 8-place BTC text an on-chain value is written with."""
    sign = "-" if sats < 0 else ""
    whole, frac = divmod(abs(sats), SATS_PER_BTC)
    return f"{sign}{whole}.{frac:08d}"


def payments_to_msat(db: Database) -> None:
    """Schema 4 kept whole sats (renamed to *_msat by the migration): scale them and write the text."""
    table = Payment._meta.table_name
    sql.execute(f'UPDATE "{table}" SET "value_msat" = "value_msat" * {MSAT_PER_SAT}, '
                f'"fee_msat" = "fee_msat" * {MSAT_PER_SAT}', db=db)
    last = 0
    while True:
        rows = sql.execute(
            f'SELECT "id", "value_msat", "fee_msat" FROM "{table}" WHERE "id" > {db.param} ORDER BY "id" '
            f"LIMIT {CHUNK}",
            (last,),
            db=db,
        ).fetchall()
        if not rows:
            return
        sql.cursor(db).executemany(
            f'UPDATE "{table}" SET "value" = {db.param}, "fee" = {db.param} WHERE "id" = {db.param}',
            [(_btc_text(value // MSAT_PER_SAT), "0" if not fee else _btc_text(fee // MSAT_PER_SAT), pk)
             for pk, value, fee in rows],
        )
        last, _, _ = rows[-1]  # rows come in id order


def fill_contributions(db: Database) -> None:
    """Each stored invoice's crowdfund contribution, from its stored payments and rates."""
    assignments = ", ".join(f'"{name}" = {db.param}' for name in CONTRIBUTION_FIELDS)
    update = f'UPDATE "{Invoice._meta.table_name}" SET {assignments} WHERE "id" = {db.param}'
    last = 0
    while True:
        invoices = list(sql.tuples(
            Invoice.select(Invoice.id, Invoice.status, Invoice.additional_status, Invoice.amount,
                           Invoice.expiration_time)
            .where(Invoice.id > last).order_by(Invoice.id).limit(CHUNK)
        ))  # fmt: skip
        if not invoices:
            return
        (first, *_), (last, *_) = invoices[0], invoices[-1]  # in id order
        shares = _shares(first, last)
        rows = []
        for pk, status, additional, amount, expiration in invoices:
            units = contribution(status, additional, amount, expiration, shares.get(pk, ())).units()
            if any(units):
                rows.append((*units, pk))
        sql.executemany(update, rows, db=db)


def _shares(first: int, last: int) -> dict[int, list[Share]]:
    """The payments of invoices ``first``..``last`` (row ids), with their method's rate."""
    rates = {
        (pk, method): rate
        for pk, method, rate in sql.tuples(InvoicePaymentMethod.select(
            InvoicePaymentMethod.invoice, InvoicePaymentMethod.method, InvoicePaymentMethod.rate
        ).where(InvoicePaymentMethod.invoice.between(first, last)))
    }
    found: dict[int, list[Share]] = defaultdict(list)
    for pk, method, value, fee, status, received in sql.tuples(Payment.select(
        Payment.invoice, Payment.method, Payment.value, Payment.fee, Payment.status, Payment.received_time
    ).where(Payment.invoice.between(first, last))):
        found[pk].append(Share(value, fee, rates.get((pk, method)), status, received))
    return found
