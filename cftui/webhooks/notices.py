"""What the receiver tells its host (the dashboard, `cftui listen`) as it works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cftui.domain import Verdict


@dataclass(frozen=True, slots=True)
class DeliveryNotice:
    """One request, as recorded (``id`` is its ``WebhookDelivery`` row)."""

    id: int
    received_ms: int
    remote: str
    path: str
    store_name: str | None
    verdict: Verdict
    reason: str | None
    http_status: int
    event_type: str | None = None
    delivery_id: str | None = None
    original_delivery_id: str | None = None
    is_redelivery: bool = False
    invoice_id: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessedNotice:
    """The invoice behind one or more deliveries was fetched and stored, or queued."""

    delivery_ids: tuple[int, ...]  # WebhookDelivery rows
    store_name: str
    invoice_id: str
    result: str  # e.g. "Settled, stored" or "queued for the next sync: ..."
    queued: bool


OnDelivery = Callable[[DeliveryNotice], None]
OnProcessed = Callable[[ProcessedNotice], None]
