"""The envelope: built byte for byte like BTCPay's, parsed strictly (contract §5.4)."""

from __future__ import annotations

import json

import pytest
from webhook_helpers import CONTRACTS, STORE_ID

from cftui.webhooks import envelope
from cftui.webhooks.sample import sample_delivery


def _schemas() -> dict:
    schemas: dict = {}
    for name in ("swagger.template.json", "swagger.template.invoices.json", "swagger.template.webhooks.json"):
        path = CONTRACTS / name
        assert path.exists(), f"upstream file missing: {path} (see tests/data/btcpay/SOURCE.txt)"
        schemas.update(json.loads(path.read_text())["components"]["schemas"])
    return schemas


def _properties(schema: dict, schemas: dict) -> dict:
    """Every property a schema allows, following $ref and allOf across the fragment files."""
    if "$ref" in schema:
        return _properties(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    found = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found.update(_properties(part, schemas))
    return found


def test_indented_exactly_like_newtonsoft():
    body = envelope.build("InvoiceSettled", store_id="S", webhook_id="W", timestamp=1, delivery_id="D",
                          invoice_id="I", metadata={"orderId": "o-1", "tags": ["a"], "empty": {}},
                          fields={"overPaid": True, "manuallyMarked": False})
    assert body == json.dumps(json.loads(body), indent=2).encode()
    assert body.startswith(b'{\n  "manuallyMarked": false,\n  "overPaid": true,\n  "deliveryId": "D",')
    assert list(json.loads(body)) == [
        "manuallyMarked", "overPaid", "deliveryId", "webhookId", "originalDeliveryId", "isRedelivery",
        "type", "timestamp", "storeId", "invoiceId", "metadata",
    ]
    assert b"\r" not in body and not body.endswith(b"\n")


def test_utf8_unescaped_but_line_separators_escaped_as_newtonsoft_does():
    body = envelope.build("InvoiceCreated", store_id="S", webhook_id="W", timestamp=1, invoice_id="I",
                          metadata={"itemDesc": "Café ☕ \u2028 end"})
    assert "Café ☕".encode() in body
    assert b"\\u2028" in body
    assert json.loads(body)["metadata"]["itemDesc"] == "Café ☕ \u2028 end"


def test_first_delivery_and_redelivery_ids():
    first = json.loads(envelope.build("InvoiceCreated", store_id="S", webhook_id="W", timestamp=5, invoice_id="I"))
    assert first["originalDeliveryId"] == first["deliveryId"] and first["isRedelivery"] is False
    assert 16 <= len(first["deliveryId"]) <= 25
    again = json.loads(envelope.build("InvoiceCreated", store_id="S", webhook_id="W", timestamp=5, invoice_id="I",
                                      original_delivery_id=first["deliveryId"]))
    assert again["deliveryId"] != first["deliveryId"]
    assert again["originalDeliveryId"] == first["deliveryId"] and again["isRedelivery"] is True
    assert again["timestamp"] == 5


@pytest.mark.parametrize("event_type", sorted(set(envelope.INVOICE_EVENT_FIELDS) & {
    "InvoiceCreated", "InvoiceExpired", "InvoiceReceivedPayment", "InvoicePaymentSettled",
    "InvoiceProcessing", "InvoiceInvalid", "InvoiceSettled"}))
def test_sample_bodies_carry_exactly_the_fields_of_the_openapi_payload(event_type):
    spec = json.loads((CONTRACTS / "swagger.template.webhooks.json").read_text())
    schemas = _schemas()
    payload = spec["x-webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]
    allowed = _properties(payload, schemas)
    body = json.loads(sample_delivery(event_type, store_id=STORE_ID, webhook_id="W", timestamp=7, invoice_id="I"))
    assert set(body) == set(allowed)
    for name, prop in allowed.items():
        if prop.get("type") == "boolean":
            assert isinstance(body[name], bool), name
    if "payment" in body:
        assert set(body["payment"]) == set(_properties(schemas["Payment"], schemas))
        assert isinstance(body["payment"]["value"], str)  # amounts are strings


def test_parse_reads_every_envelope_field():
    body = sample_delivery("InvoiceSettled", store_id=STORE_ID, webhook_id="W", timestamp=9, invoice_id="INV")
    event = envelope.parse(body)
    assert (event.type, event.store_id, event.invoice_id, event.timestamp) == ("InvoiceSettled", STORE_ID, "INV", 9)
    assert event.original_delivery_id == event.delivery_id and not event.is_redelivery
    assert event.is_invoice_event and event.is_known


def test_parse_accepts_the_old_misspelt_original_delivery_id():
    data = json.loads(envelope.build("PayoutCreated", store_id="S", webhook_id="W", timestamp=1))
    data["orignalDeliveryId"] = data.pop("originalDeliveryId")
    assert envelope.parse(json.dumps(data).encode()).original_delivery_id == data["deliveryId"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b'{"deliveryId": ', "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"deliveryId": "d"}', "missing: webhookId, originalDeliveryId, isRedelivery, type, timestamp"),
        (b'{"deliveryId": "d", "webhookId": "w", "originalDeliveryId": "d", "isRedelivery": "no",'
         b' "type": "X", "timestamp": 1}', "isRedelivery"),
        (b'{"deliveryId": "d", "webhookId": "w", "originalDeliveryId": "d", "isRedelivery": false,'
         b' "type": "X", "timestamp": 1.5}', "timestamp"),
        (b'{"deliveryId": "", "webhookId": "w", "originalDeliveryId": "d", "isRedelivery": false,'
         b' "type": "X", "timestamp": 1}', "deliveryId"),
        (b'{"deliveryId": "d", "webhookId": "w", "originalDeliveryId": "d", "isRedelivery": false,'
         b' "type": "InvoiceSettled", "timestamp": 1, "storeId": "s"}', "invoiceId"),
    ],
)
def test_parse_refuses_what_is_not_an_envelope(body, reason):
    with pytest.raises(envelope.EnvelopeError, match=reason):
        envelope.parse(body)


def _upstream_event_types() -> dict[str, str]:
    """Event type -> the upstream file:line that defines it (tests/data/btcpay/webhook-event-types.txt)."""
    lines = (CONTRACTS / "webhook-event-types.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def test_every_event_type_btcpay_defines_is_known():
    upstream = _upstream_event_types()
    assert "CreditRefunded" in upstream and len(upstream) == 32
    known = set(envelope.INVOICE_EVENT_FIELDS) | envelope.OTHER_EVENT_TYPES
    assert {name: where for name, where in upstream.items() if name not in known} == {}
    body = envelope.build("CreditRefunded", store_id=STORE_ID, webhook_id="W", timestamp=3)
    event = envelope.parse(body)
    assert event.is_known and not event.is_invoice_event
