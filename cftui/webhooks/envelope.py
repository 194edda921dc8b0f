"""The BTCPay webhook envelope: parse what arrives, build what BTCPay would send.

Field names, types and per-event fields follow contract §5.4. The bytes we
build match BTCPay's own serializer (Newtonsoft ``Formatting.Indented``,
camelCase): 2-space indent, ``": "`` separators, UTF-8 without escaping
non-ASCII, and the same key order (a derived event class's own fields first,
then the base envelope fields, then ``storeId``/``invoiceId``/``metadata``,
which carry explicit ``JsonProperty(Order)`` upstream).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import base58

# Per-event fields of the invoice events, in BTCPay's serialization order.
INVOICE_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "InvoiceCreated": (),
    "InvoiceReceivedPayment": ("afterExpiration", "paymentMethodId", "payment"),
    "InvoicePaymentSettled": ("afterExpiration", "paymentMethodId", "payment"),
    "InvoiceProcessing": ("overPaid",),
    "InvoiceSettled": ("manuallyMarked", "overPaid"),
    "InvoiceInvalid": ("manuallyMarked",),
    "InvoiceExpired": ("partiallyPaid",),
    "InvoiceExpiredPaidPartial": (),
    "InvoicePaidAfterExpiration": (),
    "InvoiceRefund": ("pullPaymentId",),
}

# Store events we know and deliberately do nothing with (the sync covers invoices only). Upstream
# defines them in WebhookEventType.cs, WebhookSubscriptionEvent.cs and PendingTransactionTriggerProvider.cs.
OTHER_EVENT_TYPES = frozenset(
    {
        "PaymentRequestCreated", "PaymentRequestUpdated", "PaymentRequestArchived",
        "PaymentRequestStatusChanged", "PaymentRequestCompleted",
        "PayoutCreated", "PayoutApproved", "PayoutUpdated",
        "PendingTransactionCreated", "PendingTransactionSignatureCollected",
        "PendingTransactionBroadcast", "PendingTransactionCancelled",
        "SubscriberCreated", "SubscriberCredited", "SubscriberCharged", "SubscriberActivated",
        "SubscriberPhaseChanged", "SubscriberDisabled", "PaymentReminder", "PlanStarted",
        "SubscriberNeedUpgrade", "CreditRefunded",
    }
)  # fmt: skip

_BASE_FIELDS = ("deliveryId", "webhookId", "originalDeliveryId", "isRedelivery", "type", "timestamp")
# Newtonsoft escapes these even with default settings; Python's json does not.
_NEWTONSOFT_EXTRA_ESCAPES = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


_DECODER = json.JSONDecoder(parse_float=Decimal)  # built once: json.loads(..., parse_float=) builds one per call


class EnvelopeError(ValueError):
    """The body is not a BTCPay webhook envelope; the message says why."""


@dataclass(frozen=True, slots=True)
class Envelope:
    delivery_id: str
    webhook_id: str
    original_delivery_id: str
    is_redelivery: bool
    type: str
    timestamp: int
    store_id: str | None
    invoice_id: str | None
    data: dict[str, Any] = field(repr=False, compare=False)

    @property
    def is_invoice_event(self) -> bool:
        return self.type in INVOICE_EVENT_FIELDS

    @property
    def is_known(self) -> bool:
        return self.is_invoice_event or self.type in OTHER_EVENT_TYPES


def parse(body: bytes) -> Envelope:
    """Read an envelope from the raw body, or raise :class:`EnvelopeError`."""
    try:
        data = _DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise EnvelopeError("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise EnvelopeError(f"body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        # The decoder recurses once per level: a few KB of brackets reach Python's limit.
        raise EnvelopeError("body is JSON nested too deeply to be a webhook envelope") from None
    if not isinstance(data, dict):
        raise EnvelopeError("body is not a JSON object")
    # BTCPay before 1.0.7 misspelt the key; its own client still reads the old spelling.
    if "originalDeliveryId" not in data and "orignalDeliveryId" in data:
        data["originalDeliveryId"] = data["orignalDeliveryId"]
    missing = [name for name in _BASE_FIELDS if name not in data]
    if missing:
        raise EnvelopeError(f"envelope field(s) missing: {', '.join(missing)}")
    for name in ("deliveryId", "webhookId", "originalDeliveryId", "type"):
        if not isinstance(data[name], str) or not data[name]:
            raise EnvelopeError(f"'{name}' must be a non-empty string")
    if not isinstance(data["isRedelivery"], bool):
        raise EnvelopeError("'isRedelivery' must be true or false")
    timestamp = data["timestamp"]
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise EnvelopeError("'timestamp' must be unix seconds (an integer)")
    store_id = data.get("storeId")
    invoice_id = data.get("invoiceId")
    if data["type"] in INVOICE_EVENT_FIELDS:
        for name, value in (("storeId", store_id), ("invoiceId", invoice_id)):
            if not isinstance(value, str) or not value:
                raise EnvelopeError(f"{data['type']} needs a non-empty '{name}'")
    return Envelope(
        delivery_id=data["deliveryId"],
        webhook_id=data["webhookId"],
        original_delivery_id=data["originalDeliveryId"],
        is_redelivery=data["isRedelivery"],
        type=data["type"],
        timestamp=timestamp,
        store_id=store_id if isinstance(store_id, str) else None,
        invoice_id=invoice_id if isinstance(invoice_id, str) else None,
        data=data,
    )


def new_delivery_id() -> str:
    """A delivery id like BTCPay's: Base58 of 16 random bytes (at most 22 characters)."""
    return base58.b58encode(secrets.token_bytes(16)).decode("ascii")


def dumps(obj: dict[str, Any]) -> bytes:
    """``obj`` serialized as Newtonsoft ``Formatting.Indented`` writes it, as UTF-8."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    for char, escaped in _NEWTONSOFT_EXTRA_ESCAPES.items():
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def build(
    event_type: str,
    *,
    store_id: str,
    webhook_id: str,
    timestamp: int,
    delivery_id: str | None = None,
    original_delivery_id: str | None = None,
    invoice_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> bytes:
    """The body BTCPay would POST for this event, byte for byte.

    A first delivery has ``original_delivery_id`` None: it then equals the new
    ``deliveryId`` and ``isRedelivery`` is false (contract §5.4).
    """
    delivery_id = delivery_id or new_delivery_id()
    extra = dict(fields or {})
    base = {
        "deliveryId": delivery_id,
        "webhookId": webhook_id,
        "originalDeliveryId": original_delivery_id or delivery_id,
        "isRedelivery": original_delivery_id is not None and original_delivery_id != delivery_id,
        "type": event_type,
        "timestamp": timestamp,
    }
    obj: dict[str, Any] = {}
    if event_type in INVOICE_EVENT_FIELDS:
        for name in INVOICE_EVENT_FIELDS[event_type]:
            if name in extra:
                obj[name] = extra.pop(name)
        obj.update(extra)  # fields we do not know yet keep the caller's order
        obj.update(base)
        obj["storeId"] = store_id
        obj["invoiceId"] = invoice_id
        obj["metadata"] = metadata if metadata is not None else {}
    else:
        # Payout and payment-request fields carry JsonProperty(Order >= 2): after storeId.
        obj.update(base)
        obj["storeId"] = store_id
        obj.update(extra)
    return dumps(obj)
