"""`cftui daemon`: the webhook receiver plus the periodic sync, headless.

For a node box: the webhooks bring changes in within a second, and the sync
(every ``[sync] interval``) stays the source of truth, fetching anything a
webhook missed and every invoice a webhook queued while BTCPay was down.
Each source (each BTCPay store, Angor) syncs on its own schedule, so one that
is slow or stuck (a relay holding Angor to its deadline) never delays another.
Stops cleanly when ``stop`` is set (the CLI sets it on SIGTERM or ctrl+c):
a running sync is cancelled between pages, queued writes are committed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from contextlib import suppress

from cftui.config import Config
from cftui.sync.events import SyncResult
from cftui.webhooks.notices import OnDelivery, OnProcessed
from cftui.webhooks.receiver import WebhookReceiver

log = logging.getLogger(__name__)


async def run_daemon(
    config: Config,
    stop: asyncio.Event,
    *,
    db_path: str | os.PathLike[str],
    log_dir: str | os.PathLike[str] | None = None,
    on_started: Callable[[str], None] | None = None,
    on_delivery: OnDelivery | None = None,
    on_processed: OnProcessed | None = None,
    on_sync: Callable[[SyncResult], None] | None = None,
) -> None:
    from cftui.sync.isolated import run_sync_isolated
    from cftui.sync.service import sources

    receiver = WebhookReceiver(config, on_delivery=on_delivery, on_processed=on_processed)
    url = await receiver.start()
    if on_started is not None:
        on_started(url)
    cancel = threading.Event()

    async def cancel_on_stop() -> None:
        await stop.wait()
        cancel.set()

    async def sync_repeatedly(source: str) -> None:
        while not stop.is_set():
            # In a child process, waited on from a thread: a sync decodes and
            # writes pages for seconds at a time, and on this loop it would
            # hold back every webhook answer (BTCPay then retries and queues).
            try:
                result = await asyncio.to_thread(
                    run_sync_isolated, source, config, db_path, log_dir=log_dir, cancel=cancel
                )
                log.info("daemon sync: %s", result.summary())
                if on_sync is not None:
                    on_sync(result)
            except Exception:  # a bug: this source tries again next interval, the others go on
                log.exception("daemon sync of %s failed", source)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), config.sync.interval)

    watcher = asyncio.create_task(cancel_on_stop())
    loops = [asyncio.create_task(sync_repeatedly(source), name=f"daemon-sync-{source}") for source in sources(config)]
    try:
        await stop.wait()
        # Each loop ends once its running sync has stopped (cancelled between pages, or ended by the grace time).
        await asyncio.gather(*loops, return_exceptions=True)
    finally:
        for task in (watcher, *loops):
            task.cancel()
        await receiver.stop()
