"""The Angor tab and the project detail screen, driven through the real app on a real store."""

from __future__ import annotations

import json

import pytest
from conftest import settle
from data import shown_text
from data_extra import PROJECTS, fill_angor, project_id, sample_config
from textual.widgets import DataTable, Input

from cftui.ui.screens.project_detail import ProjectDetailScreen


@pytest.fixture
def projects(store) -> list[str]:
    return fill_angor()


def angor_on():
    return sample_config(angor={"enabled": True})




async def open_tab(app, pilot) -> DataTable:
    await pilot.press("3")
    await settle(pilot)
    return app.tab("angor").query_one("#angor-table", DataTable)


def row_ids(table: DataTable) -> list[str]:
    return [str(key.value) for key in table.rows]


def header_x(table: DataTable, column: str) -> int:
    """The x offset of a column's header (one cell into it)."""
    x = 0
    for key, col in table.columns.items():
        if key.value == column:
            return x + 1
        x += col.get_render_width(table)
    raise KeyError(column)


def cell(table: DataTable, pid: str, column: str) -> str:
    return str(table.get_cell(pid, column))


def text_of(widget) -> str:
    return shown_text(widget, 110)


async def test_projects_of_every_status_are_listed_by_name(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        assert table.row_count == len(PROJECTS)
        names = [cell(table, pid, "name") for pid in row_ids(table)]
        assert names == sorted(names, key=lambda n: n.lstrip("⚠ ").lower())
        statuses = {cell(table, pid, "status") for pid in row_ids(table)}
        assert statuses == {"upcoming", "funding", "funded", "failed", "active", "completed"}
        seed = project_id(1)  # Open Seed Library: 0.375 of 1 BTC, ends in 20 days
        assert cell(table, seed, "raised") == "0.37500000"
        assert cell(table, seed, "funded").endswith(" 37.5%") and "█" in cell(table, seed, "funded")
        assert cell(table, seed, "days_left") == "20"
        assert cell(table, project_id(3), "days_left") == "—"  # failed: ended
        assert cell(table, project_id(6), "name").startswith("⚠")  # unverified
        assert app.focused is table


async def test_narrow_terminal_keeps_name_type_status_raised_progress_and_investors(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_tab(app, pilot)
        keys = [str(key.value) for key in table.columns]
        assert keys == ["name", "type", "status", "raised", "funded", "investors"]


async def test_slash_filters_by_name_and_escape_clears(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"libr")
        await settle(pilot)
        assert sorted(cell(table, pid, "name") for pid in row_ids(table)) == ["Lightning Library", "Open Seed Library"]
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == len(PROJECTS)
        assert app.focused is table


async def test_sort_keys_and_header_clicks_give_the_stores_order(make_app, projects):
    """Each order is the one the store's query gives (the tab shows its rows as they come)."""
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        tab = app.tab("angor")
        await pilot.press("s", "s")  # next columns: type, then status
        await settle(pilot)
        assert tab.view.sort == "status"
        statuses = [cell(table, pid, "status") for pid in row_ids(table)]
        assert statuses == sorted(statuses)
        await pilot.press("S")
        await settle(pilot)
        assert [cell(table, pid, "status") for pid in row_ids(table)] == sorted(statuses, reverse=True)
        # The funded column by its header: highest percentage first on the second click.
        await pilot.click("#angor-table", offset=(header_x(table, "funded"), 0))
        await settle(pilot)
        assert tab.view.sort == "funded" and not tab.view.descending
        await pilot.click("#angor-table", offset=(header_x(table, "funded"), 0))
        await settle(pilot)
        assert tab.view.descending
        assert row_ids(table)[0] == project_id(2)  # Lightning Library, 122%


async def test_status_filter_cycles(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        await pilot.press("f")
        await settle(pilot)
        assert [cell(table, pid, "name") for pid in row_ids(table)] == ["Solar Cooperative"]
        await pilot.press("f")  # funding: two projects
        await settle(pilot)
        assert {cell(table, pid, "status") for pid in row_ids(table)} == {"funding"}
        assert table.row_count == 2


async def test_enter_opens_the_project_with_stages_investors_and_sources(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(project_id(4)))  # Bitcoin School Accra, active
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProjectDetailScreen)
        assert "Bitcoin School Accra" in str(screen.query_one("#project-title").render())
        links = text_of(screen.query_one("#project-links"))
        assert "https://bitcoinschoolaccra.example.org" in links and "tips@bitcoinschoolaccra.example.org" in links
        figures = text_of(screen.query_one("#project-figures"))
        assert "0.95000000 BTC (118.8%)" in figures
        assert "gross" in figures  # this one's figure came from the indexer
        assert "90 days" in figures and "Founder spent" in figures and "1 (0.02500000 BTC)" in figures
        assert "Refunds" in figures and "the indexer counts them among the penalties" in figures
        stages = screen.query_one("#project-stages", DataTable)
        assert stages.row_count == 3
        # The indexer's figures: not per stage.
        assert [str(stages.get_row_at(i)[4]) for i in range(3)] == ["released", "released", "locked"]
        assert screen.query_one("#project-investors", DataTable).row_count == 7
        assert "Verified" in str(screen.query_one("#project-verification").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProjectDetailScreen)


async def test_unverified_project_shows_its_flags(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(project_id(6)))
        await pilot.press("enter")
        await settle(pilot)
        verification = app.screen.query_one("#project-verification")
        text = str(verification.render())
        assert "signature does not verify" in text and "does not derive from the founder key" in text
        assert verification.has_class("-flagged")


async def test_on_chain_figures_say_they_are_net_of_the_fee(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(project_id(1)))  # figures read on-chain (esplora)
        await pilot.press("enter")
        await settle(pilot)
        figures = text_of(app.screen.query_one("#project-figures"))
        assert "net of the 1% Angor fee" in figures


async def test_a_failed_projects_refunds_are_shown_apart_from_its_penalties(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(project_id(3)))  # Mesh Radio Network: failed, read on-chain
        await pilot.press("enter")
        await settle(pilot)
        figures = text_of(app.screen.query_one("#project-figures"))
        lines = {line.split()[0]: line for line in figures.splitlines() if line.strip()}
        assert lines["Penalties"].split() == ["Penalties", "none"]
        assert "2 (0.20000000 BTC)" in lines["Refunds"]


async def test_disabled_angor_says_how_to_enable_it(make_app, projects):
    app = make_app(sample_config())
    async with app.run_test(size=(100, 30)) as pilot:
        table = await open_tab(app, pilot)
        empty = str(app.tab("angor").query_one("#angor-empty").render())
        assert "Angor is off" in empty and "enabled = true" in empty and "Settings (5)" in empty
        assert not table.display


async def test_a_fund_project_explains_its_per_investment_schedules_instead_of_an_empty_stage_table(make_app, projects):
    from data_extra import DAY, NOW

    from cftui.store.angor_models import AngorInvestment, AngorProject, AngorStage
    from cftui.ui.screens.detail_text import day

    fund = project_id(1)
    patterns = [
        {"patternId": 2, "name": "Monthly x3", "frequency": 2, "stageCount": 3, "payoutDayType": 0, "payoutDay": 0},
        {
            "patternId": 9,
            "name": "Weekly x4",
            "frequency": 0,
            "stageCount": 4,
            "payoutDayType": 2,
            "payoutDay": 1,
            "amount": 50_000,
        },
    ]
    AngorProject.update(project_type=1, content=json.dumps({"projectType": 1, "dynamicStagePatterns": patterns})).where(
        AngorProject.project_id == fund
    ).execute()
    AngorStage.delete().where(AngorStage.project == fund).execute()  # Fund projects publish no fixed stages
    # Each investment's own schedule: monthly from its start, 3 stages (pattern 2); the clock is at NOW.
    investments = list(AngorInvestment.select().where(AngorInvestment.project == fund).order_by(AngorInvestment.id))
    starts = [NOW - 45 * DAY, NOW - 10 * DAY]
    for inv, start in zip(investments, starts, strict=False):  # the first two; the rest keep none
        AngorInvestment.update(schedule_start=start, pattern_id=2, stage_count=0).where(
            AngorInvestment.id == inv.id
        ).execute()
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(fund))
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        schedule = screen.query_one("#project-schedule")
        text = str(schedule.render())
        assert schedule.display and not screen.query_one("#project-stages").display
        assert "Fund project: no fixed release dates" in text
        assert "Monthly x3: 3 stages, monthly, counted from the day of the investment" in text
        assert "Weekly x4: 4 stages, weekly, on Mondays; 50,000 sats" in text
        investors = screen.query_one("#project-investors", DataTable)
        labels = [str(column.label) for column in investors.columns.values()]
        assert labels[:7] == [
            "Investor",
            "Invested BTC",
            "Recovered",
            "Refunded",
            "Penalty",
            "Released",
            "Next release",
        ]
        assert investors.virtual_size.width <= investors.size.width, "beside a schedule too, every column fits"
        by_key = {str(investors.get_row_at(i)[0]): investors.get_row_at(i) for i in range(investors.row_count)}
        first, second = (by_key[inv.investor_key[:12] + "…"] for inv in investments[:2])
        # 45 days in: the 30-day stage is out, the next at day 60; 10 days in: none yet, the first at day 30.
        assert (first[5], first[6]) == ("1 of 3", day(NOW - 45 * DAY + 60 * DAY))
        assert (second[5], second[6]) == ("0 of 3", day(NOW - 10 * DAY + 30 * DAY))
    # An Invest project keeps its table, with no schedule text.
    async with make_app(angor_on()).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        table = await open_tab(app, pilot)
        table.move_cursor(row=table.get_row_index(project_id(4)))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#project-stages").display
        assert not app.screen.query_one("#project-schedule").display
