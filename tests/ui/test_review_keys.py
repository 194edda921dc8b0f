"""Keyboard defects of the newcomer review (shared/reviews/2026-12-ux-review.md): H1, H2, H3, M6.

Each test drives the real app on a real store with the key sequence the
review gives and asserts what a k9s/lazygit user expects.
"""

from __future__ import annotations

import data
import pytest
from conftest import settle, toast_texts
from data_extra import add_delivery, fill_angor, fill_deliveries, sample_config
from textual.widgets import DataTable, Input

from cftui.ui.screens.delivery_detail import DeliveryDetailScreen
from cftui.ui.screens.project_detail import ProjectDetailScreen


def focus_inside(app, pane: str) -> bool:
    focused = app.focused
    return focused is not None and app.tab(pane) in (focused, *focused.ancestors)


async def test_h1_a_filter_with_no_match_keeps_the_tab_keys_working(make_app, store):
    add_delivery()  # one verified delivery: the "rejected" filter matches nothing
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        tab = app.tab("webhooks")
        await pilot.press("v")
        await settle(pilot)
        assert tab.filters.verdict == "rejected"
        assert focus_inside(app, "webhooks")
        await pilot.press("v")  # the key the empty state names still works
        await settle(pilot)
        assert tab.filters.verdict == "verified"
        await pilot.press("v", "escape")  # and esc puts every filter back to "all"
        await settle(pilot)
        assert tab.filters.verdict is None and tab.filters.event_type is None
        assert focus_inside(app, "webhooks")


@pytest.fixture
def angor_and_hooks(store):
    fill_angor()
    fill_deliveries()


@pytest.mark.parametrize("pane,key", [("angor", "3"), ("webhooks", "4")])
async def test_h2_q_closes_a_detail_screen_and_does_not_quit(make_app, angor_and_hooks, pane, key):
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, (ProjectDetailScreen, DeliveryDetailScreen))
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running
        assert len(app.screen_stack) == 1
        assert app.tabbed.active == pane


async def test_h3_esc_leaves_a_settings_field_then_digits_switch_tabs(make_app, store):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        url = app.tab("settings").query_one("#store-url", Input)
        url.focus()
        await pilot.press("end", "x")
        assert url.value.endswith("x")
        await pilot.press("escape")
        assert not url.has_focus
        assert focus_inside(app, "settings")
        await pilot.press("1")
        await settle(pilot)
        assert app.tabbed.active == "overview"
        assert url.value.endswith("x"), "leaving a field keeps what was typed"


async def test_m6_invoices_restored_at_start_has_its_keys(make_app, filled):
    first = make_app()
    async with first.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.tabbed.active == "invoices"
        assert isinstance(again.focused, DataTable)
        tab = again.tab("invoices")
        await pilot.press("f")
        await settle(pilot)
        assert tab.view.status == "New"


async def test_m6_every_tab_focuses_its_main_widget_when_shown(make_app, angor_and_hooks):
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        for key, pane in (("2", "invoices"), ("3", "angor"), ("4", "webhooks"), ("5", "settings"), ("1", "overview")):
            await pilot.press(key)
            await settle(pilot)
            assert focus_inside(app, pane), pane


async def test_l3_the_overview_uses_the_lists_keys_for_range_and_store(make_app, filled):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tab = app.tab("overview")
        await pilot.press("d")
        assert tab.range_key == "90d"
        await pilot.press("D", "D")
        assert tab.range_key == "7d"
        await pilot.press("w")
        assert tab.store_name == "main"
        await settle(pilot)
        # s sorts in every list; on the Overview (no list) it does nothing rather than change the store.
        await pilot.press("s")
        assert tab.store_name == "main"


async def test_l3_webhooks_f_filters_the_verdict_and_slash_finds_an_invoices_deliveries(make_app, angor_and_hooks):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        tab = app.tab("webhooks")
        await pilot.press("f")
        await settle(pilot)
        assert tab.filters.verdict == "rejected"
        await pilot.press("escape", "slash", *"Inv7tLcZZrKHAvxGYZcKY01", "enter")
        await settle(pilot)
        log = tab.query_one("#webhooks-log")
        assert {line.invoice_id for line in log.lines} == {"Inv7tLcZZrKHAvxGYZcKY01"}
        assert log.line_count == 4 and log.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert tab.filters.text == "" and log.line_count == 11


async def test_l3_webhooks_export_writes_every_delivery(make_app, angor_and_hooks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        [written] = tmp_path.glob("cftui-deliveries-*.csv")
        assert len(written.read_text().splitlines()) == 1 + 11


async def test_l3_a_delivery_can_be_replayed_from_its_detail(make_app, angor_and_hooks):
    from aiohttp import web

    received: list[tuple[str, bytes, str | None]] = []

    async def handler(request):
        received.append((request.path, await request.read(), request.headers.get("BTCPay-Sig")))
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post("/webhook/{store}", handler)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    app = make_app(sample_config(webhooks={"port": port}))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("4")
            await settle(pilot)
            await pilot.press(*["down"] * 7, "enter")  # the verified InvoiceSettled
            await settle(pilot)
            detail = app.screen.detail
            await pilot.press("R")
            await settle(pilot)
            assert received == [(detail.path, detail.body, detail.signature)]
            assert any("HTTP 200" in text for text in toast_texts(app))
    finally:
        await runner.cleanup()


async def test_l2_the_pause_key_is_named_resume_while_paused(make_app, angor_and_hooks):
    app = make_app(sample_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)

        shown = {b.description for b in (v.binding for v in app.active_bindings.values())
                 if b.action in ("pause", "resume")}
        assert "Pause" in shown and "Resume" not in shown
        await pilot.press("p")
        await settle(pilot)
        assert app.tab("webhooks").paused
        shown = {b.description for b in (v.binding for v in app.active_bindings.values())
                 if b.action in ("pause", "resume")}
        assert shown == {"Resume"}
        await pilot.press("space")
        assert not app.tab("webhooks").paused


async def test_m7_help_has_readable_titles_and_scrolls_to_its_last_row_at_80x24(make_app, angor_and_hooks):
    from cftui.ui.screens.help import HelpScreen

    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        for key, title in (("2", "Invoices"), ("3", "Angor"), ("4", "Webhooks"), ("5", "Settings"), ("1", "Overview")):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press("question_mark")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, HelpScreen)
            titles = [t for t, _ in screen.sections]
            assert titles[0] == title and titles[-1] == "Everywhere"
            assert not any("Tab" in t for t in titles)
            body = screen.query_one("#help-body")
            assert body.has_focus
            await pilot.press("end")
            await pilot.pause()
            assert body.scroll_y == body.max_scroll_y
            assert app.screen.region.contains_region(screen.query_one("#help-hint").region)
            await pilot.press("question_mark")
            await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        listed = {row.keys for _, rows in app.screen.sections for row in rows}
        assert {"↑ ↓  j k", "PgUp PgDn", "⏎  (or click twice)", "? esc q"} <= listed


async def test_m7_help_on_a_detail_screen_lists_that_screens_keys_not_the_tabs(make_app, angor_and_hooks):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("enter", "question_mark")
        await settle(pilot)
        sections = dict(app.screen.sections)
        assert "Webhook delivery" in sections
        ids = {row.binding_id for rows in sections.values() for row in rows}
        assert {"back", "delivery.replay", "delivery.copy_id"} <= ids
        assert not any(i.startswith("webhooks.") for i in ids), "the log's keys do not work here"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DeliveryDetailScreen)


async def test_l3_the_palette_has_one_keys_command_ours_and_one_theme_command(make_app, filled):
    from cftui.ui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles.count("Keys") == 1 and titles.count("Theme") == 1
        from cftui.ui.commands import CftuiCommands

        ours = [title for title, _, _ in CftuiCommands(app.screen).commands()]
        assert not any("theme" in t.lower() or "keys" in t.lower() for t in ours)
        next(c for c in app.get_system_commands(app.screen) if c.title == "Keys").callback()
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_l1_l5_the_header_fits_80_columns_and_a_running_count_has_its_unit(make_app, filled):
    from cftui.sync.events import SyncProgress
    from cftui.ui.messages import SyncEventPosted
    from cftui.ui.widgets.status_line import SyncStatusLine

    app = make_app(data.make_config(stores=("main",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.query_one(SyncStatusLine)
        text = str(line.render())
        assert text == "main ✓ 2 min" and "…" not in text
        app.post_message(SyncEventPosted(SyncProgress("btcpay:main", 451, None)))
        await pilot.pause()
        assert str(line.render()).endswith(" 451 read")


async def test_m7_a_key_two_bindings_share_is_listed_once_in_help(make_app, angor_and_hooks):
    app = make_app(sample_config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        rows = {row.binding_id: row for _, rows in app.screen.sections for row in rows}
        assert rows["webhooks.pause"].keys == "p, space"  # Pause and Resume share the key and the id
        assert rows["webhooks.pause"].action == "Pause / Resume"


async def test_m7_help_says_what_each_screens_keys_do_there_and_nothing_they_do_not(make_app, angor_and_hooks):
    import data

    from cftui.ui.screens.help import help_sections

    data.fill_invoices()
    data.fill_campaigns()
    app = make_app(sample_config())
    async with app.run_test(size=(120, 40)) as pilot:
        def section(target, title: str) -> dict[str, str]:
            sections = help_sections(app, target, app.config.ui.keymap)
            return {row.keys: row.action for t, rows in sections if t == title for row in rows}

        await settle(pilot)
        assert "Pick a problem, open the list that shows it" in section(app.tab("overview"), "Scrolling").values()
        assert section(app.tab("invoices"), "Lists")["PgUp PgDn"] == "Page; past the edge, the next page"
        assert section(app.tab("campaigns"), "Lists")["PgUp PgDn"] == "Page"  # one list, no pages beyond it
        await pilot.press("4", "b")
        await settle(pilot)
        everywhere = section(app.screen, "Everywhere")
        assert "q" not in everywhere and "r" not in everywhere, "here q goes back and r reloads BTCPay's list"
        assert everywhere["?"] == "Keys" and everywhere["1"] == "Overview"


async def test_m7_a_framed_detail_answers_the_app_keys_as_a_full_screen_does(make_app, filled):
    """The invoice detail and a campaign's rules are framed over the tab, yet ?, r and the tab numbers work there as
    on the project or delivery detail: ? lists the screen's keys, a number goes to its tab (README: "from a detail
    screen too"), and the footer says so."""
    from cftui.ui.screens.help import HelpScreen
    from cftui.ui.screens.invoice_detail import InvoiceDetailScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        shown = {binding.key for binding in (b.binding for b in app.screen.active_bindings.values()) if binding.show}
        assert {"question_mark", "r"} <= shown
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        ids = {row.binding_id for _, rows in app.screen.sections for row in rows}
        assert {"back", "invoice_detail.copy_id", "help", "tab.overview"} <= ids and "quit" not in ids
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceDetailScreen)
        await pilot.press("1")
        await settle(pilot)
        assert len(app.screen_stack) == 1 and app.tabbed.active == "overview"


async def test_m7_a_tab_number_in_the_help_over_a_detail_goes_to_the_tab(make_app, angor_and_hooks):
    """? over a detail, then 3: the Angor tab itself, not the detail still framed over it."""
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("enter", "question_mark", "3")
        await settle(pilot)
        assert len(app.screen_stack) == 1 and app.tabbed.active == "angor"
