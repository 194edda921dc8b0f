"""Read queries for the Webhooks tab: new deliveries since the last one seen, and one delivery.

The log polls by primary key (``id > last_seen``), which is an index range
scan however many deliveries the store holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from cftui.store.webhook_models import WebhookDelivery


@dataclass(frozen=True)
class DeliveryLine:
    """What one line of the log shows."""

    id: int
    received_ms: int
    verdict: str
    event_type: str | None
    store_name: str | None
    invoice_id: str | None
    is_redelivery: bool


@dataclass(frozen=True)
class DeliveryBatch:
    lines: list[DeliveryLine]  # ascending id
    last_id: int  # the newest delivery id in the store when read (matching or not)


@dataclass(frozen=True)
class DeliveryDetail:
    line: DeliveryLine
    remote: str
    method: str
    path: str
    signature: str | None
    headers: str  # JSON object text
    body: bytes | None
    body_size: int
    reason: str | None
    http_status: int
    delivery_id: str | None
    original_delivery_id: str | None
    webhook_id: str | None
    event_time: int | None
    processed: bool
    process_result: str | None


_LINE_FIELDS = (
    WebhookDelivery.id,
    WebhookDelivery.received_ms,
    WebhookDelivery.verdict,
    WebhookDelivery.event_type,
    WebhookDelivery.store_name,
    WebhookDelivery.invoice_id,
    WebhookDelivery.is_redelivery,
)


def _line(row: WebhookDelivery) -> DeliveryLine:
    return DeliveryLine(
        id=row.id,
        received_ms=row.received_ms,
        verdict=row.verdict,
        event_type=row.event_type,
        store_name=row.store_name,
        invoice_id=row.invoice_id,
        is_redelivery=row.is_redelivery,
    )


def max_delivery_id() -> int:
    return WebhookDelivery.select(fn.MAX(WebhookDelivery.id)).scalar() or 0


def deliveries_after(
    after_id: int,
    *,
    verdicts: tuple[str, ...] = (),
    types: tuple[str, ...] = (),
    text: str = "",
    limit: int = 2000,
) -> DeliveryBatch:
    """Deliveries with ``id > after_id`` matching the filters: the newest ``limit`` of them, oldest first.

    ``text``: the start of an invoice id, a delivery id or a store name (case-sensitive, as ids are).
    """
    last_id = max_delivery_id()
    query = (
        WebhookDelivery.select(*_LINE_FIELDS)
        .where((WebhookDelivery.id > after_id) & (WebhookDelivery.id <= last_id))
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if verdicts:
        query = query.where(WebhookDelivery.verdict.in_(verdicts))
    if types:
        query = query.where(WebhookDelivery.event_type.in_(types))
    needle = text.strip()
    if needle:
        query = query.where(
            WebhookDelivery.invoice_id.startswith(needle)
            | WebhookDelivery.delivery_id.startswith(needle)
            | WebhookDelivery.store_name.startswith(needle)
        )
    lines = [_line(row) for row in query]
    lines.reverse()
    return DeliveryBatch(lines=lines, last_id=last_id)


def event_types() -> list[str]:
    """The event types seen so far, for the type filter."""
    query = (
        WebhookDelivery.select(WebhookDelivery.event_type)
        .where(WebhookDelivery.event_type.is_null(False))
        .distinct()
        .order_by(WebhookDelivery.event_type)
    )
    return [row.event_type for row in query if row.event_type is not None]  # none is, by the WHERE


def delivery(delivery_pk: int) -> DeliveryDetail | None:
    """The recorded request with this row id (the ``#12`` the log and the export show)."""
    return _detail(WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_pk))


def first_delivery(delivery_id: str) -> DeliveryDetail | None:
    """The first recorded request with BTCPay's ``delivery_id`` (a replay of it is recorded again, later)."""
    query = WebhookDelivery.select().where(WebhookDelivery.delivery_id == delivery_id)
    return _detail(query.order_by(WebhookDelivery.id).first())


def _detail(row: WebhookDelivery | None) -> DeliveryDetail | None:
    if row is None:
        return None
    body = row.body
    return DeliveryDetail(
        line=_line(row),
        remote=row.remote,
        method=row.method,
        path=row.path,
        signature=row.signature,
        headers=row.headers,
        body=bytes(body) if body is not None else None,
        body_size=row.body_size,
        reason=row.reason,
        http_status=row.http_status,
        delivery_id=row.delivery_id,
        original_delivery_id=row.original_delivery_id,
        webhook_id=row.webhook_id,
        event_time=row.event_time,
        processed=row.processed,
        process_result=row.process_result,
    )
