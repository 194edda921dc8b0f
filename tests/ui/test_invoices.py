"""Invoices tab: keyset pages, SQL sort and filters, detail, copy and export, driven through the real app."""

from __future__ import annotations

import csv
import json

import data
import pytest
from conftest import received, settle, toast_texts, wait_for
from data import shown_text
from textual.widgets import Input

from cftui import clock
from cftui.money import format_btc
from cftui.store import queries
from cftui.ui.messages import Source
from cftui.ui.screens.invoice_detail import InvoiceDetailScreen
from cftui.ui.tabs.invoices import InvoicesTab, PageLoaded
from cftui.ui.widgets.invoice_table import InvoiceTable, fit_columns

PAGE = 50
TOTAL = data.INVOICES_PER_STORE * len(data.STORES)


def tab(app) -> InvoicesTab:
    return app.tab("invoices")


def shown_ids(app) -> list[str]:
    table = app.tab("invoices").query_one(InvoiceTable)
    rows = {row.pk: row.invoice_id for row in tab(app).shown.rows}
    return [rows[int(key.value)] for key in table.rows]


def info(app) -> str:
    return str(tab(app).query_one("#invoice-info").render())


def expected_ids(*, sort="created", descending=True, offset=0, limit=PAGE, **filters) -> list[str]:
    page = queries.page_at_offset(queries.InvoiceFilter(**filters), sort, descending, offset, limit)
    return [row.invoice_id for row in page.rows]


@pytest.fixture
def app(make_app, filled):
    return make_app(data.make_config(page_size=PAGE))


async def open_tab(app, pilot):
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_first_page_then_next_previous_last_and_first(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        assert shown_ids(app) == expected_ids()
        assert info(app).startswith(f"rows 1–{PAGE} of {TOTAL}")
        table = tab(app).query_one(InvoiceTable)
        assert table.has_focus
        await pilot.press("ctrl+end", "pagedown")  # the last row, then past it: the next page
        await settle(pilot)
        assert shown_ids(app) == expected_ids(offset=PAGE)
        assert info(app).startswith(f"rows {PAGE + 1}–{2 * PAGE} of {TOTAL}")
        assert table.cursor_row == 0
        await pilot.press("pageup")  # on the first row: the previous page, cursor on its last row
        await settle(pilot)
        assert shown_ids(app) == expected_ids()
        assert table.cursor_row == PAGE - 1
        await pilot.press("end")
        await settle(pilot)
        assert shown_ids(app) == expected_ids(offset=TOTAL - PAGE)
        assert info(app).startswith(f"rows {TOTAL - PAGE + 1}–{TOTAL} of {TOTAL}")
        assert not table.has_next
        await pilot.press("home")
        await settle(pilot)
        assert shown_ids(app) == expected_ids()


async def test_sort_keys_and_header_clicks_give_the_stores_order(app):
    """Each order is the one the store's keyset query gives (test_queries.py checks that query against Python)."""
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("s")  # created -> amount, largest first
        await settle(pilot)
        assert shown_ids(app) == expected_ids(sort="amount")
        assert "sort amount within currency ▼" in info(app)
        await pilot.press("S")
        await settle(pilot)
        assert shown_ids(app) == expected_ids(sort="amount", descending=False)
        # A click on the "Invoice" header sorts by id (A-Z first); a second click flips it.
        table = tab(app).query_one(InvoiceTable)
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:1]) + 2
        await pilot.click(InvoiceTable, offset=(x, 0))
        await settle(pilot)
        assert shown_ids(app) == expected_ids(sort="id", descending=False)
        await pilot.click(InvoiceTable, offset=(x, 0))
        await settle(pilot)
        assert shown_ids(app) == expected_ids(sort="id", descending=True)


async def test_status_and_range_filters(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("f")  # all -> New
        await settle(pilot)
        new_count = queries.count_invoices(queries.InvoiceFilter(statuses=("New",)))
        assert shown_ids(app) == expected_ids(statuses=("New",))
        assert info(app).startswith(f"rows 1–{min(PAGE, new_count)} of {new_count}")
        await pilot.press("f", "f")  # -> Settled
        await settle(pilot)
        assert "status Settled" in info(app)
        await pilot.press("d")  # all -> 24h
        await settle(pilot)
        since = clock.now_s() - 86_400
        expected = expected_ids(statuses=("Settled",), since=since)
        assert 0 < len(expected) < PAGE
        assert shown_ids(app) == expected
        assert info(app).startswith(f"rows 1–{len(expected)} of {len(expected)}")


async def test_text_filter_is_debounced_and_esc_clears_it(app, filled):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("slash")
        box = tab(app).query_one("#invoice-filter", Input)
        assert box.has_focus
        loads = len(received(app, PageLoaded))
        await pilot.press(*"order-shop-001")
        # No Enter: the debounce runs the filter once the typing stops, in one load.
        await wait_for(pilot, lambda: "text “order-shop-001”" in info(app), "the filtered page")
        await settle(pilot)
        assert [m.request.view.text for m in received(app, PageLoaded)[loads:]] == ["order-shop-001"]
        expected = expected_ids(text="order-shop-001")
        assert len(expected) == 10
        assert shown_ids(app) == expected
        assert "text “order-shop-001”" in info(app)
        await pilot.press("escape")
        await settle(pilot)
        assert shown_ids(app) == expected_ids()
        assert not box.display
        await pilot.press("slash", *"zzzz-no-such", "enter")
        await settle(pilot)
        empty = tab(app).query_one("#invoice-empty")
        assert empty.display and "No invoice matches" in str(empty.render())


async def test_enter_opens_the_detail_with_exact_amounts_and_copies(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        first = tab(app).shown.rows[0]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceDetailScreen)
        body = shown_text(screen.query_one("#invoice-detail-body"), 110)
        assert first.invoice_id in body
        assert format_btc(first.btc_paid_sats) in body
        assert "Payment methods (2)" in body
        assert ("txid " in body) or ("hash " in body)
        assert '"orderId": "order-' in body
        await pilot.press("c")
        assert app.clipboard == first.invoice_id
        await pilot.press("l")
        assert app.clipboard == first.checkout_link
        await pilot.press("escape")
        assert not isinstance(app.screen, InvoiceDetailScreen)
        await pilot.press("down", "c")
        assert app.clipboard == tab(app).shown.rows[1].invoice_id
        assert any("Copied invoice id" in text for text in toast_texts(app))


@pytest.mark.parametrize("key,fmt", [("e", "csv"), ("ctrl+e", "json")])
async def test_export_writes_the_filtered_view(app, tmp_path, monkeypatch, key, fmt):
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("f", "f", "f")  # Settled
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        files = list(tmp_path.glob(f"cftui-invoices-*.{fmt}"))
        assert len(files) == 1
        settled = queries.count_invoices(queries.InvoiceFilter(statuses=("Settled",)))
        text = files[0].read_text(encoding="utf-8")
        rows = list(csv.DictReader(text.splitlines())) if fmt == "csv" else json.loads(text)
        assert len(rows) == settled
        assert {row["status"] for row in rows} == {"Settled"}
        assert toast_texts(app) == [f"Exported {settled} invoices to\n{files[0].name}\nin {files[0].parent}"]


async def test_data_changed_reloads_the_page_keeping_the_cursor_on_its_invoice(app, filled):
    from cftui.store import writer

    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("down", "down")
        kept = tab(app).shown.rows[2].invoice_id
        cfg = data.store_config("main")
        newest = data.extra_invoice(cfg, "NEWEST", data.NOW)
        writer.upsert_invoices(writer.ensure_store(cfg), [newest], synced_time=data.NOW)
        app.broadcast(frozenset({Source.INVOICES}))
        await settle(pilot)
        assert shown_ids(app)[0] == "NEWEST"
        table = tab(app).query_one(InvoiceTable)
        assert tab(app).shown.rows[table.cursor_row].invoice_id == kept
        assert info(app).startswith(f"rows 1–{PAGE} of {TOTAL + 1}")


def test_columns_fit_80_and_use_120():
    narrow = [c.key for c in fit_columns(80, multi_store=True)]
    assert narrow == ["created_short", "id_short", "store_short", "status_note", "amount_short", "sats_short"]
    wide = [c.key for c in fit_columns(120, multi_store=True)]
    assert wide[:2] == ["created", "id"] and {"store", "note", "sats"} <= set(wide)
    assert "store" not in [c.key for c in fit_columns(120, multi_store=False)]
