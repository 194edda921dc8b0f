"""The shared display rules (cftui/ui/formatting.py): units stay with numbers, cuts are marked."""

from __future__ import annotations

from decimal import Decimal

from cftui import clock
from cftui.ui.formatting import NBSP, approx, cut, fit_items, money, percent, relative, share


def test_percent_and_share_have_one_format():
    assert percent(Decimal("0.5236")) == "52.4%" and percent(Decimal("1.502")) == "150.2%" and percent(None) == "—"
    assert (share(9, 1000), share(0, 1000), share(322, 628), share(1, 0)) == ("<1%", "0%", "51%", "—")


def test_money_binds_the_unit_to_the_number():
    assert money(Decimal("130437.7"), "USD") == f"130,437.70{NBSP}USD"
    assert money(Decimal("178958.9876"), "JPY", rounded=True) == f"178,959{NBSP}JPY"
    assert approx(Decimal("12.345"), "EUR", exact=False) == f"≈{NBSP}12.34{NBSP}EUR"
    assert approx(Decimal("12"), "EUR", exact=True) == f"12.00{NBSP}EUR"


def test_a_list_that_does_not_fit_drops_whole_items_and_counts_them():
    items = [money(Decimal("130437.70"), "USD"), money(Decimal("80842.57"), "EUR"), money(Decimal("0.01255330"), "BTC")]
    assert fit_items(items, 80) == " · ".join(items)
    line = fit_items(items, 36)
    assert line == f"130,437.70{NBSP}USD · +2 more"
    # Every item shown keeps its unit; nothing is cut mid-item.
    assert fit_items(items, 32, lines=2).split("\n") == [f"130,437.70{NBSP}USD · 80,842.57{NBSP}EUR", items[2]]
    assert fit_items(items, 26, lines=2).split("\n") == [items[0], f"80,842.57{NBSP}EUR · +1 more"]
    assert fit_items(items, 5) == "+3 m…" and fit_items([], 10) == ""


def test_cut_marks_what_it_drops():
    assert cut("hackerspace-fund", 10) == "hackerspa…" and cut("main", 10) == "main"


def test_relative_speaks_of_the_future_too():
    clock.freeze(1_000_000)
    try:
        assert (relative(1_000_000 - 7200), relative(1_000_000 + 19 * 3600), relative(1_000_000 + 3 * 86_400)) == (
            "2 h ago", "in 19 h", "in 3 d")
        assert relative(None) == "—" and relative(1_000_005) == "just now"
    finally:
        clock.freeze(None)
