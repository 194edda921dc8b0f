"""One webhook delivery: what the receiver decided, the headers and the body as received."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.highlight import highlight
from textual.widgets import Label, Static

from cftui import clock
from cftui.config import WebhooksConfig
from cftui.printable import printable
from cftui.store import webhook_queries
from cftui.store.webhook_queries import DeliveryDetail
from cftui.ui.reloading import Loaded, Reloading
from cftui.ui.screens.base import DetailScreen
from cftui.ui.screens.detail_text import aligned, yes_no
from cftui.ui.widgets.delivery_log import verdict_class, verdict_label
from cftui.ui.widgets.footer import AppFooter


def pretty_headers(headers_json: str) -> Table | str:
    try:
        headers = json.loads(headers_json)
    except ValueError:
        return printable(headers_json)
    if not isinstance(headers, dict) or not headers:
        return "(none)"
    return aligned([(printable(str(name)), printable(str(value))) for name, value in headers.items()])


def pretty_body(body: bytes | None) -> tuple[str, bool]:
    """The body as text, and whether it is JSON (pretty-printed with a 2-space indent)."""
    if body is None:
        return "(no body kept)", False
    text = body.decode("utf-8", errors="replace")
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return printable(text, multiline=True), False
    return printable(pretty, multiline=True), True


def summary_rows(detail: DeliveryDetail) -> list[tuple[str, str]]:
    """Name and value of each summary line, every value made printable (the request chose most of them)."""
    return [(name, printable(value)) for name, value in _summary_values(detail)]


def _summary_values(detail: DeliveryDetail) -> list[tuple[str, str]]:
    line = detail.line
    return [
        ("Received", f"{clock.iso(line.received_ms // 1000)}  from {detail.remote}"),
        ("Request", f"{detail.method} {detail.path}  →  HTTP {detail.http_status}  ({detail.body_size} bytes)"),
        ("Reason", detail.reason or "—"),
        ("Event", f"{line.event_type or '-'}  (event time {clock.iso(detail.event_time) or '-'})"),
        ("Store", line.store_name or "-"),
        ("Invoice", line.invoice_id or "-"),
        ("Delivery id", detail.delivery_id or "-"),
        ("Original id", detail.original_delivery_id or "-"),
        ("Webhook id", detail.webhook_id or "-"),
        ("Redelivery", yes_no(line.is_redelivery)),
        ("Processed", yes_no(detail.processed) + (f"  ({detail.process_result})" if detail.process_result else "")),
    ]


@dataclass
class DeliveryDetailLoaded(Loaded):
    detail: DeliveryDetail | None


def receiver_url(hooks: WebhooksConfig, path: str) -> str:
    """This receiver's URL for ``path`` (a wildcard bind is reached through loopback)."""
    host = hooks.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{hooks.port}{path}"


class DeliveryDetailScreen(DetailScreen, Reloading[DeliveryDetailLoaded]):
    TITLE = "Webhook delivery"
    CSS_PATH = "delivery_detail.tcss"
    BINDINGS = [
        Binding("R", "replay", "Replay", id="delivery.replay"),
        Binding("c", "copy_id", "Copy id", id="delivery.copy_id"),
    ]

    def __init__(self, delivery_pk: int, receiver: WebhooksConfig) -> None:
        super().__init__()
        self.delivery_pk = delivery_pk
        self.receiver = receiver  # where R sends the delivery again
        self.detail: DeliveryDetail | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="delivery-scroll"):
            yield Label(f"Delivery #{self.delivery_pk}", id="delivery-title")
            yield Static("Loading…", id="delivery-summary", markup=False)
            yield Label("Headers", classes="delivery-heading")
            yield Static("", id="delivery-headers", markup=False)
            yield Label("Body", classes="delivery-heading")
            yield Static("", id="delivery-body", markup=False)
        yield AppFooter()

    def start_load(self, seq: int):
        return self._load(seq)

    @work(thread=True, exclusive=True, group="delivery-detail", exit_on_error=False, description="read the delivery")
    def _load(self, seq: int) -> None:
        self.post_message(DeliveryDetailLoaded(seq, webhook_queries.delivery(self.delivery_pk)))

    def load_failed(self, error: BaseException | None) -> None:
        self.query_one("#delivery-summary", Static).update(f"Could not read the delivery: {error}")

    def show_loaded(self, message: DeliveryDetailLoaded) -> None:
        detail = self.detail = message.detail
        summary = self.query_one("#delivery-summary", Static)
        if detail is None:
            summary.update("This delivery is no longer in the store (rejected deliveries are pruned).")
            return
        title = self.query_one("#delivery-title", Label)
        title.update(f"Delivery #{self.delivery_pk}  {verdict_label(detail.line.verdict)}")
        title.add_class(f"-{verdict_class(detail.line.verdict)}")
        summary.update(aligned(summary_rows(detail)))
        self.query_one("#delivery-headers", Static).update(pretty_headers(detail.headers))
        text, is_json = pretty_body(detail.body)
        body = self.query_one("#delivery-body", Static)
        body.update(highlight(text, language="json") if is_json else text)

    def action_copy_id(self) -> None:
        if self.detail is not None and self.detail.delivery_id:
            self.app.copy_to_clipboard(self.detail.delivery_id)
            self.notify(f"Copied delivery id {self.detail.delivery_id}", markup=False)

    def action_replay(self) -> None:
        """Send the recorded request again, byte for byte, to this receiver (as `cftui webhook replay`)."""
        detail = self.detail
        if detail is None or detail.body is None or len(detail.body) != detail.body_size:
            self.notify("This delivery cannot be replayed byte for byte: its whole body was not kept.",
                        severity="warning")
            return
        self._replay(receiver_url(self.receiver, detail.path), detail.body, detail.signature)

    @work(exclusive=True, group="delivery-replay", exit_on_error=False, description="replay a delivery")
    async def _replay(self, url: str, body: bytes, signature: str | None) -> None:
        import aiohttp

        from cftui.webhooks.sending import post_delivery

        async with aiohttp.ClientSession() as session:
            result = await post_delivery(session, url, body, signature, timeout=30)
        if result.status is None:
            self.notify(f"Replay to {url} failed: {result.text}. Is the receiver on (Settings, key 5)?",
                        severity="error", markup=False)
        else:
            self.notify(f"Replayed to {url}: HTTP {result.status}", markup=False)
