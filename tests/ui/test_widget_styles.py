"""Reusable widgets carry their own styles (DEFAULT_CSS): in a bare app, with none of cftui's sheets, they look
as they do in the dashboard. The dashboard's own look is held by the snapshots."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.color import Color

from cftui.ui.widgets.chart import DailyChart
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.kpi import Kpi
from cftui.ui.widgets.list_table import PagedTable


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Kpi("Raised", id="kpi")
        yield DailyChart("Raised per day", id="chart")
        yield EmptyState("nothing yet", id="empty")
        yield PagedTable(id="table")


async def test_the_widgets_style_themselves_without_the_apps_sheets():
    app = Bare()
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        kpi = app.query_one(Kpi)
        assert kpi.styles.height.value == 4 and kpi.styles.background == Color.parse(app.theme_variables["boost"])
        assert kpi.query_one(".kpi-value").styles.text_style.bold
        assert str(app.query_one(DailyChart).styles.width) == "1fr"
        empty = app.query_one(EmptyState)
        assert (empty.styles.padding.top, empty.styles.padding.left) == (1, 2)
        assert app.query_one(PagedTable).styles.scrollbar_size_vertical == 1
