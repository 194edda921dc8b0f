"""Tab 3, Angor: the projects discovered over Nostr, with their funding figures.

Projects are few (hundreds), so one query returns them all, already sorted
and filtered in SQL; it still runs in a thread worker so the screen never
waits on the database. Enter opens a project's detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Input, Label
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import get_current_worker

from cftui import clock
from cftui.store import angor_queries
from cftui.store.angor_queries import STATUSES, ProjectRow
from cftui.ui.focus import keep_focus
from cftui.ui.messages import DataChanged
from cftui.ui.widgets.empty_state import EmptyState
from cftui.ui.screens.detail_text import NONE, btc, day, pct

# (sort key, header); the table shows them in this order.
COLUMNS = (
    ("name", "Name"),
    ("status", "Status"),
    ("target", "Target"),
    ("raised", "Raised"),
    ("funded", "Funded"),
    ("investors", "Inv"),
    ("start", "Start"),
    ("end", "End"),
    ("days_left", "Days"),
)
# Below this width the Start column goes (it is on the detail screen) and names are shorter.
WIDE = 100
NAME_WIDTH = {True: 28, False: 16}
RELEVANT_SOURCES = {"angor", "config"}


@dataclass
class ProjectsLoaded(Message):
    generation: int
    rows: list[ProjectRow]


class AngorTab(Container):
    # Styles: angor.tcss, loaded by the app with every tab's stylesheet.
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", id="angor.filter"),
        Binding("s", "cycle_sort", "Sort", id="angor.sort"),
        Binding("S", "reverse", "Reverse", id="angor.reverse"),
        Binding("f", "cycle_status", "Status", id="angor.status"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="angor.clear"),
    ]

    def __init__(self) -> None:
        super().__init__(id="angor-tab")
        self.sort = "name"
        self.descending = False
        self.status: str | None = None
        self.text = ""
        self.rows: list[ProjectRow] = []
        self._wide: bool | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Label("", id="angor-bar")
        yield DataTable(id="angor-table", cursor_type="row", zebra_stripes=True)
        yield EmptyState(id="angor-empty")

    def on_mount(self) -> None:
        self._reload()

    def focus_targets(self) -> tuple:
        """What takes the focus when the tab is shown: the filter being typed, the table, or its empty state."""
        return (*self.query("#angor-filter"), self.query_one(DataTable), self.query_one(EmptyState))

    # ------------------------------------------------------------ loading

    def on_data_changed(self, message: DataChanged) -> None:
        if not message.sources or message.sources & RELEVANT_SOURCES:
            self._reload()

    def _reload(self) -> None:
        self._generation += 1
        config = self.app.config.angor
        if not config.enabled:
            self.rows = []
            self._show()
            return
        self._load(self._generation, self.sort, self.descending, self.status, self.text, config.network)

    @work(thread=True, exclusive=True, group="angor-load", exit_on_error=False)
    def _load(self, generation: int, sort: str, descending: bool, status: str | None, text: str, network: str) -> None:
        rows = angor_queries.list_projects(sort=sort, descending=descending, status=status, text=text, network=network)
        if not get_current_worker().is_cancelled:
            self.post_message(ProjectsLoaded(generation, rows))

    def on_projects_loaded(self, message: ProjectsLoaded) -> None:
        if message.generation == self._generation:
            self.rows = message.rows
            self._show()

    # ------------------------------------------------------------ display

    def on_resize(self, event: Resize) -> None:
        if (event.size.width >= WIDE) != self._wide:
            self._show()

    def _show(self) -> None:
        self._update_bar()
        table = self.query_one(DataTable)
        empty = self.query_one(EmptyState)
        text = self._empty_text()
        empty.update(text)
        empty.display = bool(text)
        table.display = not text
        if not text:
            self._fill(table)
        keep_focus(self, table, empty)

    def _fill(self, table: DataTable) -> None:
        wide = self.size.width >= WIDE
        selected = self._selected_id(table)
        table.clear(columns=wide != self._wide)
        if not table.columns:
            for key, header in COLUMNS:
                if wide or key != "start":
                    table.add_column(header, key=key)
        self._wide = wide
        now = clock.now_s()
        name_width = NAME_WIDTH[wide]
        for row in self.rows:
            cells = self._cells(row, now, name_width)
            table.add_row(*(cells[key] for key in (str(c.key.value) for c in table.columns.values())), key=row.project_id)
        if selected is not None and selected in {row.project_id for row in self.rows}:
            table.move_cursor(row=table.get_row_index(selected), animate=False)

    @staticmethod
    def _cells(row: ProjectRow, now: int, name_width: int) -> dict[str, object]:
        name = row.name if row.verified else f"⚠ {row.name}"
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        left = angor_queries.days_left(row.end_time, now)
        return {
            # Text, not str: names come from strangers on Nostr and must not be read as markup.
            "name": Text(name),
            "status": row.status,
            "target": Text(btc(row.target_sats), justify="right"),
            "raised": Text(btc(row.raised_sats), justify="right"),
            "funded": Text(pct(row.percent_funded), justify="right"),
            "investors": Text(str(row.investor_count), justify="right"),
            "start": day(row.start_time),
            "end": day(row.end_time),
            "days_left": Text(str(left) if left is not None else NONE, justify="right"),
        }

    @staticmethod
    def _selected_id(table: DataTable) -> str | None:
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def _update_bar(self) -> None:
        arrow = "↓" if self.descending else "↑"
        header = dict(COLUMNS)[self.sort]
        parts = [f"sort: {header} {arrow}", f"status: {self.status or 'all'}"]
        if self.text:
            parts.append(f"filter: {self.text}")
        parts.append(f"{len(self.rows)} projects · BTC · {self.app.config.angor.network}")
        self.query_one("#angor-bar", Label).update("   ".join(parts))

    def _empty_text(self) -> str:
        config = self.app.config
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
        if self.text or self.status:
            return "No project matches this filter. Esc clears the text filter; f changes the status filter."
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
        box = Input(self.text, placeholder="Filter by name or project id (Esc clears)", id="angor-filter")
        self.mount(box, after="#angor-bar")
        box.focus()

    def action_clear_filter(self) -> None:
        boxes = self.query("#angor-filter")
        if not boxes:
            return
        boxes.remove()
        self.query_one(DataTable).focus()
        if self.text:
            self.text = ""
            self._reload()

    @on(Input.Changed, "#angor-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self._reload()

    @on(Input.Submitted, "#angor-filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_cycle_sort(self) -> None:
        keys = [key for key, _ in COLUMNS]
        self._sort_by(keys[(keys.index(self.sort) + 1) % len(keys)], descending=False)

    def action_reverse(self) -> None:
        self._sort_by(self.sort, descending=not self.descending)

    @on(DataTable.HeaderSelected, "#angor-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        self._sort_by(key, descending=not self.descending if key == self.sort else False)

    def _sort_by(self, key: str, *, descending: bool) -> None:
        self.sort, self.descending = key, descending
        self._reload()

    def action_cycle_status(self) -> None:
        choices: list[str | None] = [None, *STATUSES]
        self.status = choices[(choices.index(self.status) + 1) % len(choices)]
        self._reload()

    @on(DataTable.RowSelected, "#angor-table")
    def _open_project(self, event: DataTable.RowSelected) -> None:
        from cftui.ui.screens.project_detail import ProjectDetailScreen

        self.app.push_screen(ProjectDetailScreen(str(event.row_key.value)))
