"""Tab 4, Webhooks: the live log of every delivery the receiver got.

The tab polls ``WebhookDelivery.id > last_seen`` in a thread worker whenever
the app broadcasts ``DataChanged``. Tailing, new lines go straight to the top
of the log; paused, they wait in a buffer and an "N new" badge counts them,
so the line the user is reading does not move.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.widgets import Input, Label
from textual.worker import get_current_worker

from cftui.printable import printable
from cftui.store import webhook_queries
from cftui.domain import ACCEPTED_VERDICTS, VERDICTS
from cftui.store.webhook_queries import DeliveryLine
from cftui.ui.exporting import start_export
from cftui.ui.focus import keep_focus
from cftui.ui.keys import shared_keys
from cftui.ui.messages import DataChanged
from cftui.ui.widgets.delivery_log import MAX_LINES, DeliveryLog, verdict_label
from cftui.ui.widgets.empty_state import EmptyState

# Verdict filter cycle: everything, every rejection, then each verdict alone.
REJECTED = "rejected"
VERDICT_FILTERS: tuple[str | None, ...] = (None, REJECTED, *VERDICTS)
RELEVANT_SOURCES = {"webhooks", "config"}


def verdicts_for(choice: str | None) -> tuple[str, ...]:
    if choice is None:
        return ()
    if choice == REJECTED:
        return tuple(v for v in VERDICTS if v not in ACCEPTED_VERDICTS)
    return (choice,)


@dataclass
class DeliveriesLoaded(Message):
    """A poll's result. ``generation`` ties it to the filters it was read with."""

    generation: int
    lines: list[DeliveryLine]
    last_id: int
    reset: bool
    event_types: list[str]


@dataclass
class PendingChanged(Message):
    """The paused-badge count; a burst of these collapses to the latest."""

    count: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PendingChanged)


class WebhooksTab(Container):
    # Styles: webhooks.tcss, loaded by the app with every tab's stylesheet.
    TITLE = "Webhooks"
    BINDINGS = [
        *shared_keys("webhooks", "filter", "status", "type", "export_csv", "export_json", "clear", status="Verdict"),
        # v (verdict) stays for those who learnt it; f is every list's status filter.
        Binding("v", "cycle_status", "Verdict", show=False, id="webhooks.verdict"),
        # One key, named for what it does now: Pause while tailing, Resume while paused.
        Binding("p,space", "pause", "Pause", id="webhooks.pause"),
        Binding("p,space", "resume", "Resume", id="webhooks.pause"),
        Binding("b", "btcpay_deliveries", "BTCPay", id="webhooks.btcpay"),
    ]

    def __init__(self) -> None:
        super().__init__(id="webhooks-tab")
        self.paused = False
        self.verdict_choice: str | None = None
        self.type_choice: str | None = None
        self.text = ""
        self.event_types: list[str] = []
        self._last_seen = 0
        self._generation = 0
        self._pending: list[DeliveryLine] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="webhooks-bar"):
            yield Label("", id="webhooks-mode")
            yield Label("", id="webhooks-badge")
            yield Label("", id="webhooks-filters", markup=False)
        yield DeliveryLog(id="webhooks-log")
        yield EmptyState(id="webhooks-empty")

    def on_mount(self) -> None:
        self._update_bar()
        self._reload()

    def focus_targets(self) -> tuple:
        """What takes the focus when the tab is shown: the text being typed, the log, or its empty state."""
        return (*self.query("#webhooks-filter"), self.query_one(DeliveryLog), self.query_one(EmptyState))

    # ------------------------------------------------------------ loading

    def on_data_changed(self, message: DataChanged) -> None:
        if not message.sources or message.sources & RELEVANT_SOURCES:
            self._poll(reset=False)

    def _reload(self) -> None:
        """Start over (first show, or a filter changed): newest MAX_LINES matching lines."""
        self._generation += 1
        self._pending.clear()
        self._poll(reset=True)

    def _poll(self, *, reset: bool) -> None:
        self._load(
            self._generation,
            0 if reset else self._last_seen,
            verdicts_for(self.verdict_choice),
            (self.type_choice,) if self.type_choice else (),
            self.text,
            reset,
        )

    @work(thread=True, exclusive=True, group="webhooks-load", exit_on_error=False, description="read deliveries")
    def _load(
        self, generation: int, after_id: int, verdicts: tuple[str, ...], types: tuple[str, ...], text: str, reset: bool
    ) -> None:
        batch = webhook_queries.deliveries_after(after_id, verdicts=verdicts, types=types, text=text, limit=MAX_LINES)
        event_types = webhook_queries.event_types()
        if not get_current_worker().is_cancelled:
            self.post_message(DeliveriesLoaded(generation, batch.lines, batch.last_id, reset, event_types))

    def on_deliveries_loaded(self, message: DeliveriesLoaded) -> None:
        if message.generation != self._generation:
            return  # read with filters that have changed since
        self.event_types = message.event_types
        log = self.query_one(DeliveryLog)
        if message.reset:
            log.set_lines(message.lines)
        else:
            # An overlapping poll may return lines already shown.
            fresh = [line for line in message.lines if line.id > self._last_seen]
            if self.paused:
                self._pending.extend(fresh)
                del self._pending[:-MAX_LINES]
                self.post_message(PendingChanged(len(self._pending)))
            else:
                log.add_lines(fresh)
        self._last_seen = max(self._last_seen, message.last_id)
        self._update_bar()

    def on_pending_changed(self, message: PendingChanged) -> None:
        badge = self.query_one("#webhooks-badge", Label)
        badge.update(f"{message.count} new" if message.count else "")
        badge.display = message.count > 0

    # ------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        return True

    def action_pause(self) -> None:
        self.action_toggle_pause()

    def action_resume(self) -> None:
        self.action_toggle_pause()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.refresh_bindings()
        if not self.paused and self._pending:
            log = self.query_one(DeliveryLog)
            log.add_lines(self._pending)
            log.cursor = 0
            self._pending = []
        self.post_message(PendingChanged(len(self._pending)))
        self._update_bar()

    def action_cycle_status(self) -> None:
        index = VERDICT_FILTERS.index(self.verdict_choice)
        self.verdict_choice = VERDICT_FILTERS[(index + 1) % len(VERDICT_FILTERS)]
        self._filters_changed()

    def action_cycle_type(self) -> None:
        choices: list[str | None] = [None, *self.event_types]
        index = choices.index(self.type_choice) if self.type_choice in choices else 0
        self.type_choice = choices[(index + 1) % len(choices)]
        self._filters_changed()

    def show_verdict(self, choice: str | None) -> None:
        """Show only this verdict ("rejected": every refused request), from elsewhere (the Overview)."""
        self.verdict_choice, self.type_choice, self.text = choice, None, ""
        self.query("#webhooks-filter").remove()
        self._filters_changed()

    def action_clear_filter(self) -> None:
        """esc: close the text box, and put every filter back to all."""
        self.query("#webhooks-filter").remove()
        if self.verdict_choice is None and self.type_choice is None and not self.text:
            return
        self.verdict_choice = self.type_choice = None
        self.text = ""
        self._filters_changed()
        self.query_one(DeliveryLog).focus()

    def action_filter(self) -> None:
        # Mounted only while in use: a hidden Input could still take the focus (and the keys).
        boxes = self.query("#webhooks-filter")
        if boxes:
            boxes.first().focus()
            return
        box = Input(self.text, placeholder="invoice id, delivery id or store (the start of it) — esc clears",
                    id="webhooks-filter")
        self.mount(box, after="#webhooks-bar")
        box.focus()

    @on(Input.Changed, "#webhooks-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.text:
            self.text = event.value.strip()
            self._filters_changed()

    @on(Input.Submitted, "#webhooks-filter")
    def _text_done(self) -> None:
        keep_focus(self, self.query_one(DeliveryLog), self.query_one(EmptyState))
        self.query_one(DeliveryLog).focus()

    def action_export(self, fmt: str) -> None:
        from cftui.webhooks.export import export_deliveries

        start_export(self, "deliveries", fmt, lambda out: export_deliveries(out, fmt))

    def _filters_changed(self) -> None:
        self.post_message(PendingChanged(0))
        self._update_bar()
        self._reload()

    def action_btcpay_deliveries(self) -> None:
        """BTCPay's own delivery list beside ours: what BTCPay sent that never arrived here."""
        from cftui.ui.screens.btcpay_deliveries import BtcpayDeliveriesScreen

        stores = self.app.config.btcpay
        if not stores:
            self.app.notify("No BTCPay store is configured: add one in Settings (5).", severity="warning")
            return
        self.app.push_screen(BtcpayDeliveriesScreen(stores))

    @on(DeliveryLog.Chosen)
    def _open_delivery(self, message: DeliveryLog.Chosen) -> None:
        from cftui.ui.screens.delivery_detail import DeliveryDetailScreen

        self.app.push_screen(DeliveryDetailScreen(message.delivery_id))

    # ------------------------------------------------------------ display

    def _update_bar(self) -> None:
        mode = self.query_one("#webhooks-mode", Label)
        mode.update("‖ PAUSED" if self.paused else "● TAIL")
        mode.set_class(self.paused, "-paused")
        verdict = "all" if self.verdict_choice is None else verdict_label(self.verdict_choice)
        text = f"   text: {printable(self.text)}" if self.text else ""
        self.query_one("#webhooks-filters", Label).update(
            f"verdict: {verdict}   type: {printable(self.type_choice) or 'all'}{text}   "
            f"{self.query_one(DeliveryLog).line_count:,} shown · UTC"
        )
        self._update_empty()

    def _update_empty(self) -> None:
        log = self.query_one(DeliveryLog)
        empty = self.query_one(EmptyState)
        has_lines = log.line_count > 0
        log.display = has_lines
        empty.display = not has_lines
        if not has_lines:
            filtered = self.verdict_choice is not None or self.type_choice is not None
            empty.update(self._no_match_text() if filtered else self._empty_text())
        keep_focus(self, log, empty)

    def _no_match_text(self) -> str:
        return "No deliveries match these filters. Press f (verdict), t (type) or / (text) to change them, esc to show all."

    def _empty_text(self) -> str:
        config = self.app.config
        hooks = config.webhooks
        names = [store.name for store in config.btcpay] or ["<store>"]
        urls = "\n".join(f"  http://{hooks.host}:{hooks.port}/webhook/{name}" for name in names)
        state = (
            "The receiver is listening."
            if hooks.enabled
            else "The receiver is off: turn it on in Settings (5), or set enabled = true under [webhooks]."
        )
        return (
            "No webhook deliveries yet.\n\n"
            f"{state}\n\n"
            "In BTCPay (Store > Settings > Webhooks), point a webhook at:\n"
            f"{urls}\n\n"
            "Then `cftui webhook send --store NAME --type InvoiceSettled` makes a test delivery."
        )
