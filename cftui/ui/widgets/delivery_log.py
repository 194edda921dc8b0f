"""The webhook delivery log: an append-only, capped line widget with a row cursor.

Newest first: the delivery a user just sent (`cftui webhook send`) lands on
the top line, right under the header, at any terminal height, with no
scrolling. Lines are rendered on demand (the line API), so the cap (2,000 by
default) bounds memory and every repaint costs only the visible rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cftui import clock
from cftui.printable import printable
from cftui.store.webhook_models import DUPLICATE, RATE_LIMITED, VERIFIED
from cftui.store.webhook_queries import DeliveryLine

VERDICT_LABELS = {
    "verified": "verified",
    "bad_signature": "bad signature",
    "malformed": "malformed",
    "too_large": "too large",
    "unknown_store": "unknown store",
    "duplicate": "duplicate",
    "rate_limited": "rate limited",
}
VERDICT_WIDTH = max(len(label) for label in VERDICT_LABELS.values())
EVENT_WIDTH = len("InvoiceReceivedPayment")
STORE_WIDTH_MAX = 12
MAX_LINES = 2000


def verdict_label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict.replace("_", " "))


def verdict_class(verdict: str) -> str:
    """The style group of a verdict: accepted, accepted-but-noted, or rejected."""
    if verdict == VERIFIED:
        return "ok"
    if verdict in (DUPLICATE, RATE_LIMITED):
        return "warn"
    return "bad"


def hms(received_ms: int) -> str:
    return clock.to_datetime(received_ms // 1000).strftime("%H:%M:%S")


class DeliveryLog(ScrollView, can_focus=True):
    """Deliveries, newest on top, at most ``max_lines`` of them."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")
    COMPONENT_CLASSES = {
        "delivery-log--header",
        "delivery-log--time",
        "delivery-log--ok",
        "delivery-log--warn",
        "delivery-log--bad",
        "delivery-log--cursor",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "Newest", show=False),
        Binding("end,G", "last", "Oldest", show=False),
        Binding("enter", "choose", "Details", id="webhooks.open"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    @dataclass
    class Chosen(Message):
        """The user opened a delivery (Enter, or a click on the selected line)."""

        delivery_id: int

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: deque[DeliveryLine] = deque(maxlen=max_lines)  # index 0 = newest

    # ------------------------------------------------------------ content

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def selected(self) -> DeliveryLine | None:
        return self._lines[self.cursor] if self._lines else None

    def set_lines(self, oldest_first: Iterable[DeliveryLine]) -> None:
        """Replace everything (a filter changed); the cursor goes to the newest line."""
        self._lines.clear()
        self._lines.extendleft(oldest_first)
        self._resize()
        self.cursor = 0
        self.scroll_to(y=0, animate=False)

    def add_lines(self, oldest_first: list[DeliveryLine]) -> None:
        """Put new deliveries on top. A cursor on the newest line follows new ones;
        a cursor the user moved stays on its delivery, and the view with it."""
        if not oldest_first:
            return
        added = min(len(oldest_first), self.max_lines)
        self._lines.extendleft(oldest_first[-added:])
        self._resize()
        if self.cursor == 0:
            self.scroll_to(y=0, animate=False)
        else:
            self.cursor = min(self.cursor + added, len(self._lines) - 1)
            self.scroll_to(y=self.scroll_y + added, animate=False)
        self.refresh()

    def _resize(self) -> None:
        # One extra row for the header, which never scrolls.
        self.virtual_size = Size(0, len(self._lines) + 1)
        self.refresh()

    # ------------------------------------------------------------ cursor

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._lines) - 1))

    def watch_cursor(self) -> None:
        top, height = round(self.scroll_y), self._page_height()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self.cursor += step

    def action_page(self, direction: int) -> None:
        self.cursor += direction * self._page_height()

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self._lines) - 1

    def action_choose(self) -> None:
        if self.selected is not None:
            self.post_message(self.Chosen(self.selected.id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= len(self._lines):
            return
        if index == self.cursor:
            self.action_choose()
        self.cursor = index

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ------------------------------------------------------------ rendering

    def _store_width(self) -> int:
        longest = max((len(line.store_name or "") for line in self._lines), default=0)
        return min(max(longest, len("STORE") + 1), STORE_WIDTH_MAX)

    def _fg(self, component: str) -> Style:
        """A component's text style without its background, so a row's cursor shows through.

        (A partial style would drop colours like $text-muted that are blended with the background.)
        """
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)

    def _columns(self, texts: tuple[str, str, str, str, str, str], styles: tuple[Style, ...]) -> list[Segment]:
        widths = (8, VERDICT_WIDTH, 1, EVENT_WIDTH, self._store_width())
        segments = []
        for text, width, style in zip(texts, widths, styles, strict=False):
            segments.append(Segment(set_cell_size(text, width), style))
            segments.append(Segment(" "))
        segments.append(Segment(texts[-1], styles[-1]))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            base += self._fg("delivery-log--header")
            texts = ("TIME", "VERDICT", "↻", "EVENT", "STORE", "INVOICE")
            return Strip(self._columns(texts, (Style(),) * 6)).apply_style(base).crop_extend(0, width, base)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        time_style = self._fg("delivery-log--time")
        verdict_style = self._fg(f"delivery-log--{verdict_class(line.verdict)}")
        texts = (
            hms(line.received_ms),
            verdict_label(line.verdict),
            "↻" if line.is_redelivery else " ",
            # Claimed by the request, verified or not: never shown raw (see cftui.printable).
            printable(line.event_type) or "-",
            printable(line.store_name) or "-",
            printable(line.invoice_id) or "-",
        )
        if index == self.cursor:
            base += self.get_component_rich_style("delivery-log--cursor", partial=True)
        plain = Style()
        strip = Strip(self._columns(texts, (time_style, verdict_style, plain, plain, plain, plain)))
        return strip.apply_style(base).crop_extend(0, width, base)
