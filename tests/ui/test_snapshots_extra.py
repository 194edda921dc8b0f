"""Snapshots of the Angor, Webhooks and Settings tabs (and their detail screens) with fixed data.

The clock is frozen (conftest), the input cursor does not blink and
animations are off, so each SVG is the same on every run. Review changes by
eye: convert the SVG to a PNG with cairosvg and look at it.
"""

from __future__ import annotations

import pytest
from conftest import pressing, settle
from data_extra import add_delivery, fill_angor, fill_deliveries, project_id, sample_config, set_took_back
from textual.widgets import DataTable

from cftui.ui.messages import Source

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def filled_extra(store):
    fill_angor()
    fill_deliveries()


@pytest.mark.parametrize("size", SIZES)
def test_angor_tab(snap_compare, make_app, filled_extra, size):
    """Seven projects by name, one of each status, the unverified one marked ⚠; funded bars and days left, the
    target, start and end columns only where there is room."""
    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=pressing("3"))


@pytest.mark.parametrize("size", SIZES)
def test_project_detail(snap_compare, make_app, filled_extra, size):
    """Bitcoin School Accra (active, read from the indexer): what its founder can claim, the figures with their
    source, ✓ verified, its three stages."""

    async def open_active_project(pilot) -> None:
        table = pilot.app.tab("angor").query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(4)))
        await pilot.press("enter")

    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=pressing("3", then=open_active_project))


@pytest.mark.parametrize("size", SIZES)
def test_project_detail_investors(snap_compare, make_app, filled_extra, size):
    """Mesh Radio Network (failed, read on-chain), scrolled to its investors: one refunded, one recovered part
    early into the penalty lock, one that took nothing back; the legend says what each column means."""
    set_took_back()

    async def open_failed_project(pilot) -> None:
        table = pilot.app.tab("angor").query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(3)))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("end")

    app = make_app(sample_config(angor={"enabled": True}))
    assert snap_compare(app, terminal_size=size, run_before=pressing("3", then=open_failed_project))


def test_angor_tab_disabled(snap_compare, make_app, filled_extra):
    """Angor off: the tab says how to turn it on (Settings, or the lines for the config file)."""
    assert snap_compare(make_app(sample_config()), terminal_size=(80, 24), run_before=pressing("3"))


@pytest.mark.parametrize("size", SIZES)
def test_webhooks_tab(snap_compare, make_app, filled_extra, size):
    """The log newest first, every verdict in its colour, ↻ on the redelivery; ● TAIL and the filters above."""
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=pressing("4"))


def test_webhooks_paused_with_new_lines(snap_compare, make_app, filled_extra):
    """Paused on the third line: ‖ PAUSED, a "2 new" badge, and the log has not moved."""
    async def two_arrive(pilot) -> None:
        add_delivery(seconds_after=5)
        add_delivery(seconds_after=9)
        pilot.app.broadcast(frozenset({Source.WEBHOOKS}))

    app = make_app(sample_config())
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("4", "down", "down", "p", then=two_arrive))


def test_webhooks_empty(snap_compare, make_app, store):
    """No delivery yet: the receiver is off, the URL of each store to give BTCPay, how to send a test delivery."""
    assert snap_compare(make_app(sample_config()), terminal_size=(80, 24), run_before=pressing("4"))


@pytest.mark.parametrize("size", SIZES)
def test_delivery_detail(snap_compare, make_app, filled_extra, size):
    """The eighth line from the top, a verified InvoiceSettled: the summary, the headers, the body as 2-space JSON."""
    keys = ("4", *["down"] * 7, "enter")
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=pressing(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_settings_tab(snap_compare, make_app, store, size):
    """The form: the first store with its key masked, the switches saying on or off, Save at the bottom."""
    assert snap_compare(make_app(sample_config()), terminal_size=size, run_before=pressing("5"))


@pytest.mark.parametrize("tab", ["3", "4"])
def test_no_color_ansi_dark(snap_compare, make_app, filled_extra, monkeypatch, tab):
    """NO_COLOR on Angor and Webhooks: no colour, the cursor row in reverse video."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(sample_config(angor={"enabled": True}))
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing(tab))
