"""Webhook deliveries: every request the receiver got, accepted or rejected."""

from __future__ import annotations

from peewee import AutoField, BigIntegerField, BlobField, BooleanField, CharField, IntegerField, TextField

# The verdicts are defined in cftui.domain (no peewee there); still importable from here for older imports.
from cftui.domain import (  # noqa: F401
    ACCEPTED_VERDICTS,
    BAD_SIGNATURE,
    DUPLICATE,
    MALFORMED,
    RATE_LIMITED,
    TOO_LARGE,
    UNKNOWN_STORE,
    VERDICTS,
    VERIFIED,
)
from cftui.store.models import BaseModel


class WebhookDelivery(BaseModel):
    id = AutoField()
    received_ms = BigIntegerField(index=True)  # UTC unix milliseconds
    remote = CharField()  # client address
    method = CharField(default="POST")
    path = TextField()
    store_name = CharField(null=True)  # from the URL; null when it named no known store
    signature = TextField(null=True)  # the BTCPay-Sig header as received
    headers = TextField()  # JSON object of the request headers (no secrets are sent in them)
    body = BlobField(null=True)  # raw bytes as received (bounded for rejected requests)
    body_size = IntegerField(default=0)
    verdict = CharField(index=True)
    reason = TextField(null=True)
    http_status = IntegerField()
    delivery_id = CharField(null=True, index=True)
    original_delivery_id = CharField(null=True)  # looked up through the claim index below
    webhook_id = CharField(null=True)
    is_redelivery = BooleanField(default=False)
    event_type = CharField(null=True, index=True)
    event_time = BigIntegerField(null=True)  # envelope `timestamp`, unix s
    invoice_id = CharField(null=True)
    # True for the one delivery per originalDeliveryId that was acted on.
    processed = BooleanField(default=False)
    process_result = TextField(null=True)  # what processing did, or why it is queued


# Idempotency, enforced by the database itself: one `verified` row per
# originalDeliveryId and store, so a delivery that arrives on several
# connections at once (or at two receivers sharing the store) is claimed once;
# the losers are recorded as `duplicate`.
WebhookDelivery.add_index(
    WebhookDelivery.index(
        WebhookDelivery.store_name,
        WebhookDelivery.original_delivery_id,
        unique=True,
        where=(WebhookDelivery.verdict == VERIFIED),
        name="webhook_delivery_one_claim",
    )
)

WEBHOOK_MODELS = [WebhookDelivery]
