"""One request the receiver got, as it is recorded: a ``WebhookDelivery`` row before it has an id.

The receiver builds it once, when the request's verdict is known, and hands
it to the recorder, which writes :meth:`DeliveryRow.values` with a statement
built for :data:`COLUMNS`. The envelope fields come from the parsed
:class:`~cftui.webhooks.envelope.Envelope` itself, so they cannot disagree
with it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cftui.domain import ACCEPTED_VERDICTS, DUPLICATE, Verdict
from cftui.webhooks.envelope import Envelope
from cftui.webhooks.notices import DeliveryNotice

# A rejected request keeps this much of its body (and of its headers): a flood cannot fill the disk.
REJECTED_BODY_BYTES = 4096

# The WebhookDelivery columns a row fills (all but ``id``), in the order of DeliveryRow.values().
COLUMNS = (
    "received_ms", "remote", "method", "path", "store_name", "signature", "headers", "body", "body_size",
    "verdict", "reason", "http_status", "delivery_id", "original_delivery_id", "webhook_id", "is_redelivery",
    "event_type", "event_time", "invoice_id", "processed", "process_result",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    received_ms: int  # UTC unix milliseconds
    remote: str  # the client's address
    method: str
    path: str
    headers: str  # JSON object of the request headers, credentials left out
    signature: str | None  # the BTCPay-Sig header as received
    store_name: str | None  # the store the URL names; None when it names none
    body: bytes | None  # as received (None when it was refused unread)
    body_size: int  # as declared or as read, even when the body was not kept
    verdict: Verdict
    reason: str | None  # why it was rejected (or, for a duplicate, which delivery it repeats)
    http_status: int  # what it was answered
    # What the body says it is. For a rejected body only what it claims, to show in the log: never acted on.
    event: Envelope | None = None
    processed: bool = False  # the delivery's commit was the whole of its processing (or queued its invoice)
    process_result: str | None = None

    def values(self) -> tuple[object, ...]:
        """The column values in :data:`COLUMNS` order; a rejected request's body cut to REJECTED_BODY_BYTES."""
        body = self.body
        if body is not None and len(body) > REJECTED_BODY_BYTES and self.verdict not in ACCEPTED_VERDICTS:
            body = body[:REJECTED_BODY_BYTES]
        event = self.event
        if event is None:
            envelope: tuple[object, ...] = (None, None, None, False, None, None, None)
        else:
            envelope = (
                event.delivery_id, event.original_delivery_id, event.webhook_id, event.is_redelivery,
                event.type, event.timestamp, event.invoice_id,
            )  # fmt: skip
        return (
            self.received_ms, self.remote, self.method, self.path, self.store_name, self.signature, self.headers,
            body, self.body_size, self.verdict, self.reason, self.http_status, *envelope,
            self.processed, self.process_result,
        )  # fmt: skip

    def duplicate(self) -> DeliveryRow:
        """This verified delivery recorded again as a duplicate: another row claimed it first."""
        original = self.event.original_delivery_id if self.event else None
        reason = f"originalDeliveryId {original} was already received"
        return dataclasses.replace(self, verdict=DUPLICATE, reason=reason, processed=False, process_result=None)

    def notice(self, row_id: int) -> DeliveryNotice:
        """What the receiver's host is told about this row, recorded with id ``row_id``."""
        event = self.event
        return DeliveryNotice(
            id=row_id,
            received_ms=self.received_ms,
            remote=self.remote,
            path=self.path,
            store_name=self.store_name,
            verdict=self.verdict,
            reason=self.reason,
            http_status=self.http_status,
            event_type=event.type if event else None,
            delivery_id=event.delivery_id if event else None,
            original_delivery_id=event.original_delivery_id if event else None,
            is_redelivery=event.is_redelivery if event else False,
            invoice_id=event.invoice_id if event else None,
        )
