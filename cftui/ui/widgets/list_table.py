"""The table every list uses: row cursor, zebra stripes, and the vim keys k9s users expect (review L3).

``j``/``k`` move, ``g``/``G`` go to the first/last row, beside the arrows,
PageUp/PageDown and Home/End of Textual's DataTable. A click on the row
under the cursor opens it, like Enter (DataTable's own rule since 7.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.style import Style
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

PageDirection = Literal["next", "prev", "first", "last"]


class ListTable(DataTable):
    DEFAULT_CSS = """
    ListTable {
        height: 1fr;
    }
    """
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "First", show=False),
        Binding("G", "scroll_end", "Last", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor; None with no rows."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except CellDoesNotExist:  # the rows are being replaced
            return None

    def cursor_pk(self) -> int | None:
        """The row under the cursor, for tables keyed by a store row's primary key."""
        key = self.cursor_key()
        return int(key) if key is not None else None

    def column_keys(self) -> list[str]:
        return [str(key.value) for key in self.columns]

    def start_over(self, columns: list[tuple[str, str]]) -> None:
        """Remove every row; the columns (key, label) are rebuilt only when they changed (a resize that
        adds one). Rebuilding them on every reload would remeasure each column for nothing."""
        rebuild = [key for key, _ in columns] != self.column_keys()
        self.clear(columns=rebuild)
        if rebuild:
            for key, label in columns:
                self.add_column(label, key=key)

    def theme_style(self, variable: str) -> Style:
        """A Rich style in the current theme's colour ``variable`` ("success", "error", …) for a cell."""
        try:
            return Style(color=Color.parse(self.app.theme_variables[variable]).rich_color)
        except (KeyError, ColorParseError):
            return Style()


class PagedTable(ListTable):
    """A table holding one keyset page: page keys (and g/G) at its edges ask for the neighbouring page.

    PageDown on the last row posts ``PageRequested("next")``, PageUp on the first
    ``"prev"``, Home / End (g / G) the first / last page. The owner loads the page
    in a worker and fills the table; ``has_next`` / ``has_prev`` say what exists.
    """

    DEFAULT_CSS = """
    PagedTable {
        scrollbar-size-vertical: 1;
    }
    """

    @dataclass
    class PageRequested(Message):
        direction: PageDirection

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("cell_padding", 1)
        super().__init__(**kwargs)
        self.has_next = False
        self.has_prev = False

    def action_page_down(self) -> None:
        if self.row_count == 0 or self.cursor_row >= self.row_count - 1:
            if self.has_next:
                self.post_message(self.PageRequested("next"))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.row_count == 0 or self.cursor_row <= 0:
            if self.has_prev:
                self.post_message(self.PageRequested("prev"))
            return
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.post_message(self.PageRequested("first"))

    def action_scroll_end(self) -> None:
        self.post_message(self.PageRequested("last"))
