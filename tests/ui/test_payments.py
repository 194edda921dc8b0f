"""The Payments tab: the contributions feed, live, and the notice when a contribution settles."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import data
import pytest
from conftest import received, settle, toasts
from data import NOW

from cftui.store import writer
from cftui.store.models import Payment
from cftui.store.payment_queries import recent_payments
from cftui.ui.formatting import NBSP
from cftui.ui.messages import Source
from cftui.ui.screens.invoice_detail import InvoiceDetailScreen
from cftui.ui.tabs.payments import PaymentsLoaded, PaymentsTab
from cftui.ui.widgets.list_table import PagedTable


@pytest.fixture
def feed(filled):
    data.fill_campaigns()
    return filled


def tab(app) -> PaymentsTab:
    return app.tab("payments")


def shown(app) -> list[int]:
    table = tab(app).query_one(PagedTable)
    return [int(key.value) for key in table.rows]


def announced(app) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in toasts(app)]


async def open_tab(app, pilot) -> None:
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)


def settle_payment(invoice_id: str) -> None:
    """What a sync writes when a confirming Lightning contribution settles."""
    cfg = data.store_config("main")
    record = next(r for r in [data._campaign_invoice(cfg, 2, data.APP_ID, "Settled", "1000.00", "USD", NOW - 900,
                                                     "sponsor")] if r.invoice_id == invoice_id)  # fmt: skip
    writer.upsert_invoices(writer.ensure_store(cfg), [record], synced_time=NOW)


async def test_the_feed_lists_payments_newest_first_with_value_campaign_and_method(make_app, feed):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        expected = recent_payments(limit=200).rows
        assert shown(app) == [row.pk for row in expected]
        times = [row.received_time for row in expected]
        assert times == sorted(times, reverse=True)
        table = tab(app).query_one(PagedTable)
        first = [str(cell) for cell in table.get_row_at(0)]
        assert first[0] == "2026-05-28 20:15" and first[1] == "0.01921220 BTC" and first[2] == f"1,921.22{NBSP}USD"
        pending = next(i for i, row in enumerate(expected) if row.status == "Processing" and row.campaign)
        cells = [str(cell) for cell in table.get_row_at(pending)]
        assert "Community node fund" in cells and "Lightning" in cells and "○" in cells
        # The value is the BTC paid at the invoice's own rate for that method, exactly.
        eur = next(row for row in expected if row.currency == "EUR" and row.campaign is None)
        assert eur.value == Decimal(eur.value_msat) * Decimal("90909.09") / Decimal(10**11)
        assert app.focused is table


async def test_enter_opens_the_paid_invoice(make_app, feed):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert app.screen.detail.row.pk == recent_payments(limit=2).rows[1].invoice_pk


async def test_a_contribution_that_settles_is_announced_once_with_the_bell_when_asked(make_app, feed):
    app = make_app(data.make_config(bell=True))
    rings: list[int] = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)  # the feed loads in the background from the start, on any tab
        assert announced(app) == [] and rings == []
        settle_payment("CMP3kGb000000000000002")
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert announced(app) == [("Contribution settled",
                                f"0.01000000 BTC · 1,000.00{NBSP}USD to Community node fund (Lightning)")]
        assert rings == [1]
        app.broadcast(frozenset({Source.INVOICES}))  # nothing new: no second toast
        await settle(pilot)
        assert len(announced(app)) == 1 and rings == [1]


async def test_no_toast_with_notify_off_and_none_for_history_a_first_sync_brings(make_app, feed):
    app = make_app(data.make_config(notify=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        settle_payment("CMP3kGb000000000000002")
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert announced(app) == []
    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        cfg = data.store_config("shop")
        old = dataclasses.replace(
            data._campaign_invoice(cfg, 90, data.APP_SHOP, "Settled", "25.00", "EUR", NOW - 40 * 86_400, "seed"))
        writer.upsert_invoices(writer.ensure_store(cfg), [old], synced_time=NOW)
        fresh = data._campaign_invoice(cfg, 91, data.APP_SHOP, "Settled", "120.00", "EUR", NOW - 60, "bed")
        writer.upsert_invoices(writer.ensure_store(cfg), [fresh], synced_time=NOW)
        again.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert announced(again) == [("Contribution settled",
                                  f"0.00132000 BTC · 120.00{NBSP}EUR to Community garden (Lightning)")]


async def test_page_down_at_the_bottom_reads_older_payments_and_w_filters_by_store(make_app, feed, monkeypatch):
    from cftui.ui.tabs import payments

    monkeypatch.setattr(payments, "PAGE", 20)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        first = shown(app)
        assert len(first) == 20
        await pilot.press("G", "pagedown")  # the last row, then past it
        await settle(pilot)
        older = shown(app)
        assert older == [row.pk for row in recent_payments(limit=40).rows[20:]]
        await pilot.press("g")
        await settle(pilot)
        assert shown(app) == first
        await pilot.press("w")
        await settle(pilot)
        assert {Payment.get_by_id(pk).invoice.store.name for pk in shown(app)} == {"main"}
        assert "store main" in str(tab(app).query_one("#payments-info").render())


async def test_hidden_the_feed_only_watches_and_draws_what_changed_when_shown(make_app, feed):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        table = tab(app).query_one(PagedTable)

        def mark() -> str:  # the status mark of the invoice's payment (a sync may rewrite its row)
            rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
            return next(row[-1] for row in rows if "CMP3kGb000000000000002" in row)

        assert mark() == "○"
        await pilot.press("1")
        await settle(pilot)
        settle_payment("CMP3kGb000000000000002")
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert announced(app), "hidden, it still noticed the settlement"
        assert mark() == "○", "hidden, the 200-row table is not redrawn on every change"
        await pilot.press("7")
        await settle(pilot)
        assert mark() == "✓"


async def test_the_first_payments_a_store_shows_are_the_baseline_not_news(make_app, store):
    """Start on an empty store (a first run), then the first sync writes the history, the newest of it
    minutes old: no toast for any of it. A payment that settles after that is news."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        [first] = received(app, PaymentsLoaded)  # loaded (hidden: it watches from the start), nothing there yet
        assert first.newest.rows == []
        data.fill_invoices()
        data.fill_campaigns()
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert announced(app) == []
        settle_payment("CMP3kGb000000000000002")
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert [title for title, _ in announced(app)] == ["Contribution settled"]
