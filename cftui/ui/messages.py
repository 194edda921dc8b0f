"""Typed messages between the app, its workers and the tabs.

Workers never touch widgets: they post these (``post_message`` is thread-safe)
and the app or a tab reacts on the main thread. Tabs post requests up to the
app (show another tab filtered, the config was saved); the app pushes state
down to the tabs (their ``config``) and broadcasts :class:`DataChanged`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.message import Message

from cftui.config import Config
from cftui.sync.events import SyncEvent


class Source(StrEnum):
    """What changed in the store, as :class:`DataChanged` says it. A tab lists those it shows (``RELOAD_ON``).

    A ``StrEnum``: the change watcher's plain strings ("invoices") compare and hash equal to these.
    """

    INVOICES = "invoices"  # invoices, their payments, crowdfund apps, sync states
    ANGOR = "angor"  # Angor projects and their figures
    WEBHOOKS = "webhooks"  # webhook deliveries received


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
class ConfigSaved(Message):
    """The Settings tab wrote this config to the file; the app applies it (and pushes it to every tab)."""

    config: Config


@dataclass
class ShowInvoices(Message):
    """Show the Invoices tab with these filters (others reset, the sort kept): from a problem or a campaign."""

    store: str | None = None
    range_key: str = "all"
    additional: tuple[str, ...] = ()  # BTCPay's additional status
    app: tuple[str, str] | None = None  # (app id, title): a crowdfund's invoices


@dataclass
class ShowDeliveries(Message):
    """Show the Webhooks tab with one verdict only ("rejected": every refused request)."""

    verdict: str | None


@dataclass
class ShowSyncStatus(Message):
    """Show each source's last sync: when it last worked, why it failed, what it skipped."""


@dataclass
class OpenInvoice(Message):
    """Ask the app to open an invoice's detail (from the palette, the log or a table)."""

    invoice_pk: int
