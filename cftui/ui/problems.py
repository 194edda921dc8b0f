"""The Overview's Problems list: each line says what is wrong and opens the list that shows it.

=================================  ==============================================
line                               opens
=================================  ==============================================
rejected webhook deliveries        Webhooks, verdict "rejected"
sent by BTCPay, never received     BTCPay's deliveries beside ours (b on Webhooks)
a sync failing / records skipped   each source's last sync, with the reasons
paid late / part-paid / overpaid   Invoices filtered by that flag, the same
/ marked invoices                  range and store as the Overview
=================================  ==============================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import OptionList

from cftui.store.problem_queries import Problems
from cftui.ui.formatting import cut
from cftui.ui.messages import ShowDeliveries, ShowInvoices, ShowSyncStatus
from cftui.ui.widgets.status_line import label

if TYPE_CHECKING:
    from cftui.ui.tabs.overview import OverviewTab

BTCPAY_CHECK_SECONDS = 300  # BTCPay's delivery list is a request per store: at most this often
BTCPAY_CHECK_COUNT = 50
# Each flag's line, for one invoice and for several.
FLAG_TEXT = {
    "PaidLate": ("invoice paid after it expired", "invoices paid after they expired"),
    "PaidPartial": ("invoice part-paid (underpaid)", "invoices part-paid (underpaid)"),
    "PaidOver": ("invoice overpaid (a refund to make?)", "invoices overpaid (a refund to make?)"),
    "Marked": ("invoice marked by hand in BTCPay", "invoices marked by hand in BTCPay"),
}
ERROR_WIDTH = 160  # the list itself cuts a line to the screen, with an ellipsis


def counted(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def problem_choices(found: Problems, btcpay_missed: dict[str, int], range_key: str) -> list[tuple[str, str]]:
    """(option id, text) per problem, the most urgent first. Each id is unique (the list needs that): the kind of
    problem, then what it is about (a source, a store); :func:`open_problem` goes by the kind."""
    choices: list[tuple[str, str]] = []
    for trouble in found.sync:
        who = label(trouble.source)
        if trouble.error:
            error = cut(" ".join(trouble.error.split()), ERROR_WIDTH)
            choices.append((f"sync:{trouble.source}:failing", f"✗ Sync of {who} failing: {error}"))
        if trouble.skipped_needs_a_look:
            skipped = counted(trouble.skipped_total, "record", "records")
            choices.append((f"sync:{trouble.source}:skipped", f"⚠ {skipped} skipped by the last sync of {who}"))
    for store, missed in sorted(btcpay_missed.items()):
        if missed:
            lost = counted(missed, "webhook delivery", "webhook deliveries")
            choices.append((f"missed:{store}", f"⚠ {lost} BTCPay sent to {store} never arrived"))
    if found.rejected_24h:
        rejected = counted(found.rejected_24h, "webhook delivery", "webhook deliveries")
        choices.append(("rejected", f"⚠ {rejected} rejected in the last 24 h"))
    for flag, (one, many) in FLAG_TEXT.items():
        count = found.flagged.get(flag, 0)
        if count:
            choices.append((f"flag:{flag}", f"● {counted(count, one, many)} ({range_key})"))
    return choices


def open_problem(overview: OverviewTab, key: str) -> None:
    """Show the list behind a problem line: a screen over the Overview, or another tab (asked of the app)."""
    if key == "rejected":
        overview.post_message(ShowDeliveries("rejected"))
    elif key.startswith("missed:"):
        from cftui.ui.screens.btcpay_deliveries import open_btcpay_deliveries

        open_btcpay_deliveries(overview, overview.config.btcpay)
    elif key.startswith("sync:"):
        overview.post_message(ShowSyncStatus())
    elif key.startswith("flag:"):
        flag = key.removeprefix("flag:")
        overview.post_message(ShowInvoices(additional=(flag,), range_key=overview.range_key, store=overview.store_name))


class ProblemList(OptionList):
    """↑↓ pick a problem and enter opens it; the page keys scroll the Overview, as they do elsewhere on it."""

    BINDINGS = [
        Binding("pageup", "scroll_page(-1)", show=False),
        Binding("pagedown", "scroll_page(1)", show=False),
    ]

    def action_scroll_page(self, direction: int) -> None:
        body = self.parent
        if isinstance(body, Widget):
            body.scroll_page_down() if direction > 0 else body.scroll_page_up()
