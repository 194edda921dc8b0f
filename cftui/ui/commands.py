"""The command palette's cftui commands (ctrl+p).

Go to a tab, sync now, export invoices, switch theme, switch the Overview's
store, and "open invoice" for an id typed into the palette (a prefix lookup
in the store, run off the event loop). Each command runs an action of the app
(``run_action``), never a tab's method: what a command does is the app's to say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cftui.config import Config
from cftui.ui.bindings import TABS
from cftui.ui.messages import OpenInvoice
from cftui.ui.widgets.invoice_table import amount_text

# A typed id shorter than this is not looked up (too many prefix matches to mean anything).
MIN_ID_PREFIX = 4
MAX_INVOICE_HITS = 5
_OPEN_WORDS = ("open ", "invoice ")


class CftuiCommands(Provider):
    """cftui's own commands, beside Textual's (theme, keys, quit)."""

    def commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) of each command."""
        for number, (pane, title) in enumerate(TABS, start=1):
            yield f"Go to {title}", f"Show the {title} tab (key {number})", self._action(f"show_tab({pane!r})")
        yield "Sync now", "Sync every store (and Angor) now (key r)", self._action("sync_now")
        yield "Open invoice…", "Type an invoice id (or type it here: open <id>)", self._action("open_invoice_prompt")
        for fmt in ("csv", "json"):
            yield (
                f"Export invoices as {fmt.upper()}",
                "Write the Invoices tab's current filtered view to a file",
                self._action(f"export_invoices({fmt!r})"),
            )
        yield (
            "BTCPay's webhook deliveries",
            "BTCPay's own delivery list beside what was received here (Webhooks tab, key b)",
            self._action("btcpay_deliveries"),
        )
        yield "Switch store: all stores", "Overview figures for every store", self._action("overview_store(None)")
        for store in self._config().btcpay:
            yield (
                f"Switch store: {store.name}",
                f"Overview figures for store {store.name} only",
                self._action(f"overview_store({store.name!r})"),
            )

    def _config(self) -> Config:
        """The running app's config (the provider is only ever given cftui's app)."""
        config = getattr(self.app, "config", None)
        if not isinstance(config, Config):
            raise TypeError(f"{type(self.app).__name__} has no cftui config")
        return config

    def _action(self, action: str) -> Callable[[], object]:
        """A command that runs the app's ``action`` (an action string, arguments as Python literals)."""
        return partial(self.app.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, callback in self.commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.commands():
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
