"""Run one sync in a child process, relaying its events to the caller.

A sync decodes pages of a thousand invoices and bulk-inserts them; both hold
Python's global interpreter lock for tens of milliseconds at a time. In a
thread of the dashboard (or the webhook daemon) that stalls the event loop,
so a keypress or a webhook waits. In a child process the sync has its own
interpreter: the parent only waits on a pipe, which releases the lock.

The child opens the same store (a SQLite file in WAL mode, or the
PostgreSQL database: both let it write while the parent reads), runs
:func:`cftui.sync.service.run_sync` and sends every
:mod:`~cftui.sync.events` event back; the parent calls its reporter with
them, in order. If the child dies (killed, out of memory), the parent gets a
result with a clear error and the store is left consistent, since every page
is committed on its own.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

from cftui.config import Config
from cftui.sync.events import Reporter, SyncFinished, SyncResult, ignore

log = logging.getLogger(__name__)

# "spawn": the parent runs threads (Textual, the receiver); forking a
# multi-threaded process can copy a held lock into the child.
_CONTEXT = multiprocessing.get_context("spawn")
_tracker_lock = threading.Lock()
CHILD_NICENESS = 10
# After a cancel (quit, config change) the child stops between pages; one stuck
# in retries against an unreachable server is stopped after this many seconds.
# Safe: every page commits atomically with its scan position.
CANCEL_GRACE = 2.0


def _ensure_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr.

    The tracker is launched with the parent's stderr descriptor; under Textual
    ``sys.stderr`` is a capture object whose ``fileno()`` is -1, and the
    launch fails ("bad value(s) in fds_to_keep").
    """
    with _tracker_lock:
        try:
            usable = sys.stderr.fileno() >= 0
        except (AttributeError, OSError, ValueError):
            usable = False
        if usable:
            resource_tracker.ensure_running()
            return
        saved = sys.stderr
        with open(os.devnull, "w") as devnull:
            sys.stderr = sys.__stderr__ if sys.__stderr__ is not None else devnull
            try:
                resource_tracker.ensure_running()
            finally:
                sys.stderr = saved


def _child(source: str, config: Config, db_path: str, log_dir: str | None, conn: Connection, stop: EventType) -> None:
    from cftui import logs
    from cftui import store_location as location
    from cftui.store.db import open_database
    from cftui.sync.service import run_sync

    # The child shares the parent's terminal; under the dashboard any stray
    # output would draw over the screen. Everything worth keeping goes to the log.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    # A background sync yields the CPU to the interactive dashboard: on a small
    # node box both compete for the same cores, and keystrokes come first.
    try:
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    if log_dir:
        logs.setup(Path(log_dir))
    logs.redact(*config.secret_values(), *location.secrets(db_path))
    try:
        open_database(db_path, migrate=False)
        run_sync(source, config, reporter=conn.send, cancel=stop)
    except BaseException:  # reported to the parent as a missing result
        logging.getLogger(__name__).exception("sync process for %s failed", source)
        raise
    finally:
        conn.close()


def run_sync_isolated(
    source: str,
    config: Config,
    db_path: str | os.PathLike[str],
    *,
    log_dir: str | os.PathLike[str] | None = None,
    reporter: Reporter = ignore,
    cancel: threading.Event | None = None,
) -> SyncResult:
    """Blocking: sync ``source`` in a child process; return its result."""
    _ensure_resource_tracker()
    receive, send = _CONTEXT.Pipe(duplex=False)
    stop = _CONTEXT.Event()
    process = _CONTEXT.Process(
        target=_child,
        args=(source, config, str(db_path), str(log_dir) if log_dir else None, send, stop),
        name=f"cftui-sync-{source}",
        daemon=True,
    )
    process.start()
    send.close()  # the child holds the only writer: EOF means it is gone
    try:
        result, cancelled = _relay(receive, process, stop, reporter, cancel)
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
        receive.close()
    if result is None:
        if cancelled:
            error = "The sync was stopped before it finished; the next sync continues from where it was."
        else:
            error = f"The sync process ended unexpectedly (exit code {process.exitcode}); see the log for details."
        result = SyncResult(source=source, error=error)
        log.error("sync of %s: %s", source, result.error)
        reporter(SyncFinished(result))
    return result


def _relay(
    receive: Connection, process: BaseProcess, stop: EventType, reporter: Reporter, cancel: threading.Event | None
) -> tuple[SyncResult | None, bool]:
    """Pass the child's events to ``reporter`` until it is gone.

    Returns its result (None when it sent none) and whether the run was cancelled.
    """
    result: SyncResult | None = None
    cancelled_at: float | None = None
    while True:
        if cancel is not None and cancel.is_set():
            stop.set()
            if cancelled_at is None:
                cancelled_at = time.monotonic()
            elif time.monotonic() - cancelled_at > CANCEL_GRACE and process.is_alive():
                process.terminate()
        if not receive.poll(0.2):
            if process.is_alive():
                continue
            if not receive.poll():
                break
        try:
            event = receive.recv()
        except EOFError:
            break
        if isinstance(event, SyncFinished):
            result = event.result
        reporter(event)
    return result, cancelled_at is not None
