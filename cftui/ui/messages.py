"""Typed messages between the app, its workers and the tabs.

Workers never touch widgets: they post these (``post_message`` is thread-safe)
and the app or a tab reacts on the main thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from cftui.sync.events import SyncEvent


@dataclass
class SyncEventPosted(Message):
    """A sync worker reported progress or a result (see cftui.sync.events)."""

    event: SyncEvent


@dataclass
class DataChanged(Message):
    """The store changed (a sync or a webhook wrote to it). Tabs reload what they show.

    ``sources`` names what changed: "invoices", "angor", "webhooks", "config".
    Coalesced: a burst of these while one waits in the queue becomes one.
    """

    sources: frozenset[str]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DataChanged) and message.sources <= self.sources


@dataclass
class ConfigApplied(Message):
    """Settings were saved; the app re-read the config and restarted what depends on it."""


@dataclass
class OpenInvoice(Message):
    """Ask the app to open an invoice's detail (from the palette, the log or a table)."""

    invoice_pk: int
