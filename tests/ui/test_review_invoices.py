"""The Invoices tab of the newcomer review: M1 (80×24: year, store, note; store filter), M2, L3 keys, L7 top-ups."""

from __future__ import annotations

import data
import pytest
from conftest import settle

from cftui import clock
from cftui.store import queries, writer
from cftui.ui.messages import OpenInvoice
from cftui.ui.widgets.invoice_table import InvoiceTable

PAGE = 40


@pytest.fixture
def app(make_app, filled):
    return make_app(data.make_config(page_size=PAGE))


def table_lines(app) -> list[str]:
    """The table's rows as they are drawn (cells joined by spaces)."""
    table = app.tab("invoices").query_one(InvoiceTable)
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def open_tab(app, pilot):
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_m1_at_80_columns_rows_show_the_store_the_note_and_a_year_for_old_dates(app):
    cfg = data.store_config("shop")
    old = data.extra_invoice(cfg, "OLDxxxxxxxxxxxxxxxxxx1", data.NOW - 364 * 86_400)  # a year ago: not "tomorrow"
    writer.upsert_invoices(writer.ensure_store(cfg), [old], synced_time=data.NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("end")
        await settle(pilot)
        lines = table_lines(app)
        oldest = lines[-1]
        assert oldest.startswith(clock.to_datetime(data.NOW - 364 * 86_400).strftime("%Y-%m-%d")), oldest
        assert "shop" in oldest
        await pilot.press("home")
        await settle(pilot)
        lines = table_lines(app)
        assert any(" main " in f" {line} " for line in lines) and any(" shop " in f" {line} " for line in lines)
        notes = {"Settled over", "Expired partial", "Invalid marked", "Settled late"}
        assert notes <= {note for note in notes for line in lines if note in line}


async def test_m1_w_filters_by_store_and_esc_clears_every_filter(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        tab = app.tab("invoices")
        await pilot.press("w")
        await settle(pilot)
        assert tab.view.store == "main"
        assert {row.store_name for row in tab.shown.rows} == {"main"}
        assert tab.shown.total == data.INVOICES_PER_STORE
        assert "store main" in str(tab.query_one("#invoice-info").render())
        await pilot.press("w")
        await settle(pilot)
        assert {row.store_name for row in tab.shown.rows} == {"shop"}
        await pilot.press("n")  # part-paid, late or marked
        await settle(pilot)
        assert {row.additional_status for row in tab.shown.rows} == {"PaidPartial", "PaidLate", "Marked"}
        await pilot.press("escape")
        await settle(pilot)
        assert tab.view.store is None and tab.view.additional == ()
        assert tab.shown.total == data.INVOICES_PER_STORE * len(data.STORES)


async def test_m2_sorting_by_amount_never_ranks_a_currency_by_raw_number(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("s")
        await settle(pilot)
        rows = app.tab("invoices").shown.rows
        currencies = [row.currency for row in rows]
        # One currency after another, each largest first.
        runs = [c for i, c in enumerate(currencies) if i == 0 or currencies[i - 1] != c]
        assert len(runs) == len(set(runs))
        for currency in set(currencies):
            amounts = [row.amount_e8 for row in rows if row.currency == currency]
            assert amounts == sorted(amounts, reverse=True)


async def test_l3_j_k_g_and_G_move_in_the_invoice_table(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        table = app.tab("invoices").query_one(InvoiceTable)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("G")
        await settle(pilot)
        total = queries.count_invoices(queries.InvoiceFilter())
        assert str(app.tab("invoices").query_one("#invoice-info").render()).startswith(
            f"rows {total - PAGE + 1:,}–{total:,} of {total:,}")
        await pilot.press("g")
        await settle(pilot)
        assert app.tab("invoices").shown.offset == 0


async def test_l3_range_keys_are_the_same_as_the_overviews(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        tab = app.tab("invoices")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert tab.view.range_key == "24h"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert tab.view.range_key == "all"
        await pilot.press("d", "d", "D")
        await settle(pilot)
        assert tab.view.range_key == "24h"


async def test_l7_a_top_up_invoice_reads_any_amount_not_zero(app):
    import dataclasses

    cfg = data.store_config("main")
    topup = dataclasses.replace(data.extra_invoice(cfg, "TOPUPxxxxxxxxxxxxxxxx1", data.NOW + 1), type="TopUp",
                                amount="0", amount_e8=0, currency="EUR")
    writer.upsert_invoices(writer.ensure_store(cfg), [topup], synced_time=data.NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        assert "any amount EUR" in table_lines(app)[0]


async def test_l4_new_and_settled_differ_in_ansi_dark_and_textual_dark(make_app, filled):
    for theme in ("ansi-dark", "textual-dark"):
        app = make_app(theme=theme)
        async with app.run_test(size=(120, 40)) as pilot:
            await open_tab(app, pilot)
            styles = app.tab("invoices").query_one(InvoiceTable).status_styles()
            colours = {status: styles[status].color for status in ("New", "Processing", "Settled", "Invalid")}
            assert len(set(colours.values())) == 4, (theme, colours)


async def test_l4_no_color_shows_the_table_cursor_in_reverse_video(make_app, filled, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        table = app.tab("invoices").query_one(InvoiceTable)
        assert table.get_component_rich_style("datatable--cursor").reverse


async def test_l2_l7_the_invoice_detail_names_the_campaign_and_speaks_of_the_future(app):
    from data import shown_text

    from cftui.ui.screens.invoice_detail import InvoiceDetailScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        tab = app.tab("invoices")
        await pilot.press("w")  # main: the store with the crowdfund
        await settle(pilot)
        row = next(r for r in tab.shown.rows if r.app_id)
        app.post_message(OpenInvoice(row.pk))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceDetailScreen)
        body = shown_text(screen.query_one("#invoice-detail-body"), 110)
        assert f"Community node fund ({data.APP_ID})" in body
        monitored = next(line for line in body.splitlines() if line.startswith("Monitored until"))
        assert row.created_time + 86_400 > data.NOW and "(in " in monitored
        assert any(f"{int(r):,}" in body for r in ("100000", "1000000"))  # rates with separators


async def test_l3_a_double_click_on_a_row_opens_it(app):
    from cftui.ui.screens.invoice_detail import InvoiceDetailScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        await pilot.double_click(InvoiceTable, offset=(5, 4))  # the fourth row
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        assert app.screen.detail.row.pk == app.tab("invoices").shown.rows[3].pk
