"""One invoice read two ways: the sync's re-check and a webhook ask BTCPay the same questions.

Both go through :func:`cftui.btcpay.fetch.fetch_invoice_record`; here the
simulator logs what it serves, so the test sees the requests themselves: one
``GET`` with ``includePaymentMethods`` from BTCPay 2.4.1 (contract §2.2, §8),
the invoice and then its ``payment-methods`` before that.
"""

from __future__ import annotations

import pytest
from aiohttp import web
from waiting import wait_for_async as wait_for
from webhook_helpers import SECRET, make_config, store_config

from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.fetch import NOT_FOUND, fetch_invoice_record
from cftui.btcpay.parse import RecordError
from cftui.config import Secret, SyncConfig
from cftui.sim import lifecycle
from cftui.sim.config import default_config
from cftui.sim.server import Simulator
from cftui.sim.webhook_sender import attach
from cftui.store.db import open_database
from cftui.store.models import Invoice
from cftui.store.writer import ensure_store, queue_invoice
from cftui.sync.engine import sync_store
from cftui.webhooks.receiver import WebhookReceiver, webhook_url


class Served:
    """The simulator's requests, as (method, path, query string), in the order it served them."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        self.requests.append((request.method, request.path, request.query_string))
        return await handler(request)

    def about(self, invoice_id: str) -> list[tuple[str, str, str]]:
        """The requests for one invoice, its id written as ``{invoiceId}``."""
        return [
            (method, path.replace(invoice_id, "{invoiceId}"), query)
            for method, path, query in self.requests
            if f"/invoices/{invoice_id}" in path
        ]


async def started_sim(version: str) -> tuple[Simulator, Served]:
    sim = Simulator(default_config(invoices=5, now=1_760_000_000, version=version))
    served = Served()
    sim.app.middlewares.append(served.middleware)
    sim.url = await sim.start()
    return sim, served


def store_of(sim: Simulator):
    return store_config(url=sim.url, store_id=sim.config.stores[0].store_id, api_key=sim.config.api_keys[0].key)


async def requests_of_a_recheck(version: str, path) -> list[tuple[str, str, str]]:
    """What the sync's re-check asks to read one invoice a webhook queued."""
    sim, served = await started_sim(version)
    database = open_database(path)
    try:
        store = store_of(sim)
        assert (await sync_store(store, SyncConfig(page_size=50))).ok
        invoice = lifecycle.create_invoice(sim.state, store.store_id, amount_minor=2_500)
        queue_invoice(ensure_store(store), invoice.id, "webhook arrived, fetch failed: test")
        result = await sync_store(store, SyncConfig(page_size=50))
        assert result.ok, result.error
        assert Invoice.get(Invoice.invoice_id == invoice.id).amount == "25.00"
        return served.about(invoice.id)
    finally:
        database.close()
        await sim.stop()


async def requests_of_a_webhook(version: str, path) -> list[tuple[str, str, str]]:
    """What the webhook processor asks to read the invoice of one InvoiceCreated event."""
    sim, served = await started_sim(version)
    database = open_database(path)
    processed = []
    receiver = WebhookReceiver(make_config(store_of(sim)), on_processed=processed.append)
    sender = None
    try:
        url = await receiver.start()
        store_id = sim.config.stores[0].store_id
        sender = attach(sim, {store_id: webhook_url(url, "main")}, {store_id: SECRET}, demo=True)
        invoice = lifecycle.create_invoice(sim.state, store_id, amount_minor=2_500)
        await wait_for(lambda: processed)
        [notice] = processed
        assert notice.invoice_id == invoice.id and ", stored (new)" in notice.result, notice
        return served.about(invoice.id)
    finally:
        await receiver.stop()
        if sender is not None:
            await sender.close()
        database.close()
        await sim.stop()


INVOICE = "/api/v1/stores/{storeId}/invoices/{invoiceId}"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.4.1", [("GET", INVOICE, "includePaymentMethods=true")]),
        ("2.4.0", [("GET", INVOICE, ""), ("GET", INVOICE + "/payment-methods", "")]),
    ],
)
async def test_recheck_and_webhook_read_an_invoice_with_the_same_requests(new_store_target, version, expected):
    store_id = default_config(invoices=5).stores[0].store_id
    expected = [(method, path.replace("{storeId}", store_id), query) for method, path, query in expected]
    assert await requests_of_a_recheck(version, new_store_target("recheck")) == expected
    assert await requests_of_a_webhook(version, new_store_target("webhook")) == expected


async def test_payment_methods_gone_between_the_two_requests_is_a_record_to_read_again():
    """Before 2.4.1 the methods are a second request; an invoice deleted in between is a skipped
    record (the sync keeps it on the retry list), not a vanished one."""

    async def invoice(request: web.Request) -> web.Response:
        return web.json_response({"id": "i1"})

    async def methods(request: web.Request) -> web.Response:
        return web.json_response({"code": "invoice-not-found", "message": "Invoice not found"}, status=404)

    app = web.Application()
    app.router.add_get("/api/v1/stores/S1/invoices/i1", invoice)
    app.router.add_get("/api/v1/stores/S1/invoices/i1/payment-methods", methods)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with GreenfieldClient(url, Secret("k"), store_name="main") as client:
            with pytest.raises(RecordError) as caught:
                await fetch_invoice_record(client, (2, 4, 0), "S1", "i1")
    finally:
        await runner.cleanup()
    assert (caught.value.reason, caught.value.invoice_id) == (NOT_FOUND, "i1")
