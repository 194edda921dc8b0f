"""Amounts of the newcomer review: H4 (units lost, BTC as "fiat", the headline currency), L2, L5."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from conftest import settle

from cftui.store.currency_totals import currency_totals
from cftui.ui import ranges
from cftui.ui.formatting import NBSP
from cftui.ui.widgets.kpi import Kpi

SIZES = [(80, 24), (120, 40)]
# An item of a card's small line: an amount with its unit, a count with its noun, or "+N more".
ITEM = re.compile(
    rf"^(≈{NBSP})?[\d,]+(\.\d+)?{NBSP}[A-Z]{{3}}$|^[\d,]+ sat$|^\+\d+ more$"
    r"|^[\d,]+ [a-z][a-z ,-]*$|^[a-z][a-z ,-]*( [\d,]+ [a-z ]+)?$"
)


def cards(app) -> dict[str, tuple[str, str, str]]:
    out = {}
    for kpi in app.tab("overview").query(Kpi):
        title, value, sub = (str(kpi.query_one(f".kpi-{part}").render()) for part in ("title", "value", "sub"))
        out[kpi.id] = (title, value, sub)
    return out


def assert_fits(app, card_id: str) -> None:
    """What the card's small line says is what the screen shows: no line longer than the widget, none hidden."""
    sub = app.tab("overview").query_one(f"#{card_id} .kpi-sub")
    lines = str(sub.render()).split("\n")
    assert len(lines) <= sub.content_size.height, (card_id, lines)
    assert all(len(line) <= sub.content_size.width for line in lines), (card_id, lines, sub.content_size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_h4_every_amount_on_the_overview_keeps_its_unit_in_every_range(make_app, filled, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for _ in ranges.RANGES:
            await pilot.press("right_square_bracket")
            await settle(pilot)
            for card_id, (_title, value, sub) in cards(app).items():
                for line in sub.split("\n"):
                    for item in filter(None, line.split(" · ")):
                        assert ITEM.match(item), (app.tab("overview").range_key, card_id, repr(item))
                    assert not line.rstrip().endswith("·"), (card_id, line)
                assert "…" not in value, (card_id, value)
                assert_fits(app, card_id)


async def test_h4_the_headline_currency_is_the_stores_default_not_the_largest_number(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        title, value, sub = cards(app)["kpi-money"]
        # main's default currency is USD, shop's EUR: a tie goes to USD. JPY never heads it for its big numbers.
        assert title == "Raised in USD"
        totals = currency_totals("USD", (), ranges.since("30d"), None)
        assert value == f"≈{NBSP}{totals.settled.quantize(Decimal('0.01')):,}{NBSP}USD"
        assert "BTC" not in value
        first = sub.split("\n")[0].split(" · ")[0]
        assert first.endswith(f"{NBSP}USD"), "the headline currency's own sum comes first"
        await pilot.press("w")  # only store main (USD) ... then only shop (EUR)
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert cards(app)["kpi-money"][0] == "Raised in EUR"


async def test_l5_cards_say_loading_before_the_first_figures_not_zero(make_app, filled, monkeypatch):
    from cftui.ui.tabs import overview

    monkeypatch.setattr(overview.OverviewTab, "start_load", lambda self, seq: None)  # the first load never comes
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        values = {card_id: value for card_id, (_, value, _) in cards(app).items()}
        assert set(values.values()) == {"loading…"}
