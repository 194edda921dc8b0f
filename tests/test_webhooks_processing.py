"""End to end: the simulator's BTCPay sends signed webhooks, the receiver fetches and stores the invoice."""

from __future__ import annotations

import time

import pytest
from waiting import wait_for_async as wait_for
from webhook_helpers import SECRET, make_config, store_config

from cftui.sim import lifecycle
from cftui.sim.config import default_config
from cftui.sim.server import Simulator
from cftui.sim.webhook_sender import attach
from cftui.store.models import Invoice, InvoicePaymentMethod, Payment, PendingInvoice
from cftui.store.webhook_models import WebhookDelivery
from cftui.sync.service import run_sync_async
from cftui.webhooks.receiver import WebhookReceiver, webhook_url


@pytest.fixture
async def sim():
    simulator = Simulator(default_config(invoices=30, now=1_760_000_000))
    yield simulator
    if hasattr(simulator, "sender"):
        await simulator.sender.close()  # attached after start: the sender is closed by hand
    await simulator.stop()


def config_for(sim):
    store = sim.config.stores[0]
    return make_config(store_config(url=sim.url, store_id=store.store_id, api_key=sim.config.api_keys[0].key))


async def start_pair(sim, *, on_processed=None):
    """The simulator (a BTCPay), our receiver, and one webhook from the first to the second."""
    sim.url = await sim.start()
    receiver = WebhookReceiver(config_for(sim), on_processed=on_processed)
    url = await receiver.start()
    store_id = sim.config.stores[0].store_id
    sim.sender = attach(sim, {store_id: webhook_url(url, "main")}, {store_id: SECRET}, demo=True)
    return receiver


async def test_invoice_events_are_fetched_and_stored_within_a_second(db, sim):
    processed = []
    receiver = await start_pair(sim, on_processed=processed.append)
    try:
        store_id = sim.config.stores[0].store_id
        emitted: list[str] = []
        sim.add_listener(lambda event: emitted.append(event.type))
        invoice = lifecycle.create_invoice(sim.state, store_id, amount_minor=12_345)
        due = invoice.due_sats
        lifecycle.receive_payment(sim.state, invoice, "BTC-LN", due)  # Lightning settles at once
        started = time.monotonic()
        await wait_for(lambda: Invoice.get_or_none(Invoice.invoice_id == invoice.id, Invoice.status == "Settled"))
        assert time.monotonic() - started < 1.5
        stored = Invoice.get(Invoice.invoice_id == invoice.id)
        assert (stored.amount, stored.currency, stored.btc_paid_sats) == ("123.45", "USD", due)
        assert emitted[0] == "InvoiceCreated" and emitted[-1] == "InvoiceSettled"
        await wait_for(lambda: WebhookDelivery.select().count() == len(emitted))
        types = [d.event_type for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]
        assert types == emitted  # every event, in order
        assert {d.verdict for d in WebhookDelivery.select()} == {"verified"}
        await wait_for(lambda: WebhookDelivery.select().where(~WebhookDelivery.processed).count() == 0)
        assert any("Settled, stored" in n.result for n in processed)
    finally:
        await receiver.stop()


async def test_a_lightning_address_payment_in_msat_at_a_long_rate_is_stored(db, sim):
    """B1, B2 on the webhook path: the invoice a Lightning address pays (a top-up: any msat) at an
    inverse-pair rate is fetched and stored with its exact text, not refused."""
    processed = []
    receiver = await start_pair(sim, on_processed=processed.append)
    try:
        store_id = sim.config.stores[0].store_id
        invoice = lifecycle.create_invoice(sim.state, store_id, amount_minor=0, currency="EUR", invoice_type="TopUp")
        lifecycle.receive_payment(sim.state, invoice, "BTC-LN", 15_385, extra_msat=123)
        await wait_for(lambda: Invoice.get_or_none(Invoice.invoice_id == invoice.id, Invoice.status == "Settled"))
        await wait_for(lambda: WebhookDelivery.select().where(~WebhookDelivery.processed).count() == 0)
        assert all("stored" in n.result and "not stored" not in n.result for n in processed), processed
        stored = Invoice.get(Invoice.invoice_id == invoice.id)
        [payment] = Payment.select().where(Payment.invoice == stored)
        assert (payment.value, payment.value_msat) == ("0.00015385123", 15_385_123)
        [rate] = {m.rate for m in InvoicePaymentMethod.select().where(InvoicePaymentMethod.invoice == stored)}
        assert rate == invoice.rate and len(rate.replace(".", "").lstrip("0")) == 28
        assert stored.btc_paid_sats == 15_386  # paymentMethodPaid, rounded up to whole sats upstream
    finally:
        await receiver.stop()


async def test_api_down_queues_the_invoice_and_the_next_sync_fetches_it(db, sim):
    receiver = await start_pair(sim)
    try:
        sim.faults.update({"error_next": 10_000, "error_status": 503, "path_prefix": "/api/v1/stores/"})
        store_id = sim.config.stores[0].store_id
        invoice = lifecycle.create_invoice(sim.state, store_id, amount_minor=500)
        await wait_for(lambda: PendingInvoice.select().count() == 1)
        [row] = WebhookDelivery.select()
        assert row.verdict == "verified" and row.processed and row.process_result.startswith("queued")
        assert Invoice.get_or_none(Invoice.invoice_id == invoice.id) is None
    finally:
        await receiver.stop()
    sim.faults.update({"reset": True})
    result = await run_sync_async("btcpay:main", config_for(sim))
    assert result.ok, result.error
    assert Invoice.get(Invoice.invoice_id == invoice.id).status == "New"
    assert PendingInvoice.select().count() == 0


async def test_accepted_but_unprocessed_deliveries_resume_on_start(db, sim):
    receiver = await start_pair(sim)
    store_id = sim.config.stores[0].store_id
    await receiver.processor.stop()  # as if the process died right after answering 200
    invoice = lifecycle.create_invoice(sim.state, store_id, amount_minor=700)
    await wait_for(lambda: WebhookDelivery.select().count() == 1)
    await receiver.stop()
    assert not WebhookDelivery.get().processed

    again = WebhookReceiver(config_for(sim))
    await again.start()
    try:
        await wait_for(lambda: Invoice.get_or_none(Invoice.invoice_id == invoice.id) is not None)
        await wait_for(lambda: WebhookDelivery.get().processed)
    finally:
        await again.stop()
