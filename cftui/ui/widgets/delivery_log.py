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
from datetime import date

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
from cftui.domain import DUPLICATE, RATE_LIMITED, VERIFIED
from cftui.printable import printable
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
EVENT_WIDTH = len("InvoicePaidAfterExpiration")
EVENT_WIDTH_NARROW = 18  # with the "Invoice" prefix left out
STORE_WIDTH_MAX = 16
STORE_WIDTH_NARROW = 12
INVOICE_WIDTH = 22  # BTCPay's invoice ids
WIDE = 100  # from here every column has its full width
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


TIME_WIDTH = len("00:00:00")
DAY_TIME_WIDTH = len("12-31 00:00")  # once the log holds a delivery of an earlier day


def received_at(received_ms: int, today: date) -> str:
    """A delivery of today by its second; an older one by its day and minute, so it cannot pass for today's
    (the log holds days of deliveries; review L2). All UTC, as the info line says."""
    when = clock.to_datetime(received_ms // 1000)
    if when.date() == today:
        return when.strftime("%H:%M:%S")
    return when.strftime("%m-%d %H:%M" if when.year == today.year else "%Y-%m-%d")


class DeliveryLog(ScrollView, can_focus=True):
    """Deliveries, newest on top, at most ``max_lines`` of them."""

    # Not scoped: under NO_COLOR (App:nocolor) the cursor shows in reverse video, which scoped rules cannot match.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    DeliveryLog {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        height: 1fr;

        & > .delivery-log--header {
            color: $text-muted;
            text-style: bold;
        }
        & > .delivery-log--time {
            color: $text-muted;
        }
        & > .delivery-log--ok {
            color: $success;
        }
        & > .delivery-log--warn {
            color: $warning;
        }
        & > .delivery-log--bad {
            color: $error;
            text-style: bold;
        }
        & > .delivery-log--cursor {
            background: $block-cursor-blurred-background;
        }
        &:focus > .delivery-log--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
    }
    /* NO_COLOR strips the cursor's background: the selected line in reverse video instead. */
    App:nocolor DeliveryLog:focus > .delivery-log--cursor {
        text-style: reverse;
    }
    """
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
        Binding("enter", "choose", "Details", show=False, id="webhooks.open"),
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
        self._earliest_ms: int | None = None  # the earliest received (lines go by arrival, not by clock)

    # ------------------------------------------------------------ content

    @property
    def line_count(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> tuple[DeliveryLine, ...]:
        """The deliveries shown, newest first."""
        return tuple(self._lines)

    @property
    def selected(self) -> DeliveryLine | None:
        return self._lines[self.cursor] if self._lines else None

    def set_lines(self, oldest_first: Iterable[DeliveryLine]) -> None:
        """Replace everything (a filter changed); the cursor goes to the newest line."""
        self._lines.clear()
        self._lines.extendleft(oldest_first)
        self._resize()
        self._note_earliest()
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
        self._note_earliest()
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

    def _today(self) -> date:
        return clock.to_datetime(clock.now_s()).date()

    def _note_earliest(self) -> None:
        self._earliest_ms = min((line.received_ms for line in self._lines), default=None)

    def _time_width(self) -> int:
        earliest = self._earliest_ms
        earlier = earliest is not None and clock.to_datetime(earliest // 1000).date() != self._today()
        return DAY_TIME_WIDTH if earlier else TIME_WIDTH

    def _store_width(self) -> int:
        longest = max((len(line.store_name or "") for line in self._lines), default=0)
        # Below 100 columns a dated time column takes its room from the store, as the Invoices tab cuts it.
        cap = STORE_WIDTH_MAX if self.size.width >= WIDE else STORE_WIDTH_NARROW - (self._time_width() - TIME_WIDTH)
        return min(max(longest, len("Store") + 1), cap)

    def _event_text(self, event_type: str) -> str:
        """The event type; below 100 columns without its "Invoice" prefix, which every invoice event has."""
        if not event_type:
            return "-"
        if self.size.width < WIDE and event_type.startswith("Invoice") and len(event_type) > len("Invoice"):
            return event_type[len("Invoice"):]
        return event_type

    def _fg(self, component: str) -> Style:
        """A component's text style without its background, so a row's cursor shows through.

        (A partial style would drop colours like $text-muted that are blended with the background.)
        """
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold, italic=style.italic, underline=style.underline)

    def _columns(self, texts: tuple[str, str, str, str, str, str], styles: tuple[Style, ...]) -> list[Segment]:
        event = EVENT_WIDTH if self.size.width >= WIDE else EVENT_WIDTH_NARROW
        time, store = self._time_width(), self._store_width()
        used = time + VERDICT_WIDTH + 1 + event + store + 5  # and a space after each
        invoice = max(INVOICE_WIDTH, self.scrollable_content_region.width - used)
        widths = (time, VERDICT_WIDTH, 1, event, store, invoice)
        segments = []
        for text, width, style in zip(texts, widths, styles, strict=True):
            # Cut with an ellipsis: a cut id must not look complete (review L1).
            shown = text if len(text) <= width else text[: width - 1] + "…"
            segments.append(Segment(set_cell_size(shown, width), style))
            segments.append(Segment(" "))
        return segments[:-1]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            base += self._fg("delivery-log--header")
            texts = ("Time", "Verdict", "↻", "Event", "Store", "Invoice")
            return Strip(self._columns(texts, (Style(),) * 6)).apply_style(base).crop_extend(0, width, base)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[index]
        time_style = self._fg("delivery-log--time")
        verdict_style = self._fg(f"delivery-log--{verdict_class(line.verdict)}")
        texts = (
            received_at(line.received_ms, self._today()),
            verdict_label(line.verdict),
            "↻" if line.is_redelivery else " ",
            # Claimed by the request, verified or not: never shown raw (see cftui.printable).
            self._event_text(printable(line.event_type)),
            printable(line.store_name) or "-",
            printable(line.invoice_id) or "-",
        )
        if index == self.cursor:
            base += self.get_component_rich_style("delivery-log--cursor", partial=True)
        plain = Style()
        strip = Strip(self._columns(texts, (time_style, verdict_style, plain, plain, plain, plain)))
        return strip.apply_style(base).crop_extend(0, width, base)
