"""Notice store changes written by another process.

``cftui listen`` (the webhook receiver) or a ``cftui sync`` in another
terminal write to the same SQLite file; the dashboard learns of it by
polling a few cheap high-water marks about once a second in a thread worker
and broadcasting :class:`~cftui.ui.messages.DataChanged` when one moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from cftui.store.angor_models import AngorProject
from cftui.store.models import Invoice, SyncState
from cftui.store.webhook_models import WebhookDelivery


@dataclass(frozen=True)
class Marks:
    """High-water marks; each is an indexed MAX (or a handful of rows)."""

    delivery_id: int
    invoice_id: int
    invoice_synced: int
    sync_success: int
    angor_synced: int

    def changed_sources(self, before: Marks) -> frozenset[str]:
        changed: set[str] = set()
        if self.delivery_id != before.delivery_id:
            changed.add("webhooks")
        if (self.invoice_id, self.invoice_synced, self.sync_success) != (
            before.invoice_id,
            before.invoice_synced,
            before.sync_success,
        ):
            changed.add("invoices")
        if self.angor_synced != before.angor_synced:
            changed.add("angor")
        return frozenset(changed)


def _max(query) -> int:
    return int(query.scalar() or 0)


def read_marks() -> Marks:
    return Marks(
        delivery_id=_max(WebhookDelivery.select(fn.MAX(WebhookDelivery.id))),
        invoice_id=_max(Invoice.select(fn.MAX(Invoice.id))),
        invoice_synced=_max(Invoice.select(fn.MAX(Invoice.synced_time))),
        sync_success=_max(SyncState.select(fn.MAX(SyncState.last_success_time))),
        angor_synced=_max(AngorProject.select(fn.MAX(AngorProject.synced_time))),
    )
