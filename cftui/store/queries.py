"""Read queries shared by the UI, the CLI and exports.

Pure Peewee and portable SQL; nothing here loads a whole table. Invoice
lists are keyset-paged: a page is ``WHERE (sort, id) < (?, ?) ORDER BY sort
DESC, id DESC LIMIT n + 1`` served by the index of its sort key, so any page
of a million invoices costs the same few hundred index steps.

Plan choice. A page can be served two ways: walk the sort key's index and
check the filter on each row (cost ~ page size / share of rows matching), or
find the matches through the filter's own indexes and sort them (cost ~
matches). SQLite has no statistics to choose well, so we choose from the
exact match count (cheap: the roll-up, or index counts) and steer the
planner with no-op expressions (see ``filters.no_index``).

Overview figures (KPIs, series, progress, summaries) live in
``cftui/store/kpi_queries.py``. They are re-exported here too because the
Overview tab and many tests read them as ``queries.kpis``; new code imports
them from ``cftui.store``, the package's one public path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from peewee import Expression, Field, ModelSelect, Tuple, fn

from cftui.domain import InvoiceSort
from cftui.store import sql
from cftui.store.crowdfund import CrowdfundProgress, crowdfund_progress
from cftui.store.filters import InvoiceFilter, filter_conditions, no_index, prefix_successor
from cftui.store.kpi_queries import (
    AngorSummary,
    DayPoint,
    Kpis,
    Totals,
    WebhookSummary,
    angor_summary,
    daily_series,
    kpis,
    webhook_summary,
)
from cftui.store.models import CrowdfundApp, Invoice, InvoicePaymentMethod, Payment, Store, SyncState
from cftui.store.records import PaymentMethodRecord
from cftui.store.rollup import rollup

# Sort keys: the fields a page is ordered by, before the ``id`` tie-breaker.
# Each has an index (models.Invoice.Meta.indexes) in exactly this order.
SORT_KEYS: dict[InvoiceSort, tuple[Field, ...]] = {
    "created": (Invoice.created_time,),
    "amount": (Invoice.currency, Invoice.amount_e8),
    "status": (Invoice.status, Invoice.created_time),
    "btc": (Invoice.btc_paid_sats,),
    "id": (Invoice.invoice_id,),
    "currency": (Invoice.currency, Invoice.created_time),
}
SORT_COLUMNS: dict[InvoiceSort, Field] = {name: keys[0] for name, keys in SORT_KEYS.items()}

# Filters the sort key's index serves itself (so they stay indexable when
# walking it); a one-value filter counts only when its name ends in "=".
_SERVED_BY_SORT = {
    "created": {"store=", "status=", "range"},
    "status": {"status=", "status"},
}

class _ListColumns(NamedTuple):
    """The invoice columns an :class:`InvoiceRow` is made of. The names are ``Invoice``'s fields and the
    SELECT lists its columns from them, so a value can never land in another's place."""

    id: int
    invoice_id: str
    store: int  # the store's row id
    status: str
    additional_status: str
    currency: str
    amount: str
    amount_e8: int
    btc_paid_sats: int | None
    created_time: int
    order_id: str | None
    buyer_email: str | None
    archived: bool
    app_id: str | None
    type: str
    paid_amount: str | None
    checkout_link: str | None


_ROW_FIELDS: tuple[Field, ...] = tuple(Invoice._meta.fields[name] for name in _ListColumns._fields)


@dataclass(frozen=True)
class InvoiceRow:
    pk: int
    invoice_id: str
    store_name: str
    status: str
    additional_status: str
    currency: str
    amount: str  # decimal text
    amount_e8: int
    btc_paid_sats: int | None
    created_time: int
    order_id: str | None
    buyer_email: str | None
    archived: bool
    app_id: str | None
    store_pk: int
    type: str
    paid_amount: str | None
    checkout_link: str | None


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the sort value(s) and row id of a page's first or last row.

    ``value`` is the sort column's value, a tuple for two-column sort keys
    (``status`` and ``currency`` sort by (column, created_time)).
    """

    value: object
    id: int


@dataclass
class InvoicePage:
    rows: list[InvoiceRow]
    first: Cursor | None
    last: Cursor | None
    has_next: bool
    has_prev: bool


@dataclass(frozen=True)
class PaymentInfo:
    method: str
    payment_id: str
    txid: str | None  # on-chain only
    vout: int | None
    value: str  # decimal text as the server wrote it
    value_msat: int
    fee: str
    fee_msat: int
    status: str
    received_time: int
    destination: str | None


@dataclass(frozen=True)
class InvoiceDetail:
    row: InvoiceRow
    store_id: str  # BTCPay's store id
    paid_e8: int | None
    expiration_time: int
    monitoring_time: int
    item_code: str | None
    item_desc: str | None
    metadata: str  # JSON text
    synced_time: int
    payment_methods: list[PaymentMethodRecord] = field(default_factory=list)  # `payments` left empty
    payments: list[PaymentInfo] = field(default_factory=list)
    app_title: str | None = None  # the crowdfund's title (or name), when the app is known


def store_names() -> dict[int, str]:
    """Each store's name by its row id."""
    return {pk: name for pk, name in sql.tuples(Store.select(Store.id, Store.name).order_by(Store.id))}


def _row(values: sql.Row, names: dict[int, str]) -> InvoiceRow:
    """An :class:`InvoiceRow` from a row selected with ``_ROW_FIELDS``."""
    c = _ListColumns._make(values)
    return InvoiceRow(
        pk=c.id, invoice_id=c.invoice_id, store_name=names.get(c.store, "?"), status=c.status,
        additional_status=c.additional_status, currency=c.currency, amount=c.amount, amount_e8=c.amount_e8,
        btc_paid_sats=c.btc_paid_sats, created_time=c.created_time, order_id=c.order_id, buyer_email=c.buyer_email,
        archived=bool(c.archived), app_id=c.app_id, store_pk=c.store, type=c.type, paid_amount=c.paid_amount,
        checkout_link=c.checkout_link,
    )  # fmt: skip


def _rows(query: ModelSelect[Invoice], names: dict[int, str]) -> list[InvoiceRow]:
    """The rows of a query selecting ``_ROW_FIELDS``."""
    return [_row(values, names) for values in sql.tuples(query)]


def _keys(sort: InvoiceSort) -> tuple[Field, ...]:
    try:
        return SORT_KEYS[sort]
    except KeyError:
        raise ValueError(f"unknown sort column {sort!r} (one of {', '.join(SORT_KEYS)})") from None


# --- Segments: a nullable sort column is two runs, nulls first (ascending). ---


@dataclass(frozen=True)
class _Segment:
    keys: tuple[Field, ...]  # sort fields before id; () = only id (the null run)
    only: Field | None = None  # the nullable column
    nulls: bool = False

    def condition(self, indexable: bool) -> Expression | None:
        if self.only is None:
            return None
        column = self.only if indexable else no_index(self.only)
        return column.is_null(self.nulls)

    def holds(self, cursor: Cursor) -> bool:
        return self.only is None or (cursor.value is None) == self.nulls

    def cursor(self, row: InvoiceRow) -> Cursor:
        if self.nulls:
            return Cursor(None, row.pk)
        values = tuple(getattr(row, key.name) for key in self.keys)
        return Cursor(values[0] if len(values) == 1 else values, row.pk)


def _segments(sort: InvoiceSort) -> list[_Segment]:
    keys = _keys(sort)
    if keys[0].null:
        return [_Segment((), keys[0], nulls=True), _Segment(keys, keys[0], nulls=False)]
    return [_Segment(keys)]


# --- Plan choice ---


def _served(f: InvoiceFilter, sort: InvoiceSort) -> frozenset[str]:
    served = _SERVED_BY_SORT.get(sort, set())
    names = set()
    if f.stores and ("store=" in served and len(f.stores) == 1):
        names.add("store")
    if f.statuses and ("status" in served or ("status=" in served and len(f.statuses) == 1)):
        names.add("status")
    if "range" in served:
        names.add("range")
    return frozenset(names)


def _filter_driven(f: InvoiceFilter, sort: InvoiceSort, rows_needed: int, matches: int | None = None) -> bool:
    """True when finding the matches and sorting them beats walking the sort index."""
    served = _served(f, sort)
    active = {
        "store": bool(f.stores),
        "status": bool(f.statuses),
        "range": f.since is not None or f.until is not None,
        "text": bool(f.text.strip()),
        "app": f.app_id is not None,
        "additional": bool(f.additional),
    }
    if all(name in served for name, on in active.items() if on):
        return False  # the sort index does it all
    total = Invoice.select(fn.MAX(Invoice.id)).scalar() or 0  # ~ row count, from the rowid b-tree
    if matches is None:
        matches = count_invoices(f)
    # Walking visits ~ rows_needed * total / matches rows; sorting reads every
    # match (and sorting costs about as much again).
    return 2 * matches * matches < rows_needed * total


def _seek_filters(f: InvoiceFilter) -> frozenset[str] | None:
    """The filters to find matches by: a text prefix (or an app) is far more
    selective than a status or a store, and the planner cannot know it."""
    if f.text.strip():
        return frozenset({"text"})
    if f.app_id is not None:
        return frozenset({"app"})
    if f.additional:
        return frozenset({"additional"})
    return None


def _where(f: InvoiceFilter, sort: InvoiceSort, by_filter: bool) -> list[Expression]:
    return filter_conditions(f, indexable=_seek_filters(f) if by_filter else _served(f, sort))


def _segment_query(
    f: InvoiceFilter,
    sort: InvoiceSort,
    by_filter: bool,
    segment: _Segment,
    ascending: bool,
    cursor: Cursor | None,
    limit: int,
    offset: int = 0,
) -> ModelSelect[Invoice]:
    terms = _where(f, sort, by_filter)
    extra = segment.condition(indexable=not by_filter)
    if extra is not None:
        terms.append(extra)
    columns = [*(no_index(k) if by_filter else k for k in segment.keys), Invoice.id + 0 if by_filter else Invoice.id]
    if cursor is not None and segment.holds(cursor):
        # A two-column sort key's cursor value is a tuple of both.
        values = () if segment.nulls else (cursor.value if isinstance(cursor.value, tuple) else (cursor.value,))
        position = Tuple(*columns) if len(columns) > 1 else columns[0]
        bound = Tuple(*values, cursor.id) if len(columns) > 1 else cursor.id
        terms.append(position > bound if ascending else position < bound)
    query = Invoice.select(*_ROW_FIELDS).where(*terms) if terms else Invoice.select(*_ROW_FIELDS)
    order = [c.asc() if ascending else c.desc() for c in columns]
    return query.order_by(*order).limit(limit).offset(offset or None)


def _walk(
    f: InvoiceFilter,
    sort: InvoiceSort,
    descending: bool,
    cursor: Cursor | None,
    limit: int,
    by_filter: bool,
    names: dict[int, str],
) -> list[InvoiceRow]:
    """Up to ``limit`` rows after ``cursor`` in the order (sort, descending), across segments."""
    ascending = not descending
    segments = _segments(sort) if ascending else _segments(sort)[::-1]
    if cursor is not None:
        while not segments[0].holds(cursor):
            segments.pop(0)
    rows: list[InvoiceRow] = []
    for segment in segments:
        query = _segment_query(f, sort, by_filter, segment, ascending, cursor, limit - len(rows))
        rows.extend(_rows(query, names))
        if len(rows) >= limit:
            break
    return rows


def _segment_of(sort: InvoiceSort, row: InvoiceRow) -> _Segment:
    segments = _segments(sort)
    return segments[-1] if getattr(row, segments[-1].keys[0].name) is not None else segments[0]


def _page(rows: list[InvoiceRow], sort: InvoiceSort, has_next: bool, has_prev: bool) -> InvoicePage:
    if not rows:
        return InvoicePage([], None, None, has_next, has_prev)
    first, last = rows[0], rows[-1]
    return InvoicePage(
        rows, _segment_of(sort, first).cursor(first), _segment_of(sort, last).cursor(last), has_next, has_prev
    )


def count_invoices(f: InvoiceFilter) -> int:
    """Exact number of invoices matching ``f`` (from the roll-up when it can)."""
    if not f.needs_rows:
        by = ("additional_status",) if f.additional else ()
        sums = rollup(by, stores=f.stores, statuses=f.statuses, since=f.since, until=f.until, count_only=True)
        return sum(s.count for key, s in sums.items() if not f.additional or key[0] in f.additional)
    terms = filter_conditions(f, indexable=_seek_filters(f))
    return Invoice.select(fn.COUNT(Invoice.id)).where(*terms).scalar() or 0


def page_invoices(
    f: InvoiceFilter,
    *,
    sort: InvoiceSort = "created",
    descending: bool = True,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = 200,
    total: int | None = None,
) -> InvoicePage:
    """One page of invoices: the first, the one after ``after``, or the one before ``before``.

    Rows are always in display order (``sort``, ``descending``). ``total``: the
    filter's count if the caller already has it (the plan choice needs it, and a
    text filter's count reads every match on PostgreSQL).
    """
    if after is not None and before is not None:
        raise ValueError("give `after` or `before`, not both")
    _keys(sort)
    names = store_names()
    by_filter = _filter_driven(f, sort, limit + 1, matches=total)
    if before is not None:
        rows = _walk(f, sort, not descending, before, limit + 1, by_filter, names)
        has_prev = len(rows) > limit
        return _page(rows[:limit][::-1], sort, has_next=True, has_prev=has_prev)
    rows = _walk(f, sort, descending, after, limit + 1, by_filter, names)
    return _page(rows[:limit], sort, has_next=len(rows) > limit, has_prev=after is not None)


def page_at_offset(
    f: InvoiceFilter,
    sort: InvoiceSort = "created",
    descending: bool = True,
    offset: int = 0,
    limit: int = 200,
    *,
    total: int | None = None,
) -> InvoicePage:
    """The page starting at row ``offset`` (0-based) of the whole ordered result.

    For Home/End and jumping to a row number. Walks from whichever end is
    nearer, so the last page is as cheap as the first. ``total``: the
    filter's count if the caller already has it (saves counting again).
    """
    _keys(sort)
    total = count_invoices(f) if total is None else total
    offset = max(0, min(offset, total))
    take = min(limit, total - offset)
    if take <= 0:
        return InvoicePage([], None, None, has_next=False, has_prev=offset > 0)
    names = store_names()
    from_end = offset > total - offset - take
    # Position within the walk, and the direction of the walk.
    position = total - offset - take if from_end else offset
    walk_descending = descending != from_end
    by_filter = _filter_driven(f, sort, position + take, matches=total)
    segments = _segments(sort) if not walk_descending else _segments(sort)[::-1]
    rows: list[InvoiceRow] = []
    for segment in segments:
        size = _segment_size(f, segment, total, segments)
        if position >= size:
            position -= size
            continue
        query = _segment_query(
            f, sort, by_filter, segment, not walk_descending, None, take - len(rows), offset=position
        )
        rows.extend(_rows(query, names))
        position = 0
        if len(rows) >= take:
            break
    if from_end:
        rows.reverse()
    return _page(rows, sort, has_next=offset + len(rows) < total, has_prev=offset > 0)


def _segment_size(f: InvoiceFilter, segment: _Segment, total: int, segments: list[_Segment]) -> int:
    if len(segments) == 1 or segment.only is None:
        return total
    nulls = (
        Invoice.select(fn.COUNT(Invoice.id))
        .where(*filter_conditions(f, indexable=frozenset()), segment.only.is_null(True))
        .scalar()
        or 0
    )
    return nulls if segment.nulls else total - nulls


def iter_invoices(
    f: InvoiceFilter, *, sort: InvoiceSort = "created", descending: bool = True, batch: int = 1000
) -> Iterator[InvoiceRow]:
    """Every invoice matching ``f`` in order, read in keyset batches (constant memory)."""
    _keys(sort)
    names = store_names()
    by_filter = _filter_driven(f, sort, batch)
    cursor: Cursor | None = None
    while True:
        rows = _walk(f, sort, descending, cursor, batch, by_filter, names)
        yield from rows
        if len(rows) < batch:
            return
        cursor = _page(rows[-1:], sort, False, False).last


def find_invoice(invoice_id: str) -> InvoiceRow | None:
    """The invoice with this id, or the only one whose id starts with it."""
    text = invoice_id.strip()
    if not text:
        return None
    exact = Invoice.select(*_ROW_FIELDS).where(Invoice.invoice_id == text).order_by(Invoice.id).limit(1)
    for row in _rows(exact, store_names()):
        return row
    matches = match_invoice_ids(text, limit=2)
    return matches[0] if len(matches) == 1 else None


def match_invoice_ids(prefix: str, *, limit: int = 10) -> list[InvoiceRow]:
    """Invoices whose id starts with ``prefix``, in id order (for completion)."""
    text = prefix.strip()
    if not text:
        return []
    terms = [Invoice.invoice_id >= text]
    upper = prefix_successor(text)
    if upper is not None:
        terms.append(Invoice.invoice_id < upper)
    query = Invoice.select(*_ROW_FIELDS).where(*terms).order_by(Invoice.invoice_id, Invoice.id).limit(limit)
    return _rows(query, store_names())


def invoice_detail(pk: int) -> InvoiceDetail | None:
    """Everything about one invoice: its fields, payment methods and payments."""
    values = sql.first_tuple(Invoice.select(*_ROW_FIELDS).where(Invoice.id == pk))
    if values is None:
        return None
    invoice = Invoice.get_by_id(pk)
    store = Store.get_by_id(invoice.store_id)
    methods = [
        PaymentMethodRecord(
            m.method, m.currency, m.destination, m.payment_link, m.rate, m.amount_sats, m.paid_sats,
            m.due_sats, m.fee_sats, bool(m.activated),
        )  # fmt: skip
        for m in InvoicePaymentMethod.select().where(InvoicePaymentMethod.invoice == pk).order_by(
            InvoicePaymentMethod.method
        )
    ]
    payments = [
        PaymentInfo(
            p.method, p.payment_id, p.txid, p.vout, p.value, p.value_msat, p.fee, p.fee_msat, p.status,
            p.received_time, p.destination,
        )  # fmt: skip
        for p in Payment.select().where(Payment.invoice == pk).order_by(Payment.received_time, Payment.id)
    ]
    app = None
    if invoice.app_id:
        app = CrowdfundApp.get_or_none(
            (CrowdfundApp.store == invoice.store_id) & (CrowdfundApp.app_id == invoice.app_id)
        )
    return InvoiceDetail(
        app_title=(app.title or app.name) if app else None,
        row=_row(values, {store.id: store.name}),
        store_id=store.store_id,
        paid_e8=invoice.paid_e8,
        expiration_time=invoice.expiration_time,
        monitoring_time=invoice.monitoring_time,
        item_code=invoice.item_code,
        item_desc=invoice.item_desc,
        metadata=invoice.metadata,
        synced_time=invoice.synced_time,
        payment_methods=methods,
        payments=payments,
    )


@dataclass(frozen=True)
class SourceSync:
    """What the store remembers of a sync source's runs (``btcpay:<store>``, ``angor``)."""

    source: str
    last_success_time: int | None
    last_error: str | None  # the last run's error, when the last run failed


def sync_states(sources: Iterable[str] | None = None) -> list[SourceSync]:
    """Each source's last success and, if its last run failed, why (a few SyncState rows); all sources by default."""
    query = SyncState.select().order_by(SyncState.source)
    if sources is not None:
        query = query.where(SyncState.source.in_(list(sources)))
    return [
        SourceSync(
            row.source,
            row.last_success_time,
            row.last_error if row.last_error_time is not None and (row.last_success_time or 0) < row.last_error_time
            else None,
        )  # fmt: skip
        for row in query
    ]


def newest_invoice_id(store_name: str) -> str | None:
    """The id of the store's newest invoice (``cftui webhook send`` names it in a sample delivery)."""
    newest = (
        Invoice.select(Invoice.invoice_id)
        .join(Store)
        .where(Store.name == store_name)
        .order_by(Invoice.created_time.desc(), Invoice.id.desc())
        .first()
    )
    return None if newest is None else newest.invoice_id


__all__ = [
    "AngorSummary", "CrowdfundProgress", "Cursor", "DayPoint", "InvoiceDetail", "InvoiceFilter", "InvoicePage",
    "InvoiceRow", "Kpis", "PaymentInfo", "SORT_COLUMNS", "SORT_KEYS", "SourceSync", "Totals",
    "WebhookSummary", "angor_summary", "count_invoices", "crowdfund_progress", "daily_series", "find_invoice",
    "invoice_detail", "iter_invoices", "kpis", "match_invoice_ids", "newest_invoice_id", "page_at_offset",
    "page_invoices", "store_names", "sync_states", "webhook_summary",
]  # fmt: skip
