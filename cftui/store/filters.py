"""The invoice filter and the SQL conditions it turns into.

Conditions come in two forms. Normally a filter column stays indexable, so
SQLite may seek on it. When a query should instead walk the index of its
sort key (a page of a big result: reading the next few hundred rows in order
beats sorting every match), the columns that would lure the planner to
another index are wrapped in a no-op (``col + 0``, ``col || ''``): same value,
no index. Both forms are plain SQL that PostgreSQL runs too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from peewee import ColumnBase, Expression, Field, ForeignKeyField, IntegerField, fn

from cftui.store.models import Invoice

# Surrogates cannot be stored as UTF-8, so the successor of U+D7FF is U+E000.
_SURROGATES = range(0xD800, 0xE000)


@dataclass(frozen=True)
class InvoiceFilter:
    stores: tuple[int, ...] = ()  # Store.id values; empty = all stores
    statuses: tuple[str, ...] = ()  # empty = all
    since: int | None = None  # created_time >= since (unix s)
    until: int | None = None  # created_time < until
    text: str = ""  # prefix of the invoice id, order id or buyer email (email case-insensitive)
    app_id: str | None = None
    additional: tuple[str, ...] = ()  # BTCPay's additionalStatus (PaidLate, ...); empty = any

    @property
    def needs_rows(self) -> bool:
        """True when the daily roll-up cannot answer a count (text and app are not in it)."""
        return bool(self.text.strip()) or self.app_id is not None


def no_index(field: Field) -> Expression:
    """The same value as ``field``, but an expression no index can serve."""
    if isinstance(field, (IntegerField, ForeignKeyField)):
        return field + 0
    return field.concat("")


def prefix_successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``.

    ``col >= prefix AND col < successor`` is the index-friendly prefix match
    (binary collation). ``None`` when there is no upper bound.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= sys.maxunicode:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def _prefix(column: ColumnBase, prefix: str) -> Expression:
    upper = prefix_successor(prefix)
    condition = column >= prefix
    return condition if upper is None else condition & (column < upper)


def text_condition(text: str, *, indexable: bool = True) -> Expression | None:
    """Prefix match on invoice id, order id or (case-insensitively) buyer email."""
    text = text.strip()
    if not text:
        return None
    invoice_id: ColumnBase
    order_id: ColumnBase
    email: ColumnBase
    if indexable:
        invoice_id, order_id, email = Invoice.invoice_id, Invoice.order_id, fn.LOWER(Invoice.buyer_email)
    else:
        invoice_id, order_id = no_index(Invoice.invoice_id), no_index(Invoice.order_id)
        email = fn.LOWER(Invoice.buyer_email).concat("")
    return _prefix(invoice_id, text) | _prefix(order_id, text) | _prefix(email, text.lower())


def _in(field: Field, values: tuple[object, ...], indexable: bool) -> Expression:
    column = field if indexable else no_index(field)
    return column == values[0] if len(values) == 1 else column.in_(list(values))


def filter_conditions(f: InvoiceFilter, *, indexable: frozenset[str] | None = None) -> list[Expression]:
    """WHERE terms for ``f``. ``indexable`` names the filters that may use an
    index (``store``, ``status``, ``range``, ``text``, ``app``, ``additional``); None = all."""

    def may(name: str) -> bool:
        return indexable is None or name in indexable

    terms: list[Expression] = []
    if f.stores:
        terms.append(_in(Invoice.store, f.stores, may("store")))
    if f.statuses:
        terms.append(_in(Invoice.status, f.statuses, may("status")))
    if f.additional:
        terms.append(_in(Invoice.additional_status, f.additional, may("additional")))
    created = Invoice.created_time if may("range") else no_index(Invoice.created_time)
    if f.since is not None:
        terms.append(created >= f.since)
    if f.until is not None:
        terms.append(created < f.until)
    text = text_condition(f.text, indexable=may("text"))
    if text is not None:
        terms.append(text)
    if f.app_id is not None:
        terms.append((Invoice.app_id if may("app") else no_index(Invoice.app_id)) == f.app_id)
    return terms
