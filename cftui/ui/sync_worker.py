"""Sync scheduling: one named thread worker per source, never two at once.

Each source (``btcpay:<store>``, ``angor``) runs in a thread worker in group
``sync:<source>``, which waits on a child process doing the sync
(``cftui.sync.isolated``) so the event loop never stalls. The next run is scheduled with a
one-shot timer only after the previous one ended (dolphie's pattern), so runs
of a source never overlap and a slow server never piles up work. ``r`` starts
every source that is not already running.

The worker never touches widgets: its reporter posts
:class:`~cftui.ui.messages.SyncEventPosted` (thread-safe) and the app reacts
on the main thread.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.worker import Worker, WorkerState

from cftui.config import Config, Paths
from cftui.sync.events import SyncEvent, SyncResult
from cftui.ui.messages import SyncEventPosted

if TYPE_CHECKING:
    from textual.app import App

GROUP_PREFIX = "sync:"


def source_of(worker: Worker) -> str | None:
    """The source a worker syncs, or None if it is not a sync worker."""
    group = worker.group or ""
    return group[len(GROUP_PREFIX) :] if group.startswith(GROUP_PREFIX) else None


class SyncScheduler:
    """Starts sync workers on the app and reschedules each after it ends."""

    def __init__(self, app: App[Any], config: Config, paths: Paths) -> None:
        self._app = app
        self._paths = paths  # where a sync's child process opens the store and logs
        self._config = config
        self._running: set[str] = set()
        self._timers: dict[str, Timer] = {}
        # Set on shutdown or config change; the engine checks it between pages.
        self._cancel = threading.Event()

    @property
    def sources(self) -> list[str]:
        from cftui.sync import service

        return list(service.sources(self._config))

    def is_running(self, source: str) -> bool:
        return source in self._running

    def is_scheduled(self, source: str) -> bool:
        """The source's next run waits on its timer (it ran, and runs again after ``sync.interval``)."""
        return source in self._timers

    def start_all(self) -> list[str]:
        """Start every source not already running; return the ones started."""
        return [source for source in self.sources if self.start(source)]

    def start(self, source: str) -> bool:
        if source in self._running:
            return False
        timer = self._timers.pop(source, None)
        if timer is not None:
            timer.stop()
        self._running.add(source)
        self._app.run_worker(
            lambda: self._run(source),
            name=f"sync {source}",
            group=f"{GROUP_PREFIX}{source}",
            description=f"sync {source}",
            exclusive=True,
            exit_on_error=False,
            thread=True,
        )
        return True

    def _run(self, source: str) -> SyncResult:
        from cftui.sync.isolated import run_sync_isolated

        def report(event: SyncEvent) -> None:
            self._app.post_message(SyncEventPosted(event))

        # In a child process: a sync in a thread would hold the GIL for tens of
        # milliseconds at a time (JSON pages, bulk inserts) and stall the UI.
        paths = self._paths
        return run_sync_isolated(
            source, self._config, paths.store, log_dir=paths.log_dir, reporter=report, cancel=self._cancel
        )

    def worker_changed(self, worker: Worker) -> None:
        """Call from the app's Worker.StateChanged handler: reschedule a finished source."""
        source = source_of(worker)
        if source is None or worker.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if source not in self._running:  # a worker of a scheduler replaced by a config change
            return
        self._running.discard(source)
        if self._cancel.is_set():
            return
        self._timers[source] = self._app.set_timer(
            self._config.sync.interval, lambda: self.start(source), name=f"next sync {source}"
        )

    def stop(self) -> None:
        """Ask running syncs to stop and drop the pending timers (on exit or a config change)."""
        self._cancel.set()
        for timer in self._timers.values():
            timer.stop()
        self._timers.clear()
