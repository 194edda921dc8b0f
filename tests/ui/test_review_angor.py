"""The Angor tab and project detail of the newcomer review (M5, M8, M9, M10, L3) and the founder view."""

from __future__ import annotations

import pytest
from conftest import settle
from data import shown_text
from data_extra import DAY, NOW, PROJECTS, fill_angor, project_id, sample_config, set_took_back
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from cftui.angor.export import rows as export_rows
from cftui.angor.verify import FLAGS
from cftui.store.angor_models import AngorProject
from cftui.ui.screens.project_detail import FLAG_TEXT, ProjectDetailScreen


@pytest.fixture
def projects(store) -> list[str]:
    return fill_angor()


def angor_on():
    return sample_config(angor={"enabled": True})


def text_of(widget) -> str:
    return shown_text(widget)


async def open_project(app, pilot, pid: str) -> ProjectDetailScreen:
    await pilot.press("3")
    await settle(pilot)
    table = app.tab("angor").query_one("#angor-table", DataTable)
    table.move_cursor(row=table.get_row_index(pid))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ProjectDetailScreen)
    return app.screen


async def test_m5_at_80x24_every_investor_is_reachable_with_the_keyboard(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_project(app, pilot, project_id(4))  # 7 investors
        scroll = screen.query_one("#project-scroll", VerticalScroll)
        assert scroll.has_focus
        investors = screen.query_one("#project-investors", DataTable)
        assert investors.row_count == 7 and investors.size.height == 8  # every row, not a box of its own
        assert investors.size.width <= 80, "no column beyond the screen"
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0
        assert screen.region.contains_region(investors.region), "the last investor can be brought into view"


async def test_m8_btc_has_eight_decimals_and_days_left_follow_the_exports_rule(make_app, projects):
    fund = project_id(1)
    AngorProject.update(project_type=1, end_time=None, expiry_time=NOW + 177 * DAY, target_sats=0).where(
        AngorProject.project_id == fund).execute()
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        table = app.tab("angor").query_one("#angor-table", DataTable)
        raised = {str(table.get_cell(pid, "raised")) for pid in map(str, (k.value for k in table.rows))}
        assert all(len(value.split(".")[1]) == 8 for value in raised)
        exported = {row["project_id"]: row for row in export_rows("Main")}
        assert str(table.get_cell(fund, "days_left")) == str(exported[fund]["days_left"]) == "177"
        assert str(table.get_cell(fund, "target")) == "—" and "no target" in str(table.get_cell(fund, "funded"))
        assert str(table.get_cell(fund, "type")) == "Fund"


def test_m9_every_verification_flag_reads_as_a_sentence_with_what_to_do():
    for flag in FLAGS:
        text = FLAG_TEXT[flag]
        assert text.endswith(".") and len(text.split()) > 8, flag


async def test_m9_a_flagged_project_explains_itself_and_the_list_says_what_the_mark_means(make_app, projects):
    AngorProject.update(flags="event-differs", verified=False).where(AngorProject.project_id == project_id(1)).execute()
    app = make_app(angor_on())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert "⚠ not verified: enter says why" in str(app.tab("angor").query_one("#angor-bar").render())
        screen = await open_project(app, pilot, project_id(1))
        text = str(screen.query_one("#project-verification").render())
        assert "event-differs" not in text and "Compare with the Angor app" in text


async def test_m10_a_few_letters_match_names_not_every_angor_id(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", "o", "r")
        await settle(pilot)
        tab = app.tab("angor")
        assert {row.name for row in tab.rows} == {n for n, *_ in PROJECTS if n and "or" in n.lower()}
        await pilot.press("ctrl+a", "ctrl+k", *project_id(2)[:16])  # the start of an id still finds it
        await settle(pilot)
        assert [row.project_id for row in tab.rows] == [project_id(2)]


async def test_l3_angor_keys_type_filter_copy_and_export(make_app, projects, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    AngorProject.update(project_type=2).where(AngorProject.project_id == project_id(5)).execute()
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        tab = app.tab("angor")
        table = tab.query_one("#angor-table", DataTable)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("c")
        assert app.clipboard == str(table.coordinate_to_cell_key((1, 0)).row_key.value)
        await pilot.press("t", "t", "t")  # Invest, Fund, Subscribe
        await settle(pilot)
        assert [row.project_id for row in tab.rows] == [project_id(5)]
        await pilot.press("escape")
        await settle(pilot)
        assert len(tab.rows) == len(PROJECTS)
        await pilot.press("e")
        await settle(pilot)
        [written] = tmp_path.glob("cftui-projects-*.csv")
        assert len(written.read_text().splitlines()) == 1 + len(PROJECTS)


async def test_founder_view_claimable_claimed_locked_and_the_next_release(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        # Node Box Kit (completed, read on-chain): 0.2 BTC in stages of 25/25/50%, all released and spent.
        screen = await open_project(app, pilot, project_id(5))
        founder = text_of(screen.query_one("#project-founder"))
        assert "Claimable now  0.00000000 BTC" in founder
        assert "Claimed        0.20000000 BTC of 0.20000000 BTC released" in founder
        stages = screen.query_one("#project-stages", DataTable)
        assert [str(stages.get_row_at(i)[4]) for i in range(3)] == ["claimed", "claimed", "claimed"]
        await pilot.press("escape")
        await settle(pilot)
        # Bitcoin School Accra (active, from the indexer): 0.95 BTC, two stages released, 0.31666666 BTC spent
        # by the founder in all; the indexer does not say from which stage.
        screen = await open_project(app, pilot, project_id(4))
        founder = text_of(screen.query_one("#project-founder"))
        assert "Claimable now  0.15833334 BTC" in founder
        assert "Claimed        0.31666666 BTC of 0.47500000 BTC released" in founder
        assert "Locked         0.47500000 BTC in stages still to come" in founder
        stages = screen.query_one("#project-stages", DataTable)
        assert [str(stages.get_row_at(i)[4]) for i in range(3)] == ["released", "released", "locked"]
        assert [str(stages.get_row_at(i)[5]) for i in range(3)] == ["—", "—", "—"]  # per stage: unknown
        end = NOW - 80 * DAY
        assert f"Next release   {_day(end + 90 * DAY)} · 0.47500000 BTC (in 10 d)" in founder


async def test_each_investor_with_what_they_took_back_refunds_apart_and_the_penalty(make_app, projects):
    set_took_back()
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_project(app, pilot, project_id(3))
        investors = screen.query_one("#project-investors", DataTable)
        labels = [str(c.label) for c in investors.columns.values()]
        assert labels[:5] == ["Investor", "Invested BTC", "Recovered", "Refunded", "Penalty"]
        rows = [[str(cell) for cell in investors.get_row_at(i)][1:5] for i in range(3)]
        assert rows == [["0.13333333", "0.13333333", "0.13333333", "0.00000000"],
                        ["0.13333333", "0.05000000", "0.00000000", "0.08333333"],
                        ["0.13333333", "0.00000000", "0.00000000", "0.00000000"]]
        assert "refunds of unfunded stages" in text_of(screen.query_one("#project-investors-legend"))
        assert investors.virtual_size.width <= investors.size.width <= 120, "every column on screen"
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_project(app, pilot, project_id(4))  # from the indexer: nobody's share is known
        investors = screen.query_one("#project-investors", DataTable)
        assert {str(investors.get_row_at(i)[2]) for i in range(investors.row_count)} == {"—"}
        assert "Angor indexer" in text_of(screen.query_one("#project-investors-legend"))
    async with make_app(angor_on()).run_test(size=(80, 24)) as pilot:
        screen = await open_project(pilot.app, pilot, project_id(3))
        investors = screen.query_one("#project-investors", DataTable)
        assert [str(c.label) for c in investors.columns.values()] == ["Investor", "Invested BTC", "Recovered",
                                                                      "Penalty"]
        assert investors.size.width <= 80


async def test_the_list_shows_each_projects_type_and_a_progress_bar(make_app, projects):
    app = make_app(angor_on())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        table = app.tab("angor").query_one("#angor-table", DataTable)
        lightning = str(table.get_cell(project_id(2), "funded"))  # 122% of its target: a full bar
        assert lightning == "██████ 122.0%"
        seed = str(table.get_cell(project_id(1), "funded"))
        assert seed == "██░░░░  37.5%"
        assert {str(table.get_cell(project_id(i), "type")) for i in range(len(PROJECTS))} == {"Invest"}


def _day(ts: int) -> str:
    from cftui.ui.screens.detail_text import day

    return day(ts)



async def test_l7_an_investment_the_indexer_gives_no_block_for_is_unknown_not_pending(make_app, projects):
    from cftui.store.angor_models import AngorInvestment

    for index in (3, 4):  # read on-chain, from the indexer
        AngorInvestment.update(block_height=None).where(AngorInvestment.project == project_id(index)).execute()
    app = make_app(angor_on())
    async with app.run_test(size=(120, 40)) as pilot:
        for index, shown in ((4, "—"), (3, "pending")):
            screen = await open_project(app, pilot, project_id(index))
            investors = screen.query_one("#project-investors", DataTable)
            block = [str(c.label) for c in investors.columns.values()].index("Block")
            assert {str(investors.get_row_at(i)[block]) for i in range(investors.row_count)} == {shown}
            await pilot.press("escape")
            await settle(pilot)
