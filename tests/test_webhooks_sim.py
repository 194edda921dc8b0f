"""The simulator delivers webhooks with BTCPay's rules (contract §5.3), over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from aiohttp import web
from waiting import wait_for_async as wait_for

from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.errors import ValidationError
from cftui.btcpay.webhooks_api import create_webhook, delivery_request, list_deliveries, list_webhooks
from cftui.config import Secret
from cftui.sim import lifecycle
from cftui.sim.config import default_config
from cftui.sim.server import Simulator
from cftui.sim.webhook_sender import install, is_retryable
from cftui.webhooks import signing

FAST = (0.05, 0.05, 0.05)  # three retries, quickly


class Target:
    """A webhook endpoint answering a scripted list of statuses (then 200), recording what arrives."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((json.loads(body), body, request.headers.get("BTCPay-Sig", "")))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def __aenter__(self):
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


@pytest.fixture
async def sim():
    simulator = Simulator(default_config(invoices=20, now=1_760_000_000))
    simulator.sender = install(simulator, retry_delays=FAST)
    simulator.url = await simulator.start()
    yield simulator
    await simulator.stop()


def store_id(sim) -> str:
    return sim.config.stores[0].store_id


def new_invoice(sim):
    return lifecycle.create_invoice(sim.state, store_id(sim), amount_minor=2500)


def invoice_ids(bodies) -> list[str]:
    return [json.loads(body)["invoiceId"] for body in bodies]


async def then_a_marker(sim, sent: Callable[[], list[bytes]]) -> str:
    """Send one more event on the same webhook and wait until it is sent; returns its invoice id.

    A webhook's deliveries go one at a time, each with its retries, in order: once this later one is sent,
    nothing of the earlier ones is left to come (no need to sleep through a window)."""
    marker = new_invoice(sim)
    await wait_for(lambda: marker.id in invoice_ids(sent()), "the marker event's delivery")
    return marker.id


def test_retry_conditions_follow_btcpay_2_3_4():
    assert all(is_retryable(s) for s in (None, 500, 502, 503, 408, 429))
    assert not any(is_retryable(s) for s in (200, 301, 400, 401, 403, 404, 410, 422))


@pytest.mark.parametrize("status", [500, 503, 408, 429])
async def test_retryable_answers_are_redelivered_with_a_new_id(sim, status):
    async with Target([status, status]) as target:
        webhook = sim.sender.add_webhook(store_id(sim), target.url, secret="s3cret", events=["InvoiceCreated"])
        invoice = new_invoice(sim)
        await wait_for(lambda: len(target.received) == 3)
        marker = await then_a_marker(sim, lambda: [body for _, body, _ in target.received])
    # and nothing after the success
    assert invoice_ids(body for _, body, _ in target.received) == [invoice.id] * 3 + [marker]
    first, second, third = (r[0] for r in target.received[:3])
    assert first["deliveryId"] == first["originalDeliveryId"] and first["isRedelivery"] is False
    for retry in (second, third):
        assert retry["isRedelivery"] is True
        assert retry["originalDeliveryId"] == first["deliveryId"] != retry["deliveryId"]
        assert retry["timestamp"] == first["timestamp"] and retry["invoiceId"] == invoice.id
    for _, body, sig in target.received:
        assert signing.check("s3cret", body, sig) is None
    statuses = [d.status for d in sim.sender.deliveries[webhook.id]]
    assert statuses == ["HttpError", "HttpError", "HttpSuccess", "HttpSuccess"]  # the last one the marker's


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
async def test_other_4xx_and_3xx_are_not_retried(sim, status):
    async with Target([status]) as target:
        webhook = sim.sender.add_webhook(store_id(sim), target.url, secret="s", events=["InvoiceCreated"])
        invoice = new_invoice(sim)
        await wait_for(lambda: len(target.received) == 1)
        marker = await then_a_marker(sim, lambda: [body for _, body, _ in target.received])
    assert invoice_ids(body for _, body, _ in target.received) == [invoice.id, marker]
    delivery, _ = sim.sender.deliveries[webhook.id]
    assert (delivery.status, delivery.http_code) == ("HttpError", status)


async def test_network_errors_are_retried_then_given_up(sim, unused_tcp_port):
    webhook = sim.sender.add_webhook(store_id(sim), f"http://127.0.0.1:{unused_tcp_port}/hook", secret="s",
                                     events=["InvoiceCreated"])
    invoice = new_invoice(sim)
    await wait_for(lambda: len(sim.sender.deliveries[webhook.id]) == 1 + len(FAST))
    marker = await then_a_marker(sim, lambda: [d.body for d in sim.sender.deliveries[webhook.id]])
    deliveries = sim.sender.deliveries[webhook.id]
    # one attempt plus each retry, then it gives up (and goes on to the next event)
    assert invoice_ids(d.body for d in deliveries) == [invoice.id] * (1 + len(FAST)) + [marker]
    assert all(d.status == "Failed" and d.http_code is None and d.error_message for d in deliveries)


async def test_deliveries_are_sequential_per_webhook(sim):
    async with Target([503, 503]) as target:
        sim.sender.add_webhook(store_id(sim), target.url, secret="s")
        invoice = new_invoice(sim)
        lifecycle.expire(sim.state, invoice)  # a second event while the first is being retried
        await wait_for(lambda: len(target.received) == 4)
    types = [r[0]["type"] for r in target.received]
    assert types == ["InvoiceCreated", "InvoiceCreated", "InvoiceCreated", "InvoiceExpired"]


async def test_automatic_redelivery_off_sends_once(sim):
    async with Target([500]) as target:
        sim.sender.add_webhook(store_id(sim), target.url, secret="s", automatic_redelivery=False)
        invoice = new_invoice(sim)
        await wait_for(lambda: len(target.received) == 1)
        marker = await then_a_marker(sim, lambda: [body for _, body, _ in target.received])
    assert invoice_ids(body for _, body, _ in target.received) == [invoice.id, marker]


async def test_management_api(sim):
    key = Secret(sim.config.api_keys[0].key)
    async with Target([500]) as target, GreenfieldClient(sim.url, key, store_name="sim") as client:
        created = await create_webhook(client, store_id(sim), target.url, events=["InvoiceCreated"])
        assert created["secret"] and created["authorizedEvents"] == {
            "everything": False, "specificEvents": ["InvoiceCreated"]}
        listed = await list_webhooks(client, store_id(sim))
        assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
        with pytest.raises(ValidationError, match="Invalid Url"):
            await create_webhook(client, store_id(sim), "not a url")

        new_invoice(sim)
        await wait_for(lambda: len(target.received) == 2)  # a 500, then the retry
        deliveries = await list_deliveries(client, store_id(sim), created["id"])
        assert [d["status"] for d in deliveries] == ["HttpSuccess", "HttpError"]  # newest first
        assert deliveries[1]["httpCode"] == 500 and deliveries[0]["deliveryTime"] >= deliveries[0]["timestamp"]
        assert len(await list_deliveries(client, store_id(sim), created["id"], count=1)) == 1
        raw = await delivery_request(client, store_id(sim), created["id"], deliveries[1]["id"])
        assert raw == target.received[0][1]  # the exact bytes that were POSTed

        new_id = await client._request(
            "POST",
            f"/api/v1/stores/{store_id(sim)}/webhooks/{created['id']}/deliveries/{deliveries[1]['id']}/redeliver",
        )
        await wait_for(lambda: len(target.received) == 3)
        again = target.received[2][0]
        assert again["deliveryId"] == new_id and again["isRedelivery"] is True
        assert again["originalDeliveryId"] == target.received[0][0]["deliveryId"]
        assert signing.check(created["secret"], target.received[2][1], target.received[2][2]) is None


async def test_l7_the_demo_sender_now_and_then_loses_a_delivery_or_signs_it_with_a_stale_secret():
    simulator = Simulator(default_config(invoices=20, now=1_760_000_000))
    simulator.sender = install(simulator, retry_delays=FAST, mishaps=4)
    await simulator.start()
    try:
        async with Target() as target:
            webhook = simulator.sender.add_webhook(store_id(simulator), target.url, secret="s3cret",
                                                   events=["InvoiceCreated"])
            for _ in range(4):
                new_invoice(simulator)
            await wait_for(lambda: len(target.received) == 4)  # 5 attempts: one lost, then redelivered
        listed = simulator.sender.deliveries[webhook.id]
        arrived = {body["deliveryId"] for body, _, _ in target.received}
        lost = [d for d in listed if d.id not in arrived]
        assert [(d.status, d.error_message) for d in lost] == [("Failed", "connection reset by peer (simulated)")]
        redelivered = [body for body, _, _ in target.received if body["isRedelivery"]]
        assert [body["originalDeliveryId"] for body in redelivered] == [lost[0].id]
        badly_signed = [body for body, raw, sig in target.received if signing.check("s3cret", raw, sig) is not None]
        assert len(badly_signed) == 1 and not badly_signed[0]["isRedelivery"]
    finally:
        await simulator.stop()
