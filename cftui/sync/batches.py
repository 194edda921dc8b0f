"""Pages on their way to the sync's DB thread, and the rule that lets a killed sync resume exactly.

**The saved scan position never runs ahead of the stored rows.** A backfill
saves where it is (``SyncState.scan_offset``, the offset of its next page) so
that a run killed at any moment resumes at the next page, reading nothing
twice and missing nothing. :class:`BatchWriter` is the only thing that saves
the position during a walk, and three things make the rule hold:

* a :class:`ScanPosition` travels inside the :class:`Batch` of the rows it
  covers, and the caller's ``write`` commits a batch in one transaction: the
  position commits with its rows or not at all;
* one write is in flight at a time, and the next batch is handed over only
  once the previous one has committed: batches commit in page order;
* a failed write is kept and raises again from every later call, so no later
  batch, and so no later position, is written after a failure.

Pages parsed while a write is in flight join one batch, whose position is its
last page's: a commit copies every index page the batch touched to the WAL
(on 13 indexes, over half the cost of the inserts), so a busy writer gets
fewer, bigger commits instead of a growing queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from cftui.store.records import InvoiceRecord, UpsertResult
from cftui.store.retry import Skip

log = logging.getLogger(__name__)

# Most invoices written in one transaction when pages queue up for the DB thread.
MAX_WRITE_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class ScanPosition:
    """Where a backfill resumes: the offset of its next page, and the newest created time it has read."""

    offset: int
    newest_seen: int | None


@dataclass(slots=True)
class Batch:
    """Parsed pages for one transaction: their rows, their misfits (for the retry list) and the position after them."""

    records: list[InvoiceRecord] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    position: ScanPosition | None = None  # None: this walk saves no position (only a backfill does)

    def __bool__(self) -> bool:
        return bool(self.records or self.skips or self.position is not None)


class BatchWriter:
    """Hands batches to ``write`` (the DB thread) in order, one at a time; see the module doc for the rule."""

    def __init__(
        self,
        write: Callable[[Batch], Awaitable[UpsertResult]],
        on_written: Callable[[UpsertResult], None],
        *,
        label: str,
        max_records: int = MAX_WRITE_BATCH,
    ) -> None:
        self._write = write
        self._on_written = on_written
        self._label = label  # for the log: whose pages these are
        self._max_records = max_records
        self._batch = Batch()
        self._writing: asyncio.Future[UpsertResult] | None = None

    async def add(self, records: Sequence[InvoiceRecord], skips: Sequence[Skip], position: ScanPosition | None) -> None:
        """Queue one page: its rows, its misfits and the scan position after it.

        The batch goes to the DB thread now if the previous write is done (or the
        batch is full, then after that write); otherwise it grows while the write runs.
        """
        self._batch.records.extend(records)
        self._batch.skips.extend(skips)
        if position is not None:
            self._batch.position = position
        if self._writing is None or self._writing.done() or len(self._batch.records) >= self._max_records:
            await self._hand_over()

    async def drain(self) -> None:
        """Write everything queued, and return once it has committed."""
        await self._hand_over()
        await self._settle()

    async def close(self) -> None:
        """On the way out, whatever happened: let the pages read so far commit (each batch is
        consistent on its own) so the DB thread is idle before the run ends. A failure is
        logged, not raised: the walk's own exception, if any, is the one to report."""
        try:
            await self.drain()
        except Exception:
            log.exception("%s: writing the last pages failed", self._label)

    async def _hand_over(self) -> None:
        """Once the write in flight has committed, start writing the queued batch."""
        await self._settle()
        if self._batch:
            batch, self._batch = self._batch, Batch()
            self._writing = asyncio.ensure_future(self._write(batch))

    async def _settle(self) -> None:
        """Wait for the write in flight. If it failed it stays in flight and raises here again, every time."""
        if self._writing is not None:
            written = await self._writing
            self._writing = None
            self._on_written(written)
