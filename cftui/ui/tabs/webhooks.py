"""Tab 4, Webhooks: the live log of every delivery the receiver got.

The tab reads ``WebhookDelivery.id > last_seen`` (a load of
:mod:`cftui.ui.reloading`) whenever the app broadcasts ``DataChanged`` for
webhooks. Tailing, new lines go straight to the top of the log; ``paused``,
they wait and an "N new" badge counts them, so the line the user is reading
does not move. Changing the ``filters`` reads the newest lines again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import var
from textual.widgets import Input, Label

from cftui.domain import ACCEPTED_VERDICTS, VERDICTS
from cftui.printable import printable
from cftui.store import webhook_queries
from cftui.store.webhook_queries import DeliveryLine
from cftui.ui.exporting import export_format, start_export
from cftui.ui.focus import keep_focus
from cftui.ui.keys import shared_keys
from cftui.ui.messages import Source
from cftui.ui.reloading import Loaded
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.delivery_log import MAX_LINES, DeliveryLog, verdict_label
from cftui.ui.widgets.empty_state import EmptyState

# Verdict filter cycle: everything, every rejection, then each verdict alone.
REJECTED = "rejected"
VERDICT_FILTERS: tuple[str | None, ...] = (None, REJECTED, *VERDICTS)


def verdicts_for(choice: str | None) -> tuple[str, ...]:
    if choice is None:
        return ()
    if choice == REJECTED:
        return tuple(v for v in VERDICTS if v not in ACCEPTED_VERDICTS)
    return (choice,)


@dataclass(frozen=True)
class DeliveryFilters:
    """Which deliveries the log shows."""

    verdict: str | None = None  # one of VERDICT_FILTERS
    event_type: str | None = None
    text: str = ""  # the start of an invoice id, delivery id or store

    @property
    def filtered(self) -> bool:
        return self != DeliveryFilters()


@dataclass
class DeliveriesLoaded(Loaded):
    """A read's result: the newest matching lines (``reset``), or the lines after the last one seen."""

    lines: list[DeliveryLine]
    last_id: int
    reset: bool
    event_types: list[str]


class WebhooksTab(ReloadingTab[DeliveriesLoaded]):
    # Styles: webhooks.tcss, in the app's CSS_PATH with every tab's sheet.
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
    RELOAD_ON = frozenset({Source.WEBHOOKS})

    paused: var[bool] = var(False, init=False, bindings=True)  # new lines wait instead of moving the log
    filters: var[DeliveryFilters] = var(DeliveryFilters, init=False)
    waiting: var[int] = var(0, init=False)  # new lines held while paused (the badge)

    def __init__(self, config) -> None:
        super().__init__(config, id="webhooks-tab")
        self.event_types: list[str] = []
        self._last_seen = 0
        self._reset = True  # the next read starts over (the newest MAX_LINES lines), not after _last_seen
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

    def focus_targets(self) -> tuple:
        """What takes the focus when the tab is shown: the text being typed, the log, or its empty state."""
        return (*self.query("#webhooks-filter"), self.query_one(DeliveryLog), self.query_one(EmptyState))

    # ------------------------------------------------------------ loading

    def watch_filters(self) -> None:
        """Start over with the newest matching lines; what waited while paused goes."""
        self._reset = True
        self._pending.clear()
        self.waiting = 0
        self._update_bar()
        self.load()

    def start_load(self, seq: int):
        reset, self._reset = self._reset, False
        return self._load(seq, 0 if reset else self._last_seen, self.filters, reset)

    @work(thread=True, exclusive=True, group="webhooks-load", exit_on_error=False, description="read the deliveries")
    def _load(self, seq: int, after_id: int, filters: DeliveryFilters, reset: bool) -> None:
        batch = webhook_queries.deliveries_after(
            after_id,
            verdicts=verdicts_for(filters.verdict),
            types=(filters.event_type,) if filters.event_type else (),
            text=filters.text,
            limit=MAX_LINES,
        )
        self.post_message(DeliveriesLoaded(seq, batch.lines, batch.last_id, reset, webhook_queries.event_types()))

    def show_loaded(self, message: DeliveriesLoaded) -> None:
        self.event_types = message.event_types
        log = self.query_one(DeliveryLog)
        if message.reset:
            log.set_lines(message.lines)
        else:
            # An overlapping read may return lines already shown.
            fresh = [line for line in message.lines if line.id > self._last_seen]
            if self.paused:
                self._pending.extend(fresh)
                del self._pending[:-MAX_LINES]
                self.waiting = len(self._pending)
            else:
                log.add_lines(fresh)
        self._last_seen = max(self._last_seen, message.last_id)
        self._update_bar()

    def watch_waiting(self, count: int) -> None:
        badge = self.query_one("#webhooks-badge", Label)
        badge.update(f"{count} new" if count else "")
        badge.display = count > 0

    # ------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        return True

    def action_pause(self) -> None:
        self.paused = True

    def action_resume(self) -> None:
        self.paused = False

    def watch_paused(self, paused: bool) -> None:
        if not paused and self._pending:
            log = self.query_one(DeliveryLog)
            log.add_lines(self._pending)
            log.cursor = 0
            self._pending = []
        self.waiting = len(self._pending)
        self._update_bar()

    def action_cycle_status(self) -> None:
        index = VERDICT_FILTERS.index(self.filters.verdict)
        self.filters = replace(self.filters, verdict=VERDICT_FILTERS[(index + 1) % len(VERDICT_FILTERS)])

    def action_cycle_type(self) -> None:
        choices: list[str | None] = [None, *self.event_types]
        index = choices.index(self.filters.event_type) if self.filters.event_type in choices else 0
        self.filters = replace(self.filters, event_type=choices[(index + 1) % len(choices)])

    def show_verdict(self, choice: str | None) -> None:
        """Show only this verdict ("rejected": every refused request), asked for elsewhere (the Overview)."""
        self.query("#webhooks-filter").remove()
        self.filters = DeliveryFilters(verdict=choice)

    def action_clear_filter(self) -> None:
        """esc: close the text box, and put every filter back to all."""
        self.query("#webhooks-filter").remove()
        if not self.filters.filtered:
            return
        self.filters = DeliveryFilters()
        self.query_one(DeliveryLog).focus()

    def action_filter(self) -> None:
        # Mounted only while in use: a hidden Input could still take the focus (and the keys).
        boxes = self.query("#webhooks-filter")
        if boxes:
            boxes.first().focus()
            return
        box = Input(self.filters.text, placeholder="invoice id, delivery id or store (the start of it) — esc clears",
                    id="webhooks-filter")
        self.mount(box, after="#webhooks-bar")
        box.focus()

    @on(Input.Changed, "#webhooks-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.filters.text:
            self.filters = replace(self.filters, text=event.value.strip())

    @on(Input.Submitted, "#webhooks-filter")
    def _text_done(self) -> None:
        keep_focus(self, self.query_one(DeliveryLog), self.query_one(EmptyState))
        self.query_one(DeliveryLog).focus()

    def action_export(self, name: str) -> None:
        from cftui.webhooks.export import export_deliveries

        fmt = export_format(name)
        start_export(self, "deliveries", fmt, lambda out: export_deliveries(out, fmt))

    def action_btcpay_deliveries(self) -> None:
        """BTCPay's own delivery list beside ours: what BTCPay sent that never arrived here."""
        from cftui.ui.screens.btcpay_deliveries import open_btcpay_deliveries

        open_btcpay_deliveries(self, self.config.btcpay)

    @on(DeliveryLog.Chosen)
    def _open_delivery(self, message: DeliveryLog.Chosen) -> None:
        from cftui.ui.screens.delivery_detail import DeliveryDetailScreen

        self.app.push_screen(DeliveryDetailScreen(message.delivery_id, self.config.webhooks))

    # ------------------------------------------------------------ display

    def _update_bar(self) -> None:
        mode = self.query_one("#webhooks-mode", Label)
        mode.update("‖ PAUSED" if self.paused else "● TAIL")
        mode.set_class(self.paused, "-paused")
        filters = self.filters
        verdict = "all" if filters.verdict is None else verdict_label(filters.verdict)
        text = f"   text: {printable(filters.text)}" if filters.text else ""
        self.query_one("#webhooks-filters", Label).update(
            f"verdict: {verdict}   type: {printable(filters.event_type) or 'all'}{text}   "
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
            filtered = self.filters.verdict is not None or self.filters.event_type is not None
            empty.update(self._no_match_text() if filtered else self._empty_text())
        keep_focus(self, log, empty)

    def _no_match_text(self) -> str:
        return (
            "No deliveries match these filters. Press f (verdict), t (type) or / (text) to change them, "
            "esc to show all."
        )

    def _empty_text(self) -> str:
        config = self.config
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
