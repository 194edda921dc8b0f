"""The Invoices table: one keyset page of invoices at a time.

A plain ``DataTable`` holding at most ``ui.page_size`` rows (the built-in
table stalls the event loop at 10^5 rows). Page keys at the table's edge ask
for the neighbouring page instead of stopping: PageDown on the last row posts
``PageRequested("next")``, PageUp on the first ``"prev"``, Home / End the
first / last page. Columns are chosen by priority to fit the width, so 80
columns still show what matters and 120 show more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.color import Color, ColorParseError
from textual.widgets import DataTable

from cftui import clock
from cftui.money import AmountError, format_fiat, format_sats, parse_decimal

# Shown in the Note column for BTCPay's additional status.
NOTES = {"PaidPartial": "partial", "PaidLate": "late", "PaidOver": "overpaid", "Marked": "marked"}
# Theme variable per status ("dim" is a plain Rich style).
STATUS_COLOURS = {"Settled": "success", "Processing": "warning", "New": "accent", "Invalid": "error"}


def _created(row) -> str:
    return clock.to_datetime(row.created_time).strftime("%Y-%m-%d %H:%M")


def _created_short(row) -> str:
    return clock.to_datetime(row.created_time).strftime("%m-%d %H:%M")


def _amount(row) -> Text:
    try:
        text = format_fiat(parse_decimal(row.amount), row.currency)
    except AmountError:  # shown as stored rather than hidden
        text = f"{row.amount} {row.currency}"
    return Text(text, justify="right")


def _sats(row) -> Text:
    text = "—" if row.btc_paid_sats is None else format_sats(row.btc_paid_sats).removesuffix(" sat")
    return Text(text, justify="right")


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int
    cell: Callable[[object], object]
    sort: str | None = None  # queries.SORT_COLUMNS name


# Display order. PRIORITY decides which fit on a narrow screen.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("created", "Created", 16, _created, "created"),
    ColumnSpec("created_short", "Created", 11, _created_short, "created"),
    ColumnSpec("id", "Invoice", 22, lambda r: r.invoice_id, "id"),
    ColumnSpec("store", "Store", 10, lambda r: r.store_name),
    ColumnSpec("status", "Status", 10, lambda r: r.status, "status"),
    ColumnSpec("note", "Note", 8, lambda r: NOTES.get(r.additional_status, "")),
    ColumnSpec("amount", "Amount", 15, _amount, "amount"),
    ColumnSpec("sats", "Sats paid", 11, _sats, "btc"),
    ColumnSpec("order", "Order", 14, lambda r: r.order_id or ""),
    ColumnSpec("email", "Buyer", 22, lambda r: r.buyer_email or ""),
)
PRIORITY = ("created", "id", "status", "amount", "sats", "store", "note", "order", "email")
CELL_PADDING = 1
SCROLLBAR = 1


def fit_columns(width: int, *, multi_store: bool) -> list[ColumnSpec]:
    """The columns to show in ``width`` cells, by priority, in display order.

    The date loses its year before the sats column is dropped.
    """
    by_key = {c.key: c for c in COLUMNS}
    for created in ("created", "created_short"):
        chosen: set[str] = set()
        used = SCROLLBAR
        for key in PRIORITY:
            if key == "store" and not multi_store:
                continue
            spec = by_key[created if key == "created" else key]
            need = spec.width + 2 * CELL_PADDING
            if used + need <= width or len(chosen) < 3:
                chosen.add(spec.key)
                used += need
        if "sats" in chosen:
            break
    return [c for c in COLUMNS if c.key in chosen]


class InvoiceTable(DataTable):
    """A DataTable whose page keys move between keyset pages at its edges."""

    @dataclass
    class PageRequested(Message):
        direction: str  # "next" | "prev" | "first" | "last"

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=CELL_PADDING, **kwargs)
        self.has_next = False
        self.has_prev = False

    def action_page_down(self) -> None:
        if self.row_count == 0 or self.cursor_row >= self.row_count - 1:
            if self.has_next:
                self.post_message(self.PageRequested("next"))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.row_count == 0 or self.cursor_row <= 0:
            if self.has_prev:
                self.post_message(self.PageRequested("prev"))
            return
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.post_message(self.PageRequested("first"))

    def action_scroll_end(self) -> None:
        self.post_message(self.PageRequested("last"))

    def status_styles(self) -> dict[str, Style]:
        """Rich styles for the status column, from the current theme's colours."""
        variables = self.app.theme_variables
        styles = {"Expired": Style(dim=True)}
        for status, name in STATUS_COLOURS.items():
            try:
                styles[status] = Style(color=Color.parse(variables[name]).rich_color)
            except (KeyError, ColorParseError):
                styles[status] = Style()
        return styles

    def cells(self, row, columns: list[ColumnSpec], styles: dict[str, Style]) -> list[Text]:
        """One table row. Every cell is a Text: ids and emails are never read as markup."""
        out: list[Text] = []
        for column in columns:
            value = column.cell(row)
            if not isinstance(value, Text):
                value = Text(str(value), no_wrap=True)
            if column.key == "status":
                value.stylize(styles.get(row.status, Style()))
            out.append(value)
        return out
