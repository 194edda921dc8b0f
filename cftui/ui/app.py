"""CftuiApp: the dashboard shell.

A header line (title + per-source sync status), a ``TabbedContent`` with one
tab widget per pane (Overview, Invoices, Angor, Webhooks, Settings, Campaigns,
Payments) and a footer. The app owns the background work: sync workers
(``sync_worker``), the cross-process change feed (``cftui.store.changes``) and
the webhook receiver; tabs only read the store and reload on
:class:`~cftui.ui.messages.DataChanged`, which the app broadcasts to every tab.

Attributes down, messages up: the app hands each tab its ``config`` (and a
new one when Settings saved it); a tab asks the app for what is beyond
itself with a message (show another tab filtered, the config was saved).
The command palette goes through the app's actions.
"""

from __future__ import annotations

import gc
import logging
import os
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, TypeVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.widgets import Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from cftui.config import Config, Paths, shared_config_warning
from cftui.errors import ConfigError
from cftui.store import changes
from cftui.sync.events import SyncFinished
from cftui.ui import ui_state
from cftui.ui.bindings import APP_BINDINGS, TABS, binding_ids, effective_bindings, unknown_ids
from cftui.ui.commands import CftuiCommands
from cftui.ui.focus import focus_first
from cftui.ui.messages import (
    ConfigSaved,
    DataChanged,
    OpenInvoice,
    ShowDeliveries,
    ShowInvoices,
    ShowSyncStatus,
    Source,
    SyncEventPosted,
)
from cftui.ui.sync_worker import SyncScheduler, source_of
from cftui.ui.tabs.base import TabBody
from cftui.ui.widgets.footer import AppFooter
from cftui.ui.widgets.status_line import SourceStatus, SyncStatusLine, label, load_states, shorten

if TYPE_CHECKING:
    from cftui.webhooks.receiver import WebhookReceiver

TabT = TypeVar("TabT", bound=TabBody)

log = logging.getLogger(__name__)

HERE = Path(__file__).parent

# The widget of each pane: (module, class). Each is a TabBody, built with the config (see _make_tab).
TAB_CLASSES = {
    "overview": ("cftui.ui.tabs.overview", "OverviewTab"),
    "invoices": ("cftui.ui.tabs.invoices", "InvoicesTab"),
    "angor": ("cftui.ui.tabs.angor", "AngorTab"),
    "webhooks": ("cftui.ui.tabs.webhooks", "WebhooksTab"),
    "settings": ("cftui.ui.tabs.settings", "SettingsTab"),
    "campaigns": ("cftui.ui.tabs.campaigns", "CampaignsTab"),
    "payments": ("cftui.ui.tabs.payments", "PaymentsTab"),
}

CHANGE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class StoreChanges:
    """What one look at the change feed found: the sources written, and the sync states then stored."""

    sources: frozenset[str]
    sync_states: dict[str, SourceStatus] | None  # read when the invoices changed (a sync ran somewhere)


def _css_paths() -> list[str | PurePath]:
    """app.tcss, then each tab's own stylesheet (a screen names its own in CSS_PATH; a widget has DEFAULT_CSS)."""
    return [HERE / "app.tcss", *(HERE / "tabs" / f"{pane}.tcss" for pane in sorted(TAB_CLASSES))]


def choose_theme(explicit: str | None, config: Config, environ: os._Environ | dict) -> str:
    """--theme beats NO_COLOR's ansi-dark, which beats TEXTUAL_THEME, which beats the config."""
    if explicit:
        return explicit
    if "NO_COLOR" in environ:
        # The terminal's own colours and background; the NoColor filter drops the rest.
        return "ansi-dark"
    for name in (environ.get("TEXTUAL_THEME") or "").split(","):
        if name.strip():
            return name.strip()
    return config.ui.theme


def tab_class(pane: str) -> type[TabBody]:
    module_name, class_name = TAB_CLASSES[pane]
    return getattr(import_module(module_name), class_name)


def freeze_startup_objects() -> None:
    """Move everything alive after the first frame out of the cyclic GC's reach.

    Textual's DOM, styles and the imported modules are a large, long-lived
    object graph. Each full collection walked all of it on the event loop:
    single 120-140 ms stalls while a sync ran (the dashboard benchmark). Once
    frozen, collections scan only what was created since.
    """
    gc.collect()
    gc.freeze()


class CftuiApp(App[int]):
    """The cftui dashboard."""

    CSS_PATH = _css_paths()
    TITLE = "cftui"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {CftuiCommands}
    NOTIFICATION_TIMEOUT = 6
    # Screen classes for layouts: "-narrow" below 100 columns (80×24), "-wide" from there.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def __init__(
        self,
        config: Config,
        paths: Paths,
        *,
        demo: bool = False,
        theme: str | None = None,
        mouse: bool = True,
        autostart: bool = True,
    ) -> None:
        no_color = "NO_COLOR" in os.environ
        # Textual picks its NO_COLOR filter once, here: ansi_color=True makes it
        # strip every colour (NoColor) rather than turn them grey (Monochrome).
        super().__init__(ansi_color=True if no_color else None)
        self.config = config
        self.paths = paths
        self.demo = demo
        self.mouse = mouse
        self.autostart = autostart
        name = choose_theme(theme, config, os.environ)
        if name not in self.available_themes:
            raise ConfigError(
                f"Unknown theme '{name}' (themes: {', '.join(sorted(self.available_themes))}).",
            )
        self.theme = name
        self.set_keymap(config.ui.keymap)
        self.scheduler = SyncScheduler(self, config, self.paths)
        self._state = ui_state.load(paths.db)
        self._feed: changes.ChangeFeed | None = None
        self._receiver: WebhookReceiver | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Label(self._title_text(), id="app-title")
            yield SyncStatusLine(self.scheduler.sources, id="sync-status")
        initial = self._state.get("tab", "overview")
        with TabbedContent(initial=initial if initial in TAB_CLASSES else "overview", id="tabs"):
            for number, (pane, title) in enumerate(TABS, start=1):
                with TabPane(f"{number} {title}", id=pane):
                    yield self._make_tab(pane)
        yield AppFooter()

    def _make_tab(self, pane: str) -> TabBody:
        if pane == "settings":
            return tab_class(pane)(self.config, config_file=self.paths.config, demo=self.demo)
        return tab_class(pane)(self.config)

    def _title_text(self) -> str:
        return "cftui · demo" if self.demo else "cftui"

    async def on_mount(self) -> None:
        self._warn_unknown_keys()
        warning = shared_config_warning(self.config.path)
        if warning:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        self._focus_pane(self.tabbed.active_pane)
        self.call_after_refresh(freeze_startup_objects)
        if not self.autostart:
            return
        self.watch_store()
        self.scheduler.start_all()
        if self.config.webhooks.enabled:
            await self._start_receiver()

    async def on_unmount(self) -> None:
        self.scheduler.stop()
        if self._feed is not None:
            self._feed.close()
        await self._stop_receiver()

    def _warn_unknown_keys(self) -> None:
        known = binding_ids(APP_BINDINGS)
        for tab in self.tab_widgets():
            for node in (tab, *tab.query("*")):
                known |= {binding.id for binding, _keys in effective_bindings(node, {}) if binding.id}
        unknown = unknown_ids(self.config.ui.keymap, known)
        if unknown:
            self.notify(
                f"[ui.keymap] names no key binding: {', '.join(unknown)}. Press ? to see the binding ids.",
                severity="warning",
                markup=False,
            )

    # ------------------------------------------------------------ tabs

    def tab_widgets(self) -> list[TabBody]:
        """The widget inside each pane (queried on the main screen, whatever is on top)."""
        if not self.screen_stack:  # shutting down: messages can still arrive
            return []
        main = self.screen_stack[0]
        return [_body(pane) for pane in main.query(TabPane) if pane.children]

    @property
    def tabbed(self) -> TabbedContent:
        return self.screen_stack[0].query_one("#tabs", TabbedContent)

    def active_tab(self) -> TabBody | None:
        pane = self.tabbed.active_pane
        return _body(pane) if pane is not None and pane.children else None

    def tab(self, pane: str) -> TabBody:
        return _body(self.screen_stack[0].query_one(f"TabPane#{pane}", TabPane))

    def tab_of(self, pane: str, kind: type[TabT]) -> TabT:
        """The tab in ``pane``, as the class it is (its own methods, typed)."""
        tab = self.tab(pane)
        if not isinstance(tab, kind):
            raise TypeError(f"the {pane} pane holds a {type(tab).__name__}, not a {kind.__name__}")
        return tab

    def action_show_tab(self, pane: str) -> None:
        while len(self.screen_stack) > 1:  # a detail, and the key list over it: the tab itself
            self.pop_screen()
        self.tabbed.active = pane

    @on(TabbedContent.TabActivated, "#tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not self.is_running or self._exit:
            return  # tearing down: panes go one by one and each activates the next
        self._focus_pane(event.pane)
        if event.pane.id and self._state.get("tab") != event.pane.id:
            self._state["tab"] = event.pane.id
            ui_state.save(self.paths.db, self._state)

    def _focus_pane(self, pane: TabPane | None) -> None:
        """Focus the tab's main widget (or the first focusable one), so its keys work at once."""
        if pane is None or not pane.children:
            return
        tab = _body(pane)
        focus_first(tab, *tab.focus_targets())

    def broadcast(self, sources: frozenset[Source] | frozenset[str]) -> None:
        """Tell every tab the store changed (each reloads if it shows those data)."""
        known = frozenset(Source(source) for source in sources if source in set(Source))
        if known != sources:
            log.warning("ignored unknown change sources %s", sorted(set(sources) - known))
        for tab in self.tab_widgets():
            tab.post_message(DataChanged(known))

    @on(ShowInvoices)
    def _show_invoices(self, message: ShowInvoices) -> None:
        from cftui.ui.tabs.invoices import InvoicesTab

        self.action_show_tab("invoices")
        self.tab_of("invoices", InvoicesTab).show_filtered(message)

    @on(ShowDeliveries)
    def _show_deliveries(self, message: ShowDeliveries) -> None:
        from cftui.ui.tabs.webhooks import WebhooksTab

        self.action_show_tab("webhooks")
        self.tab_of("webhooks", WebhooksTab).show_verdict(message.verdict)

    @on(ShowSyncStatus)
    def _show_sync_status(self) -> None:
        from cftui.ui.screens.sync_status import SyncStatusScreen

        self.push_screen(SyncStatusScreen(self.paths.log_file))

    # ------------------------------------------------------------ palette actions

    def action_export_invoices(self, name: str) -> None:
        """Write the Invoices tab's filtered view to a file."""
        from cftui.ui.exporting import export_format
        from cftui.ui.tabs.invoices import InvoicesTab

        self.tab_of("invoices", InvoicesTab).export(export_format(name))

    def action_btcpay_deliveries(self) -> None:
        """BTCPay's own delivery list beside ours, over the Webhooks tab."""
        from cftui.ui.screens.btcpay_deliveries import open_btcpay_deliveries

        self.action_show_tab("webhooks")
        open_btcpay_deliveries(self, self.config.btcpay)

    def action_open_invoice_prompt(self) -> None:
        """Ask for an invoice id (or the start of it), then open it."""
        from cftui.ui.screens.open_invoice import OpenInvoicePrompt

        self.push_screen(OpenInvoicePrompt())

    def action_overview_store(self, name: str | None) -> None:
        """The Overview's figures for one store (None: every store)."""
        from cftui.ui.tabs.overview import OverviewTab

        self.action_show_tab("overview")
        self.tab_of("overview", OverviewTab).store_name = name

    # ------------------------------------------------------------ sync

    def action_sync_now(self) -> None:
        sources = self.scheduler.sources
        if not sources:
            self.notify("Nothing to sync: no store is configured and Angor is off.", severity="warning")
            return
        started = self.scheduler.start_all()
        # The header's spinners show a sync that started; a toast would only cover the lists' info line (L5).
        if not started:
            self.notify("Already syncing: the header shows each source's progress.", markup=False)

    @on(SyncEventPosted)
    def _on_sync_event(self, message: SyncEventPosted) -> None:
        self.query_one(SyncStatusLine).apply(message.event)
        if isinstance(message.event, SyncFinished):
            self._sync_finished(message.event)

    def _sync_finished(self, event: SyncFinished) -> None:
        result = event.result
        who = label(result.source)
        if not result.ok:
            self.notify(f"Sync of {who} failed: {result.error}", severity="error", markup=False)
        # A settled contribution is announced by the Payments tab, whatever wrote it (a sync, a webhook,
        # another process), once, with its amount and campaign.
        if result.new or result.updated or result.newly_settled:
            self.broadcast(frozenset({Source.ANGOR} if result.source == "angor" else {Source.INVOICES}))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        source = source_of(worker)
        if source is not None:
            if worker.state == WorkerState.ERROR:
                # run_sync reports failures as results; an exception here is a bug.
                log.error("sync worker for %s crashed: %r", source, worker.error)
                error = f"{type(worker.error).__name__}: {worker.error}"
                self.query_one(SyncStatusLine).fail(source, error)
                self.notify(f"Sync of {label(source)} crashed: {shorten(error, 80)}", severity="error", markup=False)
            self.scheduler.worker_changed(worker)
        elif worker.group == "change-watch" and worker.state == WorkerState.SUCCESS:
            if isinstance(worker.result, StoreChanges):
                self._changes_read(worker.result)

    # ------------------------------------------------------------ other writers

    def watch_store(self) -> None:
        """Hear what other writers (a daemon, a sync in another terminal, another host) commit to the store."""
        self._feed = changes.open_feed()
        self._feed.changes()  # the starting point
        self.set_interval(CHANGE_POLL_SECONDS, self._poll_changes, name="change watch")

    def _poll_changes(self) -> None:
        self._read_changes()

    @work(thread=True, exclusive=True, group="change-watch", exit_on_error=False)
    def _read_changes(self) -> StoreChanges:
        changed = self._feed.changes() if self._feed is not None else frozenset()
        # Another process's sync moves the status line too: its last success or error, the invoices it could not read.
        stored = load_states(self.scheduler.sources) if changes.INVOICES in changed else None
        return StoreChanges(changed, stored)

    def _changes_read(self, read: StoreChanges) -> None:
        if read.sync_states is not None:
            self.query_one(SyncStatusLine).show_stored(read.sync_states)
        if read.sources:
            self.broadcast(read.sources)

    async def _start_receiver(self) -> None:
        from cftui.webhooks.receiver import WebhookReceiver

        self._receiver = receiver = WebhookReceiver(self.config, on_delivery=self._on_delivery)
        try:
            url = await receiver.start()
        except (OSError, ConfigError) as exc:
            self._receiver = None
            self.notify(
                f"The webhook receiver could not start: {exc} "
                "Deliveries that another cftui (listen or daemon) records still show in the Webhooks tab.",
                severity="warning",
                timeout=10,
                markup=False,
            )
            return
        log.info("webhook receiver listening on %s", url)

    async def _stop_receiver(self) -> None:
        if self._receiver is not None:
            receiver, self._receiver = self._receiver, None
            await receiver.stop()

    def _on_delivery(self, *_args) -> None:
        # Called by the receiver on this loop; the log and the invoices update now.
        self.broadcast(frozenset({Source.WEBHOOKS, Source.INVOICES}))

    # ------------------------------------------------------------ config

    @on(ConfigSaved)
    async def _config_saved(self, message: ConfigSaved) -> None:
        await self.apply_config(message.config)

    async def apply_config(self, config: Config) -> None:
        """Use a saved config without a restart, and hand it to every tab (each reloads what it shows)."""
        old = self.config
        self.config = config
        if config.ui.keymap != old.ui.keymap:
            self.set_keymap(config.ui.keymap)
        if config.ui.theme != old.ui.theme and config.ui.theme in self.available_themes:
            self.theme = config.ui.theme
        sync_changed = (config.btcpay, config.sync, config.angor) != (old.btcpay, old.sync, old.angor)
        if sync_changed:
            self.scheduler.stop()
            self.scheduler = SyncScheduler(self, config, self.paths)
            status = self.query_one(SyncStatusLine)
            status.set_sources(self.scheduler.sources)
            if self.autostart:
                self.scheduler.start_all()
        if self.autostart and config.webhooks != old.webhooks:
            await self._stop_receiver()
            if config.webhooks.enabled:
                await self._start_receiver()
        for tab in self.tab_widgets():
            tab.config = config

    # ------------------------------------------------------------ screens

    def action_help(self) -> None:
        from cftui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        # On a detail screen its own keys, not the tab's underneath (review M7).
        target = self.screen if len(self.screen_stack) > 1 else self.active_tab()
        self.push_screen(HelpScreen(target, self.config.ui.keymap))

    def get_system_commands(self, screen):
        """Textual's commands, with its "Keys" panel replaced by cftui's ? list (one help, not two: review L3)."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand("Keys", "The keys of this tab or screen, and the app's (key ?)", self.action_help)
        yield SystemCommand(
            "Sync status", "Each source's last sync: when it worked, why it failed, what it skipped",
            lambda: self.post_message(ShowSyncStatus()),
        )

    @on(OpenInvoice)
    def _open_invoice(self, message: OpenInvoice) -> None:
        from cftui.ui.screens.invoice_detail import InvoiceDetailScreen

        self.push_screen(InvoiceDetailScreen(message.invoice_pk))


def _body(pane: TabPane) -> TabBody:
    """The tab widget a pane holds (each pane holds one, see :meth:`CftuiApp.compose`)."""
    body = pane.children[0]
    if not isinstance(body, TabBody):
        raise TypeError(f"pane {pane.id} holds a {type(body).__name__}, not a tab")
    return body
