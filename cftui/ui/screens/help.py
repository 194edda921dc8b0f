"""`?`: the keys of what is on screen, then the keys that move in lists, then the app's (review M7).

On a tab: the tab's keys. On a detail screen: that screen's keys (not the
tab's underneath, which do not work there). Each key is listed with its
binding id, the name ``[ui.keymap]`` uses to remap it. The whole list scrolls
with the arrow, page and Home/End keys; ``?``, ``esc`` or ``q`` close it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widgets import DataTable, Static

from cftui.ui.bindings import effective_bindings
from cftui.ui.problems import ProblemList
from cftui.ui.screens.base import DetailModal
from cftui.ui.widgets.delivery_log import DeliveryLog
from cftui.ui.widgets.list_table import PagedTable


@dataclass(frozen=True)
class KeyRow:
    keys: str
    action: str
    binding_id: str


# Keys Textual's widgets give every list, and the text views (no id: they are not remapped).
LIST_KEYS = [
    KeyRow("↑ ↓  j k", "Move", ""),
    KeyRow("PgUp PgDn", "Page", ""),
    KeyRow("Home End  g G", "First / last row", ""),
    KeyRow("⏎  (or click twice)", "Open the row", ""),
]
# A list that holds one page of many (Invoices, Payments): the page keys go on past its edges.
PAGED_LIST_KEYS = [
    LIST_KEYS[0],
    KeyRow("PgUp PgDn", "Page; past the edge, the next page", ""),
    KeyRow("Home End  g G", "First / last row (or page)", ""),
    LIST_KEYS[3],
]
PROBLEM_KEYS = [KeyRow("↑ ↓  ⏎", "Pick a problem, open the list that shows it", "")]
SCROLL_KEYS = [
    KeyRow("↑ ↓  PgUp PgDn", "Scroll", ""),
    KeyRow("Home End", "Top / bottom", ""),
]
APP_EXTRA = [
    KeyRow("ctrl+p", "Command palette: go to, sync, export, open an invoice, theme, store", ""),
    KeyRow("? esc q", "Close this list", ""),
]


def title_of(node: DOMNode) -> str:
    """A section title people can read: the tab's or screen's TITLE, never a class name."""
    return getattr(node, "TITLE", None) or "This screen"


def binding_rows(app: App, nodes: list[DOMNode], keymap: Mapping[str, str]) -> list[KeyRow]:
    rows = []
    for node in nodes:
        for binding, keys in effective_bindings(node, keymap):
            shown = ", ".join(app.get_key_display(binding.with_key(key)) for key in keys)
            rows.append(KeyRow(shown, binding.description or binding.action, binding.id or ""))
    # One row per id: a key bound twice (Pause and Resume) is one key.
    seen: dict[str, KeyRow] = {}
    for row in rows:
        key = row.binding_id or row.keys
        if key in seen and row.binding_id:
            seen[key] = KeyRow(row.keys, f"{seen[key].action} / {row.action}", row.binding_id)
        else:
            seen.setdefault(key, row)
    return list(seen.values())


def help_sections(app: App, target: DOMNode | None, keymap: Mapping[str, str]) -> list[tuple[str, list[KeyRow]]]:
    """(title, rows) for ``target`` (a tab or a detail screen), the movement keys, then the app; ``keymap`` is
    the user's ``[ui.keymap]``."""
    sections: list[tuple[str, list[KeyRow]]] = []
    if target is not None:
        nodes = [target, *target.query("*")]
        rows = binding_rows(app, nodes, keymap)
        if rows:
            sections.append((title_of(target), rows))
        sections.append(movement_section(nodes))
    # The app's keys, less those the screen on top binds to something else (q and r on a detail screen).
    taken = {key for _, rows in sections for row in rows if row.binding_id for key in row.keys.split(", ")}
    app_rows = [row for row in binding_rows(app, [app], keymap) if not set(row.keys.split(", ")) <= taken]
    sections.append(("Everywhere", [*app_rows, *APP_EXTRA]))
    return sections


def movement_section(nodes: list[DOMNode]) -> tuple[str, list[KeyRow]]:
    """The keys that move: in a paged list, a list, or a text that scrolls (with the Overview's problems)."""
    lists = [node for node in nodes if isinstance(node, (DataTable, DeliveryLog)) and node.can_focus]
    if any(isinstance(node, PagedTable) for node in lists):
        return "Lists", PAGED_LIST_KEYS
    if lists:
        return "Lists", LIST_KEYS
    problems = PROBLEM_KEYS if any(isinstance(node, ProblemList) for node in nodes) else []
    return "Scrolling", [*problems, *SCROLL_KEYS]


def render_sections(sections: list[tuple[str, list[KeyRow]]]) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False, expand=True, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold", ratio=1)
    table.add_column(no_wrap=True, style="dim")
    for index, (title, rows) in enumerate(sections):
        if index:
            table.add_row("", "", "")
        table.add_row(Text(title, style="bold underline"), "", "")
        for row in rows:
            table.add_row(Text(row.keys, style="bold"), Text(row.action), Text(row.binding_id))
    return table


class HelpScreen(DetailModal):
    """A modal list of keys for what is on screen."""

    TITLE = "Keys"
    CSS_PATH = "help.tcss"
    BINDINGS = [Binding("escape,question_mark,q", "back", "Close", key_display="esc", id="help.close")]

    def __init__(self, target: DOMNode | None, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._target = target
        self._keymap = keymap
        self.sections: list[tuple[str, list[KeyRow]]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("Keys", id="help-title")
            yield Static("", id="help-keys")
            yield Static(
                "The last column is each key's id: remap it in the config file, "
                "[ui.keymap] <id> = \"keys\", e.g. sync_now = \"ctrl+r\".",
                id="help-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.sections = help_sections(self.app, self._target, self._keymap)
        self.query_one("#help-keys", Static).update(render_sections(self.sections))
        self.query_one("#help-title", Static).update(f"Keys: {title_of(self._target)}" if self._target else "Keys")
        self.query_one("#help-body").focus()  # arrows and page keys scroll the list
