"""Wording of the newcomer review: cut text says it was cut (L1), and every time says it is UTC (M11)."""

from __future__ import annotations

import re

import data
from conftest import settle
from data import shown_text
from data_extra import add_delivery, fill_angor, fill_deliveries, project_id, sample_config
from textual.widgets import DataTable

from cftui.store.webhook_models import WebhookDelivery
from cftui.ui.widgets.delivery_log import DeliveryLog


async def test_l1_the_webhook_log_never_cuts_an_invoice_id_and_marks_a_cut_store(make_app, store):
    fill_deliveries()
    row = add_delivery(event_type="InvoiceExpiredPaidPartial")
    WebhookDelivery.update(store_name="hackerspace-fund", invoice_id="qudGDXDJDSva3WR4AtBxyZ").where(
        WebhookDelivery.id == row).execute()
    app = make_app(sample_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        log = app.tab("webhooks").query_one(DeliveryLog)
        newest = log.render_line(1).text  # under the header
        assert "qudGDXDJDSva3WR4AtBxyZ" in newest, "the whole invoice id"
        assert "hackerspace…" in newest and "hackerspace-" not in newest.replace("hackerspace…", "")
        assert "ExpiredPaidPartial" in newest  # below 100 columns without the "Invoice" every event has


async def test_m11_every_view_with_times_says_they_are_utc(make_app, filled):
    data.fill_campaigns()
    fill_angor()
    fill_deliveries()
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        lines = {
            "overview": "#overview-bar", "invoices": "#invoice-info", "webhooks": "#webhooks-filters",
            "campaigns": "#campaigns-info", "payments": "#payments-info",
        }  # fmt: skip
        for key, pane in zip("12467", lines, strict=True):
            await pilot.press(key)
            await settle(pilot)
            assert "UTC" in str(app.tab(pane).query_one(lines[pane]).render()), pane
        await pilot.press("3")
        await settle(pilot)
        table = app.tab("angor").query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(4)))
        await pilot.press("enter")
        await settle(pilot)
        investors = app.screen.query_one("#project-investors", DataTable)
        assert "Time (UTC)" in [str(column.label) for column in investors.columns.values()]
        await pilot.press("escape", "4", "enter")
        await settle(pilot)
        assert re.search(r"\d\d:\d\d:\d\dZ", shown_text(app.screen.query_one("#delivery-summary")))  # ISO, Z: UTC


async def test_l2_a_delivery_from_an_earlier_day_shows_its_date_in_the_log(make_app, store):
    """The log keeps up to 2,000 deliveries, days of them: one from yesterday reads "05-27 21:40", not a bare
    "21:40:00" that looks like today's; today's keep their seconds. At 80 columns the invoice id stays whole."""
    fill_deliveries()
    yesterday = add_delivery(seconds_after=-(data.NOW % 86_400) - 8_400)  # 2026-05-27 21:40:00 UTC
    WebhookDelivery.update(store_name="hackerspace-fund").where(WebhookDelivery.id == yesterday).execute()
    for size in ((80, 24), (120, 40)):
        app = make_app(sample_config())
        async with app.run_test(size=size) as pilot:
            await pilot.press("4")
            await settle(pilot)
            log = app.tab("webhooks").query_one(DeliveryLog)
            lines = [log.render_line(y).text for y in range(1, log.line_count + 1)]
            old = next(line for line in lines if "InvNewNewNewNewNewNew99" in line)
            assert old.startswith("05-27 21:40 "), (size, old)
            assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in lines if line is not old), size
            # Below 100 columns the dated time takes its room from the store (cut with …), as on Invoices.
            assert ("hackersp…" if size[0] < 100 else "hackerspace-fund ") in old
            assert "Time" in log.render_line(0).text


async def test_l2_one_style_for_placeholders_sort_marks_headers_and_words(make_app, filled):
    """The review's L2 list, each as a user reads it: "—" and "none" for nothing (not "-", "rows 0–0 of 0" or
    "0 (0 BTC)"), ▲/▼ beside the sorted column on every list, Title Case headers, no jargon ("settled of
    paid-or-ended", "Inv"), and a wrapped value continues under its column, not under the names."""
    import io

    from rich.console import Console

    fill_angor()
    fill_deliveries()
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        overview = app.tab("overview")
        conversion = next(
            kpi for kpi in overview.query("Kpi") if "Conversion" in str(kpi.query_one(".kpi-title").render())
        )
        assert str(conversion.query_one(".kpi-sub").render()).startswith("of ended invoices")
        await pilot.press("2", "slash", *"zzzz", "enter")
        await settle(pilot)
        info = str(app.tab("invoices").query_one("#invoice-info").render())
        assert info.startswith("no rows") and "0–0" not in info
        await pilot.press("escape", "escape", "3")
        await settle(pilot)
        angor = app.tab("angor")
        headers = [str(column.label) for column in angor.query_one(DataTable).columns.values()]
        assert "Name ▲" in headers and "Investors" in headers and "Inv" not in headers
        assert "sort name ▲" in str(angor.query_one("#angor-bar").render())
        table = angor.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(project_id(1)))
        await pilot.press("enter")
        await settle(pilot)
        figures = shown_text(app.screen.query_one("#project-figures"), 78)
        assert re.search(r"^ *Penalties +none *$", figures, re.M), figures
        await pilot.press("escape", "4")
        await settle(pilot)
        log = app.tab("webhooks").query_one(DeliveryLog)
        assert log.render_line(0).text.split()[:3] == ["Time", "Verdict", "↻"]
        log.cursor = next(i for i, line in enumerate(log.lines) if line.verdict == "verified")
        await pilot.press("enter")
        await settle(pilot)
        assert re.search(r"^ *Reason +— *$", shown_text(app.screen.query_one("#delivery-summary"), 78), re.M)
        console = Console(width=60, file=io.StringIO(), record=True)  # narrow: the signature wraps
        console.print(app.screen.query_one("#delivery-headers").content)
        lines = console.export_text().splitlines()
        signature = next(i for i, line in enumerate(lines) if "BTCPay-Sig" in line)
        column = lines[signature].index("sha256=")
        assert lines[signature + 1][:column].strip() == "" and lines[signature + 1][column:].strip(), lines


async def test_m8_l1_l6_overview_angor_in_btc_whole_chart_titles_and_a_visible_focused_field(make_app, filled):
    """M8: the Overview's Angor box speaks BTC with 8 decimals as the Angor tab (not sats). L1: each chart title
    fits its half of 80 columns whole, without an ellipsis ("peak 77,713,3…" before). L6: the focused Settings
    field looks different from the others (bold on a tint; bold underline in ANSI themes)."""
    fill_angor()
    app = make_app(sample_config(angor={"enabled": True}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        overview = app.tab("overview")
        summary = shown_text(overview.query_one("#overview-summary"), 40)
        assert re.search(r"\d\.\d{8} BTC raised of \d+\.\d{8}", " ".join(summary.split())), summary
        assert " sat raised" not in summary
        for chart in ("#chart-raised", "#chart-count"):
            title = overview.query_one(f"{chart} .chart-title")
            text = str(title.render())
            assert "peak " in text and "…" not in text and len(text) <= title.content_size.width, (chart, text)
        await pilot.press("5")
        await settle(pilot)
        fields = list(app.tab("settings").query("#settings-form Input"))
        fields[1].focus()
        await pilot.pause()
        focused, other = fields[1].rich_style, fields[2].rich_style
        assert focused.bold and not other.bold and focused.bgcolor != other.bgcolor
