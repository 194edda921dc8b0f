"""`?`: every key of the current tab and of the app, with the user's keymap applied.

Each key is listed with its binding id, the name ``[ui.keymap]`` uses to
remap it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from cftui.ui.bindings import effective_bindings


class HelpScreen(ModalScreen[None]):
    """A modal list of keys: the current tab's first, then the app's."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=True, key_display="esc"),
    ]

    def __init__(self, tab: Widget | None) -> None:
        super().__init__()
        self._tab = tab

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("Keys", id="help-title")
            table: DataTable = DataTable(cursor_type="none", zebra_stripes=True, id="help-keys")
            yield table
            yield Static(
                "Remap a key in the config: [ui.keymap] <id> = \"keys\"  ·  ctrl+p opens the command palette",
                id="help-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        table = self.query_one("#help-keys", DataTable)
        table.add_columns("Key", "Action", "Id")
        keymap = self.app._keymap  # already normalised by App.set_keymap
        sections: list[tuple[str, list[Widget]]] = []
        if self._tab is not None:
            sections.append((getattr(self._tab, "TITLE", type(self._tab).__name__), [self._tab, *self._tab.query("*")]))
        sections.append(("App", [self.app]))
        for title, nodes in sections:
            rows = [row for node in nodes for row in effective_bindings(node, keymap)]
            if not rows:
                continue
            table.add_row(f"── {title}", "", "")
            for binding, keys in rows:
                shown = ", ".join(self.app.get_key_display(binding.with_key(key)) for key in keys)
                table.add_row(shown, binding.description or binding.action, binding.id or "")
