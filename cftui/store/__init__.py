"""The store: a per-user SQLite file or a team's PostgreSQL database (Peewee models, migrations, shared queries).

The query API (what the UI, the CLI and the exports read) is importable from
here, as httpx exports its public names from ``httpx/__init__.py``::

    from cftui.store import InvoiceFilter, kpis, page_invoices

:data:`__all__` lists it. Each name resolves on first use (PEP 562): importing
one store module, as the BTCPay parser imports ``cftui.store.records``, loads
neither peewee nor the models. Open the database with
:func:`cftui.store.db.open_database` first. The models, writers and migrations
are not part of this surface; the sync, the webhook receiver and the Angor
writer import them from their modules.
"""

from __future__ import annotations

import importlib
from typing import Any

# Module (under cftui.store) -> the names it contributes, each from the module that defines it.
_QUERY_API: dict[str, tuple[str, ...]] = {
    "filters": ("InvoiceFilter",),
    "queries": (
        "Cursor", "InvoiceDetail", "InvoicePage", "InvoiceRow", "PaymentInfo", "count_invoices", "find_invoice",
        "invoice_detail", "iter_invoices", "match_invoice_ids", "newest_invoice_id", "page_at_offset",
        "page_invoices", "store_names", "SourceSync", "sync_states",
    ),
    "kpi_queries": (
        "AngorSummary", "DayPoint", "Kpis", "Totals", "WebhookSummary", "angor_summary", "daily_series", "kpis",
        "webhook_summary",
    ),
    # Not currency_totals() itself: a function named like its module would be replaced by the module as soon
    # as anything imports cftui.store.currency_totals.
    "currency_totals": ("CurrencyTotals", "default_currency"),
    "crowdfund": ("CrowdfundProgress", "crowdfund_progress"),
    "campaign_queries": ("CampaignDetail", "campaign_detail", "campaigns"),
    "perks": ("PerkSold", "perks_sold"),
    "payment_queries": ("FeedCursor", "PaymentPage", "PaymentRow", "recent_payments"),
    "problem_queries": ("Problems", "SyncTrouble", "problems", "sync_troubles"),
    "webhook_queries": (
        "DeliveryBatch", "DeliveryDetail", "DeliveryLine", "deliveries_after", "delivery", "event_types",
        "first_delivery", "max_delivery_id",
    ),
}  # fmt: skip
_HOME = {name: module for module, names in _QUERY_API.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        # Not an API name: the import system then looks for a submodule (``from cftui.store import retry``).
        raise AttributeError(f"module 'cftui.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cftui.store.{module}"), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
