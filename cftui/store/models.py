"""Peewee models for the core: stores, invoices, payments, apps, sync state.

Rules every model here follows (and ``tests/test_store_schema.py`` checks):

* Money is exact. Bitcoin in integer satoshis (``*_sats``); fiat as the
  decimal text the server sent (``amount``) plus an integer in units of 1e-8
  (``amount_e8``) so SQL sums are exact. No float field, no REAL column.
* Times are UTC unix seconds in integer columns (``*_time``), or milliseconds
  where order within a second matters (``*_ms``).
* Portable: the same models run on SQLite and PostgreSQL. What differs
  between the two lives in ``cftui/store/sqlite.py`` and ``postgres.py``,
  behind ``cftui/store/engine.py``.

All models bind to :data:`database`, a proxy that ``db.open_database`` points
at a real database.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    Index,
    IntegerField,
    Model,
    Table,
    TextField,
    fn,
)

# Defined in cftui.domain (no peewee there); still importable from here for older imports.
from cftui.domain import ADDITIONAL_STATUSES, ALL_STATUSES, FINAL_STATUSES, OPEN_STATUSES

database = DatabaseProxy()


class BaseModel(Model):
    """The models' base. A model with no primary key of its own declares ``id = AutoField()``: peewee
    would add that same column by itself, but its stubs only know a field declared in the class. A foreign
    key ``store`` also reads as ``store_id`` (the row id, without a query); those are declared as bare
    annotations, which peewee does not see."""

    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the database itself (the schema version)."""

    key = CharField(primary_key=True)
    value = TextField()


class Store(BaseModel):
    """A configured BTCPay store. ``name`` is the config name, ``store_id`` BTCPay's id."""

    id = AutoField()
    name = CharField(unique=True)
    url = TextField()
    store_id = CharField()
    server_version = CharField(null=True)
    added_time = BigIntegerField()
    # BTCPay's ``defaultCurrency`` (schema 8): the currency the dashboard converts totals into.
    default_currency = CharField(null=True)


CONTRIBUTION_FIELDS = (
    "cf_settled_e8", "cf_settled_e18", "cf_settled_e28", "cf_pending_e8", "cf_pending_e18", "cf_pending_e28",
)
CROWDFUND_INDEX = "invoice_crowdfund_progress"
CROWDFUND_COLUMNS = (
    "app_id", "store_id", "created_time", "status", "currency", "amount_e8", "btc_paid_sats", *CONTRIBUTION_FIELDS,
)


class ContributionColumns(BaseModel):
    """What an invoice adds to a crowdfund's progress by BTCPay's rule, in its own
    currency, settled and pending: each in units of 10⁻⁸ plus two columns of ten
    more digits (cftui/store/contributions.py says why and how). An invoice has
    them, and the daily roll-up sums them."""

    id = AutoField()
    cf_settled_e8 = BigIntegerField(default=0)
    cf_settled_e18 = BigIntegerField(default=0)
    cf_settled_e28 = BigIntegerField(default=0)
    cf_pending_e8 = BigIntegerField(default=0)
    cf_pending_e18 = BigIntegerField(default=0)
    cf_pending_e28 = BigIntegerField(default=0)


class Invoice(ContributionColumns):
    # No index of its own: the unique (store, invoice_id) index serves store lookups.
    store = ForeignKeyField(Store, backref="invoices", on_delete="CASCADE", index=False)
    store_id: int
    invoice_id = CharField()
    status = CharField()  # New | Processing | Settled | Expired | Invalid
    additional_status = CharField()  # None | PaidPartial | PaidLate | PaidOver | Marked
    type = CharField()  # Standard | TopUp
    currency = CharField()
    amount = CharField()  # decimal text, as the server wrote it
    amount_e8 = BigIntegerField()  # amount × 1e8, exact
    paid_amount = CharField(null=True)  # decimal text (servers >= 2.1.2)
    paid_e8 = BigIntegerField(null=True)
    # BTC actually paid, summed over payment methods from `paymentMethodPaid`
    # (never `totalPaid`, which double-counts). Null until payment methods
    # have been read for this invoice.
    btc_paid_sats = BigIntegerField(null=True)
    created_time = BigIntegerField()
    expiration_time = BigIntegerField()
    monitoring_time = BigIntegerField()
    archived = BooleanField(default=False)
    order_id = CharField(null=True)
    buyer_email = CharField(null=True)
    item_code = CharField(null=True)
    item_desc = TextField(null=True)
    checkout_link = TextField(null=True)
    metadata = TextField()  # the raw metadata object, JSON text
    app_id = CharField(null=True)  # crowdfund app this invoice belongs to
    synced_time = BigIntegerField()  # when this row was last written from the server

    class Meta:
        # Every index here serves a query in ``cftui/store/queries.py`` or
        # ``kpi_queries.py`` (``tests/test_store_schema.py`` checks the plans).
        # Keyset indexes end in ``id``, the tie-breaker: SQLite would append
        # the rowid anyway, PostgreSQL would not.
        indexes = (
            (("store", "invoice_id"), True),
            # Keyset pages, one per sort key; also date ranges and prefix search.
            (("created_time", "id"), False),
            (("store", "created_time", "id"), False),
            # (+ covering columns: medians over a narrow range read only this index)
            (("status", "created_time", "id", "currency", "store", "amount_e8", "btc_paid_sats"), False),
            (("currency", "created_time", "id"), False),
            # Amounts sort within their currency (9,000 JPY is not more than 100 USD).
            (("currency", "amount_e8", "id"), False),
            # Problem invoices (paid late, partially, marked), newest first.
            (("additional_status", "created_time", "id"), False),
            (("btc_paid_sats", "id"), False),
            (("invoice_id", "id"), False),
            # Text search: prefix ranges; emails match case-insensitively.
            (("order_id",), False),
            Index("invoice_buyer_email_lower", Table("invoice"), (fn.LOWER(SQL('"buyer_email"')),)),
            # Medians: index-only walks in value order, filtered by range and store.
            (("status", "currency", "amount_e8", "created_time", "store"), False),
            (("status", "btc_paid_sats", "created_time", "store"), False),
            # Crowdfund progress: index-only sums per app (and its reset period), over the
            # crowdfund invoices only.
            Index(CROWDFUND_INDEX, Table("invoice"), [SQL(f'"{name}"') for name in CROWDFUND_COLUMNS],
                  where=SQL('"app_id" IS NOT NULL')),
        )


class InvoicePaymentMethod(BaseModel):
    """One payment method of an invoice (``BTC-CHAIN``, ``BTC-LN``, ...)."""

    id = AutoField()
    invoice = ForeignKeyField(Invoice, backref="payment_methods", on_delete="CASCADE")
    method = CharField()
    currency = CharField()
    destination = TextField(null=True)
    payment_link = TextField(null=True)
    rate = CharField(null=True)  # invoice currency per 1 unit of `currency`, decimal text
    amount_sats = BigIntegerField(null=True)  # `amount` in sats (for BTC methods)
    paid_sats = BigIntegerField()  # `paymentMethodPaid`
    due_sats = BigIntegerField(null=True)  # negative when overpaid
    fee_sats = BigIntegerField(null=True)  # `paymentMethodFee`
    activated = BooleanField(default=True)

    class Meta:
        indexes = ((("invoice", "method"), True),)


class Payment(BaseModel):
    """One payment. On-chain ``payment_id`` is ``txid-vout``; Lightning, the payment hash."""

    id = AutoField()
    invoice = ForeignKeyField(Invoice, backref="payments", on_delete="CASCADE")
    method = CharField()
    payment_id = CharField()
    # `value` and `fee` exactly as the server wrote them (BTC; Lightning ones carry
    # millisatoshis, and a provider's fee tweak can be negative), and in msat.
    value = CharField()
    value_msat = BigIntegerField()
    fee = CharField(default="0")
    fee_msat = BigIntegerField(default=0)
    status = CharField()  # Invalid | Processing | Settled
    received_time = BigIntegerField()
    destination = TextField(null=True)

    class Meta:
        indexes = (
            (("invoice", "method", "payment_id"), True),
            # The contributions feed, newest payment first (schema 8).
            (("received_time", "id"), False),
        )

    @property
    def txid(self) -> str | None:
        if self.method.endswith("CHAIN") and "-" in self.payment_id:
            return self.payment_id.rsplit("-", 1)[0]
        return None

    @property
    def vout(self) -> int | None:
        if self.method.endswith("CHAIN") and "-" in self.payment_id:
            tail = self.payment_id.rsplit("-", 1)[1]
            return int(tail) if tail.isdigit() else None
        return None


class CrowdfundApp(BaseModel):
    id = AutoField()
    store = ForeignKeyField(Store, backref="apps", on_delete="CASCADE")
    store_id: int
    app_id = CharField()
    name = CharField()
    title = TextField(null=True)
    app_type = CharField()
    archived = BooleanField(default=False)
    enabled = BooleanField(default=True)
    target_currency = CharField(null=True)
    target_amount = CharField(null=True)  # decimal text (a JSON number upstream)
    target_e8 = BigIntegerField(null=True)
    start_time = BigIntegerField(null=True)
    end_time = BigIntegerField(null=True)
    created_time = BigIntegerField(null=True)
    synced_time = BigIntegerField()
    # The goal's reset period (`resetEvery` Never | Hour | Day | Month | Year, times `resetEveryAmount`).
    reset_every = CharField(default="Never")
    reset_every_amount = IntegerField(default=1)
    enforce_target = BooleanField(default=False)  # `enforceTargetAmount`: unpaid New invoices count as pending
    # BTCPay's "count all invoices created on the store": not in the Greenfield API,
    # so it comes from the config (`crowdfund_all_invoices`).
    all_store_invoices = BooleanField(default=False)

    class Meta:
        indexes = ((("store", "app_id"), True),)


class CrowdfundPerk(BaseModel):
    """What BTCPay reports a crowdfund perk sold (``GET /apps/{appId}/top-items``, schema 8).

    BTCPay counts Processing and Settled invoices; ``total`` is the decimal text
    it sends, in the app's target currency.
    """

    id = AutoField()
    store = ForeignKeyField(Store, on_delete="CASCADE")
    store_id: int
    app_id = CharField()
    item_code = CharField()
    title = TextField(null=True)
    sales_count = IntegerField()
    total = CharField()  # decimal text
    total_e8 = BigIntegerField()
    rank = IntegerField()  # BTCPay's order: best seller first
    synced_time = BigIntegerField()

    class Meta:
        indexes = ((("store", "app_id", "item_code"), True),)


class InvoiceDayStat(ContributionColumns):
    """Daily roll-up of invoices, kept exact by the upsert that changes them.

    KPIs over long ranges add these rows (a few per day) instead of scanning
    a million invoices; partial days at a range's edges are read from the
    invoices themselves, so every figure stays exact.
    """

    store = ForeignKeyField(Store, on_delete="CASCADE")
    store_id: int
    day = BigIntegerField()  # unix seconds of 00:00 UTC
    status = CharField()
    additional_status = CharField()
    currency = CharField()
    count = BigIntegerField(default=0)
    amount_e8 = BigIntegerField(default=0)
    paid_e8 = BigIntegerField(default=0)
    btc_paid_sats = BigIntegerField(default=0)

    class Meta:
        indexes = (
            (("store", "day", "status", "additional_status", "currency"), True),
            # Covering, in GROUP BY order: KPIs (by status, flag, currency) and
            # the daily series (by day, status) aggregate without a sort.
            (("status", "additional_status", "currency", "day", "store", "count", "amount_e8", "paid_e8",
              "btc_paid_sats"), False),
            (("day", "status", "store", "count", "btc_paid_sats", "amount_e8", "paid_e8"), False),
        )  # fmt: skip


class SyncState(BaseModel):
    """Progress and health of one sync source (``btcpay:<store name>``, ``angor``).

    A backfill walks newest-first with ``scan_end_time`` pinned and commits
    ``scan_offset`` with every page, so a killed process resumes where it was.
    """

    source = CharField(primary_key=True)
    running = BooleanField(default=False)
    last_started_time = BigIntegerField(null=True)
    last_success_time = BigIntegerField(null=True)
    last_error = TextField(null=True)
    last_error_time = BigIntegerField(null=True)
    backfill_done = BooleanField(default=False)
    scan_end_time = BigIntegerField(null=True)
    scan_offset = IntegerField(default=0)
    newest_seen_time = BigIntegerField(null=True)  # created_time (or Nostr created_at) high-water mark
    last_result = TextField(null=True)  # JSON summary of the last run


class PendingInvoice(BaseModel):
    """An invoice to re-fetch on the next sync (a webhook arrived while the API was down)."""

    id = AutoField()
    store = ForeignKeyField(Store, on_delete="CASCADE")
    store_id: int
    invoice_id = CharField()
    reason = TextField()
    queued_time = BigIntegerField()

    class Meta:
        indexes = ((("store", "invoice_id"), True),)


class SkippedInvoice(BaseModel):
    """An invoice a sync skipped because its record did not parse: later syncs read it again until it does.

    Re-read by ``invoice_id``, or, for a record that came without a usable id,
    by its ``created_time`` (a list request for that one second).
    """

    id = AutoField()
    store = ForeignKeyField(Store, on_delete="CASCADE")
    store_id: int
    invoice_id = CharField(null=True)
    created_time = BigIntegerField(null=True)
    reason = TextField()
    skipped_time = BigIntegerField()  # the last time it failed
    attempts = IntegerField(default=1)

    class Meta:
        indexes = ((("store", "invoice_id"), True), (("store", "created_time"), False))


CORE_MODELS = [
    Meta,
    Store,
    Invoice,
    InvoicePaymentMethod,
    Payment,
    CrowdfundApp,
    CrowdfundPerk,
    InvoiceDayStat,
    SyncState,
    PendingInvoice,
]

RETRY_MODELS = [SkippedInvoice]  # schema 7

__all__ = [
    "database",
    "BaseModel",
    "Meta",
    "Store",
    "Invoice",
    "InvoicePaymentMethod",
    "Payment",
    "CrowdfundApp",
    "CrowdfundPerk",
    "InvoiceDayStat",
    "SyncState",
    "PendingInvoice",
    "SkippedInvoice",
    "RETRY_MODELS",
    "CORE_MODELS",
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "ALL_STATUSES",
    "ADDITIONAL_STATUSES",
    "CONTRIBUTION_FIELDS",
]
