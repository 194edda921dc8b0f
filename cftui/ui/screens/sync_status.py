"""Each source's last sync: when it last worked, why it last failed, what it skipped and why.

Opened from the Overview's Problems list (a failing sync, skipped records).
The details of each skipped record are in the log; its path is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from cftui import clock
from cftui.store.problem_queries import sync_troubles
from cftui.store.queries import sync_states
from cftui.ui.reloading import Loaded, Reloading
from cftui.ui.screens.base import DetailScreen
from cftui.ui.screens.detail_text import aligned
from cftui.ui.widgets.footer import AppFooter
from cftui.ui.widgets.status_line import label


@dataclass(frozen=True)
class SourceReport:
    source: str
    last_success: int | None
    error: str | None
    skipped: dict[str, int]


@dataclass
class SyncStatusLoaded(Loaded):
    reports: list[SourceReport]


def reports() -> list[SourceReport]:
    troubles = {t.source: t for t in sync_troubles()}
    out = []
    for state in sync_states():
        trouble = troubles.get(state.source)
        out.append(SourceReport(state.source, state.last_success_time, trouble.error if trouble else None,
                                trouble.skipped if trouble else {}))  # fmt: skip
    return out


class SyncStatusScreen(DetailScreen, Reloading[SyncStatusLoaded]):
    TITLE = "Sync status"

    def __init__(self, log_file: Path | None = None) -> None:
        super().__init__()
        self.log_file = log_file  # where each skipped record is described

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="sync-status-scroll"):
            yield Label("Each source's last sync", classes="sync-status-title")
            yield Static("Loading…", id="sync-status-body", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#sync-status-scroll").focus()

    def start_load(self, seq: int):
        return self._load(seq)

    @work(thread=True, exclusive=True, group="sync-status", exit_on_error=False, description="read the sync states")
    def _load(self, seq: int) -> None:
        self.post_message(SyncStatusLoaded(seq, reports()))

    def show_loaded(self, message: SyncStatusLoaded) -> None:
        log = self.log_file
        parts: list[RenderableType] = []
        for report in message.reports:
            rows = [("Last success", f"{clock.iso(report.last_success)} ({clock.ago(report.last_success)})"
                     if report.last_success else "never")]  # fmt: skip
            if report.error:
                rows.append(("Last run failed", report.error))
            for reason, count in sorted(report.skipped.items(), key=lambda item: -item[1]):
                rows.append(("Skipped", f"{count:,} × {reason}"))
            parts += [Text(label(report.source), style="bold"), aligned(rows), Text("")]
        if log is not None:
            parts.append(Text(f"Each skipped record is described in the log: {log}", style="dim"))
        self.query_one("#sync-status-body", Static).update(Group(*parts) if parts else "No sync has run yet.")
