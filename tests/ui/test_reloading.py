"""The one reload protocol every tab and detail screen shares (cftui.ui.reloading), through the real app."""

from __future__ import annotations

import threading

import data
from conftest import WAIT_SECONDS, received, settle, toast_texts, wait_for

from cftui.store.models import database
from cftui.ui.messages import Source
from cftui.ui.tabs import invoices as invoices_module
from cftui.ui.tabs.invoices import PageLoaded
from cftui.ui.tabs.webhooks import DeliveriesLoaded

TOTAL = data.INVOICES_PER_STORE * len(data.STORES)


def info(app) -> str:
    return str(app.tab("invoices").query_one("#invoice-info").render())


async def test_a_hidden_tab_only_goes_stale_and_loads_once_when_shown(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert received(app, PageLoaded) == [] and received(app, DeliveriesLoaded) == []  # hidden: nothing read
        for _ in range(3):
            app.broadcast(frozenset({Source.INVOICES, Source.WEBHOOKS}))
            await settle(pilot)
        assert received(app, PageLoaded) == []
        await pilot.press("2")
        await settle(pilot)
        assert len(received(app, PageLoaded)) == 1  # three changes while hidden: one load when shown
        assert info(app).startswith(f"rows 1–200 of {TOTAL}")


async def test_a_filter_changed_during_a_load_drops_that_loads_result(make_app, filled, monkeypatch):
    """What to show changed while the old page was being read: the old page must never be drawn."""
    real_fetch = invoices_module.fetch
    release = threading.Event()
    held: list[str | None] = []

    def held_fetch(request):
        held.append(request.view.status)
        if request.view.status is None:
            release.wait(WAIT_SECONDS)  # the reload of the unfiltered page is slow
        return real_fetch(request)

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        monkeypatch.setattr(invoices_module, "fetch", held_fetch)
        shown = len(received(app, PageLoaded))
        app.broadcast(frozenset({Source.INVOICES}))
        await wait_for(pilot, lambda: held, "the slow reload to start")
        await pilot.press("f")  # status New, asked for while the reload reads
        await pilot.pause()
        assert app.tab("invoices").loading_now and held == [None]  # it waits for the load in flight
        release.set()
        await settle(pilot)
        assert held == [None, "New"]
        results = received(app, PageLoaded)[shown:]
        assert [m.request.view.status for m in results] == [None, "New"]  # both came back...
        assert "status New" in info(app)  # ...and only the latest was drawn
        assert {row.status for row in app.tab("invoices").shown.rows} == {"New"}


async def test_a_failed_load_says_what_failed_and_the_next_change_recovers(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        database.execute_sql('ALTER TABLE "invoice" RENAME TO "invoice_gone"')  # the store breaks under the tab
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert any(text.startswith("Could not read the invoices: no such table") for text in toast_texts(app))
        assert info(app).startswith("could not read invoices: no such table")
        database.execute_sql('ALTER TABLE "invoice_gone" RENAME TO "invoice"')
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert info(app).startswith("rows 1–") and f"of {TOTAL}" in info(app)


async def test_a_detail_screen_says_in_place_that_it_could_not_read(make_app, filled):
    from data import shown_text

    from cftui.ui.messages import OpenInvoice

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        database.execute_sql('ALTER TABLE "invoice" RENAME TO "invoice_gone"')
        app.post_message(OpenInvoice(1))
        await settle(pilot)
        body = shown_text(app.screen.query_one("#invoice-detail-body"))
        assert body.startswith("Could not read the invoice: no such table")
        assert any(text.startswith("Could not read the invoice: ") for text in toast_texts(app))
        database.execute_sql('ALTER TABLE "invoice_gone" RENAME TO "invoice"')
