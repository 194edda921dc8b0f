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
with their bodies cut to :data:`REJECTED_BODY_BYTES`, so a flood cannot fill
the disk; accepted deliveries are all kept.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import EXCLUDED

from cftui import clock
from cftui.config import StoreConfig
from cftui.domain import ACCEPTED_VERDICTS, DUPLICATE, VERIFIED
from cftui.store import engine
from cftui.store.engine import Checkpointer
from cftui.store.models import PendingInvoice, database
from cftui.store.webhook_models import WebhookDelivery
from cftui.store.writer import ensure_store

log = logging.getLogger(__name__)

REJECTED_BODY_BYTES = 4096
# Prune rejected rows once this many were added since the last prune, so the
# table holds at most rejected_retention + PRUNE_EVERY of them at any time.
PRUNE_EVERY = 64
MAX_BATCH = 512
QUEUE_CHUNK = 200  # pending invoices per statement: 800 parameters, within SQLite's oldest limit (999)
IDS_LOCK = "webhook_delivery"


class _Statements:
    """The INSERTs, built once by peewee (so they stay portable) and reused for every row.

    Building a peewee query per row costs more than the insert itself; at
    thousands of deliveries a second that is what limits the writer.
    """

    def __init__(self) -> None:
        fields = [f for f in WebhookDelivery._meta.sorted_fields if f.name != "id"]
        # Values arrive as plain str/int/bytes/bool/None, which the driver takes as they are.
        self._fields = [(f.name, f.default) for f in fields]
        sample = {f: f.default if f.default is not None else "" for f in fields}
        # On PostgreSQL peewee ends these in RETURNING id (see Engine.inserted_id).
        self.insert = WebhookDelivery.insert(sample).sql()[0]
        self.claim = WebhookDelivery.insert(sample).on_conflict_ignore().sql()[0]
        # Parameters per row: store, invoice_id, reason, queued_time (the model's field order).
        queue = (
            PendingInvoice.insert(store=0, invoice_id="", reason="", queued_time=0)
            .on_conflict(
                conflict_target=[PendingInvoice.store, PendingInvoice.invoice_id],
                update={PendingInvoice.reason: EXCLUDED.reason, PendingInvoice.queued_time: EXCLUDED.queued_time},
            )
            .sql()[0]
        )
        self._queue_row = f"({', '.join([database.param] * 4)})"  # (?, ?, ?, ?) or (%s, %s, %s, %s)
        self._queue_head, self._queue_tail = queue.split(f" VALUES {self._queue_row}")

    def queue(self, count: int) -> str:
        """One upsert of ``count`` pending invoices: one statement, not one per invoice."""
        return f"{self._queue_head} VALUES {', '.join([self._queue_row] * count)}{self._queue_tail}"

    def params(self, row: dict[str, Any]) -> list[Any]:
        return [row.get(name, default) for name, default in self._fields]


@dataclass(frozen=True, slots=True)
class Recorded:
    id: int
    verdict: str  # VERIFIED may come back as DUPLICATE: another row claimed the delivery first
    reason: str | None


@dataclass(frozen=True, slots=True)
class QueuedInvoice:
    """An invoice to queue for the next sync (``PendingInvoice``) with the delivery that names it."""

    store: StoreConfig
    invoice_id: str
    reason: str


@dataclass(slots=True)
class _Job:
    future: asyncio.Future
    row: dict[str, Any] | None = None  # a request to record
    queue: QueuedInvoice | None = None  # queued only if the row is the delivery's claim
    call: Callable[[], Any] | None = None  # any other write


class Recorder:
    def __init__(self, *, rejected_retention: int) -> None:
        self._retention = rejected_retention
        # Jobs go to the thread in lists: everything submitted in one turn of the
        # event loop travels together, so the thread wakes once per turn, not per request.
        self._jobs: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._outgoing: list[_Job] = []
        self._thread: threading.Thread | None = None
        self._engine: engine.Engine | None = None
        self._checkpointer: Checkpointer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rejected_since_prune = 0
        self._sql: _Statements | None = None
        self._cursor: Any = None
        self._store_pks: dict[str, int] = {}  # store name -> Store row id (stores are never deleted)
        self._to_queue: dict[tuple[int, str], str] = {}  # (Store row id, invoice) -> reason, in one transaction

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._engine = engine.current()
        self._checkpointer = self._engine.background_checkpointer(database.obj, name="cftui-webhook-checkpoint")
        self._checkpointer.start()
        self._thread = threading.Thread(target=self._run, name="cftui-webhook-writer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish every queued write, then end the thread."""
        if self._thread is None:
            return
        if self._outgoing:
            self._hand_over()
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        await asyncio.to_thread(self._checkpointer.stop)

    async def record(self, row: dict[str, Any], queue: QueuedInvoice | None = None) -> Recorded:
        future = self._loop.create_future()
        self._submit(_Job(future, row=row, queue=queue))
        return await future

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the writer thread (so writes never contend with each other)."""
        future = self._loop.create_future()
        self._submit(_Job(future, call=lambda: fn(*args)))
        return await future

    def _submit(self, job: _Job) -> None:
        if not self._outgoing:
            self._loop.call_soon(self._hand_over)
        self._outgoing.append(job)

    def _hand_over(self) -> None:
        jobs, self._outgoing = self._outgoing, []
        self._jobs.put(jobs)

    # ------------------------------------------------------------ writer thread

    def _run(self) -> None:
        db = database.obj
        self._sql = _Statements()  # needs the database bound, so built here
        self._engine.tune_latency_writer(db)
        try:
            stopping = False
            while not stopping:
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
                stopping = jobs is None
                self._write_rows([j for j in batch if j.row is not None])
                for call_job in (j for j in batch if j.call is not None):
                    self._run_call(call_job)
            self._prune(force=True)
        finally:
            db.close()

    def _write_rows(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        try:
            with database.atomic():
                # The driver's own cursor: peewee's per-statement layer costs as much as the insert.
                self._cursor = database.connection().cursor()
                self._engine.lock(database.obj, IDS_LOCK)
                self._to_queue.clear()
                results = self._insert_all(jobs)
                self._queue_invoices()
                self._prune(force=False)
        except Exception as exc:  # the database failed: each waiting request answers 5xx, BTCPay retries
            log.exception("could not record %d webhook request(s)", len(jobs))
            self._store_pks.clear()  # in case a cached Store row is what failed
            self._resolve([(job.future, None, exc) for job in jobs])
            return
        self._checkpointer.wrote()
        self._resolve([(job.future, result, None) for job, result in zip(jobs, results)])

    def _insert_all(self, jobs: list[_Job]) -> list[Recorded]:
        """Each request's row, the claim first for a verified delivery.

        The statements go out together (a pipeline on PostgreSQL: one round
        trip for the batch instead of one per request, and a shorter hold on
        the id lock); a claim that lost becomes a duplicate row after.
        """
        conn = database.connection()
        with self._engine.pipeline(conn):
            issued = [self._issue(conn, job.row) for job in jobs]
        return [self._settle(conn, row, cursor, job.queue) for job, (row, cursor) in zip(jobs, issued)]

    def _issue(self, conn: Any, row: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        if row["verdict"] == VERIFIED:
            # The unique claim index turns a second `verified` row for the same
            # originalDeliveryId into a no-op (no id): it is then a duplicate.
            sql = self._sql.claim
        else:
            row = self._bounded(row)
            sql = self._sql.insert
        cursor = conn.cursor()
        cursor.execute(sql, self._sql.params(row))
        return row, cursor

    def _settle(self, conn: Any, row: dict[str, Any], cursor: Any, queue: QueuedInvoice | None) -> Recorded:
        row_id = self._engine.inserted_id(cursor)
        if row["verdict"] != VERIFIED:
            return Recorded(row_id, row["verdict"], row["reason"])
        if row_id is not None:
            if queue is not None:
                self._queue(queue)
            return Recorded(row_id, VERIFIED, row["reason"])
        reason = f"originalDeliveryId {row['original_delivery_id']} was already received"
        duplicate = {**row, "verdict": DUPLICATE, "reason": reason, "processed": False, "process_result": None}
        cursor = conn.cursor()
        cursor.execute(self._sql.insert, self._sql.params(duplicate))
        return Recorded(self._engine.inserted_id(cursor), DUPLICATE, reason)

    def _bounded(self, row: dict[str, Any]) -> dict[str, Any]:
        """A rejected request's row, its body cut to REJECTED_BODY_BYTES (counted for pruning)."""
        if row["verdict"] in ACCEPTED_VERDICTS:
            return row
        self._rejected_since_prune += 1
        body = row.get("body")
        return {**row, "body": body[:REJECTED_BODY_BYTES]} if body is not None and len(body) > REJECTED_BODY_BYTES else row

    def _queue(self, queue: QueuedInvoice) -> None:
        store_pk = self._store_pks.get(queue.store.name)
        if store_pk is None:
            store_pk = self._store_pks[queue.store.name] = ensure_store(queue.store).id
        self._to_queue[(store_pk, queue.invoice_id)] = queue.reason

    def _queue_invoices(self) -> None:
        """Write the batch's pending invoices in one statement.

        Each statement releases and retakes the GIL, and under load retaking it
        can wait for the event loop's thread: few statements per batch keep
        the writer from stalling behind it.
        """
        if not self._to_queue:
            return
        now = clock.now_s()
        rows = [(store_pk, invoice_id, reason, now) for (store_pk, invoice_id), reason in self._to_queue.items()]
        for start in range(0, len(rows), QUEUE_CHUNK):
            chunk = rows[start : start + QUEUE_CHUNK]
            self._cursor.execute(self._sql.queue(len(chunk)), [value for row in chunk for value in row])

    def _prune(self, *, force: bool) -> None:
        if self._rejected_since_prune == 0 or (not force and self._rejected_since_prune < PRUNE_EVERY):
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
        self._rejected_since_prune = 0

    def _run_call(self, job: _Job) -> None:
        try:
            result = job.call()
        except Exception as exc:
            self._resolve([(job.future, None, exc)])
        else:
            self._checkpointer.wrote()  # most calls write (an invoice upsert); a needless checkpoint costs nothing
            self._resolve([(job.future, result, None)])

    def _resolve(self, outcomes: list[tuple[asyncio.Future, Any, BaseException | None]]) -> None:
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
