"""`cftui export deliveries`: every recorded request, as CSV or JSON.

Rows stream from the store in id order, so a large log needs no memory.
Bodies and headers are left out; the signature header is not a secret but
says nothing useful in a table, so it is left out too.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

from cftui import clock
from cftui.domain import ExportFormat
from cftui.store.webhook_models import WebhookDelivery

FIELDS = (
    "delivery_id",
    "original_delivery_id",
    "is_redelivery",
    "type",
    "store",
    "invoice_id",
    "verdict",
    "reason",
    "processed",
    "process_result",
    "http_status",
    "remote",
    "received",
)


def delivery_rows(*, store: str | None = None) -> Iterator[dict[str, Any]]:
    query = WebhookDelivery.select().order_by(WebhookDelivery.id)
    if store is not None:
        query = query.where(WebhookDelivery.store_name == store)
    for row in query.iterator():
        yield {
            "delivery_id": row.delivery_id,
            "original_delivery_id": row.original_delivery_id,
            "is_redelivery": bool(row.is_redelivery),
            "type": row.event_type,
            "store": row.store_name,
            "invoice_id": row.invoice_id,
            "verdict": row.verdict,
            "reason": row.reason,
            "processed": bool(row.processed),
            "process_result": row.process_result,
            "http_status": row.http_status,
            "remote": row.remote,
            "received": _iso_ms(row.received_ms),
        }


def export_deliveries(stream: IO[str], fmt: ExportFormat, *, store: str | None = None) -> int:
    """Write the deliveries to ``stream`` as ``csv`` or ``json``; return how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(stream, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in delivery_rows(store=store):
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
            count += 1
        return count
    stream.write("[")
    for row in delivery_rows(store=store):
        stream.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


def _iso_ms(received_ms: int) -> str:
    """ISO-8601 UTC with milliseconds: deliveries often share a second."""
    seconds, millis = divmod(received_ms, 1000)
    return f"{clock.to_datetime(seconds):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value
