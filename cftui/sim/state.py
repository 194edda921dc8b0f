"""The simulator's mutable state: generated invoices overlaid by changes.

An invoice is the generator's unless it changed (``overrides``); invoices made
after start (live mode, tests) are appended beyond the generated count.
"""

from __future__ import annotations

import logging

from cftui import clock
from cftui.sim.config import SimConfig, SimStore
from cftui.sim.events import Listener, SimEvent
from cftui.sim.generator import SimInvoice, StoreGenerator

log = logging.getLogger(__name__)


class StoreState:
    def __init__(self, config: SimConfig, store: SimStore, base_url: str) -> None:
        self.store = store
        self.gen = StoreGenerator(config, store, base_url)
        self.overrides: dict[int, SimInvoice] = {}
        self.appended: list[SimInvoice] = []
        # The closed-form paging shortcut assumes archiving follows the generator's rule.
        self.archive_changed = False

    @property
    def total(self) -> int:
        return self.gen.count + len(self.appended)

    def get(self, i: int) -> SimInvoice:
        if i >= self.gen.count:
            return self.appended[i - self.gen.count]
        found = self.overrides.get(i)
        return found if found is not None else self.gen.invoice(i)

    def find(self, invoice_id: str) -> SimInvoice | None:
        i = self.gen.index_of_id(invoice_id)
        if i is None or i >= self.total:
            return None
        return self.get(i)

    def editable(self, invoice: SimInvoice) -> SimInvoice:
        """The stored copy of ``invoice`` that changes must go to (generated ones become overrides)."""
        if invoice.index >= self.gen.count:
            return invoice
        found = self.overrides.get(invoice.index)
        if found is None:
            found = self.overrides[invoice.index] = self.gen.invoice(invoice.index)
        return found

    def next_created(self) -> int:
        """Creation time for a new invoice: now, never before the newest one (newest-first order holds)."""
        if self.appended:
            newest = self.appended[-1].created
        else:
            newest = self.gen.created(self.gen.count - 1) if self.gen.count else 0
        return max(clock.now_s(), newest)


class SimState:
    def __init__(self, config: SimConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.stores = {store.store_id: StoreState(config, store, base_url) for store in config.stores}
        self._listeners: list[Listener] = []

    def set_base_url(self, base_url: str) -> None:
        self.base_url = base_url
        for store in self.stores.values():
            store.gen.base_url = base_url

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, event: SimEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not stop the simulated server
                log.exception("simulator listener failed on %s", event.type)

    def find_invoice(self, invoice_id: str) -> SimInvoice | None:
        """Across stores (the store-less routes of v2.4.0+)."""
        for store in self.stores.values():
            found = store.find(invoice_id)
            if found is not None:
                return found
        return None
