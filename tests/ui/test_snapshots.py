"""Snapshots of the shell, Overview, Invoices, the invoice detail and help, at 80×24 and 120×40.

Fixed data, frozen clock, no cursor blink, no animations (see conftest). One
run with NO_COLOR=1 and the ansi-dark theme. Update with --snapshot-update,
then LOOK at each SVG (cairosvg -> PNG) before committing it.
"""

from __future__ import annotations

import data
import pytest
from data import settle

SIZES = [(80, 24), (120, 40)]


def waiting(*keys: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        for key in keys:
            await pilot.press(key)
            await settle(app, pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_overview(snap_compare, make_app, filled, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=waiting())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoices(snap_compare, make_app, filled, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=waiting("2"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoice_detail(snap_compare, make_app, filled, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=waiting("2", "down", "down", "down", "enter"))


def test_invoices_filtered_and_sorted(snap_compare, make_app, filled):
    keys = ("2", "f", "f", "f", "s", "slash", *"order-main-00", "enter")
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=waiting(*keys))


def test_help(snap_compare, make_app, filled):
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=waiting("2", "question_mark"))


def test_overview_block_chart(snap_compare, make_app, filled):
    app = make_app(data.make_config(chart="block"))
    assert snap_compare(app, terminal_size=(120, 40), run_before=waiting("right_square_bracket"))


def test_no_color_ansi_dark(snap_compare, make_app, filled, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=(80, 24), run_before=waiting("2"))
