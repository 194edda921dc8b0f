"""The Webhooks tab, driven through the real app on a real store."""

from __future__ import annotations

import pytest
from conftest import received, settle
from data import shown_text
from data_extra import DELIVERIES, add_delivery, fill_deliveries, sample_config
from textual.app import App, ComposeResult

from cftui.store.webhook_models import ACCEPTED_VERDICTS, VERIFIED
from cftui.store.webhook_queries import DeliveryLine
from cftui.ui.messages import DataChanged, Source
from cftui.ui.screens.delivery_detail import DeliveryDetailScreen
from cftui.ui.tabs.webhooks import WebhooksTab
from cftui.ui.widgets.delivery_log import DeliveryLog


@pytest.fixture
def deliveries(store) -> list[int]:
    return fill_deliveries()


async def open_tab(app, pilot) -> tuple[WebhooksTab, DeliveryLog]:
    await pilot.press("4")
    await settle(pilot)
    tab = app.tab("webhooks")
    return tab, tab.query_one(DeliveryLog)




def text_of(widget) -> str:
    return shown_text(widget, 110)


def shown_ids(log: DeliveryLog) -> list[int]:
    return [line.id for line in log.lines]


async def test_log_lists_every_delivery_newest_first(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        assert shown_ids(log) == sorted(deliveries, reverse=True)
        assert log.selected.event_type == "InvoiceProcessing"
        svg = app.export_screenshot()
        for label in ("verified", "bad signature", "malformed", "too large", "unknown store", "duplicate",
                      "rate limited"):
            assert label.replace(" ", "&#160;") in svg or label in svg
        assert app.focused is log


async def test_verdict_filter_cycles_rejected_then_each_verdict(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        await pilot.press("v")
        await settle(pilot)
        rejected = list(log.lines)
        assert len(rejected) == sum(1 for d in DELIVERIES if d[1] not in ACCEPTED_VERDICTS)
        assert all(line.verdict not in ACCEPTED_VERDICTS for line in rejected)
        await pilot.press("v")
        await settle(pilot)
        assert {line.verdict for line in log.lines} == {VERIFIED}
        assert log.line_count == sum(1 for d in DELIVERIES if d[1] == VERIFIED)
        assert "verdict: verified" in str(tab.query_one("#webhooks-filters").render())


async def test_type_filter_cycles_through_seen_event_types(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        assert tab.event_types == sorted({d[2] for d in DELIVERIES if d[2]})
        await pilot.press("t")
        await settle(pilot)
        assert tab.filters.event_type == "InvoiceCreated"
        assert [line.event_type for line in log.lines] == ["InvoiceCreated"]
        # Past the last type, the filter wraps back to all.
        for _ in tab.event_types:
            await pilot.press("t")
        await settle(pilot)
        assert tab.filters.event_type is None
        assert log.line_count == len(DELIVERIES)


async def test_tailing_puts_new_deliveries_on_top(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        new_id = add_delivery()
        app.broadcast(frozenset({Source.WEBHOOKS}))
        await settle(pilot)
        assert shown_ids(log)[0] == new_id
        assert log.cursor == 0


async def test_pause_counts_new_lines_in_a_badge_and_resume_shows_them(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        await pilot.press("down", "down")
        reading = log.selected.id
        await pilot.press("p")
        first, second = add_delivery(seconds_after=5), add_delivery(seconds_after=9)
        app.broadcast(frozenset({Source.WEBHOOKS}))
        await settle(pilot)
        badge = tab.query_one("#webhooks-badge")
        assert badge.display and str(badge.render()) == "2 new"
        assert shown_ids(log) == sorted(deliveries, reverse=True)  # nothing moved while paused
        assert log.selected.id == reading
        assert "PAUSED" in str(tab.query_one("#webhooks-mode").render())
        await pilot.press("space")
        await settle(pilot)
        assert shown_ids(log)[:2] == [second, first]
        assert log.cursor == 0
        assert not badge.display


async def test_enter_opens_the_delivery_and_escape_closes_it(make_app, deliveries):
    app = make_app(sample_config())
    async with app.run_test(size=(100, 40)) as pilot:
        tab, log = await open_tab(app, pilot)
        await pilot.press("down", "down", "down", "down", "down", "down")  # the redelivered duplicate
        assert log.selected.verdict == "duplicate"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeliveryDetailScreen)
        summary = text_of(app.screen.query_one("#delivery-summary"))
        assert "originalDeliveryId already processed" in summary
        assert "Redelivery" in summary and "yes" in summary
        assert "Dlv0003abcdefghijkmn" in summary  # the original delivery id
        headers = text_of(app.screen.query_one("#delivery-headers"))
        assert "BTCPay-Sig" in headers and "User-Agent" in headers
        body = str(app.screen.query_one("#delivery-body").render())
        assert '"originalDeliveryId": "Dlv0003abcdefghijkmn"' in body  # pretty-printed, 2-space JSON
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DeliveryDetailScreen)


async def test_empty_log_explains_how_to_point_btcpay_at_the_receiver(make_app, store):
    app = make_app(sample_config(webhooks={"port": 9911}))
    async with app.run_test(size=(100, 30)) as pilot:
        tab, log = await open_tab(app, pilot)
        empty = str(tab.query_one("#webhooks-empty").render())
        assert "http://127.0.0.1:9911/webhook/main" in empty
        assert "http://127.0.0.1:9911/webhook/shop" in empty
        assert "cftui webhook send" in empty
        assert "receiver is off" in empty
        assert not log.display


def line(n: int) -> DeliveryLine:
    return DeliveryLine(n, n * 1000, VERIFIED, "InvoiceSettled", "main", f"inv{n}", False)


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DeliveryLog(max_lines=5)


async def test_log_keeps_at_most_max_lines_dropping_the_oldest():
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(DeliveryLog)
        log.set_lines([line(n) for n in range(1, 4)])
        log.add_lines([line(n) for n in range(4, 9)])
        await pilot.pause()
        assert shown_ids(log) == [8, 7, 6, 5, 4]


async def test_a_moved_cursor_stays_on_its_delivery_when_new_ones_arrive():
    app = LogApp()
    async with app.run_test(size=(80, 10)) as pilot:
        log = app.query_one(DeliveryLog)
        log.set_lines([line(n) for n in range(1, 4)])
        await pilot.press("down")
        assert log.selected.id == 2
        log.add_lines([line(4)])
        assert log.selected.id == 2


async def test_data_changed_messages_coalesce_and_keep_every_source(make_app, deliveries):
    """A burst of DataChanged waiting in a tab's queue is handled once, and what each said changed is kept:
    {webhooks, invoices} then {invoices} must still reload the log."""
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        tab, log = await open_tab(app, pilot)
        before = len(received(app, DataChanged))
        new_id = add_delivery()
        tab.post_message(DataChanged(frozenset({Source.WEBHOOKS, Source.INVOICES})))
        tab.post_message(DataChanged(frozenset({Source.INVOICES})))
        await settle(pilot)
        handled = received(app, DataChanged)[before:]
        assert len(handled) == 1, "the two waiting messages became one"
        assert handled[0].sources == {Source.WEBHOOKS, Source.INVOICES}
        assert log.selected.id == new_id
