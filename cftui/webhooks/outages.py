"""Stores whose API failed moments ago, and the delivery rows of theirs handled in batches meanwhile.

A store whose API failed is not tried again for :data:`DOWN_PAUSE_S`: the
invoices its deliveries name are queued for the next sync instead. Rows
arriving during the pause are gathered for :data:`DOWN_BATCH_WAIT_S` and
handled together, so a burst of webhooks costs one write and one notice per
invoice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DOWN_PAUSE_S = 30
# While a store is down, wait this long to gather a batch before handling it.
DOWN_BATCH_WAIT_S = 0.25

Rows = dict[str, list[int]]  # invoice id -> the delivery rows that named it


@dataclass(slots=True)
class Batch:
    reason: str  # why the store is down; the latest stands for the batch
    rows: Rows = field(default_factory=dict)


class Gathering:
    """Rows of a down store gathered for DOWN_BATCH_WAIT_S, then handed to ``flush`` together."""

    def __init__(self, what: str, flush: Callable[[str, Batch], Awaitable[None]]) -> None:
        self._what = what
        self._flush = flush
        self._batches: dict[str, Batch] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, store_name: str, invoice_id: str, row_ids: Iterable[int], reason: str) -> None:
        batch = self._batches.get(store_name)
        if batch is None:
            batch = self._batches[store_name] = Batch(reason)
        batch.reason = reason
        batch.rows.setdefault(invoice_id, []).extend(row_ids)
        if store_name not in self._tasks:
            self._tasks[store_name] = asyncio.create_task(self._after_wait(store_name))

    async def _after_wait(self, store_name: str) -> None:
        try:
            await asyncio.sleep(DOWN_BATCH_WAIT_S)
        finally:
            # Before the flush, not after: rows added while it writes start the next batch.
            del self._tasks[store_name]
        batch = self._batches.pop(store_name)
        try:
            await self._flush(store_name, batch)
        except Exception:  # the rows stay unprocessed and are resumed on the next start
            log.exception("%s for store %s failed", self._what, store_name)

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()  # a task cancelled before it ran never removed itself


class Outages:
    """Stores whose API failed moments ago: not tried again for DOWN_PAUSE_S, their rows handled in batches."""

    def __init__(
        self, queue: Callable[[str, Batch], Awaitable[None]], announce: Callable[[str, Batch], Awaitable[None]]
    ) -> None:
        self._until: dict[str, tuple[float, str]] = {}  # store name -> (monotonic time, why it is down)
        self.to_queue = Gathering("queueing invoices", queue)  # rows still to be queued
        self.to_announce = Gathering("announcing queued invoices", announce)  # rows queued in their own commits

    def down(self, store_name: str, reason: str) -> None:
        self._until[store_name] = (time.monotonic() + DOWN_PAUSE_S, reason)

    def up(self, store_name: str) -> None:
        self._until.pop(store_name, None)

    def reason(self, store_name: str) -> str | None:
        """Why the store's API is not tried now (it failed moments ago), or None."""
        down = self._until.get(store_name)
        if down is None:
            return None
        if time.monotonic() < down[0]:
            return down[1]
        del self._until[store_name]  # time to try the API again
        return None

    async def stop(self) -> None:
        await asyncio.gather(self.to_queue.stop(), self.to_announce.stop())
