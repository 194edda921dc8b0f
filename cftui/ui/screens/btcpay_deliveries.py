"""BTCPay's own list of its webhook deliveries, beside what this receiver recorded.

BTCPay keeps, per webhook, the deliveries it sent and what came back
(``GET .../webhooks/{id}/deliveries``). Joined with our records by delivery
id, a delivery BTCPay sent that never reached us stands out as
"✗ never received": one BTCPay marked failed (it retries, then gives up), or
one it marked delivered that something else at the URL answered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static

from cftui import clock
from cftui.config import StoreConfig
from cftui.errors import CftuiError
from cftui.ui.reloading import Loaded, Reloading
from cftui.ui.screens.base import BACK, DetailScreen
from cftui.ui.widgets.delivery_log import verdict_label
from cftui.ui.widgets.footer import AppFooter
from cftui.webhooks.btcpay_view import DeliveryComparison, btcpay_deliveries, compare

COUNT = 50  # newest deliveries per store, as BTCPay's own webhook page shows
NOT_RECEIVED = "✗ never received"
COLUMNS = ("Store", "Sent (UTC)", "BTCPay", "Here", "Waited", "Delivery id")


@dataclass(frozen=True)
class StoreDeliveries:
    store: str
    rows: list[DeliveryComparison]
    problem: str | None = None  # why BTCPay's list could not be read


@dataclass
class BtcpayDeliveriesLoaded(Loaded):
    stores: list[StoreDeliveries]


def sent_at(row: DeliveryComparison) -> str:
    """HH:MM:SS today (UTC), MM-DD HH:MM before: narrow enough for 80 columns."""
    when = row.delivery_time if row.delivery_time is not None else row.timestamp
    if when is None:
        return "-"
    moment = clock.to_datetime(when)
    today = clock.to_datetime(clock.now()).date()
    return moment.strftime("%H:%M:%S" if moment.date() == today else "%m-%d %H:%M")


def btcpay_outcome(row: DeliveryComparison) -> str:
    return f"{row.btcpay_status} {row.http_code}" if row.http_code is not None else row.btcpay_status


def waited(row: DeliveryComparison) -> str:
    """How long BTCPay held the delivery back behind earlier ones (BTCPay 2.3.4+ says when it sent it)."""
    lag = row.lag_s
    if lag is None:
        return "-"
    return f"{lag} s" if lag < 120 else f"{lag // 60} min"


def problems(results: list[StoreDeliveries]) -> str:
    """A line per store whose list could not be read: why, and what to do."""
    return "\n".join(f"{result.store}: {result.problem}" for result in results if result.problem is not None)


def summary(results: list[StoreDeliveries]) -> str:
    """A line per store that answered: were all of BTCPay's deliveries received here?"""
    lines = []
    for result in results:
        if result.problem is not None:
            continue
        missed = [row for row in result.rows if row.missed]
        failed = sum(1 for row in missed if row.btcpay_status != "HttpSuccess")
        if not result.rows:
            lines.append(f"{result.store}: BTCPay lists no deliveries for this webhook yet.")
        elif not missed:
            lines.append(f"{result.store}: all {len(result.rows)} of BTCPay's newest deliveries were received here.")
        else:
            lines.append(
                f"{result.store}: {len(missed)} of BTCPay's newest {len(result.rows)} deliveries never reached this "
                f"receiver ({failed} marked failed by BTCPay). The next sync fetches their invoices anyway."
            )
    return "\n".join(lines)


def open_btcpay_deliveries(widget: Widget | App[Any], stores: tuple[StoreConfig, ...]) -> None:
    """Push the screen for ``stores`` (the Webhooks tab's b, a problem line, the palette); none: say what to do."""
    if not stores:
        widget.notify("No BTCPay store is configured: add one in Settings (5).", severity="warning")
        return
    widget.app.push_screen(BtcpayDeliveriesScreen(stores))


class BtcpayDeliveriesScreen(DetailScreen, Reloading[BtcpayDeliveriesLoaded]):
    TITLE = "BTCPay's deliveries"
    CSS_PATH = "btcpay_deliveries.tcss"
    BINDINGS = [
        BACK,
        Binding("r", "refresh", "Reload", id="btcpay_deliveries.refresh"),
    ]

    def __init__(self, stores: tuple[StoreConfig, ...]) -> None:
        super().__init__()
        self.stores = stores

    def compose(self) -> ComposeResult:
        yield Label("BTCPay's deliveries beside ours", id="btcpay-title")
        yield Static("", id="btcpay-summary", markup=False)
        yield Static("", id="btcpay-problems", markup=False)
        yield DataTable(id="btcpay-table", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)

    def action_refresh(self) -> None:
        self.load()

    def start_load(self, seq: int):
        names = ", ".join(store.name for store in self.stores)
        self._show_summary(f"Asking BTCPay for the newest {COUNT} deliveries of {names} …")
        return self._load(seq)

    @work(exclusive=True, group="btcpay-deliveries", exit_on_error=False, description="read BTCPay's deliveries")
    async def _load(self, seq: int) -> None:
        results = await asyncio.gather(*(self._read(store) for store in self.stores))
        self.post_message(BtcpayDeliveriesLoaded(seq, list(results)))

    async def _read(self, store: StoreConfig) -> StoreDeliveries:
        try:
            listed = await btcpay_deliveries(store, count=COUNT)
        except CftuiError as exc:  # one line: what, and what to do (never a key or a secret)
            return StoreDeliveries(store.name, [], " ".join(str(exc).split()))
        # The join reads the store: off the event loop.
        return StoreDeliveries(store.name, await asyncio.to_thread(compare, store.name, listed))

    def show_loaded(self, message: BtcpayDeliveriesLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for result in message.stores:
            for row in result.rows:
                ours = row.our_verdict
                here = Text(NOT_RECEIVED, style="bold") if ours is None else Text(verdict_label(ours))
                table.add_row(result.store, sent_at(row), btcpay_outcome(row), here, waited(row), row.delivery_id)
        self._show_summary(summary(message.stores), missed=any(r.missed for s in message.stores for r in s.rows))
        trouble = self.query_one("#btcpay-problems", Static)
        trouble.update(problems(message.stores))
        trouble.display = any(s.problem for s in message.stores)
        table.focus()

    def _show_summary(self, text: str, *, missed: bool = False) -> None:
        widget = self.query_one("#btcpay-summary", Static)
        widget.update(text)
        widget.display = bool(text)
        widget.set_class(missed, "-missed")
