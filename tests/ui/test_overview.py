"""Overview tab: exact figures for a range and a store, selectors, chart fallback, crowdfunds."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import data
from conftest import WAIT_SECONDS, received, settle, wait_for
from textual.widgets import Sparkline

from cftui.money import format_btc, format_sats
from cftui.store import queries
from cftui.store.crowdfund import CrowdfundProgress
from cftui.ui import ranges
from cftui.ui.formatting import NBSP
from cftui.ui.messages import Source
from cftui.ui.tabs.overview import OverviewLoaded, OverviewTab, progress_lines
from cftui.ui.widgets.chart import BlockChart, block_bars
from cftui.ui.widgets.kpi import Kpi


def card(app, card_id: str) -> tuple[str, str]:
    kpi = app.tab("overview").query_one(f"#{card_id}", Kpi)
    return str(kpi.query_one(".kpi-value").render()), str(kpi.query_one(".kpi-sub").render())


def text_of(app, widget_id: str) -> str:
    """The text shown, no-break spaces (which bind an amount to its unit) read as spaces."""
    return str(app.tab("overview").query_one(f"#{widget_id}").render()).replace(NBSP, " ")


async def test_figures_match_the_queries_for_the_default_range(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        expected = queries.kpis((), ranges.since("30d"), None)
        assert card(app, "kpi-raised") == (format_btc(expected.settled.sats), format_sats(expected.settled.sats))
        assert card(app, "kpi-settled") == (f"{expected.settled.count:,}", f"of {expected.total:,} invoices")
        assert card(app, "kpi-conversion")[1].endswith(f"{expected.abandoned:,} abandoned")
        assert card(app, "kpi-money")[0].startswith("≈")  # EUR, JPY and BTC invoices converted into USD
        assert "Range 30d" in text_of(app, "overview-bar")
        status = text_of(app, "overview-status")
        for name, count in expected.status_counts.items():
            assert f"{name:<11}{count:>8,}" in status


async def test_range_and_store_selectors_change_the_figures(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")  # 30d -> 90d
        await settle(pilot)
        assert app.tab("overview").range_key == "90d"
        await pilot.press("right_square_bracket")  # -> all
        await settle(pilot)
        everything = queries.kpis()
        assert card(app, "kpi-settled")[1] == f"of {everything.total:,} invoices"
        assert everything.total == data.INVOICES_PER_STORE * len(data.STORES)
        await pilot.press("w")  # all stores -> main
        await settle(pilot)
        main_id = next(pk for pk, name in queries.store_names().items() if name == "main")
        only_main = queries.kpis((main_id,))
        assert card(app, "kpi-raised")[0] == format_btc(only_main.settled.sats)
        assert only_main.settled.sats < everything.settled.sats
        assert "Store main" in text_of(app, "overview-bar")
        await pilot.press("left_square_bracket")  # all -> 90d
        await settle(pilot)
        assert app.tab("overview").range_key == "90d"


async def test_crowdfund_progress_and_summaries_are_shown(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        progress = text_of(app, "overview-progress")
        [fund] = queries.crowdfund_progress()
        assert "Community node fund" in progress and "as BTCPay counts them" in progress
        # BTCPay's figure: what was paid net of method fees (141 sat on each on-chain payment), not the prices.
        assert f"{fund.shown(fund.settled):,} USD of 25,000.00 USD" in progress
        assert "14,058.65 USD of 25,000.00 USD" in progress
        assert "56.2%" in progress and "12 days left" in progress and "15 contributions" in progress
        summary = text_of(app, "overview-summary")
        assert "off (enable it in Settings)" in summary
        assert "0 received" in summary


async def test_chart_uses_sparkline_by_default_and_blocks_when_configured(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        spark = app.tab("overview").query_one("#chart-raised Sparkline", Sparkline)
        series = queries.daily_series((), ranges.since("30d"), None)
        assert list(spark.data) == [p.settled_sats for p in series]
    blocky = make_app(data.make_config(chart="block"))
    async with blocky.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        chart = blocky.tab("overview").query_one("#chart-count BlockChart", BlockChart)
        drawn = str(chart.render())
        assert "█" in drawn and not blocky.tab("overview").query(Sparkline)


def test_block_bars_scale_to_the_peak_and_never_hide_a_non_zero_day():
    assert block_bars([0, 1, 4, 8], 4, 2) == ["   █", " ▄██"]
    squeezed = block_bars(list(range(100)), 10, 1)
    assert len(squeezed) == 1 and len(squeezed[0]) == 10
    assert block_bars([], 3, 2) == ["   ", "   "]


async def test_overview_fits_80_by_24_with_the_key_figures_visible(make_app, filled):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tab = app.tab("overview")
        assert isinstance(tab, OverviewTab)
        screen_region = app.screen.region
        for card_id in ("kpi-raised", "kpi-money", "kpi-pending", "kpi-settled"):
            region = tab.query_one(f"#{card_id}").region
            assert screen_region.contains_region(region), card_id


async def test_a_burst_of_data_changes_during_a_load_runs_one_more_load_not_ten(make_app, filled, monkeypatch):
    """While a sync writes, the store changes every second; threads cannot be
    cancelled, so each change must not start a load of its own."""
    import threading

    from cftui.ui.tabs import overview

    started: list[int] = []
    release = threading.Event()
    real_load = overview.load

    def held_load(*args, **kwargs):
        started.append(1)
        release.wait(WAIT_SECONDS)  # a slow load, as on a busy machine: it ends when the test says
        return real_load(*args, **kwargs)

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown_before = len(received(app, OverviewLoaded))
        monkeypatch.setattr(overview, "load", held_load)
        app.broadcast(frozenset({Source.INVOICES}))
        await wait_for(pilot, lambda: started, "the first load to start")
        for _ in range(10):
            app.broadcast(frozenset({Source.INVOICES}))
            await pilot.pause()  # each change handled by the tab
        assert app.tab("overview").loading_now and len(started) == 1  # the other ten wait
        release.set()
        await settle(pilot)
        assert len(started) == 2  # exactly one follow-up load for the whole burst
        assert len(received(app, OverviewLoaded)) - shown_before == 2  # and both results were shown, in turn


def test_pending_is_shown_beside_settled_only_when_there_is_some():
    fund = CrowdfundProgress(
        store_pk=1, store_name="main", app_id="A", name="roof", title=None, archived=False, enabled=True,
        currency="EUR", target=Decimal(1000), settled=Decimal("250.004999"), pending=Decimal("19.995"),
        contributions=3, btc_paid_sats=0, start_time=None, end_time=None, days_left=None, period_start=None,
        next_reset=None, reset_every="Never", reset_every_amount=1, hardcap=False, all_store_invoices=False, rules=(),
    )
    shown = progress_lines([fund]).plain.replace(NBSP, " ")
    assert "250.00 EUR settled + 20.00 EUR pending of 1,000.00 EUR" in shown
    assert "25.0%" in shown
    settled_only = dataclasses.replace(fund, pending=Decimal(0), target=None)
    assert "250.00 EUR raised (no target) · 3 contributions" in progress_lines([settled_only]).plain.replace(NBSP, " ")
