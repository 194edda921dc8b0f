"""Typed messages between the app, its workers and the tabs.

Workers never touch widgets: they post these (``post_message`` is thread-safe)
and the app or a tab reacts on the main thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.message import Message

from cftui.sync.events import SyncEvent


class Source(StrEnum):
    """What changed in the store, as :class:`DataChanged` says it.

    A ``StrEnum``: the change watcher's plain strings ("invoices") compare and hash equal to these.
    """

    INVOICES = "invoices"  # invoices, their payments, crowdfund apps, sync states
    ANGOR = "angor"  # Angor projects and their figures
    WEBHOOKS = "webhooks"  # webhook deliveries received
    CONFIG = "config"  # the settings were saved


@dataclass
class SyncEventPosted(Message):
    """A sync worker reported progress or a result (see cftui.sync.events)."""

    event: SyncEvent


@dataclass
class DataChanged(Message, bubble=False):
    """The store changed (a sync or a webhook wrote to it). Each tab gets its own and reloads what it shows.

    Coalesced: a burst of these waiting in a tab's queue becomes one, which
    names every source the burst did.
    """

    sources: frozenset[Source]

    def can_replace(self, message: Message) -> bool:
        # Textual drops this message when this returns True and handles the waiting ``message`` instead, so that
        # one takes over what this one said changed too.
        if not isinstance(message, DataChanged):
            return False
        message.sources = message.sources | self.sources
        return True


@dataclass
class ConfigApplied(Message):
    """Settings were saved; the app re-read the config and restarted what depends on it."""


@dataclass
class OpenInvoice(Message):
    """Ask the app to open an invoice's detail (from the palette, the log or a table)."""

    invoice_pk: int
