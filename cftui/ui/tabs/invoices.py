"""Invoices tab: one keyset page of the store at a time, sorted and filtered in SQL.

The table never holds more than ``ui.page_size`` rows; moving past its edge
fetches the neighbouring page (``queries.page_invoices`` with a keyset
cursor). Every read is a load of :mod:`cftui.ui.reloading`: one thread worker
at a time, a :class:`PageLoaded` message back, older requests dropped, so
fast key presses never show an old page. What the user asked to see is the
``view`` reactive; changing it loads the first page.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, TextIO

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from cftui.domain import ALL_STATUSES, ExportFormat, InvoiceSort
from cftui.printable import printable
from cftui.store import queries
from cftui.ui import ranges
from cftui.ui.exporting import export_format, start_export
from cftui.ui.focus import keep_focus
from cftui.ui.keys import shared_keys
from cftui.ui.messages import OpenInvoice, ShowInvoices, Source
from cftui.ui.reloading import Loaded
from cftui.ui.stores import next_store, store_ids
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.invoice_table import COLUMNS, InvoiceTable, fit_columns
from cftui.ui.widgets.list_table import PageDirection

FILTER_DEBOUNCE = 0.3  # seconds of quiet typing before a text filter runs
STATUS_CYCLE: tuple[str | None, ...] = (None, *ALL_STATUSES)
# BTCPay's additional status: the invoices someone should look at, together or one kind at a time.
PROBLEMS = ("PaidPartial", "PaidLate", "Marked")
NOTE_CYCLE: tuple[tuple[str, ...], ...] = ((), PROBLEMS, ("PaidPartial",), ("PaidLate",), ("PaidOver",), ("Marked",))
NOTE_LABELS = {PROBLEMS: "part-paid, late or marked", ("PaidPartial",): "part-paid", ("PaidLate",): "paid late",
               ("PaidOver",): "overpaid", ("Marked",): "marked"}  # fmt: skip
# The orders the tab offers, in the order s goes through them (the store can also sort by currency).
SORT_CYCLE: tuple[InvoiceSort, ...] = ("created", "amount", "btc", "status", "id")
# Newest / largest first for times and amounts; A-Z for text.
DESCENDING_FIRST: dict[InvoiceSort, bool] = {"created": True, "amount": True, "btc": True, "status": False,
                                             "id": False, "currency": False}  # fmt: skip
SORT_LABELS: dict[InvoiceSort, str] = {"created": "created", "amount": "amount within currency", "btc": "sats paid",
                                       "status": "status", "id": "invoice id", "currency": "currency"}  # fmt: skip
# A page move: the table's page keys, or the same page again (the data changed).
Move = PageDirection | Literal["reload"]


@dataclass(frozen=True)
class View:
    """What the user asked to see: filters and order (not the position)."""

    status: str | None = None
    range_key: str = "all"
    text: str = ""
    sort: InvoiceSort = "created"
    descending: bool = True
    store: str | None = None  # a configured store's name; None = every store
    additional: tuple[str, ...] = ()  # BTCPay's additional status; () = any
    app: tuple[str, str] | None = None  # (app id, title): a crowdfund's invoices

    def invoice_filter(self) -> queries.InvoiceFilter:
        """The store-layer filter (reads the store's ids: call it in a worker)."""
        return queries.InvoiceFilter(
            stores=store_ids(self.store),
            statuses=(self.status,) if self.status else (),
            since=ranges.since(self.range_key),
            text=self.text,
            app_id=self.app[0] if self.app else None,
            additional=self.additional,
        )

    @property
    def filtered(self) -> bool:
        return self != View(sort=self.sort, descending=self.descending)

    def describe(self) -> list[str]:
        """The filters in effect, for the line under the table."""
        parts = [f"status {self.status or 'all'}", f"range {self.range_key}"]
        if self.store:
            parts.append(f"store {self.store}")
        if self.additional:
            parts.append(NOTE_LABELS.get(self.additional, ", ".join(self.additional)))
        if self.app:
            parts.append(f"campaign {printable(self.app[1])}")
        if self.text:
            parts.append(f"text “{printable(self.text)}”")
        return parts


@dataclass(frozen=True)
class PageRequest:
    view: View
    move: Move
    limit: int
    cursor: queries.Cursor | None = None  # the edge row to page from (next/prev)
    offset: int = 0  # the current first row's offset (for next/prev/reload)
    rows_shown: int = 0
    total: int | None = None  # known count, None to count again
    keep_pk: int | None = None  # row to keep the cursor on after a reload


@dataclass
class PageLoaded(Loaded):
    request: PageRequest
    page: queries.InvoicePage
    offset: int
    total: int


@dataclass
class Shown:
    """The page on screen."""

    page: queries.InvoicePage | None = None
    offset: int = 0
    total: int = 0
    columns: tuple[str, ...] = ()
    sort_shown: tuple[str, bool] | None = None
    rows: list = field(default_factory=list)


def fetch(request: PageRequest) -> tuple[queries.InvoicePage, int, int]:
    """Run a page request against the store: (page, offset of its first row, total)."""
    f = request.view.invoice_filter()
    sort, desc, limit = request.view.sort, request.view.descending, request.limit
    total = queries.count_invoices(f) if request.total is None else request.total
    if request.move == "next" and request.cursor is not None:
        page = queries.page_invoices(f, sort=sort, descending=desc, after=request.cursor, limit=limit, total=total)
        return page, request.offset + request.rows_shown, total
    if request.move == "prev" and request.cursor is not None:
        page = queries.page_invoices(f, sort=sort, descending=desc, before=request.cursor, limit=limit, total=total)
        return page, max(0, request.offset - len(page.rows)), total
    if request.move == "last":
        # The first page of the reverse order is the last page of this one.
        reverse = queries.page_invoices(f, sort=sort, descending=not desc, limit=limit, total=total)
        rows = list(reversed(reverse.rows))
        page = queries.InvoicePage(
            rows=rows,
            first=reverse.last,
            last=reverse.first,
            has_next=False,
            has_prev=reverse.has_next,
        )
        return page, max(0, total - len(rows)), total
    if request.move == "reload" and request.offset > 0:
        offset = min(request.offset, max(0, total - 1))
        return queries.page_at_offset(f, sort, desc, offset, limit, total=total), offset, total
    return queries.page_invoices(f, sort=sort, descending=desc, limit=limit, total=total), 0, total


class InvoicesTab(ReloadingTab[PageLoaded]):
    """The Invoices tab (pane ``invoices``)."""

    TITLE = "Invoices"
    BINDINGS = [
        *shared_keys("invoices", "filter", "status", "store", "range", "range_back", "sort", "reverse", "copy_id",
                     "export_csv", "export_json", "clear"),
        Binding("n", "cycle_note", "Note", show=False, id="invoices.note"),
        Binding("l", "copy_link", "Copy link", show=False, id="invoices.copy_link"),
    ]
    RELOAD_ON = frozenset({Source.INVOICES})

    # What the user asked to see; set it (even to the same) and the first page of it loads.
    view: var[View] = var(View, always_update=True, init=False)

    def __init__(self, config) -> None:
        super().__init__(config)
        self._shown = Shown()
        self._move: Move | None = None  # the page move the next load makes (None: the same page again)
        self._recount = True  # the data changed since the total was counted
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="invoice id, order id or email (prefix) — Enter applies, Esc clears", id="invoice-filter"
        )
        yield InvoiceTable(id="invoice-table")
        yield EmptyState(id="invoice-empty")
        yield Static("loading…", id="invoice-info", classes="info-line")

    @property
    def table(self) -> InvoiceTable:
        return self.query_one(InvoiceTable)

    @property
    def shown(self) -> Shown:
        """The page on screen: its rows, the offset of the first, the total (read it; the tab writes it)."""
        return self._shown

    @property
    def page_size(self) -> int:
        return self.config.ui.page_size

    def focus_targets(self) -> tuple:
        """What takes the focus when the tab is shown: the filter being typed, the table, or its empty state."""
        box = self.query_one("#invoice-filter", Input)
        return (*((box,) if box.display else ()), self.table, self.query_one(EmptyState))

    # ------------------------------------------------------------ loading

    def watch_view(self) -> None:
        self._go("first")

    def watch_config(self) -> None:
        self._recount = True
        super().watch_config()

    def reload(self) -> None:
        self._recount = True
        super().reload()

    def _go(self, move: Move) -> None:
        self._move = move
        self.load()

    def start_load(self, seq: int):
        move: Move = self._move or ("reload" if self._shown.page is not None else "first")
        self._move = None
        recount = self._recount or move not in ("next", "prev")
        self._recount = False
        return self._load(seq, self._page_request(move, recount=recount))

    def _page_request(self, move: Move, *, recount: bool) -> PageRequest:
        shown = self._shown
        cursor = None
        if shown.page is not None:
            cursor = shown.page.last if move == "next" else shown.page.first if move == "prev" else None
        keep_pk = None
        if move == "reload":
            keep_pk = self.table.cursor_pk()
        return PageRequest(
            view=self.view,
            move=move,
            limit=self.page_size,
            cursor=cursor,
            offset=shown.offset,
            rows_shown=len(shown.rows),
            total=None if recount else shown.total,
            keep_pk=keep_pk,
        )

    @work(thread=True, exclusive=True, group="invoices-load", exit_on_error=False, description="read the invoices")
    def _load(self, seq: int, request: PageRequest) -> None:
        page, offset, total = fetch(request)
        self.post_message(PageLoaded(seq, request, page, offset, total))

    def load_failed(self, error: BaseException | None) -> None:
        self.query_one("#invoice-info", Static).update(f"could not read invoices: {error}")

    def show_loaded(self, message: PageLoaded) -> None:
        self._shown.page = message.page
        self._shown.offset = message.offset
        self._shown.total = message.total
        self._shown.rows = message.page.rows
        self._render_page(keep_pk=message.request.keep_pk, move=message.request.move)

    # ------------------------------------------------------------ rendering

    def _render_page(self, *, keep_pk: int | None = None, move: str = "reload") -> None:
        table = self.table
        page = self._shown.page
        if page is None:
            return
        columns = fit_columns(max(self.size.width, 40), multi_store=len(self.config.btcpay) > 1)
        keys = tuple(c.key for c in columns)
        sort_shown = (self.view.sort, self.view.descending)
        old_row = table.cursor_row
        with self.app.batch_update():
            if keys != self._shown.columns or sort_shown != self._shown.sort_shown:
                table.clear(columns=True)
                for column in columns:
                    table.add_column(self._header(column), width=column.width, key=column.key)
                self._shown.columns = keys
                self._shown.sort_shown = sort_shown
            else:
                table.clear()
            styles = table.status_styles()
            for row in page.rows:
                table.add_row(*table.cells(row, columns, styles), key=str(row.pk))
            table.has_next = page.has_next
            table.has_prev = page.has_prev
            target = 0
            if move == "prev":
                target = len(page.rows) - 1
            elif move == "last":
                target = len(page.rows) - 1
            elif move == "reload":
                target = min(old_row, max(0, len(page.rows) - 1))
                if keep_pk is not None:
                    target = next((i for i, r in enumerate(page.rows) if r.pk == keep_pk), target)
            if page.rows:
                table.move_cursor(row=target, animate=False)
        self._render_info()

    def _header(self, column) -> Text:
        if column.sort and column.sort == self.view.sort:
            return Text(f"{column.label} {'▼' if self.view.descending else '▲'}", style="bold")
        return Text(column.label)

    def _render_info(self) -> None:
        shown = self._shown
        view = self.view
        empty = self.query_one(EmptyState)
        if shown.total == 0:
            empty.update(
                "No invoice matches these filters (f status, w store, n note, d range, / text; esc clears them)."
                if view.filtered
                else "No invoices yet. Press r to sync now; stores are set up in Settings (key 5)."
            )
        empty.display = shown.total == 0
        self.table.display = shown.total > 0
        keep_focus(self, self.table, empty)
        first = shown.offset + 1 if shown.rows else 0
        last = shown.offset + len(shown.rows)
        rows = f"rows {first:,}–{last:,} of {shown.total:,}" if shown.total else "no rows"
        parts = [rows, *view.describe(), f"sort {SORT_LABELS[view.sort]} {'▼' if view.descending else '▲'}", "UTC"]
        self.query_one("#invoice-info", Static).update(Text(" · ".join(parts)))

    def on_resize(self) -> None:
        if self._shown.page is not None:
            columns = fit_columns(max(self.size.width, 40), multi_store=len(self.config.btcpay) > 1)
            if tuple(c.key for c in columns) != self._shown.columns:
                self._render_page()

    # ------------------------------------------------------------ paging and sorting

    @on(InvoiceTable.PageRequested)
    def _page_requested(self, message: InvoiceTable.PageRequested) -> None:
        self._go(message.direction)

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        sort = next((c.sort for c in COLUMNS if c.key == key), None)
        if sort is None:
            return
        if sort == self.view.sort:
            self._set_view(descending=not self.view.descending)
        else:
            self._set_view(sort=sort, descending=DESCENDING_FIRST[sort])

    def action_cycle_sort(self) -> None:
        sort = SORT_CYCLE[(SORT_CYCLE.index(self.view.sort) + 1) % len(SORT_CYCLE)]
        self._set_view(sort=sort, descending=DESCENDING_FIRST[sort])

    def action_reverse(self) -> None:
        self._set_view(descending=not self.view.descending)

    def action_cycle_status(self) -> None:
        index = STATUS_CYCLE.index(self.view.status)
        self._set_view(status=STATUS_CYCLE[(index + 1) % len(STATUS_CYCLE)])

    def action_cycle_range(self, by: int = 1) -> None:
        self._set_view(range_key=ranges.step(self.view.range_key, by))

    def action_cycle_store(self) -> None:
        self._set_view(store=next_store(self.config, self.view.store))

    def action_cycle_note(self) -> None:
        index = NOTE_CYCLE.index(self.view.additional) if self.view.additional in NOTE_CYCLE else 0
        self._set_view(additional=NOTE_CYCLE[(index + 1) % len(NOTE_CYCLE)])

    def show_filtered(self, request: ShowInvoices) -> None:
        """Show a filtered list asked for elsewhere (the Overview's problems, a campaign): other filters reset."""
        box = self.query_one("#invoice-filter", Input)
        box.value, box.display = "", False
        self.view = View(sort=self.view.sort, descending=self.view.descending, store=request.store,
                         range_key=request.range_key, additional=request.additional, app=request.app)  # fmt: skip

    def _set_view(self, **changes) -> None:
        self.view = replace(self.view, **changes)

    # ------------------------------------------------------------ text filter

    def action_filter(self) -> None:
        box = self.query_one("#invoice-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#invoice-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(FILTER_DEBOUNCE, lambda: self._apply_text(event.value))

    @on(Input.Submitted, "#invoice-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._apply_text(event.value)
        self.table.focus()

    def _apply_text(self, text: str) -> None:
        text = text.strip()
        if text != self.view.text:
            self._set_view(text=text)

    def action_clear_filter(self) -> None:
        """esc: the text box first (while typing), then every filter."""
        box = self.query_one("#invoice-filter", Input)
        if self._debounce is not None:
            self._debounce.stop()
        typing = box.display
        box.value = ""
        box.display = False
        self.table.focus()
        if typing or self.view.text:
            self._apply_text("")
        elif self.view.filtered:
            self._set_view(status=None, range_key="all", store=None, additional=(), app=None)

    # ------------------------------------------------------------ row actions

    def _current_row(self):
        table = self.table
        if not table.row_count or not self._shown.rows:
            return None
        pk = table.cursor_pk()
        return next((row for row in self._shown.rows if row.pk == pk), None)

    @on(DataTable.RowSelected, "#invoice-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenInvoice(int(event.row_key.value)))

    def action_copy_id(self) -> None:
        row = self._current_row()
        if row is None:
            return
        self.app.copy_to_clipboard(row.invoice_id)
        self.notify(f"Copied invoice id {row.invoice_id}", markup=False)

    def action_copy_link(self) -> None:
        row = self._current_row()
        if row is None:
            return
        link = row.checkout_link
        if not link:
            self.notify("This invoice has no checkout link.", severity="warning")
            return
        self.app.copy_to_clipboard(link)
        self.notify(f"Copied checkout link {link}", markup=False)

    def action_export(self, name: str) -> None:
        self.export(export_format(name))

    def export(self, fmt: ExportFormat) -> None:
        """Write the current filtered view to a file in a worker; a toast shows the path."""
        from cftui import export

        view = self.view

        def write(out: TextIO) -> int:
            return export.export_invoices(view.invoice_filter(), fmt, out, sort=view.sort, descending=view.descending)

        start_export(self, "invoices", fmt, write)
