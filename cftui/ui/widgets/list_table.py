"""The table every list uses: row cursor, zebra stripes, and the vim keys k9s users expect (review L3).

``j``/``k`` move, ``g``/``G`` go to the first/last row, beside the arrows,
PageUp/PageDown and Home/End of Textual's DataTable. A click on the row
under the cursor opens it, like Enter (DataTable's own rule since 7.5).
"""

from __future__ import annotations

from rich.style import Style
from textual.binding import Binding
from textual.color import Color, ColorParseError
from textual.widgets import DataTable


class ListTable(DataTable):
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

    def theme_style(self, variable: str) -> Style:
        """A Rich style in the current theme's colour ``variable`` ("success", "error", …) for a cell."""
        try:
            return Style(color=Color.parse(self.app.theme_variables[variable]).rich_color)
        except (KeyError, ColorParseError):
            return Style()
