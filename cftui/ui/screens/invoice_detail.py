"""One invoice in full: every field, its payment methods and payments, metadata.

Amounts are exact: fiat through ``cftui.money.format_fiat`` on the decimal
text, bitcoin as integer sats shown both as BTC and sats. ``c`` copies the id,
``l`` the checkout link (OSC 52).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cftui import clock
from cftui.money import AmountError, format_btc, format_fiat, format_msat, format_sats, parse_decimal
from cftui.printable import printable
from cftui.store import queries
from cftui.ui.formatting import relative
from cftui.ui.reloading import Loaded, Reloading
from cftui.ui.screens.base import BACK, DetailModal
from cftui.ui.widgets.footer import AppFooter
from cftui.ui.widgets.invoice_table import NOTES, amount_text


def _when(ts: int | None) -> str:
    """ISO time and how far from now, either way ('in 19 h', '364 d ago')."""
    if ts is None:
        return "—"
    return f"{clock.iso(ts)} ({relative(ts)})"


def _fiat(text: str | None, currency: str) -> str:
    if text is None:
        return "—"
    try:
        return format_fiat(parse_decimal(text), currency)
    except AmountError:
        return f"{text} {currency}"


def _rate(text: str) -> str:
    """A rate with thousands separators, exactly as sent otherwise: 62900.76 -> 62,900.76."""
    try:
        return f"{parse_decimal(text, field='rate'):,}"
    except AmountError:
        return text


def _sats(sats: int | None) -> str:
    return "—" if sats is None else f"{format_btc(sats)} ({format_sats(sats)})"


def _pairs(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        # Order ids, emails, item texts and links were chosen by a buyer or a plugin: never shown raw.
        table.add_row(name, Text(printable(value)))
    return table


def _heading(text: str) -> Text:
    return Text(f"\n{text}", style="bold underline")


def invoice_fields(detail: queries.InvoiceDetail) -> list[tuple[str, str]]:
    row = detail.row
    note = row.additional_status
    status = row.status + (f" ({NOTES.get(note, note)})" if note != "None" else "")
    item = " — ".join(x for x in (detail.item_code, detail.item_desc) if x) or "—"
    return [
        ("Invoice id", row.invoice_id),
        ("Store", f"{row.store_name} (BTCPay store {detail.store_id})"),
        ("Status", status),
        ("Type", row.type),
        ("Amount", amount_text(row)),
        ("Paid", _fiat(row.paid_amount, row.currency)),
        ("BTC paid", _sats(row.btc_paid_sats)),
        ("Created", _when(row.created_time)),
        ("Expires", _when(detail.expiration_time)),
        ("Monitored until", _when(detail.monitoring_time)),
        ("Order id", row.order_id or "—"),
        ("Buyer email", row.buyer_email or "—"),
        ("Item", item),
        ("Crowdfund", f"{detail.app_title} ({row.app_id})" if detail.app_title else row.app_id or "—"),
        ("Archived", "yes" if row.archived else "no"),
        ("Checkout link", row.checkout_link or "—"),
        ("Last synced", _when(detail.synced_time)),
    ]


def methods_table(detail: queries.InvoiceDetail) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name in ("Method", "Due", "Paid", "Fee", "Rate"):
        table.add_column(name, justify="left" if name == "Method" else "right", no_wrap=True)
    for m in detail.payment_methods:
        table.add_row(
            m.method + ("" if m.activated else " (inactive)"),
            "—" if m.amount_sats is None else format_sats(m.amount_sats),
            format_sats(m.paid_sats),
            "—" if m.fee_sats is None else format_sats(m.fee_sats),
            f"{_rate(m.rate)} {detail.row.currency}/{m.currency}" if m.rate else "—",
        )
    return table


def destinations(detail: queries.InvoiceDetail) -> Table:
    return _pairs([(f"{m.method} to", m.destination) for m in detail.payment_methods if m.destination])


def payment_lines(detail: queries.InvoiceDetail) -> Text:
    """Two lines a payment: what and when, then the txid:vout or Lightning hash."""
    text = Text()
    for p in detail.payments:
        text.append(f"{p.method}  ", style="bold")
        amounts = f"{format_msat(p.value_msat)}  fee {format_msat(p.fee_msat)}"
        text.append(f"{amounts}  {p.status}  {clock.iso(p.received_time)}\n")
        if p.txid is not None:
            text.append(f"  txid {p.txid}  vout {p.vout}\n")
        else:
            text.append(f"  hash {p.payment_id}\n")
    return text


def pretty_metadata(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


@dataclass
class InvoiceDetailLoaded(Loaded):
    detail: queries.InvoiceDetail | None


class InvoiceDetailScreen(DetailModal, Reloading[InvoiceDetailLoaded]):
    """The invoice detail (Enter on an invoice, or the palette's "Open invoice")."""
    TITLE = "Invoice"
    CSS_PATH = "invoice_detail.tcss"

    BINDINGS = [
        BACK,
        Binding("c", "copy_id", "Copy id", id="invoice_detail.copy_id"),
        Binding("l", "copy_link", "Copy link", id="invoice_detail.copy_link"),
    ]

    def __init__(self, invoice_pk: int) -> None:
        super().__init__()
        self.invoice_pk = invoice_pk
        self.detail: queries.InvoiceDetail | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="invoice-detail"):
            yield Static("loading…", id="invoice-detail-body")
        yield AppFooter()

    def start_load(self, seq: int):
        return self._load(seq)

    @work(thread=True, exclusive=True, group="invoice-detail", exit_on_error=False, description="read the invoice")
    def _load(self, seq: int) -> None:
        self.post_message(InvoiceDetailLoaded(seq, queries.invoice_detail(self.invoice_pk)))

    def load_failed(self, error: BaseException | None) -> None:
        self.query_one("#invoice-detail-body", Static).update(Text(f"Could not read the invoice: {error}"))

    def show_loaded(self, message: InvoiceDetailLoaded) -> None:
        body = self.query_one("#invoice-detail-body", Static)
        self.detail = message.detail
        if self.detail is None:
            body.update("This invoice is no longer in the store.")
            return
        body.update(self._render_detail(self.detail))
        self.query_one("#invoice-detail").border_title = f"Invoice {printable(self.detail.row.invoice_id)}"

    def _render_detail(self, detail: queries.InvoiceDetail) -> Group:
        parts: list = [_pairs(invoice_fields(detail))]
        parts.append(_heading(f"Payment methods ({len(detail.payment_methods)})"))
        if detail.payment_methods:
            parts += [methods_table(detail), destinations(detail)]
        else:
            parts.append(Text("not read yet"))
        parts.append(_heading(f"Payments ({len(detail.payments)})"))
        parts.append(payment_lines(detail) if detail.payments else Text("no payments"))
        parts.append(_heading("Metadata"))
        parts.append(Text(printable(pretty_metadata(detail.metadata), multiline=True)))
        return Group(*parts)

    def action_copy_id(self) -> None:
        if self.detail is not None:
            self.app.copy_to_clipboard(self.detail.row.invoice_id)
            self.notify(f"Copied invoice id {self.detail.row.invoice_id}", markup=False)

    def action_copy_link(self) -> None:
        link = self.detail.row.checkout_link if self.detail is not None else None
        if not link:
            self.notify("This invoice has no checkout link.", severity="warning")
            return
        self.app.copy_to_clipboard(link)
        self.notify(f"Copied checkout link {link}", markup=False)
