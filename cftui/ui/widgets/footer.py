"""The key-hint footer: compact below 100 columns, so "? Keys" and "q Quit" stay in view (review L1)."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

NARROW = 100


class AppFooter(Footer):
    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < NARROW
