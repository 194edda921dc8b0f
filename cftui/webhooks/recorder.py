"""Persisting every request the receiver gets, from one writer thread.

Why a thread: a commit waits on the disk (SQLite) or the server
(PostgreSQL); running writes on the event loop would stall every other
connection meanwhile. The thread takes jobs from a queue and commits all the
requests waiting at that moment in one transaction (group commit), so 32
concurrent senders cost a handful of commits, not 32. A request is answered
only after its row is committed, so a 200 never stands for a lost delivery.

A delivery whose invoice must be queued for the next sync (its store's API
is down) is queued in the same transaction as its row, which is then written
already marked processed: one write instead of two.

On SQLite, checkpoints (folding the WAL back into the database) run on a
thread of their own (:class:`cftui.store.sqlite.WalCheckpointer`), never
inside a commit that deliveries are waiting on.

Several receivers may share one PostgreSQL store. The claim stays one per
``originalDeliveryId`` through the unique index (``ON CONFLICT DO NOTHING``:
the second insert waits for the first to commit, then inserts nothing), and
each batch takes the ``webhook_delivery`` lock before its first insert, so
delivery ids grow in commit order there too, as the Webhooks tab's "newer
than the last id seen" reading needs.

Rejected requests are kept up to ``rejected_retention`` rows (oldest pruned)
with their bodies cut to :data:`~cftui.webhooks.delivery_row.REJECTED_BODY_BYTES`,
so a flood cannot fill the disk; accepted deliveries are all kept.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from peewee import EXCLUDED, ModelInsert

from cftui import clock
from cftui.config import StoreConfig
from cftui.domain import ACCEPTED_VERDICTS, VERIFIED, Verdict
from cftui.store import engine
from cftui.store.chunking import chunks
from cftui.store.models import PendingInvoice, database
from cftui.store.webhook_models import WebhookDelivery
from cftui.store.writer import ensure_store
from cftui.webhooks.delivery_row import COLUMNS, DeliveryRow

log = logging.getLogger(__name__)

T = TypeVar("T")

# Prune rejected rows once this many were added since the last prune, so the
# table holds at most rejected_retention + PRUNE_EVERY of them at any time.
PRUNE_EVERY = 64
MAX_BATCH = 512
QUEUE_CHUNK = 200  # pending invoices per statement: 800 parameters, within SQLite's oldest limit (999)
IDS_LOCK = "webhook_delivery"


@dataclass(frozen=True, slots=True)
class Recorded:
    id: int
    row: DeliveryRow  # as written: a verified delivery whose claim lost is written as a duplicate

    @property
    def verdict(self) -> Verdict:
        return self.row.verdict


@dataclass(frozen=True, slots=True)
class QueuedInvoice:
    """An invoice to queue for the next sync (``PendingInvoice``) with the delivery that names it."""

    store: StoreConfig
    invoice_id: str
    reason: str


def queue_invoices_query(rows: Sequence[tuple[int, str, str, int]]) -> ModelInsert:
    """One upsert of pending invoices, rows of (Store row id, invoice id, reason, queued time)."""
    fields = [PendingInvoice.store, PendingInvoice.invoice_id, PendingInvoice.reason, PendingInvoice.queued_time]
    return PendingInvoice.insert_many(rows, fields=fields).on_conflict(
        conflict_target=[PendingInvoice.store, PendingInvoice.invoice_id],
        update={PendingInvoice.reason: EXCLUDED.reason, PendingInvoice.queued_time: EXCLUDED.queued_time},
    )


class _Statements:
    """The INSERTs, built once by peewee (so they stay portable) and reused for every batch.

    Building a peewee query per row costs more than the insert itself; at
    thousands of deliveries a second that is what limits the writer.
    """

    def __init__(self) -> None:
        fields = [WebhookDelivery._meta.fields[name] for name in COLUMNS]
        sample = [tuple(f.default if f.default is not None else "" for f in fields)]
        # On PostgreSQL peewee ends these in RETURNING id (see Engine.inserted_id).
        self.insert: str = WebhookDelivery.insert_many(sample, fields=fields).sql()[0]
        self.claim: str = WebhookDelivery.insert_many(sample, fields=fields).on_conflict_ignore().sql()[0]
        upsert = queue_invoices_query([(0, "", "", 0)]).sql()[0]
        self._queue_row = f"({', '.join([database.param] * 4)})"  # (?, ?, ?, ?) or (%s, %s, %s, %s)
        self._queue_head, self._queue_tail = upsert.split(f" VALUES {self._queue_row}")

    def queue(self, count: int) -> str:
        """The upsert of :func:`queue_invoices_query` for ``count`` rows, without building the query again."""
        return f"{self._queue_head} VALUES {', '.join([self._queue_row] * count)}{self._queue_tail}"


@dataclass(slots=True)
class _Record:
    future: asyncio.Future[Recorded]
    row: DeliveryRow
    queue: QueuedInvoice | None  # queued only if the row wins the delivery's claim


@dataclass(slots=True)
class _Call:
    future: asyncio.Future[Any]
    fn: Callable[[], Any]  # any other write


_Job = _Record | _Call


class Recorder:
    def __init__(self, *, rejected_retention: int) -> None:
        self._retention = rejected_retention
        # Jobs go to the thread in lists: everything submitted in one turn of the
        # event loop travels together, so the thread wakes once per turn, not per request.
        self._jobs: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._outgoing: list[_Job] = []
        self._writer: _Writer | None = None

    def start(self) -> None:
        self._writer = _Writer(self._jobs, asyncio.get_running_loop(), self._retention)

    async def stop(self) -> None:
        """Finish every queued write, then end the thread."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if self._outgoing:
            self._hand_over()
        self._jobs.put(None)
        await asyncio.to_thread(writer.join)

    async def record(self, row: DeliveryRow, queue: QueuedInvoice | None = None) -> Recorded:
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._submit(_Record(future, row, queue))
        return await future

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the writer thread (so writes never contend with each other)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._submit(_Call(future, lambda: fn(*args)))
        return await future

    def _submit(self, job: _Job) -> None:
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._hand_over)
        self._outgoing.append(job)

    def _hand_over(self) -> None:
        jobs, self._outgoing = self._outgoing, []
        self._jobs.put(jobs)


class _Writer:
    """The writer thread: started at once, ended by a None on the job queue."""

    def __init__(self, jobs: queue.SimpleQueue[list[_Job] | None], loop: asyncio.AbstractEventLoop, retention: int):
        self._jobs = jobs
        self._loop = loop
        self._engine = engine.current()
        self._sql = _Statements()
        self._pruner = _Pruner(retention)
        self._store_pks: dict[str, int] = {}  # store name -> Store row id (stores are never deleted)
        self._checkpointer = self._engine.background_checkpointer(database.obj, name="cftui-webhook-checkpoint")
        self._checkpointer.start()
        self._thread = threading.Thread(target=self._run, name="cftui-webhook-writer", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        self._checkpointer.stop()

    def _run(self) -> None:
        db = database.obj
        self._engine.tune_latency_writer(db)
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._next_batch()
                self._write_rows([job for job in batch if isinstance(job, _Record)])
                for call in (job for job in batch if isinstance(job, _Call)):
                    self._run_call(call)
            self._pruner.prune(force=True)
        finally:
            db.close()

    def _next_batch(self) -> tuple[list[_Job], bool]:
        """The jobs waiting now (at least one list of them, at most about MAX_BATCH), and whether to stop after."""
        batch: list[_Job] = []
        jobs = self._jobs.get()
        while jobs is not None:
            batch.extend(jobs)
            if len(batch) >= MAX_BATCH:
                break
            try:
                jobs = self._jobs.get_nowait()
            except queue.Empty:
                break
        return batch, jobs is None

    def _write_rows(self, jobs: list[_Record]) -> None:
        if not jobs:
            return
        try:
            with database.atomic():
                self._engine.lock(database.obj, IDS_LOCK)
                results = self._insert_all(jobs)
                self._queue(job.queue for job, result in zip(jobs, results, strict=True)
                            if job.queue is not None and result.verdict == VERIFIED)  # fmt: skip
                self._pruner.prune(force=False)
        except Exception as exc:  # the database failed: each waiting request answers 5xx, BTCPay retries
            log.exception("could not record %d webhook request(s)", len(jobs))
            self._store_pks.clear()  # in case a cached Store row is what failed
            self._resolve([(job.future, None, exc) for job in jobs])
            return
        self._checkpointer.wrote()
        self._resolve([(job.future, result, None) for job, result in zip(jobs, results, strict=True)])

    def _insert_all(self, jobs: list[_Record]) -> list[Recorded]:
        """Each request's row, the claim first for a verified delivery.

        The statements go out together (a pipeline on PostgreSQL: one round
        trip for the batch instead of one per request, and a shorter hold on
        the id lock); a claim that lost becomes a duplicate row after. The
        driver's own cursors: peewee's per-statement layer costs as much as the insert.
        """
        conn = database.connection()
        with self._engine.pipeline(conn):
            cursors = [self._execute(conn, job.row) for job in jobs]
        return [self._settle(conn, job.row, cursor) for job, cursor in zip(jobs, cursors, strict=True)]

    def _execute(self, conn: Any, row: DeliveryRow) -> Any:
        # The unique claim index turns a second `verified` row for the same
        # originalDeliveryId into a no-op (no id): it is then a duplicate.
        sql = self._sql.claim if row.verdict == VERIFIED else self._sql.insert
        if row.verdict not in ACCEPTED_VERDICTS:
            self._pruner.added()
        cursor = conn.cursor()
        cursor.execute(sql, row.values())
        return cursor

    def _settle(self, conn: Any, row: DeliveryRow, cursor: Any) -> Recorded:
        row_id = self._engine.inserted_id(cursor)
        if row_id is not None:
            return Recorded(row_id, row)
        if row.verdict != VERIFIED:  # every other insert returns its id
            raise RuntimeError(f"the database returned no id for a {row.verdict} row")
        duplicate = row.duplicate()
        cursor = conn.cursor()
        cursor.execute(self._sql.insert, duplicate.values())
        row_id = self._engine.inserted_id(cursor)
        if row_id is None:
            raise RuntimeError("the database returned no id for a duplicate row")
        return Recorded(row_id, duplicate)

    def _queue(self, invoices: Iterable[QueuedInvoice]) -> None:
        """The batch's pending invoices, a few statements for any number of them.

        Each statement releases and retakes the GIL, and under load retaking it
        can wait for the event loop's thread: few statements per batch keep
        the writer from stalling behind it.
        """
        now = clock.now_s()
        # One row per invoice: the latest reason stands (an upsert must not name a row twice).
        reasons = {(self._store_pk(q.store), q.invoice_id): q.reason for q in invoices}
        rows = [(store_pk, invoice_id, reason, now) for (store_pk, invoice_id), reason in reasons.items()]
        cursor = database.connection().cursor()
        for chunk in chunks(rows, QUEUE_CHUNK):
            cursor.execute(self._sql.queue(len(chunk)), [value for row in chunk for value in row])

    def _store_pk(self, store: StoreConfig) -> int:
        store_pk = self._store_pks.get(store.name)
        if store_pk is None:
            store_pk = self._store_pks[store.name] = ensure_store(store).id
        return store_pk

    def _run_call(self, job: _Call) -> None:
        try:
            result = job.fn()
        except Exception as exc:
            self._resolve([(job.future, None, exc)])
        else:
            self._checkpointer.wrote()  # most calls write (an invoice upsert); a needless checkpoint costs nothing
            self._resolve([(job.future, result, None)])

    def _resolve(self, outcomes: Sequence[tuple[asyncio.Future[Any], object, BaseException | None]]) -> None:
        """Hand results back to the event loop in one wake-up."""

        def settle() -> None:
            for future, result, error in outcomes:
                if future.done():  # the request was cancelled (client went away)
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

        try:
            self._loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


class _Pruner:
    """Keeps the newest ``retention`` rejected rows, deleting older ones every PRUNE_EVERY added."""

    def __init__(self, retention: int) -> None:
        self._retention = retention
        self._added = 0

    def added(self) -> None:
        self._added += 1

    def prune(self, *, force: bool) -> None:
        if self._added == 0 or (not force and self._added < PRUNE_EVERY):
            return
        rejected = WebhookDelivery.verdict.not_in(ACCEPTED_VERDICTS)
        cutoff = (
            WebhookDelivery.select(WebhookDelivery.id)
            .where(rejected)
            .order_by(WebhookDelivery.id.desc())
            .limit(1)
            .offset(self._retention)
            .scalar()
        )
        if cutoff is not None:
            deleted = WebhookDelivery.delete().where(rejected & (WebhookDelivery.id <= cutoff)).execute()
            log.info("pruned %d old rejected webhook requests (keeping %d)", deleted, self._retention)
        self._added = 0
