"""A small prompt for "Open invoice…" from the palette: type an id (or a unique prefix)."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from cftui.store import queries
from cftui.ui.messages import OpenInvoice


class OpenInvoicePrompt(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Cancel", id="open_invoice.cancel")]
    DEFAULT_CSS = """
    OpenInvoicePrompt { align: center middle; }
    OpenInvoicePrompt > Vertical {
        width: 60; max-width: 100%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    OpenInvoicePrompt #open-invoice-error { color: $error; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Open invoice: its id, or the start of it")
            yield Input(placeholder="e.g. 8JNqJCJg", id="open-invoice-id")
            yield Static("", id="open-invoice-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._look_up(event.value.strip())

    @work(thread=True, exclusive=True, group="open-invoice", exit_on_error=False)
    def _look_up(self, text: str) -> None:
        row = queries.find_invoice(text)
        count = 0 if row else len(queries.match_invoice_ids(text, limit=2))
        self.app.call_from_thread(self._found, text, row, count)

    def _found(self, text: str, row, count: int) -> None:
        if row is None:
            why = "several invoices start with it; type more" if count > 1 else "no invoice has this id"
            self.query_one("#open-invoice-error", Static).update(f"{text}: {why}.")
            return
        self.dismiss()
        self.app.post_message(OpenInvoice(row.pk))
