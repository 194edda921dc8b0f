"""The command palette's cftui commands (ctrl+p).

Go to a tab, sync now, export invoices, switch theme, switch the Overview's
store, and "open invoice" for an id typed into the palette (a prefix lookup
in the store, run off the event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cftui.ui.bindings import TABS
from cftui.ui.messages import OpenInvoice
from cftui.ui.widgets.invoice_table import amount_text

# A typed id shorter than this is not looked up (too many prefix matches to mean anything).
MIN_ID_PREFIX = 4
MAX_INVOICE_HITS = 5
_OPEN_WORDS = ("open ", "invoice ")


class CftuiCommands(Provider):
    """cftui's own commands, beside Textual's (theme, keys, quit)."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = self.app
        for number, (pane, title) in enumerate(TABS, start=1):
            yield f"Go to {title}", f"Show the {title} tab (key {number})", partial(app.action_show_tab, pane)
        yield "Sync now", "Sync every store (and Angor) now (key r)", app.action_sync_now
        yield "Open invoice…", "Type an invoice id (or type it here: open <id>)", self._prompt_invoice
        for fmt in ("csv", "json"):
            yield (
                f"Export invoices as {fmt.upper()}",
                "Write the Invoices tab's current filtered view to a file",
                partial(self._export, fmt),
            )
        yield (
            "BTCPay's webhook deliveries",
            "BTCPay's own delivery list beside what was received here (Webhooks tab, key b)",
            self._btcpay_deliveries,
        )
        yield "Switch store: all stores", "Overview figures for every store", partial(self._switch_store, None)
        for store in app.config.btcpay:
            yield (
                f"Switch store: {store.name}",
                f"Overview figures for store {store.name} only",
                partial(self._switch_store, store.name),
            )

    def _prompt_invoice(self) -> None:
        from cftui.ui.screens.open_invoice import OpenInvoicePrompt

        self.app.push_screen(OpenInvoicePrompt())

    def _btcpay_deliveries(self) -> None:
        self.app.action_show_tab("webhooks")
        self.app.tab("webhooks").action_btcpay_deliveries()

    def _export(self, fmt: str) -> None:
        self.app.tab("invoices").export(fmt)

    def _switch_store(self, name: str | None) -> None:
        self.app.action_show_tab("overview")
        self.app.tab("overview").select_store(name)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
        async for hit in self._invoice_hits(query):
            yield hit

    async def _invoice_hits(self, query: str) -> Hits:
        text = query.strip()
        for word in _OPEN_WORDS:
            if text.lower().startswith(word):
                text = text[len(word) :].strip()
        if len(text) < MIN_ID_PREFIX or " " in text:
            return
        from cftui.store import queries

        rows = await asyncio.to_thread(queries.match_invoice_ids, text, limit=MAX_INVOICE_HITS)
        for row in rows:
            title = f"Open invoice {row.invoice_id}"
            yield Hit(
                1.0 if row.invoice_id == text else 0.9,
                title,
                partial(self.app.post_message, OpenInvoice(row.pk)),
                text=title,
                help=f"{row.store_name} · {row.status} · {amount_text(row)}",
            )
