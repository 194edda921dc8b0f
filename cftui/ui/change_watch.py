"""Notice store changes written by another process.

``cftui listen`` (the webhook receiver) or a ``cftui sync`` in another
terminal write to the same SQLite file; the dashboard learns of it by
polling a few cheap high-water marks about once a second in a thread worker
and broadcasting :class:`~cftui.ui.messages.DataChanged` when one moves.

Every mark is an indexed MAX or a read of the few ``SyncState`` rows: no
full scan of a million invoices (``MAX(synced_time)`` has no index and took
~230 ms on 1M rows). A sync commits its ``SyncState`` with each page and at
its end, and the webhook processor writes a delivery row for every invoice it
updates, so these marks see every write that matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from cftui.store.angor_models import AngorProject
from cftui.store.models import Invoice, SyncState
from cftui.store.webhook_models import WebhookDelivery


@dataclass(frozen=True)
class Marks:
    delivery_id: int
    invoice_id: int
    sync_states: tuple  # every SyncState row's progress fields
    angor_synced: int

    def changed_sources(self, before: Marks) -> frozenset[str]:
        changed: set[str] = set()
        if self.delivery_id != before.delivery_id:
            # Processing a delivery re-reads its invoice.
            changed |= {"webhooks", "invoices"}
        if self.invoice_id != before.invoice_id or self.sync_states != before.sync_states:
            changed.add("invoices")
        if self.angor_synced != before.angor_synced:
            changed.add("angor")
        return frozenset(changed)


def _max(query) -> int:
    return int(query.scalar() or 0)


def read_marks() -> Marks:
    states = (
        SyncState.select(
            SyncState.source,
            SyncState.last_started_time,
            SyncState.last_success_time,
            SyncState.last_error_time,
            SyncState.scan_offset,
            SyncState.newest_seen_time,
        )
        .order_by(SyncState.source)
        .tuples()
    )
    return Marks(
        delivery_id=_max(WebhookDelivery.select(fn.MAX(WebhookDelivery.id))),
        invoice_id=_max(Invoice.select(fn.MAX(Invoice.id))),
        sync_states=tuple(states),
        angor_synced=_max(AngorProject.select(fn.MAX(AngorProject.synced_time))),
    )
