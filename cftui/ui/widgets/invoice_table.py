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

from cftui import clock
from cftui.domain import InvoiceSort
from cftui.money import AmountError, format_fiat, format_sats, parse_decimal
from cftui.printable import printable
from cftui.store.queries import InvoiceRow
from cftui.ui.formatting import cut
from cftui.ui.widgets.list_table import PagedTable

# Shown in the Note column for BTCPay's additional status.
NOTES = {"PaidPartial": "partial", "PaidLate": "late", "PaidOver": "overpaid", "Marked": "marked"}
# Shorter, beside the status at 80 columns ("Settled marked", "Expired late").
SHORT_NOTES = {"PaidPartial": "partial", "PaidLate": "late", "PaidOver": "over", "Marked": "marked"}
# Theme variable per status ("dim" is a plain Rich style).
STATUS_COLOURS = {"Settled": "success", "Processing": "warning", "New": "primary", "Invalid": "error"}
# (New is not "accent": accent is the warning colour in textual-dark and the success colour in ansi-dark, L4.)
# Within this many days a short date (MM-DD HH:MM) cannot be mistaken for next year's; older ones show the year.
RECENT_DAYS = 180


def _created(row: InvoiceRow) -> str:
    return clock.to_datetime(row.created_time).strftime("%Y-%m-%d %H:%M")


def _created_short(row: InvoiceRow) -> str:
    """``05-28 20:14`` this half-year, ``2025-12-06`` before (review M1: no date that reads as tomorrow)."""
    moment = clock.to_datetime(row.created_time)
    recent = clock.now_s() - row.created_time < RECENT_DAYS * 86_400
    return moment.strftime("%m-%d %H:%M" if recent else "%Y-%m-%d")


def amount_text(row) -> str:
    """The invoice's price; a top-up invoice has none until paid ("any amount")."""
    if row.type == "TopUp" and row.amount_e8 == 0:
        return f"any amount {row.currency}"
    try:
        return format_fiat(parse_decimal(row.amount), row.currency)
    except AmountError:  # shown as stored rather than hidden
        return f"{row.amount} {row.currency}"


def _amount(row: InvoiceRow) -> Text:
    return Text(amount_text(row), justify="right", no_wrap=True, overflow="ellipsis")


def _sats(row: InvoiceRow) -> Text:
    text = "—" if row.btc_paid_sats is None else format_sats(row.btc_paid_sats).removesuffix(" sat")
    return Text(text, justify="right", no_wrap=True, overflow="ellipsis")


def _status_note(row: InvoiceRow) -> str:
    note = SHORT_NOTES.get(row.additional_status)
    return f"{row.status} {note}" if note else row.status


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int
    cell: Callable[[InvoiceRow], object]
    sort: InvoiceSort | None = None


# Display order. A layout picks the columns that fit (see LAYOUTS).
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("created", "Created", 16, _created, "created"),
    ColumnSpec("created_short", "Created", 11, _created_short, "created"),
    ColumnSpec("id", "Invoice", 22, lambda r: printable(r.invoice_id), "id"),
    ColumnSpec("id_short", "Invoice", 8, lambda r: cut(printable(r.invoice_id), 8), "id"),
    ColumnSpec("store", "Store", 12, lambda r: cut(r.store_name, 12)),
    ColumnSpec("store_short", "Store", 9, lambda r: cut(r.store_name, 9)),
    ColumnSpec("status", "Status", 10, lambda r: r.status, "status"),
    ColumnSpec("status_note", "Status", 15, _status_note, "status"),
    ColumnSpec("note", "Note", 8, lambda r: NOTES.get(r.additional_status, "")),
    ColumnSpec("amount", "Amount", 15, _amount, "amount"),
    ColumnSpec("amount_short", "Amount", 14, _amount, "amount"),
    ColumnSpec("sats", "Sats paid", 11, _sats, "btc"),
    ColumnSpec("sats_short", "Sats paid", 10, _sats, "btc"),
    # A buyer chose these two (through the checkout or the API): never shown raw (cftui.printable).
    ColumnSpec("order", "Order", 14, lambda r: printable(r.order_id)),
    ColumnSpec("email", "Buyer", 22, lambda r: printable(r.buyer_email)),
)
# From the widest to the narrowest; the first that fits wins, then optional columns fill what is left.
# Every layout keeps the date with no ambiguity, the store (with several), the status with its note,
# the amount and the BTC paid (review M1).
LAYOUTS: tuple[tuple[str, ...], ...] = (
    ("created", "id", "store", "status", "note", "amount", "sats"),
    ("created_short", "id", "store", "status_note", "amount", "sats"),
    ("created_short", "id_short", "store_short", "status_note", "amount_short", "sats_short"),
)
OPTIONAL = ("order", "email")
CELL_PADDING = 1
SCROLLBAR = 1


def _width(specs) -> int:
    return SCROLLBAR + sum(spec.width + 2 * CELL_PADDING for spec in specs)


def fit_columns(width: int, *, multi_store: bool) -> list[ColumnSpec]:
    """The columns to show in ``width`` cells, in display order."""
    by_key = {c.key: c for c in COLUMNS}
    layouts = [[k for k in keys if multi_store or not k.startswith("store")] for keys in LAYOUTS]
    chosen = next((keys for keys in layouts if _width(by_key[k] for k in keys) <= width), layouts[-1])
    for key in OPTIONAL:
        if _width(by_key[k] for k in (*chosen, key)) <= width:
            chosen = [*chosen, key]
    return [c for c in COLUMNS if c.key in chosen]


class InvoiceTable(PagedTable):
    """The invoices of one keyset page; page keys at its edges ask for the neighbouring page."""

    def status_styles(self) -> dict[str, Style]:
        """Rich styles for the status column, from the current theme's colours."""
        themed = {status: self.theme_style(name) for status, name in STATUS_COLOURS.items()}
        return {"Expired": Style(dim=True), **themed}

    def cells(self, row, columns: list[ColumnSpec], styles: dict[str, Style]) -> list[Text]:
        """One table row. Every cell is a Text: ids and emails are never read as markup."""
        out: list[Text] = []
        for column in columns:
            value = column.cell(row)
            if not isinstance(value, Text):
                value = Text(str(value), no_wrap=True)
            if column.key.startswith("status"):
                value.stylize(styles.get(row.status, Style()))
            out.append(value)
        return out
