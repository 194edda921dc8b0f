"""A realistic delivery for any event type (what `cftui webhook send` sends).

The per-event fields get plausible values (a payment of 0.0001 BTC, not
overpaid, not marked manually); the envelope is complete and built exactly
as BTCPay builds it (:func:`cftui.webhooks.envelope.build`).
"""

from __future__ import annotations

import secrets
from typing import Any

from cftui.webhooks import envelope

_PAYMENT_EVENTS = ("InvoiceReceivedPayment", "InvoicePaymentSettled")


def sample_fields(event_type: str, *, timestamp: int) -> dict[str, Any]:
    if event_type in _PAYMENT_EVENTS:
        return {
            "afterExpiration": False,
            "paymentMethodId": "BTC-CHAIN",
            "payment": {
                "id": f"{secrets.token_hex(32)}-0",
                "receivedDate": timestamp,
                "value": "0.00010000",
                "fee": "0.00000000",
                "status": "Settled" if event_type == "InvoicePaymentSettled" else "Processing",
                "destination": "bcrt1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
            },
        }
    flags = {"manuallyMarked": False, "overPaid": False, "partiallyPaid": False, "pullPaymentId": None}
    return {name: flags[name] for name in envelope.INVOICE_EVENT_FIELDS.get(event_type, ()) if name in flags}


def sample_delivery(
    event_type: str,
    *,
    store_id: str,
    webhook_id: str,
    timestamp: int,
    invoice_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    is_invoice = event_type in envelope.INVOICE_EVENT_FIELDS
    return envelope.build(
        event_type,
        store_id=store_id,
        webhook_id=webhook_id,
        timestamp=timestamp,
        invoice_id=invoice_id if is_invoice else None,
        metadata=(metadata if metadata is not None else {"orderId": "cftui-test"}) if is_invoice else None,
        fields=sample_fields(event_type, timestamp=timestamp),
    )
