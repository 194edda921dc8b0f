"""Live mode and invoice lifecycles: state changes and the webhook events BTCPay would raise."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from waiting import wait_for_async

from cftui.money import btc_to_sats
from cftui.sim import LiveConfig, Simulator, default_config, lifecycle
from cftui.sim.events import INVOICE_EVENT_TYPES
from cftui.sim.generator import LIGHTNING, ONCHAIN

NOW = 1_780_000_000


@dataclasses.dataclass
class Running:
    sim: Simulator
    events: list
    url: str
    config: object

    @property
    def store_id(self) -> str:
        return self.config.stores[0].store_id

    async def served(self, invoice_id: str) -> dict:
        headers = {"Authorization": f"token {self.config.api_keys[0].key}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers) as client:
            response = await client.get(f"/api/v1/stores/{self.store_id}/invoices/{invoice_id}")
            return response.json()


async def start(config) -> Running:
    sim = Simulator(config)
    events: list = []
    sim.add_listener(events.append)
    return Running(sim, events, await sim.start(), config)


@pytest.fixture
async def running():
    run = await start(default_config(invoices=50, now=NOW))
    yield run
    await run.sim.stop()


async def test_lightning_payment_settles_at_once(running):
    state, events = running.sim.state, running.events
    invoice = lifecycle.create_invoice(state, running.store_id, amount_minor=2500, currency="EUR")
    lifecycle.receive_payment(state, invoice, LIGHTNING, invoice.due_sats)
    assert [e.type for e in events] == [
        "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing", "InvoicePaymentSettled", "InvoiceSettled",
    ]
    received = events[1].extra
    assert received["afterExpiration"] is False and received["paymentMethodId"] == LIGHTNING
    assert btc_to_sats(received["payment"]["value"]) == invoice.due_sats
    assert events[2].extra == {"overPaid": False}
    assert events[4].extra == {"manuallyMarked": False, "overPaid": False}
    assert all(e.invoice_id == invoice.id and e.store_id == running.store_id for e in events)
    served = await running.served(invoice.id)
    assert (served["status"], served["additionalStatus"], served["paidAmount"]) == ("Settled", "None", "25.00")


async def test_partial_then_expired_then_paid_late(running):
    state, events = running.sim.state, running.events
    invoice = lifecycle.create_invoice(state, running.store_id, amount_minor=10_000, currency="USD")
    first = invoice.due_sats // 2
    lifecycle.receive_payment(state, invoice, ONCHAIN, first)
    assert (await running.served(invoice.id))["additionalStatus"] == "PaidPartial"
    lifecycle.expire(state, invoice)
    lifecycle.receive_payment(state, invoice, ONCHAIN, invoice.due_sats - first)
    lifecycle.confirm(state, invoice)
    assert [e.type for e in events] == [
        "InvoiceCreated", "InvoiceReceivedPayment", "InvoiceExpired", "InvoiceExpiredPaidPartial",
        "InvoiceReceivedPayment", "InvoicePaidAfterExpiration", "InvoicePaymentSettled", "InvoicePaymentSettled",
    ]
    assert events[2].extra == {"partiallyPaid": True}
    assert events[4].extra["afterExpiration"] is True
    served = await running.served(invoice.id)
    assert (served["status"], served["additionalStatus"]) == ("Expired", "PaidLate")


async def test_overpaid_onchain_then_marked_and_generated_invoices_change_too(running):
    state, events = running.sim.state, running.events
    invoice = lifecycle.create_invoice(state, running.store_id, amount_minor=150_000, currency="JPY")
    lifecycle.receive_payment(state, invoice, ONCHAIN, invoice.due_sats + 5_000)
    assert events[-1].type == "InvoiceProcessing" and events[-1].extra == {"overPaid": True}
    lifecycle.confirm(state, invoice)
    assert events[-1].extra == {"manuallyMarked": False, "overPaid": True}
    served = await running.served(invoice.id)
    assert (served["status"], served["additionalStatus"]) == ("Settled", "PaidOver")
    # A generated invoice becomes an override when it changes; the list shows the change.
    gen = state.stores[running.store_id].gen
    generated = next(gen.invoice(i) for i in range(gen.count) if gen.invoice(i).status == "Expired")
    lifecycle.mark(state, generated, "Settled")
    assert events[-1].type == "InvoiceSettled" and events[-1].extra["manuallyMarked"] is True
    served = await running.served(generated.id)
    assert (served["status"], served["additionalStatus"]) == ("Settled", "Marked")
    assert gen.invoice(generated.index).status == "Expired"  # the generator itself is untouched


async def test_live_mode_produces_every_lifecycle_event():
    # A very compressed clock: 15 min expiry in 0.15 s.
    config = dataclasses.replace(
        default_config(invoices=100, stores=2, now=NOW), live=LiveConfig(interval=0.02, speedup=6000)
    )
    run = await start(config)
    sim, events, url = run.sim, run.events, run.url
    try:
        wanted = set(INVOICE_EVENT_TYPES)
        await wait_for_async(lambda: wanted <= {e.type for e in events},
                             lambda: f"every lifecycle event (missing: {wanted - {e.type for e in events}})")
        created = [e for e in events if e.type == "InvoiceCreated"]
        assert {e.store_id for e in created} == {s.store_id for s in config.stores}
        for event in events:
            if event.type in ("InvoiceReceivedPayment", "InvoicePaymentSettled"):
                assert set(event.extra) == {"afterExpiration", "paymentMethodId", "payment"}
                assert event.extra["paymentMethodId"] in (ONCHAIN, LIGHTNING)
                assert isinstance(event.extra["payment"]["receivedDate"], int)
            elif event.type == "InvoiceSettled":
                assert set(event.extra) == {"manuallyMarked", "overPaid"}
            elif event.type == "InvoiceExpired":
                assert set(event.extra) == {"partiallyPaid"}
        # Live invoices are served newest first, and their state matches the last event.
        newest = created[-1]
        store = config.stores[[s.store_id for s in config.stores].index(newest.store_id)]
        headers = {"Authorization": f"token {config.api_keys[0].key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            head = (await client.get(f"/api/v1/stores/{store.store_id}/invoices", params={"take": 1})).json()
        assert head[0]["id"] == newest.invoice_id
        settled = {e.invoice_id for e in events if e.type == "InvoiceSettled"}
        for invoice_id in list(settled)[:5]:
            for state_store in sim.state.stores.values():
                found = state_store.find(invoice_id)
                if found is not None:
                    assert found.status == "Settled"
    finally:
        await sim.stop()
