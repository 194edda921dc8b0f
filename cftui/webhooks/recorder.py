"""Persisting every request the receiver gets, from one writer thread.

Why a thread: SQLite allows one writer at a time and a commit costs a system
call or two; running writes on the event loop would stall every other
connection meanwhile. The thread takes jobs from a queue and commits all the
requests waiting at that moment in one transaction (group commit), so 32
concurrent senders cost a handful of commits, not 32. A request is answered
only after its row is committed, so a 200 never stands for a lost delivery.

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

from peewee import IntegrityError

from cftui.store.models import database
from cftui.store.webhook_models import ACCEPTED_VERDICTS, DUPLICATE, VERIFIED, WebhookDelivery

log = logging.getLogger(__name__)

REJECTED_BODY_BYTES = 4096
# Prune rejected rows once this many were added since the last prune, so the
# table holds at most rejected_retention + PRUNE_EVERY of them at any time.
PRUNE_EVERY = 64
MAX_BATCH = 512


@dataclass(frozen=True, slots=True)
class Recorded:
    id: int
    verdict: str  # VERIFIED may come back as DUPLICATE: another row claimed the delivery first
    reason: str | None


@dataclass(slots=True)
class _Job:
    future: asyncio.Future
    row: dict[str, Any] | None = None  # a request to record
    call: Callable[[], Any] | None = None  # any other write


class Recorder:
    def __init__(self, *, rejected_retention: int) -> None:
        self._retention = rejected_retention
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rejected_since_prune = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="cftui-webhook-writer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finish every queued write, then end the thread."""
        if self._thread is None:
            return
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    async def record(self, row: dict[str, Any]) -> Recorded:
        future = self._loop.create_future()
        self._jobs.put(_Job(future, row=row))
        return await future

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the writer thread (so writes never contend with each other)."""
        future = self._loop.create_future()
        self._jobs.put(_Job(future, call=lambda: fn(*args)))
        return await future

    # ------------------------------------------------------------ writer thread

    def _run(self) -> None:
        db = database.obj
        try:
            stopping = False
            while not stopping:
                batch: list[_Job] = []
                job = self._jobs.get()
                while job is not None:
                    batch.append(job)
                    if len(batch) >= MAX_BATCH:
                        break
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                stopping = job is None
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
                results = [self._insert(job.row) for job in jobs]
                self._prune(force=False)
        except Exception as exc:  # the database failed: each waiting request answers 5xx, BTCPay retries
            log.exception("could not record %d webhook request(s)", len(jobs))
            self._resolve([(job.future, None, exc) for job in jobs])
            return
        self._resolve([(job.future, result, None) for job, result in zip(jobs, results)])

    def _insert(self, row: dict[str, Any]) -> Recorded:
        if row["verdict"] == VERIFIED:
            try:
                with database.atomic():  # a savepoint: losing the claim undoes only this row
                    return Recorded(WebhookDelivery.insert(row).execute(), VERIFIED, row["reason"])
            except IntegrityError:
                row = {
                    **row,
                    "verdict": DUPLICATE,
                    "reason": f"originalDeliveryId {row['original_delivery_id']} was already received",
                    "processed": False,
                    "process_result": None,
                }
        if row["verdict"] not in ACCEPTED_VERDICTS:
            self._rejected_since_prune += 1
            body = row.get("body")
            if body is not None and len(body) > REJECTED_BODY_BYTES:
                row = {**row, "body": body[:REJECTED_BODY_BYTES]}
        return Recorded(WebhookDelivery.insert(row).execute(), row["verdict"], row["reason"])

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
