"""Tab 3, Angor: the projects discovered over Nostr, with their funding figures.

Projects are few (hundreds), so one query returns them all, already sorted
and filtered in SQL; it still runs in a thread worker so the screen never
waits on the database. Enter opens a project's detail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.events import Resize
from textual.reactive import var
from textual.widgets import DataTable, Input, Label

from cftui import clock
from cftui.angor import queries as angor_queries
from cftui.angor.queries import STATUSES, ProjectRow
from cftui.domain import ProjectSort
from cftui.printable import printable
from cftui.ui.exporting import export_format, start_export
from cftui.ui.focus import keep_focus
from cftui.ui.keys import shared_keys
from cftui.ui.messages import Source
from cftui.ui.reloading import Loaded
from cftui.ui.screens.detail_text import NONE, btc, day, pct
from cftui.ui.tabs.base import ReloadingTab
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.widgets.list_table import ListTable

# (sort key, header, narrowest width that shows it); the table shows them in this order.
COLUMNS: tuple[tuple[ProjectSort, str, int], ...] = (  # key, header, narrowest width shown at
    ("name", "Name", 0),
    ("type", "Type", 0),
    ("status", "Status", 0),
    ("target", "Target BTC", 100),
    ("raised", "Raised BTC", 0),
    ("funded", "Funded", 0),
    ("investors", "Investors", 0),
    ("start", "Start", 140),
    ("end", "Ends", 100),
    ("days_left", "Days", 100),
)
WIDE = 100
NAME_WIDTH = {True: 24, False: 14}
BAR = {True: 10, False: 6}
TYPES: tuple[str | None, ...] = (None, "Invest", "Fund", "Subscribe")


def funded_bar(row: ProjectRow, width: int, style: Style) -> Text:
    """A progress bar toward the target and the percentage; full past 100%. No target: said so."""
    share = row.percent_funded
    if share is None:
        return Text("no target", style="dim", justify="right")
    filled = min(width, int(share * width / 100))
    text = Text(no_wrap=True)
    text.append("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {pct(share):>6}")
    return text


@dataclass(frozen=True)
class ProjectView:
    """What the user asked to see: the order and the filters."""

    sort: ProjectSort = "name"
    descending: bool = False
    status: str | None = None
    project_type: str | None = None
    text: str = ""

    @property
    def filtered(self) -> bool:
        return bool(self.text or self.status or self.project_type)


@dataclass
class ProjectsLoaded(Loaded):
    rows: list[ProjectRow]


class AngorTab(ReloadingTab[ProjectsLoaded]):
    # Styles: angor.tcss, in the app's CSS_PATH with every tab's sheet.
    TITLE = "Angor"
    BINDINGS = shared_keys(
        "angor", "filter", "status", "type", "sort", "reverse", "copy_id", "export_csv", "export_json", "clear"
    )
    RELOAD_ON = frozenset({Source.ANGOR})

    # Set it and the projects load again in that order, with those filters.
    view: var[ProjectView] = var(ProjectView, init=False)

    def __init__(self, config) -> None:
        super().__init__(config, id="angor-tab")
        self.rows: list[ProjectRow] = []
        self._shown_columns: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Label("", id="angor-bar")
        yield ListTable(id="angor-table")
        yield EmptyState(id="angor-empty")

    def focus_targets(self) -> tuple:
        """What takes the focus when the tab is shown: the filter being typed, the table, or its empty state."""
        return (*self.query("#angor-filter"), self.query_one(DataTable), self.query_one(EmptyState))

    # ------------------------------------------------------------ loading

    def watch_view(self, old: ProjectView, new: ProjectView) -> None:
        if (old.sort, old.descending) != (new.sort, new.descending):
            self._shown_columns = ()  # the headers carry the sort arrow
        self.load()

    def start_load(self, seq: int):
        angor = self.config.angor
        if not angor.enabled:
            self.rows = []
            self._show()
            return None
        return self._load(seq, self.view, angor.network)

    @work(thread=True, exclusive=True, group="angor-load", exit_on_error=False, description="read the Angor projects")
    def _load(self, seq: int, view: ProjectView, network: str) -> None:
        rows = angor_queries.list_projects(sort=view.sort, descending=view.descending, status=view.status,
                                           text=view.text, network=network, project_type=view.project_type)
        self.post_message(ProjectsLoaded(seq, rows))

    def show_loaded(self, message: ProjectsLoaded) -> None:
        self.rows = message.rows
        self._show()

    # ------------------------------------------------------------ display

    def on_resize(self, event: Resize) -> None:
        if self._columns(event.size.width) != self._shown_columns:
            self._show()

    @staticmethod
    def _columns(width: int) -> tuple[ProjectSort, ...]:
        return tuple(key for key, _, narrowest in COLUMNS if width >= narrowest)

    def _show(self) -> None:
        self._update_bar()
        table = self.query_one(ListTable)
        empty = self.query_one(EmptyState)
        text = self._empty_text()
        empty.update(text)
        empty.display = bool(text)
        table.display = not text
        if not text:
            self._fill(table)
        keep_focus(self, table, empty)

    def _fill(self, table: ListTable) -> None:
        columns = self._columns(self.size.width)
        wide = self.size.width >= WIDE
        selected = table.cursor_key()
        table.clear(columns=columns != self._shown_columns)
        if not table.columns:
            headers = {key: header for key, header, _ in COLUMNS}
            for key in columns:
                arrow = (" ▼" if self.view.descending else " ▲") if key == self.view.sort else ""
                table.add_column(headers[key] + arrow, key=key)
        self._shown_columns = columns
        now = clock.now_s()
        bar_style = table.theme_style("success")
        for row in self.rows:
            cells = self._cells(row, now, NAME_WIDTH[wide], BAR[wide], bar_style)
            table.add_row(*(cells[key] for key in columns), key=row.project_id)
        if selected is not None and selected in {row.project_id for row in self.rows}:
            table.move_cursor(row=table.get_row_index(selected), animate=False)

    @staticmethod
    def _cells(row: ProjectRow, now: int, name_width: int, bar: int, bar_style: Style) -> dict[str, object]:
        name = printable(row.name) if row.verified else f"⚠ {printable(row.name)}"
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        left = angor_queries.days_left(row.end_time, now, row.expiry_time)
        return {
            # Text, not str: names come from strangers on Nostr and must not be read as markup (nor reach
            # the terminal raw: printable above).
            "name": Text(name),
            "type": row.project_type,
            "status": row.status,
            "target": Text(btc(row.target_sats) if row.target_sats else NONE, justify="right"),
            "raised": Text(btc(row.raised_sats), justify="right"),
            "funded": funded_bar(row, bar, bar_style),
            "investors": Text(f"{row.investor_count:,}", justify="right"),
            "start": day(row.start_time),
            "end": day(row.window_end),
            "days_left": Text(str(left) if left is not None else NONE, justify="right"),
        }


    def _update_bar(self) -> None:
        view = self.view
        header = {key: header for key, header, _ in COLUMNS}[view.sort]
        parts = [f"{len(self.rows):,} project{'' if len(self.rows) == 1 else 's'} on {self.config.angor.network}",
                 f"status {view.status or 'all'}", f"type {view.project_type or 'all'}"]
        if view.text:
            parts.append(f"text “{view.text}”")
        parts.append(f"sort {header.lower()} {'▼' if view.descending else '▲'}")
        if any(not row.verified for row in self.rows):
            parts.append("⚠ not verified: enter says why")
        self.query_one("#angor-bar", Label).update(" · ".join(parts))

    def _empty_text(self) -> str:
        config = self.config
        if not config.angor.enabled:
            return (
                "Angor is off.\n\n"
                "To follow Angor projects (found over Nostr, funding read from the indexer),\n"
                "turn Angor on in Settings (5), or add to your config file:\n\n"
                "  [angor]\n"
                "  enabled = true\n"
                '  network = "Main"        # or "Angornet"\n\n'
                "then press r to sync."
            )
        if self.rows:
            return ""
        if self.view.filtered:
            return "No project matches these filters (f status, t type, / text); esc clears them."
        relays = ", ".join(config.angor.effective_relays[:3])
        return (
            f"No Angor projects yet on {config.angor.network}.\n\n"
            f"Press r to sync from the relays ({relays}, …) and the indexer {config.angor.effective_indexer_url}."
        )

    # ------------------------------------------------------------ actions

    def action_filter(self) -> None:
        # Mounted only while in use: a hidden Input could still take the focus (and the keys).
        boxes = self.query("#angor-filter")
        if boxes:
            boxes.first().focus()
            return
        box = Input(self.view.text, placeholder="Filter by name or project id (Esc clears)", id="angor-filter")
        self.mount(box, after="#angor-bar")
        box.focus()

    def action_clear_filter(self) -> None:
        """esc: close the text box, and put every filter back to all."""
        self.query("#angor-filter").remove()
        if self.view.filtered:
            self.view = replace(self.view, text="", status=None, project_type=None)
        keep_focus(self, self.query_one(DataTable), self.query_one(EmptyState))
        self.query_one(DataTable).focus()

    def action_cycle_type(self) -> None:
        self.view = replace(self.view, project_type=TYPES[(TYPES.index(self.view.project_type) + 1) % len(TYPES)])

    def action_copy_id(self) -> None:
        selected = self.query_one(ListTable).cursor_key()
        if selected is not None:
            self.app.copy_to_clipboard(selected)
            self.notify(f"Copied project id {selected}", markup=False)

    def action_export(self, name: str) -> None:
        from cftui.angor.export import write

        fmt, network = export_format(name), self.config.angor.network
        start_export(self, "projects", fmt, lambda out: write(out, fmt, network))

    @on(Input.Changed, "#angor-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.view.text:
            self.view = replace(self.view, text=event.value.strip())

    @on(Input.Submitted, "#angor-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_cycle_sort(self) -> None:
        keys = [key for key, _, _ in COLUMNS]
        self.view = replace(self.view, sort=keys[(keys.index(self.view.sort) + 1) % len(keys)], descending=False)

    def action_reverse(self) -> None:
        self.view = replace(self.view, descending=not self.view.descending)

    @on(DataTable.HeaderSelected, "#angor-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = next((key for key, _, _ in COLUMNS if key == event.column_key.value), None)
        if key is None:
            return
        descending = not self.view.descending if key == self.view.sort else False
        self.view = replace(self.view, sort=key, descending=descending)

    def action_cycle_status(self) -> None:
        choices: list[str | None] = [None, *STATUSES]
        self.view = replace(self.view, status=choices[(choices.index(self.view.status) + 1) % len(choices)])

    @on(DataTable.RowSelected, "#angor-table")
    def _open_project(self, event: DataTable.RowSelected) -> None:
        from cftui.ui.screens.project_detail import ProjectDetailScreen

        self.app.push_screen(ProjectDetailScreen(str(event.row_key.value)))
