"""Tab 7, Payments: the contributions feed, newest first, live.

Every payment BTCPay recorded: when, how much in BTC and in the invoice's
currency (at the invoice's own rate), to which campaign or store, on-chain or
Lightning, settled or still confirming. It reloads whenever the store changes
(a sync, a webhook, another process), even while another tab is shown, so it
can say when a contribution settles: a toast when ``[ui] notify`` is on, the
terminal bell when ``[ui] bell`` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import DataTable, Static

from cftui import clock
from cftui.money import format_btc_msat
from cftui.printable import printable
from cftui.store.payment_queries import FeedCursor, PaymentPage, PaymentRow, recent_payments
from cftui.ui.focus import keep_focus
from cftui.ui.formatting import cut, money
from cftui.ui.keys import shared_keys
from cftui.ui.messages import OpenInvoice, Source
from cftui.ui.reloading import Loaded
from cftui.ui.stores import next_store, store_ids
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.list_table import PagedTable

PAGE = 200
WIDE = 100
# A payment that settles more than this long after it arrived is from history (a first sync): no toast.
FRESH_SECONDS = 3600
SHOWN_IN_TOAST = 3
STATUS_MARK = {"Settled": "✓", "Processing": "○"}


@dataclass
class PaymentsLoaded(Loaded):
    newest: PaymentPage  # the newest payments of every store: what settled
    page: PaymentPage  # what the store filter and the page show


@dataclass
class _Feed:
    """What the tab knows: the page shown, and the newest page's statuses (to see what settled)."""

    page: PaymentPage | None = None
    pages_back: list[FeedCursor] = field(default_factory=list)  # cursors of the newer pages' last rows
    statuses: dict[int, str] | None = None  # None until the first load
    newest_pk: int = 0


def when(row: PaymentRow, wide: bool) -> str:
    moment = clock.to_datetime(row.received_time)
    if wide:
        return moment.strftime("%Y-%m-%d %H:%M")
    recent = clock.now_s() - row.received_time < 180 * 86_400
    return moment.strftime("%m-%d %H:%M" if recent else "%Y-%m-%d")


def value_text(row: PaymentRow) -> str:
    return "—" if row.value is None else money(row.value, row.currency, rounded=True)


def recipient(row: PaymentRow) -> str:
    """The campaign (an app title anyone with the store's settings can write) or the store, escaped."""
    return printable(row.campaign or row.store_name)


def newly_settled(feed: _Feed, newest: PaymentPage, now: int) -> list[PaymentRow]:
    """Payments that settled since the last load: known ones that changed, and fresh new ones.

    Nothing before the store shows its first payments: those (a first sync's history, however recent)
    are the baseline, not news.
    """
    if not feed.statuses:
        return []
    settled = []
    for row in newest.rows:
        before = feed.statuses.get(row.pk)
        if row.status != "Settled" or before == "Settled":
            continue
        if before is not None or (row.pk > feed.newest_pk and now - row.received_time <= FRESH_SECONDS):
            settled.append(row)
    return settled


def settled_toast(rows: list[PaymentRow]) -> str:
    lines = [f"{format_btc_msat(r.value_msat)} · {value_text(r)} to {recipient(r)} ({r.method_label})"
             for r in rows[:SHOWN_IN_TOAST]]  # fmt: skip
    if len(rows) > SHOWN_IN_TOAST:
        lines.append(f"and {len(rows) - SHOWN_IN_TOAST} more")
    return "\n".join(lines)


class PaymentTable(PagedTable):
    pass


class PaymentsTab(ReloadingTab[PaymentsLoaded]):
    """The Payments tab (pane ``payments``)."""

    TITLE = "Payments"
    BINDINGS = [
        *shared_keys("payments", "store", "copy_id"),
        Binding("enter", "open", "Invoice", show=False, id="payments.open"),
    ]
    RELOAD_ON = frozenset({Source.INVOICES})
    # Hidden or not: a settled contribution must be noticed wherever the user is.
    LOAD_WHEN_HIDDEN = True

    store: var[str | None] = var(None, init=False)  # the store filter (w); None: every store

    def __init__(self, config) -> None:
        super().__init__(config, id="payments-tab")
        self._feed = _Feed()
        self._drawn = False  # the table shows the feed's current page

    def compose(self) -> ComposeResult:
        yield PaymentTable(id="payments-table")
        yield EmptyState(id="payments-empty")
        yield Static("loading…", id="payments-info", classes="info-line")

    @property
    def table(self) -> PaymentTable:
        return self.query_one(PaymentTable)

    def focus_targets(self) -> tuple:
        return self.table, self.query_one(EmptyState)

    # ------------------------------------------------------------ loading

    def watch_store(self) -> None:
        self._feed = _Feed(statuses=self._feed.statuses, newest_pk=self._feed.newest_pk)
        self.load()

    def start_load(self, seq: int):
        older = self._feed.pages_back[-1] if self._feed.pages_back else None
        return self._load(seq, self.store, older)

    @work(thread=True, exclusive=True, group="payments-load", exit_on_error=False, description="read the payments feed")
    def _load(self, seq: int, store: str | None, older: FeedCursor | None) -> None:
        stores = store_ids(store)
        # The newest payments of every store tell what settled; the page is what the filters show.
        newest = recent_payments(limit=PAGE)
        page = newest if older is None and not stores else recent_payments(stores, older_than=older, limit=PAGE)
        self.post_message(PaymentsLoaded(seq, newest, page))

    def show_loaded(self, message: PaymentsLoaded) -> None:
        self._announce(newly_settled(self._feed, message.newest, clock.now_s()))
        self._feed.statuses = {row.pk: row.status for row in message.newest.rows}
        self._feed.newest_pk = max([self._feed.newest_pk, *self._feed.statuses], default=0)
        unchanged = self._feed.page is not None and self._feed.page.rows == message.page.rows
        self._feed.page = message.page
        # Hidden, it only watches for settlements: drawing 200 rows each second of a sync would cost the
        # event loop for nothing. It draws when shown, and only what changed.
        self._drawn = self._drawn and unchanged
        if self._showing() and not self._drawn:
            self._show_rows()

    def on_show(self) -> None:
        if self._feed.page is not None and not self._drawn:
            self._show_rows()

    def _announce(self, rows: list[PaymentRow]) -> None:
        ui = self.config.ui
        if not rows:
            return
        if ui.notify:
            title = "Contribution settled" if len(rows) == 1 else f"{len(rows)} contributions settled"
            self.app.notify(settled_toast(rows), title=title, markup=False)
        if ui.bell:
            self.app.bell()

    # ------------------------------------------------------------ rendering

    def _columns(self) -> list[tuple[str, str]]:
        wide = self.size.width >= WIDE
        columns = [("when", "Received"), ("btc", "Amount"), ("value", "Value"), ("to", "For"), ("method", "Method"),
                   ("status", "")]  # fmt: skip
        if wide:
            columns.insert(4, ("invoice", "Invoice"))
        return columns

    def _show_rows(self) -> None:
        page = self._feed.page
        if page is None:
            return
        table = self.table
        wide = self.size.width >= WIDE
        selected = self._selected_pk()
        columns = self._columns()
        table.start_over(columns)
        styles = {"Settled": table.theme_style("success"), "Processing": table.theme_style("warning")}
        for row in page.rows:
            cells = self._cells(row, wide, styles)
            table.add_row(*(cells[key] for key, _ in columns), key=str(row.pk))
        table.has_next = page.has_older
        table.has_prev = bool(self._feed.pages_back)
        if selected is not None and any(row.pk == selected for row in page.rows):
            table.move_cursor(row=table.get_row_index(str(selected)), animate=False)
        self._render_info()
        self._drawn = True

    @staticmethod
    def _cells(row: PaymentRow, wide: bool, styles) -> dict[str, object]:
        to = recipient(row)
        return {
            "when": when(row, wide),
            "btc": Text(format_btc_msat(row.value_msat), justify="right"),
            "value": Text(value_text(row), justify="right"),
            "to": cut(to, 24 if wide else 16),
            "invoice": printable(row.invoice_id),
            "method": row.method_label,
            "status": Text(STATUS_MARK.get(row.status, "?"), style=styles.get(row.status, "")),
        }

    def _render_info(self) -> None:
        rows = self._feed.page.rows if self._feed.page else []
        empty = self.query_one(EmptyState)
        if not rows:
            empty.update("No payments here yet." if self.store is None and not self._feed.pages_back else
                         "No payments for this store (w changes it).")
        empty.display = not rows
        self.table.display = bool(rows)
        keep_focus(self, self.table, empty)
        page = "newest" if not self._feed.pages_back else f"page {len(self._feed.pages_back) + 1}"
        notify = "on" if self.config.ui.notify else "off (Settings)"
        parts = [f"{page} {len(rows):,} payments", f"store {self.store or 'all'}", "✓ settled  ○ confirming",
                 f"notify {notify}", "UTC"]
        self.query_one("#payments-info", Static).update(" · ".join(parts))

    def on_resize(self) -> None:
        if self._feed.page is not None and [key for key, _ in self._columns()] != self.table.column_keys():
            self._show_rows()

    def _selected_pk(self) -> int | None:
        return self.table.cursor_pk()

    def _selected(self) -> PaymentRow | None:
        pk = self._selected_pk()
        rows = self._feed.page.rows if self._feed.page else []
        return next((row for row in rows if row.pk == pk), None)

    # ------------------------------------------------------------ actions

    @on(PagedTable.PageRequested)
    def _page(self, message: PagedTable.PageRequested) -> None:
        feed = self._feed
        if message.direction == "next" and feed.page and feed.page.rows:
            last = feed.page.rows[-1]
            feed.pages_back.append(FeedCursor(last.received_time, last.pk))
        elif message.direction == "prev" and feed.pages_back:
            feed.pages_back.pop()
        elif message.direction == "first":
            if not feed.pages_back:
                self.table.move_cursor(row=0, animate=False)
                return
            feed.pages_back.clear()
        else:  # "last": the oldest payment is rarely wanted; the last row of this page, then PgDn for older
            self.table.move_cursor(row=max(0, self.table.row_count - 1), animate=False)
            return
        self.load()

    def action_cycle_store(self) -> None:
        self.store = next_store(self.config, self.store)

    @on(DataTable.RowSelected, "#payments-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self._selected()
        if row is not None:
            self.post_message(OpenInvoice(row.invoice_pk))

    def action_copy_id(self) -> None:
        row = self._selected()
        if row is not None:
            self.app.copy_to_clipboard(row.invoice_id)
            self.notify(f"Copied invoice id {row.invoice_id}", markup=False)
