"""The receiver over real HTTP on loopback, with a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import pytest
from waiting import wait_for_async as wait_for
from webhook_helpers import CONTRACTS, SECRET, STORE_ID, make_config, signed, store_config

from cftui.store.models import PendingInvoice
from cftui.store.webhook_models import WebhookDelivery
from cftui.webhooks import envelope, signing
from cftui.webhooks.receiver import WebhookReceiver


@pytest.fixture
async def receiver(db):
    notices = []
    rx = WebhookReceiver(make_config(), on_delivery=notices.append)
    rx.notices = notices
    await rx.start()
    yield rx
    await rx.stop()


async def post(url, body, signature=None, *, headers=None, local_addr=None):
    connector = aiohttp.TCPConnector(local_addr=local_addr, force_close=True)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if signature is not None:
        sent["BTCPay-Sig"] = signature
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(url, data=body, headers=sent) as response:
            return response.status, await response.text()


def rows():
    return list(WebhookDelivery.select().order_by(WebhookDelivery.id))


async def raw_exchange(url: str, request: bytes, *, wait: float = 5) -> bytes:
    """Send raw bytes, then read until the server answers and closes (or ``wait`` passes)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


async def test_verified_delivery_is_recorded_before_the_200(receiver):
    body, sig = signed()
    status, text = await post(receiver.url + "/webhook/main", body, sig)
    assert (status, text) == (200, "ok")
    [row] = rows()  # committed by the time the answer arrived
    assert row.verdict == "verified" and row.http_status == 200
    assert bytes(row.body) == body and row.signature == sig
    assert (row.event_type, row.invoice_id, row.store_name) == ("InvoiceSettled", "INV1", "main")
    assert row.delivery_id == row.original_delivery_id == json.loads(body)["deliveryId"]
    assert receiver.notices[0].verdict == "verified"


async def test_header_name_in_any_case_and_the_single_store_url(receiver):
    body, sig = signed()
    assert (await post(receiver.url + "/webhook", body, headers={"btcpay-sig": sig}))[0] == 200
    body, sig = signed(invoice_id="INV2")
    assert (await post(receiver.url + "/webhook/main", body, headers={"BTCPAY-SIG": sig}))[0] == 200
    assert [r.verdict for r in rows()] == ["verified", "verified"]


async def test_a_body_shaped_like_the_openapi_payload_verifies(receiver):
    # Built from the x-webhooks InvoiceReceivedPayment schema's own field list, pretty-printed.
    spec = json.loads((CONTRACTS / "swagger.template.webhooks.json").read_text())
    assert "InvoiceReceivedPayment" in spec["x-webhooks"]
    payload = {
        "afterExpiration": False,
        "paymentMethodId": "BTC-LN",
        "payment": {"id": "ab" * 32, "receivedDate": 1_760_000_000, "value": "0.00001000", "fee": "0",
                    "status": "Settled", "destination": "lnbcrt10u1p..."},
        "deliveryId": "X8LwsmPdbXmUR2wYcnKbLs", "webhookId": "Hs3vYQ8trqjM1sTEBEpUy6",
        "originalDeliveryId": "X8LwsmPdbXmUR2wYcnKbLs", "isRedelivery": False,
        "type": "InvoiceReceivedPayment", "timestamp": 1_760_000_000,
        "storeId": STORE_ID, "invoiceId": "NiuZ3CvY8cqPjqQ6Ho4BDd", "metadata": {"orderId": "1234"},
    }
    body = json.dumps(payload, indent=2).encode()
    assert (await post(receiver.url + "/webhook/main", body, signing.sign(SECRET, body)))[0] == 200
    assert rows()[0].invoice_id == "NiuZ3CvY8cqPjqQ6Ho4BDd"


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda body, sig: (body.replace(b"false", b"true", 1), sig), "does not match"),  # tampered body
        (lambda body, sig: (body, signing.sign("not-the-secret", body)), "does not match"),  # wrong secret
        (lambda body, sig: (body, "sha256=" + sig[7:].upper()), "lowercase hex"),
        (lambda body, sig: (body, sig[7:]), "sha256="),  # no prefix
        (lambda body, sig: (body, ""), "missing"),  # empty header
        (lambda body, sig: (body, None), "missing"),
        (lambda body, sig: (body[: len(body) // 2], sig), "does not match"),  # truncated body
    ],
)
async def test_bad_signatures_are_401_and_recorded(receiver, mangle, reason):
    body, sig = mangle(*signed())
    status, text = await post(receiver.url + "/webhook/main", body, sig)
    assert status == 401 and reason in text
    [row] = rows()
    assert row.verdict == "bad_signature" and reason in row.reason and row.http_status == 401
    assert not row.processed


async def test_signed_but_not_an_envelope_is_400(receiver):
    for body in (b'{"deliveryId": "only"}', b"not json at all", b'{\n  "truncated": '):
        status, text = await post(receiver.url + "/webhook/main", body, signing.sign(SECRET, body))
        assert status == 400 and text.startswith("malformed")
    assert [r.verdict for r in rows()] == ["malformed"] * 3


async def test_store_id_must_match_the_store_of_the_url(receiver):
    body, sig = signed(store_id="SomeOtherStore")
    status, text = await post(receiver.url + "/webhook/main", body, sig)
    assert status == 400 and "SomeOtherStore" in text


async def test_unknown_store_path_and_method(receiver):
    body, sig = signed()
    assert (await post(receiver.url + "/webhook/nope", body, sig))[0] == 404
    assert (await post(receiver.url + "/elsewhere", body, sig))[0] == 404
    async with aiohttp.ClientSession() as session:
        async with session.get(receiver.url + "/webhook/main") as response:
            assert response.status == 405 and response.headers["Allow"] == "POST"
    assert [r.verdict for r in rows()] == ["unknown_store", "unknown_store", "malformed"]
    assert rows()[0].reason == "no store named 'nope'"


async def test_webhook_without_store_name_needs_exactly_one_store(db):
    config = make_config(store_config(name="a"), store_config(name="b"))
    rx = WebhookReceiver(config)
    url = await rx.start()
    try:
        body, sig = signed()
        status, text = await post(url + "/webhook", body, sig)
        assert status == 404 and "needs a store name" in text
        assert (await post(url + "/webhook/b", body, sig))[0] == 200
    finally:
        await rx.stop()


async def test_oversized_body_is_413_without_reading_it(receiver):
    limit = receiver.settings.max_body_bytes
    # Headers announce 50 MiB; no body byte is sent, yet the answer comes at once.
    head = (f"POST /webhook/main HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    started = time.monotonic()
    answer = await raw_exchange(receiver.url, head)
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - started < 1
    # A chunked body (no Content-Length) is cut off once it passes the limit.
    big = b"x" * (limit + 1)
    status, _ = await post(receiver.url + "/webhook/main", _chunks(big), signing.sign(SECRET, big))
    assert status == 413
    assert [r.verdict for r in rows()] == ["too_large", "too_large"]
    assert rows()[0].body_size == 50 * 1024 * 1024 and rows()[0].body is None
    assert len(rows()[1].body or b"") <= 4096  # rejected bodies are bounded


async def _chunks(data: bytes, size: int = 65536):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_stalled_client_is_cut_off_after_read_timeout(receiver):
    body, sig = signed()
    head = (f"POST /webhook/main HTTP/1.1\r\nHost: x\r\nBTCPay-Sig: {sig}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    started = time.monotonic()
    answer = await raw_exchange(receiver.url, head + body[:10])  # then nothing more
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408")
    assert receiver.settings.read_timeout <= elapsed < receiver.settings.read_timeout + 2
    [row] = rows()
    assert row.verdict == "malformed" and "stalled" in row.reason and bytes(row.body) == body[:10]


async def test_client_closing_mid_body_is_recorded(receiver):
    body, sig = signed()
    head = (f"POST /webhook/main HTTP/1.1\r\nHost: x\r\nBTCPay-Sig: {sig}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    host, port = receiver.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head + body[:20])
    await writer.drain()
    writer.close()
    await wait_for(rows, "the cut-off delivery's row")
    [row] = rows()
    assert row.verdict == "malformed" and "before the body was complete" in row.reason


async def test_same_delivery_on_20_connections_is_claimed_once(receiver):
    body, sig = signed()
    results = await asyncio.gather(*(post(receiver.url + "/webhook/main", body, sig) for _ in range(20)))
    assert [status for status, _ in results] == [200] * 20
    verdicts = [r.verdict for r in rows()]
    assert verdicts.count("verified") == 1 and verdicts.count("duplicate") == 19
    # the API is down: the one claim is queued, once
    await wait_for(lambda: any(r.processed for r in rows()), "the claimed delivery processed")
    assert [r.verdict for r in rows() if r.processed] == ["verified"]


async def test_while_the_api_is_down_an_invoice_is_queued_in_its_deliverys_own_commit(db):
    processed = []
    rx = WebhookReceiver(make_config(), on_processed=processed.append)
    await rx.start()
    try:
        url = rx.url + "/webhook/main"
        assert (await post(url, *signed(invoice_id="INV1")))[0] == 200  # fetch fails (port 9): the store is down
        await wait_for(lambda: PendingInvoice.select().count() == 1, "INV1 queued")
        body, sig = signed(invoice_id="INV2")
        assert (await post(url, body, sig))[0] == 200
        # Committed before the 200, in one write: the row already processed, the invoice already queued.
        second = rows()[-1]
        assert second.processed and second.process_result.startswith("queued for the next sync:")
        assert sorted(p.invoice_id for p in PendingInvoice.select()) == ["INV1", "INV2"]
        # The same delivery again is a duplicate: neither processed nor queued twice.
        assert (await post(url, body, sig)) == (200, "duplicate: already received")
        assert not rows()[-1].processed and PendingInvoice.select().count() == 2
        # Concurrent deliveries (some for the same invoice) share commits: each invoice queued once.
        burst = [signed(invoice_id=f"INV{3 + i % 10}", timestamp=1_760_000_100 + i) for i in range(20)]
        answers = await asyncio.gather(*(post(url, body, sig) for body, sig in burst))
        assert {status for status, _ in answers} == {200}
        assert all(r.processed for r in rows()[-20:]) and PendingInvoice.select().count() == 12
        await wait_for(lambda: any(n.invoice_id == "INV2" for n in processed), "INV2's notice")
        [notice] = [n for n in processed if n.invoice_id == "INV2"]
        assert notice.queued and notice.delivery_ids == (second.id,) and notice.result == second.process_result
        assert rx.health()["counts"]["invoices_queued"] >= 2
    finally:
        await rx.stop()


async def test_redelivery_is_recorded_and_marked_not_processed_again(receiver):
    body, sig = signed("PayoutCreated")
    first = json.loads(body)
    again = envelope.build("PayoutCreated", store_id=STORE_ID, webhook_id="WH1", timestamp=first["timestamp"],
                           original_delivery_id=first["deliveryId"])
    assert (await post(receiver.url + "/webhook/main", body, sig))[0] == 200
    assert (await post(receiver.url + "/webhook/main", again, signing.sign(SECRET, again)))[0] == 200
    original, redelivery = rows()
    assert (original.verdict, original.processed) == ("verified", True)
    assert (redelivery.verdict, redelivery.processed, redelivery.is_redelivery) == ("duplicate", False, True)
    assert redelivery.original_delivery_id == original.delivery_id != redelivery.delivery_id


async def test_unknown_event_type_is_200_and_logged(receiver, caplog):
    caplog.set_level(logging.INFO, logger="cftui.webhooks")
    body, sig = signed("SubscriberFutureThing")
    status, _ = await post(receiver.url + "/webhook/main", body, sig)
    assert status == 200
    [row] = rows()
    assert row.verdict == "verified" and row.processed and "unknown event type" in row.process_result
    assert "unknown event type SubscriberFutureThing" in caplog.text


async def test_health_reports_uptime_and_counts(receiver):
    body, sig = signed()
    await post(receiver.url + "/webhook/main", body, sig)
    await post(receiver.url + "/webhook/main", body, sig)
    await post(receiver.url + "/webhook/main", body, None)
    async with aiohttp.ClientSession() as session:
        async with session.get(receiver.url + "/health") as response:
            assert response.status == 200
            health = await response.json()
    assert health["status"] == "ok" and health["uptime_s"] >= 0 and health["stores"] == ["main"]
    counts = health["counts"]
    assert (counts["verified"], counts["duplicate"], counts["rejected"]) == (1, 1, 1)
    assert counts["rejected_by_verdict"] == {"bad_signature": 1}


async def test_flood_from_one_address_is_429_without_slowing_others(db):
    rx = WebhookReceiver(make_config(rate_limit=5))
    url = await rx.start()
    try:
        flood = [await post(url + "/webhook/main", b"{}", "sha256=" + "0" * 64, local_addr=("127.0.0.2", 0))
                 for _ in range(8)]
        assert [s for s, _ in flood] == [401] * 5 + [429] * 3
        started = time.monotonic()
        body, sig = signed()
        assert (await post(url + "/webhook/main", body, sig, local_addr=("127.0.0.1", 0)))[0] == 200
        assert time.monotonic() - started < 0.5
        # A valid signature is never refused, even from the limited address (review D9):
        # behind an SSH tunnel BTCPay shares 127.0.0.1 with everyone else.
        assert (await post(url + "/webhook/main", body, sig, local_addr=("127.0.0.2", 0))) == (
            200, "duplicate: already received")
        assert (await post(url + "/webhook/main", b"{}", "sha256=" + "0" * 64, local_addr=("127.0.0.2", 0)))[0] == 429
    finally:
        await rx.stop()
    assert [r.verdict for r in rows()].count("rate_limited") == 4


async def test_rejected_requests_are_capped_accepted_are_kept(db):
    rx = WebhookReceiver(make_config(rejected_retention=10, rate_limit=10_000))
    url = await rx.start()
    try:
        for i in range(3):
            body, sig = signed(invoice_id=f"INV{i}")
            await post(url + "/webhook/main", body, sig)
        for _ in range(100):
            await post(url + "/webhook/main", b"x" * 10_000, "sha256=" + "0" * 64)
    finally:
        await rx.stop()
    verdicts = [r.verdict for r in rows()]
    assert verdicts.count("verified") == 3 and verdicts.count("bad_signature") == 10
    assert max(len(r.body or b"") for r in rows() if r.verdict == "bad_signature") == 4096
    assert all(r.body_size == 10_000 for r in rows() if r.verdict == "bad_signature")


async def test_store_without_secret_rejects_with_a_clear_reason(db):
    rx = WebhookReceiver(make_config(store_config(secret=None)))
    url = await rx.start()
    try:
        body, sig = signed()
        status, text = await post(url + "/webhook/main", body, sig)
    finally:
        await rx.stop()
    assert status == 401 and "no webhook_secret" in text


async def test_port_in_use_is_one_clear_error(receiver):
    from cftui.errors import ConfigError

    port = int(receiver.url.rsplit(":", 1)[1])
    other = WebhookReceiver(make_config(), port=port)
    with pytest.raises(ConfigError, match="Cannot listen for webhooks"):
        await other.start()


async def test_binding_beyond_loopback_warns(db, caplog):
    caplog.set_level(logging.WARNING, logger="cftui.webhooks.receiver")
    rx = WebhookReceiver(make_config(), host="0.0.0.0")
    await rx.start()
    await rx.stop()
    assert "not a loopback address" in caplog.text
    caplog.clear()
    rx = WebhookReceiver(make_config())
    await rx.start()
    await rx.stop()
    assert "not a loopback address" not in caplog.text
