"""Snapshots of the Angor, Webhooks and Settings tabs (and their detail screens) with fixed data.

The clock is frozen (conftest), the input cursor does not blink and
animations are off, so each SVG is the same on every run. Review changes by
eye: convert the SVG to a PNG with cairosvg and look at it.
"""

from __future__ import annotations

import pytest
from data_extra import add_delivery, fill_angor, fill_deliveries, project_id, sample_config, set_took_back
from textual.widgets import DataTable

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def filled_extra(store):
    fill_angor()
    fill_deliveries()


def show(*keys: str, then=None):
    """A run_before that presses keys, waits for every worker, then runs ``then(app)``."""

    async def run_before(pilot) -> None:
        app = pilot.app
        for key in keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        if then is not None:
            await then(pilot)
            await app.workers.wait_for_complete()
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_angor_tab(snap_compare, make_app, filled_extra, size):
    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=show("3"))


@pytest.mark.parametrize("size", SIZES)
def test_project_detail(snap_compare, make_app, filled_extra, size):
    async def open_active_project(pilot) -> None:
        table = pilot.app.tab("angor").query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(4)))
        await pilot.press("enter")

    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=show("3", then=open_active_project))


@pytest.mark.parametrize("size", SIZES)
def test_project_detail_investors(snap_compare, make_app, filled_extra, size):
    """Mesh Radio Network (failed, read on-chain), scrolled to its investors: one refunded, one recovered part
    early into the penalty lock, one that took nothing back; the legend says what each column means."""
    set_took_back()

    async def open_failed_project(pilot) -> None:
        table = pilot.app.tab("angor").query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(3)))
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("end")

    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=show("3", then=open_failed_project))


def test_angor_tab_disabled(snap_compare, make_app, filled_extra):
    assert snap_compare(make_app(sample_config()), terminal_size=(80, 24), run_before=show("3"))


@pytest.mark.parametrize("size", SIZES)
def test_webhooks_tab(snap_compare, make_app, filled_extra, size):
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=show("4"))


def test_webhooks_paused_with_new_lines(snap_compare, make_app, filled_extra):
    async def two_arrive(pilot) -> None:
        add_delivery(seconds_after=5)
        add_delivery(seconds_after=9)
        pilot.app.broadcast(frozenset({"webhooks"}))

    app = make_app(sample_config())
    assert snap_compare(app, terminal_size=(80, 24), run_before=show("4", "down", "down", "p", then=two_arrive))


def test_webhooks_empty(snap_compare, make_app, store):
    assert snap_compare(make_app(sample_config()), terminal_size=(80, 24), run_before=show("4"))


@pytest.mark.parametrize("size", SIZES)
def test_delivery_detail(snap_compare, make_app, filled_extra, size):
    # The eighth line from the top: a verified InvoiceSettled, with a full JSON body.
    keys = ("4", *["down"] * 7, "enter")
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=show(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_settings_tab(snap_compare, make_app, store, size):
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=show("5"))


@pytest.mark.parametrize("tab", ["3", "4"])
def test_no_color_ansi_dark(snap_compare, make_app, filled_extra, monkeypatch, tab):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sample_config(angor={"enabled": True}))
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=(80, 24), run_before=show(tab))
