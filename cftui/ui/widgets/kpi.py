"""A KPI card: a title, a main figure and a smaller line (or two) of items.

The items (amounts per currency, counts) are fitted to the card's width each
time it is drawn: whole items only, ``+N more`` for the rest, so an amount is
never shown without its unit (review H4). Until the first figures arrive the
card says "loading…" rather than showing zeros as if they were data (L5).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from cftui.ui.formatting import cut, fit_items

LOADING = "loading…"


class Kpi(Vertical):
    """One figure of the Overview. Update with :meth:`show`."""

    # Not scoped: a card is lower at 80 columns (the screen's -narrow class), which scoped rules cannot see.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    Kpi {
        height: 4;
        background: $boost;
        padding: 0 1;
    }
    Kpi > .kpi-title {
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    Kpi > .kpi-value {
        text-style: bold;
        color: $accent;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    Kpi > .kpi-sub {
        color: $text-muted;
        height: 2;
        text-overflow: ellipsis;
    }
    Screen.-narrow Kpi {
        height: 3;
    }
    Screen.-narrow Kpi > .kpi-sub {
        height: 1;
    }
    """

    def __init__(self, title: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = title
        self._items: tuple[str, ...] = ()
        self._value = LOADING

    def compose(self) -> ComposeResult:
        yield Static(self._title, classes="kpi-title", markup=False)
        yield Static(LOADING, classes="kpi-value", markup=False)
        yield Static("", classes="kpi-sub", markup=False)

    def show(self, value: str, items: Sequence[str] = (), *, title: str | None = None) -> None:
        if title is not None and title != self._title:
            self._title = title
            self.query_one(".kpi-title", Static).update(title)
        self._value, self._items = value, tuple(items)
        self._draw()

    @property
    def value(self) -> str:
        return self._value

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        sub = self.query_one(".kpi-sub", Static)
        width = sub.content_size.width or max(self.content_size.width, 1)
        lines = max(1, sub.content_size.height or 1)
        self.query_one(".kpi-value", Static).update(cut(self._value, width))
        sub.update(fit_items(self._items, width, lines))
