"""The frame every sync runs in, whatever its source (a BTCPay store, Angor).

:func:`run_reported` reports :class:`~cftui.sync.events.SyncStarted` once the
body knows its mode, runs the body, and always ends with one
:class:`~cftui.sync.events.SyncFinished` carrying the result and its duration.
A sync never raises for a sync failure: a cancel, a :class:`~cftui.errors.CftuiError`,
a store that cannot be written, even a bug, each end up in
``SyncResult.error`` as one sentence (a bug also leaves its traceback in the log).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cftui import clock
from cftui.domain import SyncMode
from cftui.errors import CftuiError
from cftui.store.db import storage_error
from cftui.store.models import SyncState, database
from cftui.sync.events import Reporter, SyncFinished, SyncProgress, SyncResult, SyncStarted

log = logging.getLogger(__name__)


class CancelFlag(Protocol):
    """What a sync is cancelled with: a ``threading.Event`` (the UI's worker, the daemon's shutdown)."""

    def is_set(self) -> bool: ...


class Cancelled(Exception):
    """The sync's cancel flag is set: raised between steps, it ends the run with what is stored so far."""


@dataclass(frozen=True, slots=True)
class SyncRun:
    """One run of one source as its body sees it: the result to fill in, its reporter and its cancel flag."""

    result: SyncResult
    reporter: Reporter
    cancel: CancelFlag | None

    @property
    def source(self) -> str:
        return self.result.source

    def started(self, mode: SyncMode) -> None:
        """Report the start, once the body knows whether it backfills or catches up."""
        self.reporter(SyncStarted(self.source, mode))

    def progress(self, message: str, total: int | None = None) -> None:
        self.reporter(SyncProgress(self.source, self.result.fetched, total, message))

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def check_cancel(self) -> None:
        """Stop here (:class:`Cancelled`) if the run was cancelled."""
        if self.cancelled():
            raise Cancelled


async def run_reported(
    source: str,
    body: Callable[[SyncRun], Awaitable[None]],
    *,
    reporter: Reporter,
    cancel: CancelFlag | None,
    cancelled: str,
    after: Callable[[SyncResult], Awaitable[None]] | None = None,
    counted: str = "",
) -> SyncResult:
    """Run ``body`` as one sync of ``source`` and report it; return its result.

    ``cancelled`` is the result's sentence when the run is cancelled (it says what is kept).
    ``after`` runs once the result is complete (error and duration set), before
    SyncFinished is reported: where a source records the outcome.
    ``counted`` names what a source stores when that differs from what it reads (see SyncResult).
    """
    run = SyncRun(SyncResult(source=source, counted=counted), reporter, cancel)
    started = time.monotonic()
    try:
        await body(run)
    except Cancelled:
        run.result.error = cancelled
    except Exception as exc:
        fail(run.result, exc)
    run.result.duration = time.monotonic() - started
    if after is not None:
        await after(run.result)
    if run.result.error:
        log.warning("%s", run.result.summary())
    else:
        log.info("%s", run.result.summary())
    reporter(SyncFinished(run.result))
    return run.result


def fail(result: SyncResult, exc: BaseException) -> None:
    """Put ``exc`` into ``result`` as one sentence and its exit code; a bug also leaves its traceback in the log."""
    problem = exc if isinstance(exc, CftuiError) else storage_error(exc)
    if problem is not None:
        result.error, result.error_code = str(problem), problem.exit_code
        return
    log.exception("sync of %s failed", result.source)
    result.error = f"Unexpected error while syncing ({type(exc).__name__}: {exc}); details are in the log."


# ------------------------------------------------------------------ what the store remembers of each run


def begin_state(source: str) -> SyncState:
    """Mark ``source`` running in the store (its ``SyncState`` row, made on its first run) and return the row."""
    with database.atomic():
        state = SyncState.get_or_none(SyncState.source == source)
        if state is None:  # its first run; another process may be making the row at this moment too
            SyncState.insert(source=source).on_conflict_ignore().execute()
            state = SyncState.get(SyncState.source == source)
        state.running = True
        state.last_started_time = clock.now_s()
        state.save()
    return state


def finish_state(source: str, result: SyncResult, notes: Sequence[str] = ()) -> None:
    """Keep the run's outcome: its summary, and its time as the last success or, with the error, the last failure.

    Every source's runs are kept alike, so a dashboard started later, ``cftui sync status`` and a dashboard on
    another host sharing the store all say when each source last synced and why its last run failed."""
    summary = json.loads(result.to_json())
    if notes:
        summary["notes"] = list(notes)
    now = clock.now_s()
    values: dict[Any, Any] = {SyncState.running: False, SyncState.last_result: json.dumps(summary)}
    if result.error:
        values.update({SyncState.last_error: result.error, SyncState.last_error_time: now})
    else:
        values.update({SyncState.last_success_time: now, SyncState.last_error: None})
    SyncState.update(values).where(SyncState.source == source).execute()


async def keep_outcome(result: SyncResult, write: Callable[[], Awaitable[object]]) -> None:
    """Run ``write`` (which records the outcome); a store that fails here (full, read-only) turns a success into
    that error, and the run's result still says why."""
    try:
        await write()
    except Exception as exc:
        if result.ok:
            fail(result, exc)
        log.warning("%s: could not record the sync's outcome in the store (%s)", result.source, exc)
