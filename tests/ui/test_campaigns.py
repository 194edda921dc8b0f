"""The Campaigns tab: each crowdfund toward its goal, what it sold, and its invoices one key away."""

from __future__ import annotations

from decimal import Decimal

import data
import pytest
from conftest import settle, toast_texts
from data import shown_text

from cftui.store.campaign_queries import campaigns
from cftui.ui.formatting import NBSP
from cftui.ui.tabs.campaigns import CampaignsTab
from cftui.ui.widgets.list_table import ListTable


@pytest.fixture
def funds(filled):
    data.fill_campaigns()


def tab(app) -> CampaignsTab:
    return app.tab("campaigns")


def detail_text(app, width: int = 120) -> str:
    return shown_text(tab(app).query_one("#campaign-detail"), width)


async def open_tab(app, pilot) -> None:
    await settle(pilot)
    await pilot.press("6")
    await settle(pilot)


async def test_each_crowdfund_with_settled_and_pending_toward_its_goal(make_app, funds):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_tab(app, pilot)
        table = tab(app).query_one(ListTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[0] for row in rows] == ["Community node fund", "Community garden", "Spring meetup"]
        node = rows[0]
        # As BTCPay counts it: settled net of the on-chain fees, 56.2% of the goal; 61.2% with the pending 1,250 USD.
        assert node[2] == "██████▒░░░░░   56.2%"
        assert node[3:6] == [f"14,058.65{NBSP}USD", f"1,250.00{NBSP}USD", f"25,000.00{NBSP}USD"]
        assert node[6] == "12 d left" and rows[1][6] == "open" and rows[2][6] == "ended"
        assert rows[2][2] == "no goal"
        assert table.max_scroll_x == 0  # the contributions count waits for a wider screen (it is in the detail)
        text = detail_text(app)
        assert f"Settled   14,058.65{NBSP}USD (56.2%) · 17 contributions" in text
        assert f"Pending   1,250.00{NBSP}USD · 61.2% with it" in text
        assert "BTC paid  0.15310060 BTC" in text
        assert "Runs      2026-04-18 → 2026-06-09 (ends in 12 d)" in text
        assert "Sponsor" in text and f"1,500.00{NBSP}USD" in text
        # At 120x40 there is room for how each figure is counted, from the crowdfund query's own rules.
        assert "How these figures are counted" in text and "GetContributionsByPaymentMethodId" in text
        await pilot.press("down")
        await pilot.pause()
        assert "Community garden" in detail_text(app) and "since 2026-02-27, no end date" in detail_text(app)
        assert app.focused is table
        await pilot.resize_terminal(150, 40)
        await settle(pilot)
        table = tab(app).query_one(ListTable)
        assert [str(column.label) for column in table.columns.values()][-2:] == ["Contributions", "Ends"]
        assert str(table.get_row_at(0)[6]) == "17"


async def test_the_whole_view_is_visible_without_scrolling_at_80x24(make_app, funds):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        screen = app.screen.region
        for selector in ("#campaigns-table", "#campaign-detail", "#campaigns-info"):
            assert screen.contains_region(tab(app).query_one(selector).region), selector
        table = tab(app).query_one(ListTable)
        assert table.size.width <= 80 and table.max_scroll_x == 0 and table.max_scroll_y == 0
        detail = tab(app).query_one("#campaign-detail")
        lines = detail_text(app, detail.content_size.width).rstrip("\n").splitlines()
        assert len(lines) <= detail.content_size.height and "Any amount" in lines[-2], "every perk line shows"
        assert "i  how these figures are counted" in lines[-1]  # no room for the rules: the key that shows them


async def test_enter_opens_the_campaigns_invoices(make_app, funds):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.tabbed.active == "invoices"
        invoices = app.tab("invoices")
        assert invoices.view.app == (data.APP_ID, "Community node fund") and invoices.view.store == "main"
        assert {row.app_id for row in invoices.shown.rows} == {data.APP_ID}
        from cftui.store import queries

        assert invoices.shown.total == queries.count_invoices(queries.InvoiceFilter(app_id=data.APP_ID)) == 32
        assert "campaign Community node fund" in str(invoices.query_one("#invoice-info").render())
        await pilot.press("escape")
        await settle(pilot)
        assert invoices.view.app is None


async def test_w_shows_one_stores_campaigns_and_an_empty_store_says_so(make_app, funds):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("w", "w")  # main, then shop
        await settle(pilot)
        assert [d.campaign.title for d in tab(app).details] == ["Community garden", "Spring meetup"]
    empty = make_app()
    from cftui.store.models import CrowdfundApp

    CrowdfundApp.delete().execute()
    async with empty.run_test(size=(80, 24)) as pilot:
        await open_tab(empty, pilot)
        state = tab(empty).query_one("#campaigns-empty")
        assert state.display and "canmodifystoresettings" in str(state.render())
        assert empty.focused is state


def test_the_campaign_figures_come_from_the_one_crowdfund_query(funds):
    from cftui.store.crowdfund import crowdfund_progress

    node = campaigns()[0]
    [same] = [p for p in crowdfund_progress() if p.app_id == node.app_id]
    assert node == same
    assert (node.settled, node.pending, node.contributions) == (Decimal("14058.65"), Decimal("1250.00"), 17)


async def test_i_shows_how_the_campaigns_figures_are_counted(make_app, funds):
    from cftui.ui.screens.campaign_rules import RulesScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RulesScreen) and screen.campaign.app_id == data.APP_ID
        shown = " ".join(shown_text(widget, 1000) for widget in screen.query("Static"))
        assert screen.query_one("#campaign-rules").border_title == "Community node fund · main"
        assert all(rule in shown for rule in screen.campaign.rules) and "CrowdfundPlugin.GetInfo" in shown
        await pilot.press("q")
        await settle(pilot)
        assert app.screen is not screen and app.tabbed.active == "campaigns"


async def test_a_shorter_list_gives_the_detail_its_room_at_once(make_app, funds):
    """w to a store with one campaign: the list shrinks by two rows, and the detail is drawn again for the room
    it then has (the counting rules fit at 80x34), not for the height it had before the layout settled."""
    app = make_app()
    async with app.run_test(size=(80, 34)) as pilot:
        await open_tab(app, pilot)
        assert "How these figures are counted" not in detail_text(app, 78)  # three campaigns: no room
        await pilot.press("w")  # main: the node fund alone
        await settle(pilot)
        assert [d.campaign.title for d in tab(app).details] == ["Community node fund"]
        assert "How these figures are counted" in detail_text(app, 78)
        assert "i  how these figures are counted" not in detail_text(app, 78)


async def test_enter_on_a_campaign_counting_every_store_invoice_opens_them_all(make_app, funds):
    """A crowdfund set to count all the store's invoices (crowdfund_all_invoices): its figures come from every
    invoice of the store, so enter shows those, not only the few created from the app, and says why."""
    from cftui.store.models import CrowdfundApp

    CrowdfundApp.update(all_store_invoices=True).where(CrowdfundApp.app_id == data.APP_ID).execute()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(app, pilot)
        assert tab(app).selected().campaign.all_store_invoices
        await pilot.press("enter")
        await settle(pilot)
        invoices = app.tab("invoices")
        assert app.tabbed.active == "invoices"
        assert invoices.view.app is None and invoices.view.store == "main"
        from cftui.store import queries

        assert invoices.shown.total == queries.count_invoices(queries.InvoiceFilter(stores=(tab(app).selected()
                                                                                       .campaign.store_pk,)))
        assert any("counts every invoice of main" in text for text in toast_texts(app))
