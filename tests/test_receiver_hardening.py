"""The receiver against hostile requests, in process over real HTTP (review D2, D4, D9, D12).

The same attacks run against a real `cftui listen` subprocess in
tests/test_receiver_attacks.py; these pin each behaviour down on its own.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from test_webhooks_receiver import post, raw_exchange, rows
from waiting import wait_for_async
from webhook_helpers import make_config, signed

from cftui.store.webhook_models import WebhookDelivery
from cftui.webhooks.receiver import WebhookReceiver

DEEP = b"[" * 5000 + b"]" * 5000
BAD_SIG = "sha256=" + "0" * 64


async def started(**settings) -> WebhookReceiver:
    notices: list = []
    rx = WebhookReceiver(make_config(**settings), on_delivery=notices.append)
    rx.notices = notices
    await rx.start()
    return rx


# ---------------------------------------------------------------- D4: nesting


async def test_deeply_nested_json_is_a_clear_answer_recorded_and_rate_limited(db, capfd):
    from webhook_helpers import SECRET

    from cftui.webhooks import signing

    rx = await started(rate_limit=5)
    try:
        url = rx.url + "/webhook/main"
        # Signed: the signature holds, the body is refused as what it is.
        status, text = await post(url, DEEP, signing.sign(SECRET, DEEP))
        assert status == 400 and "nested too deeply" in text
        # Unsigned: 401 like any bad signature; the describe step must not crash on it.
        answers = [(await post(url, DEEP, BAD_SIG, local_addr=("127.0.0.3", 0)))[0] for _ in range(8)]
        assert answers == [401] * 5 + [429] * 3
    finally:
        await rx.stop()
    recorded = [(r.verdict, r.http_status) for r in rows()]
    assert recorded[0] == ("malformed", 400)
    assert recorded[1:] == [("bad_signature", 401)] * 5 + [("rate_limited", 429)] * 3
    assert len(rx.notices) == 9
    assert "Traceback" not in capfd.readouterr().err


def test_envelope_parse_turns_recursion_into_an_envelope_error():
    from cftui.webhooks import envelope

    with pytest.raises(envelope.EnvelopeError, match="nested too deeply"):
        envelope.parse(b'{"a":' * 3000 + b"1" + b"}" * 3000)


# ---------------------------------------------------------------- D9: the limit never refuses a verified delivery


async def test_a_verified_delivery_from_a_limited_address_is_accepted(db):
    rx = await started(rate_limit=5)
    try:
        url = rx.url + "/webhook/main"
        # Through `ssh -R` everything arrives from 127.0.0.1, BTCPay and anyone else alike.
        flood = [(await post(url, b"{}", BAD_SIG))[0] for _ in range(8)]
        assert flood == [401] * 5 + [429] * 3
        for i in range(3):
            body, sig = signed(invoice_id=f"INV{i}")
            assert (await post(url, body, sig))[0] == 200
        # Still limited for everything that does not verify.
        assert (await post(url, b"{}", BAD_SIG))[0] == 429
        assert (await post(rx.url + "/webhook/nosuch", b"{}", BAD_SIG))[0] == 429
    finally:
        await rx.stop()
    verdicts = [r.verdict for r in rows()]
    assert verdicts.count("verified") == 3 and verdicts.count("rate_limited") == 5


# ---------------------------------------------------------------- D12: malformed HTTP


MALFORMED_REQUESTS = {
    "invalid method": b"G\x01T /webhook/main HTTP/1.1\r\nHost: x\r\n\r\n",
    "long request line": b"POST /webhook/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "raw UTF-8 path": "POST /webhook/caf\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "long header": b"POST /webhook/main HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 60_000 + b"\r\n\r\n",
}


async def test_malformed_http_is_one_short_line_counted_and_limited(db, capfd, caplog):
    rx = await started(rate_limit=6)
    try:
        for name, request in MALFORMED_REQUESTS.items():
            answer = await raw_exchange(rx.url, request)
            assert answer.split(b" ", 2)[1] == b"400", (name, answer[:200])
        answers = [await raw_exchange(rx.url, MALFORMED_REQUESTS["invalid method"]) for _ in range(4)]
        assert [a.split(b" ", 2)[1] for a in answers] == [b"400", b"400", b"429", b"429"]
    finally:
        await rx.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error handling request" not in err
    assert rx.counts["malformed"] == 6 and rx.counts["rate_limited"] == 2
    assert [n.http_status for n in rx.notices] == [400] * 6 + [429] * 2
    assert all(n.reason.startswith("malformed HTTP request") for n in rx.notices[:6])
    assert all("\x01" not in (n.reason or "") for n in rx.notices)
    assert not [r for r in caplog.records if r.exc_info]


# ---------------------------------------------------------------- D2: slow and idle connections


async def _is_closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), within) is not None
    except TimeoutError:
        return False


async def test_idle_and_slow_header_connections_are_cut_after_read_timeout(db):
    rx = await started(read_timeout=1)
    host, port = rx.url.removeprefix("http://").split(":")
    try:
        idle = await asyncio.open_connection(host, int(port))
        dripping = await asyncio.open_connection(host, int(port))
        dripping[1].write(b"POST /webhook/main HTTP/1.1\r\n")
        started_at = time.monotonic()
        for _ in range(4):  # a header line every 0.4 s: never a complete request (the attacker's own pace)
            await asyncio.sleep(0.4)
            if dripping[0].at_eof():
                break
            dripping[1].write(b"X-Drip: 1\r\n")
        assert await _is_closed_by_server(dripping[0], 3)
        assert await _is_closed_by_server(idle[0], 3)
        assert time.monotonic() - started_at < 3.5
    finally:
        await rx.stop()


async def test_connections_over_the_per_address_cap_evict_the_oldest_idle_one(db, monkeypatch):
    from cftui.webhooks import connections

    monkeypatch.setattr(connections, "PER_ADDRESS", 20)
    rx = await started(read_timeout=30)
    host, port = rx.url.removeprefix("http://").split(":")
    try:
        idle = [await asyncio.open_connection(host, int(port)) for _ in range(40)]
        await wait_for_async(lambda: rx.health()["connections"]["closed_to_make_room"] >= 20, "room made")
        closed = [i for i, (reader, _) in enumerate(idle) if await _is_closed_by_server(reader, 0.05)]
        assert closed == list(range(20))  # the oldest ones made room
        body, sig = signed()
        status, _ = await post(rx.url + "/webhook/main", body, sig)
        assert status == 200
        for _, writer in idle:
            writer.close()
    finally:
        await rx.stop()
    assert [r.verdict for r in WebhookDelivery.select()] == ["verified"]


# ---------------------------------------------------------------- D1: what listen and daemon print


def test_listen_lines_escape_every_field_a_request_chose():
    from cftui.cli.webhooks import format_delivery, format_processed
    from cftui.webhooks.notices import DeliveryNotice, ProcessedNotice

    notice = DeliveryNotice(
        id=1, received_ms=1_760_000_000_000, remote="127.0.0.1",
        path="/webhook/\x1b[2J\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE", store_name=None,
        verdict="bad_signature", reason="no signature\x07", http_status=401,
        event_type="Invoice\x1b]0;OWNED\x07Settled", delivery_id="d\x1b]52;c;cHduZWQ=\x07",
        original_delivery_id="o\x9b2J", is_redelivery=True, invoice_id="i\r\x1b[1A",
    )
    line = format_delivery(notice)
    processed = format_processed(ProcessedNotice((1,), "main", "i\x1b[2J", "Settled\x1b[2J, stored", False))
    for text in (line, processed):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), text
    assert "Invoice\\x1b]0;OWNED\\x07Settled" in line and "\\n2026-12-05" in line and "o\\x9b2J" in line


async def test_a_keep_alive_connection_between_requests_is_not_cut_at_the_header_deadline(db):
    """Idle between requests is the keep-alive's business (15 s), not the header deadline's (read_timeout)."""
    import aiohttp

    rx = await started(read_timeout=1)
    try:
        async with aiohttp.ClientSession() as session:  # one pooled keep-alive connection
            for path in ("/health", "/webhook/main", "/health"):
                body, sig = signed(invoice_id=f"K{path}")
                method = session.get if path == "/health" else session.post
                kwargs = {} if path == "/health" else {"data": body, "headers": {"BTCPay-Sig": sig}}
                async with method(rx.url + path, **kwargs) as response:
                    assert response.status == 200
                # Idle past read_timeout: the time itself is what this checks, so here a sleep it is.
                await asyncio.sleep(1.6)
            health = rx.health()["connections"]
    finally:
        await rx.stop()
    assert health["cut_at_header_deadline"] == 0 and health["open"] == 1
