"""The Webhooks tab's "BTCPay view" (key b): BTCPay's own delivery list beside ours, against the simulator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import waiting
from conftest import settle, toast_texts, wait_for
from textual.widgets import DataTable, Static

from cftui.config import Config, from_dict
from cftui.sim import lifecycle
from cftui.sim.webhook_sender import install
from cftui.store.webhook_models import VERIFIED, WebhookDelivery
from cftui.ui.screens.btcpay_deliveries import NOT_RECEIVED, BtcpayDeliveriesScreen

NOBODY_LISTENS = "http://127.0.0.1:9/webhook/main"


@dataclass
class Scenario:
    config: Config
    sent: list[str]  # delivery ids, oldest first
    received: str  # the one we recorded
    api_key: str


@pytest.fixture
def scenario(store, start_sim):
    """BTCPay (the simulator) sent 3 events to a URL nobody answers, each tried twice; one reached us anyway."""
    senders = []  # one quick retry, then BTCPay gives up
    sim_thread = start_sim(invoices=5, now=1_760_000_000,
                           before_start=lambda sim: senders.append(install(sim, retry_delays=(0.01,))))
    [sender], url = senders, sim_thread.base_url
    sim_store = sim_thread.sim.config.stores[0]
    webhook = sim_thread.call(sender.add_webhook, sim_store.store_id, NOBODY_LISTENS)
    for _ in range(3):
        sim_thread.call(lifecycle.create_invoice, sim_thread.sim.state, sim_store.store_id, amount_minor=100)
    waiting.wait_for(lambda: len([d for d in sender.deliveries[webhook.id] if d.error_message]) >= 6,
                     "the simulator to try its deliveries")
    sent = [d.id for d in sender.deliveries[webhook.id]]
    # One did reach us after all (say, through a tunnel that came back): recorded and verified.
    WebhookDelivery.create(received_ms=1, remote="127.0.0.1", path="/webhook/main", store_name="main",
                           headers="{}", verdict=VERIFIED, http_status=200, delivery_id=sent[0])
    api_key = sim_thread.sim.config.api_keys[0].key
    config = from_dict({
        "btcpay": [
            {"name": "main", "url": url, "store_id": sim_store.store_id, "api_key": api_key,
             "webhook_id": webhook.id},
            {"name": "shop", "url": url, "store_id": "Fq2yTzW1", "api_key": "k"},  # no webhook registered
        ]
    })
    return Scenario(config, sent, sent[0], api_key)


async def open_btcpay_view(app, pilot) -> BtcpayDeliveriesScreen:
    # Each key once the one before is handled: under load "b" could otherwise reach the tab before it is shown.
    await settle(pilot)
    for key in ("4", "b"):
        await pilot.press(key)
        await settle(pilot)
    assert isinstance(app.screen, BtcpayDeliveriesScreen)
    return app.screen


async def test_the_view_marks_what_btcpay_sent_and_we_never_received(make_app, scenario):
    app = make_app(scenario.config)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_btcpay_view(app, pilot)
        table = screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[5]): table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == set(scenario.sent)
        assert str(rows[scenario.received][3]) == "verified"
        missed = [d for d in scenario.sent if d != scenario.received]
        assert all(str(rows[d][3]) == NOT_RECEIVED for d in missed)
        assert all(str(rows[d][2]).startswith("Failed") for d in missed)
        summary = str(screen.query_one("#btcpay-summary", Static).render())
        assert f"main: {len(missed)} of BTCPay's newest {len(scenario.sent)} deliveries never reached" in summary
        assert "shop" not in summary
        assert "shop: Store 'shop' has no webhook_id" in str(screen.query_one("#btcpay-problems", Static).render())
        assert screen.query_one("#btcpay-summary").has_class("-missed")
        assert scenario.api_key not in app.export_screenshot()
        await pilot.press("escape")
        assert not isinstance(app.screen, BtcpayDeliveriesScreen)


async def test_without_stores_the_key_explains_instead_of_opening_an_empty_screen(make_app, store):
    app = make_app(from_dict({}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("b")
        # The toast says the key was handled: only then is "no screen opened" a finding.
        await wait_for(pilot, lambda: any("No BTCPay store is configured" in text for text in toast_texts(app)),
                       "the toast explaining why")
        assert not isinstance(app.screen, BtcpayDeliveriesScreen)


def test_snapshot(snap_compare, make_app, scenario):
    """b on Webhooks: BTCPay's deliveries beside ours, the two never received marked ✗ in bold, the summary in
    red, why shop's list could not be read in the problems line."""

    async def run_before(pilot) -> None:
        await open_btcpay_view(pilot.app, pilot)

    assert snap_compare(make_app(scenario.config), terminal_size=(80, 24), run_before=run_before)
