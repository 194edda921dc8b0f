"""Keyboard defects of the newcomer review (shared/reviews/2026-12-ux-review.md): H1, H2, H3, M6.

Each test drives the real app on a real store with the key sequence the
review gives and asserts what a k9s/lazygit user expects.
"""

from __future__ import annotations

import pytest
from data import settle
from data_extra import add_delivery, fill_angor, fill_deliveries, project_id, sample_config
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
        await settle(app, pilot)
        tab = app.tab("webhooks")
        await pilot.press("v")
        await settle(app, pilot)
        assert tab.verdict_choice == "rejected"
        assert focus_inside(app, "webhooks")
        await pilot.press("v")  # the key the empty state names still works
        await settle(app, pilot)
        assert tab.verdict_choice == "verified"
        await pilot.press("v", "escape")  # and esc puts every filter back to "all"
        await settle(app, pilot)
        assert tab.verdict_choice is None and tab.type_choice is None
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
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, (ProjectDetailScreen, DeliveryDetailScreen))
        await pilot.press("q")
        await settle(app, pilot)
        assert app.is_running
        assert len(app.screen_stack) == 1
        assert app.tabbed.active == pane


async def test_h3_esc_leaves_a_settings_field_then_digits_switch_tabs(make_app, store):
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        url = app.tab("settings").query_one("#store-url", Input)
        url.focus()
        await pilot.press("end", "x")
        assert url.value.endswith("x")
        await pilot.press("escape")
        assert not url.has_focus
        assert focus_inside(app, "settings")
        await pilot.press("1")
        await settle(app, pilot)
        assert app.tabbed.active == "overview"
        assert url.value.endswith("x"), "leaving a field keeps what was typed"


async def test_m6_invoices_restored_at_start_has_its_keys(make_app, filled):
    first = make_app()
    async with first.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(first, pilot)
    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, pilot)
        assert again.tabbed.active == "invoices"
        assert isinstance(again.focused, DataTable)
        tab = again.tab("invoices")
        await pilot.press("f")
        await settle(again, pilot)
        assert tab.view.status == "New"


async def test_m6_every_tab_focuses_its_main_widget_when_shown(make_app, angor_and_hooks):
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        for key, pane in (("2", "invoices"), ("3", "angor"), ("4", "webhooks"), ("5", "settings"), ("1", "overview")):
            await pilot.press(key)
            await settle(app, pilot)
            assert focus_inside(app, pane), pane
