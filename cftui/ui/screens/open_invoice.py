"""A small prompt for "Open invoice…" from the palette: type an id (or a unique prefix)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cftui.store import queries
from cftui.ui.messages import OpenInvoice
from cftui.ui.reloading import Loaded, Reloading


@dataclass
class InvoiceLookedUp(Loaded):
    text: str
    row: queries.InvoiceRow | None  # the invoice with this id, or the only one starting with it
    count: int  # without a row: how many start with it (0, or 2 for "several")


class OpenInvoicePrompt(ModalScreen[None], Reloading[InvoiceLookedUp]):
    CSS_PATH = "open_invoice.tcss"
    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="open_invoice.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self._text = ""  # what to look up; each Enter asks again

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Open invoice: its id, or the start of it")
            yield Input(placeholder="e.g. 8JNqJCJg", id="open-invoice-id")
            yield Static("", id="open-invoice-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._text = event.value.strip()
            self.load()

    def start_load(self, seq: int):
        return self._look_up(seq, self._text) if self._text else None

    @work(thread=True, exclusive=True, group="open-invoice", exit_on_error=False, description="look the invoice up")
    def _look_up(self, seq: int, text: str) -> None:
        row = queries.find_invoice(text)
        count = 0 if row else len(queries.match_invoice_ids(text, limit=2))
        self.post_message(InvoiceLookedUp(seq, text, row, count))

    def show_loaded(self, message: InvoiceLookedUp) -> None:
        if message.row is None:
            why = "several invoices start with it; type more" if message.count > 1 else "no invoice has this id"
            self.query_one("#open-invoice-error", Static).update(f"{message.text}: {why}.")
            return
        self.dismiss()
        self.app.post_message(OpenInvoice(message.row.pk))
