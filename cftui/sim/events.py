"""What the simulator tells listeners when an invoice changes (H6 turns these into webhooks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cftui.sim.jsontypes import JsonObject

# The invoice event types BTCPay sends (contract §5.4).
INVOICE_EVENT_TYPES = (
    "InvoiceCreated",
    "InvoiceReceivedPayment",
    "InvoicePaymentSettled",
    "InvoiceProcessing",
    "InvoiceSettled",
    "InvoiceInvalid",
    "InvoiceExpired",
    "InvoiceExpiredPaidPartial",
    "InvoicePaidAfterExpiration",
)


@dataclass(frozen=True)
class SimEvent:
    """One change. ``extra`` holds the per-event fields of the webhook payload
    (afterExpiration, paymentMethodId, payment, overPaid, manuallyMarked, partiallyPaid)."""

    store_id: str
    type: str
    invoice_id: str
    extra: JsonObject = field(default_factory=dict)
    timestamp: int = 0
    metadata: JsonObject = field(default_factory=dict)


Listener = Callable[[SimEvent], None]
