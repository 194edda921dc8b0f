"""Snapshots of the shell, Overview, Invoices, the invoice detail and help, at 80×24 and 120×40.

Fixed data, frozen clock, no cursor blink, no animations (see conftest). One
run with NO_COLOR=1 and the ansi-dark theme. Update with --snapshot-update,
then LOOK at each SVG (cairosvg -> PNG) before committing it.
"""

from __future__ import annotations

import data
import pytest
from conftest import pressing

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_overview(snap_compare, make_app, filled, size):
    """The Overview of two stores, 30 days: the failing sync of shop first among the problems, the key figures
    (two cards a row at 80 columns, four at 120), the two daily charts, status counts, the node fund's progress."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoices(snap_compare, make_app, filled, size):
    """The first page, newest first: short dates, ids and columns at 80, the full ones at 120; statuses coloured,
    the cursor on the first row, "rows 1–… of 300" under the table."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing("2"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_invoice_detail(snap_compare, make_app, filled, size):
    """The fourth invoice framed over the tab: every field, its two payment methods with exact amounts and rates,
    the payment's txid or hash, the metadata; esc Back and the app's keys in the footer."""
    assert snap_compare(make_app(), terminal_size=size, run_before=pressing("2", "down", "down", "down", "enter"))


def test_invoices_filtered_and_sorted(snap_compare, make_app, filled):
    """Settled only, by amount (▼ on its header), text "order-main-00": the info line names each filter."""
    keys = ("2", "f", "f", "f", "s", "slash", *"order-main-00", "enter")
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=pressing(*keys))


def test_help(snap_compare, make_app, filled):
    """? on Invoices: the tab's keys with their ids, the paged list's keys, then the app's, in one framed list."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=pressing("2", "question_mark"))


def test_overview_block_chart(snap_compare, make_app, filled):
    """ui.chart = "block", range 90d: the charts drawn with full and half blocks only (fonts without braille)."""
    app = make_app(data.make_config(chart="block"))
    assert snap_compare(app, terminal_size=(120, 40), run_before=pressing("right_square_bracket"))


def test_no_color_ansi_dark(snap_compare, make_app, filled, monkeypatch):
    """NO_COLOR: no colour at all, the table cursor in reverse video, every line still readable."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    assert app.theme == "ansi-dark"
    assert snap_compare(app, terminal_size=(80, 24), run_before=pressing("2"))
