"""The header's sync status: one short entry per source.

``main ✓ 2 min ago │ Angor ⠹ 1,200`` — a spinner (with the records read so far)
while a source syncs, the time of the last success, or ``✗`` and a short
error; ``⚠ 4 unread`` when a store's syncs skipped invoices they could not
read (the tooltip names them; :mod:`cftui.store.retry`). The initial state
comes from the store, read in a thread worker as the line mounts (and when the
configured sources change), so the line is right before the first sync of
this session ends; a sync event that arrived meanwhile wins over the read. The
store is read again whenever the change feed reports another process's sync (a
daemon, a second dashboard, another host on a team store).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import work
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from cftui import clock
from cftui.printable import printable
from cftui.store import retry
from cftui.store.queries import sync_states
from cftui.sync.events import SyncEvent, SyncFinished, SyncProgress, SyncStarted
from cftui.ui.reloading import WorkerErrors

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ERROR_WIDTH = 28


@dataclass(frozen=True)
class SourceStatus:
    running: bool = False
    fetched: int = 0
    last_success: int | None = None
    error: str | None = None
    unread: retry.Waiting = retry.Waiting(0, ())  # invoices skipped as malformed, read again by later syncs


def label(source: str) -> str:
    """'btcpay:main' -> 'main', 'angor' -> 'Angor'."""
    return source.split(":", 1)[1] if source.startswith("btcpay:") else source.capitalize()


def shorten(text: str, width: int = ERROR_WIDTH) -> str:
    text = printable(" ".join(text.split()))  # an error may quote what a server sent
    return text if len(text) <= width else text[: width - 1] + "…"


def load_states(sources: list[str]) -> dict[str, SourceStatus]:
    """What the store remembers about each source (a few indexed reads: call it in a worker)."""
    remembered = {state.source: state for state in sync_states(sources)}
    states: dict[str, SourceStatus] = {}
    for source in sources:
        state = remembered.get(source)
        unread = retry.summary(label(source)) if source.startswith("btcpay:") else retry.Waiting(0, ())
        if state is None:
            states[source] = SourceStatus(unread=unread)
        else:
            states[source] = SourceStatus(last_success=state.last_success_time, error=state.last_error, unread=unread)
    return states


@dataclass
class StatesRead(Message, bubble=False):
    """What the store remembers about the sources, read off the event loop."""

    states: dict[str, SourceStatus]


class SyncStatusLine(Static, WorkerErrors):
    """One line of per-source sync status; call :meth:`apply` with each sync event."""

    def __init__(self, sources: list[str], **kwargs) -> None:
        super().__init__("", **kwargs)
        self._states: dict[str, SourceStatus] = {s: SourceStatus() for s in sources}
        self._heard: set[str] = set()  # sources a sync event told about: newer than what the store said
        self._frame = 0

    def on_mount(self) -> None:
        self._read_states(list(self._states))
        # Re-render each second: "2 min ago" ages and the spinner turns.
        self.set_interval(1.0, self._tick, name="status tick")
        self._render_line()

    @work(thread=True, group="status-line", exit_on_error=False, description="read the sync states")
    def _read_states(self, sources: list[str]) -> None:
        self.post_message(StatesRead(load_states(sources)))

    def on_states_read(self, message: StatesRead) -> None:
        for source, state in message.states.items():
            if source in self._states and source not in self._heard:
                self._states[source] = state
        self._render_line()

    @property
    def states(self) -> dict[str, SourceStatus]:
        return dict(self._states)

    def apply(self, event: SyncEvent) -> None:
        self._heard.add(event.result.source if isinstance(event, SyncFinished) else event.source)
        if isinstance(event, SyncStarted):
            old = self._states.get(event.source, SourceStatus())
            self._states[event.source] = replace(old, running=True, fetched=0)
        elif isinstance(event, SyncProgress):
            old = self._states.get(event.source, SourceStatus())
            self._states[event.source] = replace(old, running=True, fetched=event.fetched)
        elif isinstance(event, SyncFinished):
            result = event.result
            old = self._states.get(result.source, SourceStatus())
            unread = retry.Waiting(result.unread, result.unread_ids)
            if result.ok:
                self._states[result.source] = SourceStatus(last_success=clock.now_s(), unread=unread)
            else:
                self._states[result.source] = replace(old, running=False, error=result.error)
        self._render_line()

    def show_stored(self, stored: dict[str, SourceStatus]) -> None:
        """What the store says now (another process synced, or listed invoices it could not read); a source
        syncing here keeps its spinner until its own result comes, and a success heard here that is newer
        than the store's word stands (the store is read whenever invoices change, whatever source ran)."""
        for source, state in stored.items():
            old = self._states.get(source)
            if old is None:
                continue
            if old.last_success is not None and (state.last_success or 0) < old.last_success:
                state = replace(state, last_success=old.last_success, error=old.error)
            self._states[source] = replace(state, running=old.running, fetched=old.fetched)
        self._render_line()

    def set_sources(self, sources: list[str]) -> None:
        """The configured sources changed (settings saved): keep what is known, read the new ones."""
        self._states = {s: self._states.get(s, SourceStatus()) for s in sources}
        self._read_states([s for s in sources if s not in self._heard])
        self._render_line()

    def fail(self, source: str, error: str) -> None:
        """A sync worker crashed outright (a bug): show it like a failed run."""
        self._heard.add(source)
        old = self._states.get(source, SourceStatus())
        self._states[source] = replace(old, running=False, error=error)
        self._render_line()

    def _ago(self, ts: int) -> str:
        """'2 min ago'; below 100 columns '2 min', so every source fits the line (review L1)."""
        text = clock.ago(ts)
        if self.app.size.width >= 100:
            return text
        return "now" if text == "just now" else text.removesuffix(" ago")

    def on_resize(self) -> None:
        self._render_line()

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self._render_line()

    def _render_line(self) -> None:
        parts: list[tuple[str, str] | str] = []
        if not self._states:
            parts.append(("no sources configured", "dim"))
        for index, (source, state) in enumerate(self._states.items()):
            if index:
                parts.append((" │ ", "dim"))
            parts.append((label(source) + " ", "bold"))
            if state.running:
                parts.append((SPINNER[self._frame], "$accent"))
                if state.fetched:
                    parts.append(f" {state.fetched:,} read")
            elif state.error:
                parts.append(("✗ " + shorten(state.error), "$error"))
            elif state.last_success is not None:
                parts.append(("✓ ", "$success"))
                parts.append(self._ago(state.last_success))
            else:
                parts.append(("not synced yet", "dim"))
            if state.unread.count:
                parts.append((f" ⚠ {state.unread.count} unread", "$warning"))
        self.update(Content.assemble(*parts))
        self.tooltip = self._unread_tooltip()

    def _unread_tooltip(self) -> str | None:
        lines = []
        for source, state in self._states.items():
            waiting = state.unread
            if waiting.count:
                more = waiting.count - len(waiting.labels)
                names = ", ".join(printable(name) for name in waiting.labels) + (f" and {more} more" if more else "")
                lines.append(
                    f"{waiting.count} invoices of {label(source)} could not be read (malformed records); "
                    f"every sync reads them again: {names}"
                )
        return "\n".join(lines) or None
