"""The Overview's Problems: what needs a look, each line opening the list that shows it."""

from __future__ import annotations

import data
from conftest import settle
from data_extra import DELIVERIES, fill_deliveries
from test_btcpay_deliveries import scenario  # noqa: F401  (a fixture: BTCPay sent what never arrived)
from textual.widgets import OptionList

from cftui.store import queries
from cftui.store.webhook_models import ACCEPTED_VERDICTS
from cftui.ui import ranges
from cftui.ui.screens.btcpay_deliveries import BtcpayDeliveriesScreen
from cftui.ui.screens.sync_status import SyncStatusScreen


def lines(app) -> list[tuple[str, str]]:
    listing = app.tab("overview").query_one("#overview-problems", OptionList)
    return [(option.id, str(option.prompt)) for option in listing.options]


async def choose(app, pilot, key: str) -> None:
    listing = app.tab("overview").query_one("#overview-problems", OptionList)
    listing.focus()
    listing.highlighted = next(i for i, option in enumerate(listing.options) if option.id == key)
    await pilot.press("enter")
    await settle(pilot)


async def test_the_problems_are_listed_most_urgent_first_and_fit_80x24(make_app, filled):
    fill_deliveries()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        found = lines(app)
        assert found[0] == (
            "sync:btcpay:shop:failing",
            "✗ Sync of shop failing: BTCPay at shop.btcpay.example is unreachable (connection refused).",
        )
        rejected = sum(1 for d in DELIVERIES if d[1] not in ACCEPTED_VERDICTS)
        assert ("rejected", f"⚠ {rejected} webhook deliveries rejected in the last 24 h") in found
        expected = queries.count_invoices(queries.InvoiceFilter(additional=("PaidLate",), since=ranges.since("30d")))
        assert ("flag:PaidLate", f"● {expected} invoices paid after they expired (30d)") in found
        listing = app.tab("overview").query_one("#overview-problems")
        assert app.screen.region.contains_region(listing.region), "visible without scrolling"
        assert app.focused is listing


async def test_a_flag_opens_the_invoices_with_it_in_the_same_range_and_store(make_app, filled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")  # main only
        await settle(pilot)
        await choose(app, pilot, "flag:Marked")
        assert app.tabbed.active == "invoices"
        view = app.tab("invoices").view
        assert (view.additional, view.range_key, view.store) == (("Marked",), "30d", "main")
        rows = app.tab("invoices").shown.rows
        assert rows and {(row.additional_status, row.store_name) for row in rows} == {("Marked", "main")}


async def test_rejected_deliveries_open_the_webhook_log_filtered_and_a_failing_sync_its_report(make_app, filled):
    fill_deliveries()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await choose(app, pilot, "rejected")
        assert app.tabbed.active == "webhooks" and app.tab("webhooks").filters.verdict == "rejected"
        await pilot.press("1")
        await settle(pilot)
        await choose(app, pilot, "sync:btcpay:shop:failing")
        assert isinstance(app.screen, SyncStatusScreen)
        body = app.screen.query_one("#sync-status-body").content
        import io

        from rich.console import Console

        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(body)
        text = console.export_text()
        assert "shop" in text and "Last run failed  BTCPay at shop.btcpay.example is unreachable" in text


async def test_what_btcpay_sent_and_never_arrived_is_a_problem_that_opens_btcpays_list(make_app, scenario):  # noqa: F811
    app = make_app(scenario.config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        missed = len(scenario.sent) - 1
        assert ("missed:main", f"⚠ {missed} webhook deliveries BTCPay sent to main never arrived") in lines(app)
        await choose(app, pilot, "missed:main")
        assert isinstance(app.screen, BtcpayDeliveriesScreen)


async def test_nothing_to_look_at_says_so(make_app, store):
    app = make_app(data.make_config(stores=("main",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert lines(app) == [("none", "✓ Nothing needs a look.")]


async def test_two_stores_missing_deliveries_and_a_source_failing_and_skipping_each_get_a_line(make_app, filled):
    """The demo has two stores, and BTCPay can fail a delivery to each: two "never arrived" lines (and a source
    both failing and skipping records: two sync lines) once crashed the Overview with a duplicate option id."""
    from cftui.store.models import SyncState

    # shop's last sync failed and skipped three records.
    SyncState.update(last_error="unreachable", last_result='{"skipped": {"malformed amount": 3}}').where(
        SyncState.source == "btcpay:shop"
    ).execute()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        overview = app.tab("overview")
        overview.btcpay_missed = {"main": 2, "shop": 1}  # what asking BTCPay found (test_btcpay_deliveries.py)
        await settle(pilot)
        shown = [text for _, text in lines(app)]
        assert shown[:4] == [
            "✗ Sync of shop failing: unreachable",
            "⚠ 3 records skipped by the last sync of shop",
            "⚠ 2 webhook deliveries BTCPay sent to main never arrived",
            "⚠ 1 webhook delivery BTCPay sent to shop never arrived",
        ]
        await choose(app, pilot, lines(app)[3][0])
        assert isinstance(app.screen, BtcpayDeliveriesScreen)
        await pilot.press("escape")
        await settle(pilot)
        await choose(app, pilot, lines(app)[1][0])
        assert isinstance(app.screen, SyncStatusScreen)


async def test_enter_at_once_opens_the_first_problem(make_app, filled):
    """The list has the focus when the Overview opens: its first line is highlighted, so enter opens it without
    an arrow key first (as the first row of every other list)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        listing = app.tab("overview").query_one("#overview-problems", OptionList)
        assert app.focused is listing and listing.highlighted == 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncStatusScreen)


async def test_angor_events_that_fail_verification_are_not_a_problem_but_sync_status_lists_them(make_app, store):
    """Anyone can publish to a Nostr relay: other people's events that fail verification are the check doing its
    job, nothing the user can fix, so they are no line in Problems (the demo's relays carry five, which once showed
    a warning on every start). The sync status screen, from the palette, still lists them by reason."""
    from cftui.store.models import SyncState

    SyncState.insert(source="angor", last_success_time=data.NOW,
                     last_result='{"skipped": {"invalid event: bad signature": 5}}').execute()  # fmt: skip
    app = make_app(data.make_config(stores=("main",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert lines(app) == [("none", "✓ Nothing needs a look.")]
        app.action_command_palette()
        await settle(pilot)
        await pilot.press(*"sync status")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncStatusScreen)
        body = app.screen.query_one("#sync-status-body")
        shown = "\n".join(strip.text for strip in body.render_lines(body.region.reset_offset))
        assert "Angor" in shown and "5 × invalid event: bad signature" in shown


async def test_an_angor_sync_that_fails_is_still_a_problem(make_app, store):
    from cftui.store.models import SyncState

    SyncState.insert(source="angor", last_error="No Angor relay answered.", last_error_time=data.NOW,
                     last_result='{"skipped": {"invalid event: bad signature": 5}}').execute()  # fmt: skip
    app = make_app(data.make_config(stores=("main",)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert lines(app) == [("sync:angor:failing", "✗ Sync of Angor failing: No Angor relay answered.")]
