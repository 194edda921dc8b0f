"""Syncs one BTCPay store into the open store database.

The walk follows contract §2.1 and §10:

* **Backfill** (first run): newest-first pages with ``endDate`` pinned to the
  scan's start, so invoices created meanwhile cannot shift the offsets. Each
  page's rows and the scan position (``SyncState.scan_end_time`` /
  ``scan_offset``) are committed in one transaction: a process killed at any
  moment leaves a consistent store, and the next run resumes at the next
  page without duplicates.
* **Incremental** (later runs): invoices created since the newest one kept,
  minus ``sync.overlap``; then a re-check of every invoice that can still
  change (New, Processing, or inside its monitoring window) and of the
  invoices webhooks queued while the API was down.
* A walk stops on a short page, and on a page that brings nothing new: every
  invoice in it is newer than the walk's frontier (already passed) or was on
  the previous page. A server that repeats pages cannot loop us forever, and
  the check needs memory for one page only, not for every id seen.
* BTC paid comes with the page (``includePaymentMethods``) on servers from
  2.3.6, else from ``payment-methods`` per invoice, ``sync.concurrency`` at
  a time.
* Pages are pipelined: the next page is requested while this one is parsed,
  and the previous one commits on the sync's DB thread (:mod:`cftui.sync.dbthread`),
  in order, so the scan position never runs ahead of the stored rows.
* A malformed record is skipped, counted by reason and logged with its id;
  the rest of its page is stored, and the record goes on the retry list
  (:mod:`cftui.store.retry`) in the same transaction. Every later run reads
  the list's invoices again, by id, or by the second of their created time
  when the record had no id, until they parse (or the server says they are
  gone). A failure ends the run with ``SyncResult.error`` set (one
  sentence); everything stored so far stays.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from cftui import clock
from cftui.btcpay.client import (
    EMBEDDED_METHODS_SINCE,
    SINGLE_GET_METHODS_SINCE,
    GreenfieldClient,
    parse_version,
)
from cftui.btcpay.errors import MissingPermissionError, NotFoundError
from cftui.btcpay.parse import RecordError, parse_app, parse_invoice
from cftui.config import StoreConfig, SyncConfig
from cftui.errors import CftuiError, DataError
from cftui.store import retry
from cftui.store.db import storage_error
from cftui.store.models import OPEN_STATUSES, Invoice, SkippedInvoice, Store, SyncState, database
from cftui.store.records import InvoiceRecord, UpsertResult
from cftui.store.retry import Skip
from cftui.store.writer import clear_pending, ensure_store, pending_invoices, upsert_apps, upsert_invoices
from cftui.sync.dbthread import DbThread
from cftui.sync.events import Reporter, SyncFinished, SyncProgress, SyncResult, SyncStarted, ignore
from cftui.sync.gc_tuning import fewer_collections

log = logging.getLogger(__name__)

NOT_FOUND = "not found on the server"
# Most invoices written in one transaction when pages queue up for the DB thread.
MAX_WRITE_BATCH = 10_000
RETRY_PER_RUN = 1000  # retry-list entries one run reads again; the rest wait for the next run


class _Cancelled(Exception):
    pass


def source_name(store_cfg: StoreConfig) -> str:
    return f"btcpay:{store_cfg.name}"


async def sync_store(
    store_cfg: StoreConfig,
    sync_cfg: SyncConfig,
    *,
    reporter: Reporter = ignore,
    cancel: threading.Event | None = None,
) -> SyncResult:
    """Sync one store into the already-open store database; never raises for sync failures."""
    source = source_name(store_cfg)
    result = SyncResult(source=source)
    started = time.monotonic()
    db = DbThread()
    notes: list[str] = []
    try:
        try:
            state = await db(_begin, source)
            mode = "incremental" if state.backfill_done else "backfill"
            reporter(SyncStarted(source=source, mode=mode))
            with fewer_collections():
                await _run(store_cfg, sync_cfg, db, mode, result, reporter, cancel, notes)
        except _Cancelled:
            result.error = "Sync cancelled; the next sync continues where this one stopped."
        except Exception as exc:
            _fail(result, exc, source)
        result.duration = time.monotonic() - started
        try:
            await db(_finish, source, result, notes)
        except Exception as exc:  # the store itself failed (full, read-only): the result still says why
            if result.ok:
                _fail(result, exc, source)
            log.warning("%s: could not record the sync's outcome in the store (%s)", source, exc)
    finally:
        await db.close()
    if result.error:
        log.warning("%s", result.summary())
    else:
        log.info("%s", result.summary())
    reporter(SyncFinished(result=result))
    return result


async def _run(
    store_cfg: StoreConfig,
    sync_cfg: SyncConfig,
    db: DbThread,
    mode: str,
    result: SyncResult,
    reporter: Reporter,
    cancel: threading.Event | None,
    notes: list[str],
) -> None:
    key = store_cfg.require_api_key()
    store = await db(ensure_store, store_cfg)
    async with GreenfieldClient(
        store_cfg.url,
        key,
        verify=store_cfg.verify_tls,
        timeout=store_cfg.timeout,
        retry_budget=sync_cfg.retry_budget,
        store_name=store_cfg.name,
    ) as client:
        run = _StoreSync(store_cfg, sync_cfg, store, client, db, result, reporter, cancel, notes)
        await run.detect_version()
        # What earlier runs could not read; what this run skips waits for the next one.
        run.to_retry = await db(retry.waiting, store, RETRY_PER_RUN)
        if mode == "backfill":
            await run.backfill()
        else:
            await run.incremental()
        await run.retry_by_time()
        await run.recheck()
        await run.sync_apps()
    waiting = await db(retry.summary, store_cfg.name)
    result.unread, result.unread_ids = waiting.count, waiting.labels


def _fail(result: SyncResult, exc: BaseException, source: str) -> None:
    """Put ``exc`` into ``result`` as one sentence and its exit code; a bug also leaves its traceback in the log."""
    problem = exc if isinstance(exc, CftuiError) else storage_error(exc)
    if problem is not None:
        result.error, result.error_code = str(problem), problem.exit_code
        return
    log.exception("sync of %s failed", source)
    result.error = f"Unexpected error while syncing ({type(exc).__name__}: {exc}); details are in the log."


# ------------------------------------------------------------------ state


def _begin(source: str) -> SyncState:
    with database.atomic():
        state, _ = SyncState.get_or_create(source=source)
        state.running = True
        state.last_started_time = clock.now_s()
        state.save()
    return state


def _finish(source: str, result: SyncResult, notes: list[str]) -> None:
    summary = json.loads(result.to_json())
    if notes:
        summary["notes"] = notes
    now = clock.now_s()
    values: dict[Any, Any] = {SyncState.running: False, SyncState.last_result: json.dumps(summary)}
    if result.error:
        values.update({SyncState.last_error: result.error, SyncState.last_error_time: now})
    else:
        values.update({SyncState.last_success_time: now, SyncState.last_error: None})
    SyncState.update(values).where(SyncState.source == source).execute()


# ------------------------------------------------------------------ one run


class _StoreSync:
    def __init__(
        self,
        store_cfg: StoreConfig,
        sync_cfg: SyncConfig,
        store: Store,
        client: GreenfieldClient,
        db: DbThread,
        result: SyncResult,
        reporter: Reporter,
        cancel: threading.Event | None,
        notes: list[str],
    ) -> None:
        self.cfg = store_cfg
        self.sync_cfg = sync_cfg
        self.store = store
        self.client = client
        self.db = db
        self.result = result
        self.reporter = reporter
        self.cancel = cancel
        self.notes = notes
        self.source = source_name(store_cfg)
        self.version: tuple[int, ...] = ()
        self.collect_settled = True
        # Start of the window this run's walk covered (the re-check skips it).
        self.walked_from: int | None = None
        self.newest_seen: int | None = None
        self.to_retry: list[SkippedInvoice] = []  # the retry list as this run began
        self.listed_skips = False  # whether this run put anything on the retry list

    # -------------------------------------------------------------- helpers

    def _cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def _check_cancel(self) -> None:
        if self._cancelled():
            raise _Cancelled

    def _progress(self, message: str) -> None:
        self.reporter(SyncProgress(source=self.source, fetched=self.result.fetched, total=None, message=message))

    @property
    def embedded_methods(self) -> bool:
        return self.version >= EMBEDDED_METHODS_SINCE

    async def detect_version(self) -> None:
        info = await self.client.server_info()
        text = info.get("version") if isinstance(info, dict) else None
        self.version = parse_version(text if isinstance(text, str) else None)
        if text and self.store.server_version != text:
            await self.db(Store.update(server_version=text).where(Store.id == self.store.id).execute)

    async def _fetch_page(self, offset: int, *, start: int | None, end: int) -> list[dict[str, Any]]:
        return await self.client.list_invoices(
            self.cfg.store_id,
            skip=offset,
            take=self.sync_cfg.page_size,
            start_date=start,
            end_date=end,
            include_payment_methods=self.embedded_methods,
            include_archived=True,
        )

    async def _methods_for(self, ids: Sequence[str]) -> dict[str, Any]:
        """``payment-methods`` of each invoice (old servers), bounded concurrency.

        An invoice whose methods are gone (404) maps to the NotFoundError.
        """
        gate = asyncio.Semaphore(self.sync_cfg.concurrency)

        async def one(invoice_id: str) -> Any:
            async with gate:
                try:
                    return await self.client.payment_methods(self.cfg.store_id, invoice_id)
                except NotFoundError as exc:
                    return exc

        answers = await asyncio.gather(*(one(i) for i in ids))
        return dict(zip(ids, answers))

    async def _parse(self, objs: Sequence[Any], *, embedded: bool) -> tuple[list[InvoiceRecord], list[Skip]]:
        """Records of ``objs``; each misfit is skipped, counted, logged and returned for the retry list."""
        methods: dict[str, Any] = {}
        if not embedded:
            ids = [o["id"] for o in objs if type(o) is dict and type(o.get("id")) is str and o["id"]]
            methods = await self._methods_for(ids)
        records: list[InvoiceRecord] = []
        skips: list[Skip] = []
        for obj in objs:
            try:
                if embedded:
                    pms = obj.get("paymentMethods") if type(obj) is dict else None
                else:
                    pms = methods.get(obj.get("id")) if type(obj) is dict else None
                    if isinstance(pms, NotFoundError):
                        raise RecordError(NOT_FOUND, obj.get("id"), "payment methods")
                records.append(parse_invoice(obj, payment_methods=pms))
            except RecordError as exc:
                self.result.skipped[exc.reason] += 1
                skip = _skip_of(obj, exc.reason)
                if skip.retryable:
                    skips.append(skip)
                    log.warning("store %s: %s (kept for a retry)", self.cfg.name, exc)
                else:
                    log.warning("store %s: %s (no id or created time: cannot be read again)", self.cfg.name, exc)
        return records, skips

    def _write(
        self,
        records: list[InvoiceRecord],
        state_values: dict[Any, Any],
        assume_new: bool = False,
        skips: Sequence[Skip] = (),
    ) -> UpsertResult:
        """One transaction: the rows, the skipped records and the scan position that says they are in (DB thread)."""
        with database.atomic():
            upserted = upsert_invoices(self.store, records, synced_time=clock.now_s(), assume_new=assume_new)
            if skips:
                retry.record(self.store, skips)
            if self.to_retry or self.listed_skips:  # an empty list needs no clearing: none in a clean backfill
                retry.clear(self.store, [r.invoice_id for r in records])
            if state_values:
                SyncState.update(state_values).where(SyncState.source == self.source).execute()
        return upserted

    async def _store(self, records: list[InvoiceRecord], state_values: dict[Any, Any], skips: Sequence[Skip] = ()) -> None:
        if skips:
            self.listed_skips = True
        self._count(await self.db(self._write, records, state_values, False, skips))

    def _count(self, upserted: UpsertResult) -> None:
        self.result.new += upserted.new
        self.result.updated += upserted.updated
        self.result.unchanged += upserted.unchanged
        if self.collect_settled:
            self.result.newly_settled.extend(upserted.newly_settled)

    # -------------------------------------------------------------- walks

    async def _walk(self, *, start: int | None, end: int, offset: int, backfill: bool) -> int | None:
        """Page newest-first through [start, end]; returns the newest created time stored."""
        take = self.sync_cfg.page_size
        frontier: int | None = None  # oldest created time passed so far
        previous_ids: set[str] = set()
        newest: int | None = None
        label = "backfill" if backfill else "new invoices"
        pending = asyncio.ensure_future(self._fetch_page(offset, start=start, end=end))
        # The previous batch's write, still running on the DB thread while pages are parsed.
        writing: asyncio.Future | None = None
        # Parsed pages waiting for the DB thread, and the scan position that goes with the last of them.
        batch: list[InvoiceRecord] = []
        batch_skips: list[Skip] = []
        batch_state: dict[Any, Any] = {}

        async def flush(*, wait: bool) -> None:
            """Hand the batch to the DB thread once the previous write is done; ``wait`` for it too.

            A failed write stays in ``writing`` and re-raises here, so no later
            page's scan position can be committed past pages that are not stored.
            """
            nonlocal writing, batch, batch_skips, batch_state
            if writing is not None:
                self._count(await writing)
                writing = None
            if batch or batch_state or batch_skips:
                if batch_skips:
                    self.listed_skips = True
                writing = asyncio.ensure_future(self.db(self._write, batch, batch_state, backfill, batch_skips))
                batch, batch_skips, batch_state = [], [], {}
            if wait and writing is not None:
                self._count(await writing)
                writing = None

        try:
            while True:
                page = await pending
                # Ask for the next page now: the server builds it while we store this one.
                if len(page) >= take:
                    pending = asyncio.ensure_future(self._fetch_page(offset + len(page), start=start, end=end))
                self.result.fetched += len(page)
                fresh, identifiable, page_ids, oldest = _fresh_objects(page, frontier, previous_ids)
                if len(page) >= take and not identifiable:
                    # A short last page may hold only invoices shifted in from the previous
                    # page; a full one cannot. Everything stored so far stays; the walk is
                    # not marked complete.
                    raise DataError(
                        f"BTCPay store '{self.cfg.name}' sent a page at offset {offset} with nothing new "
                        "(repeated or unreadable invoices); stopped instead of looping.",
                        hint="The next sync tries again; if this persists, check the server or proxy.",
                    )
                records, skips = await self._parse(fresh, embedded=self.embedded_methods)
                batch_skips.extend(skips)
                page_newest = max((r.created_time for r in records), default=None)
                if page_newest is not None and (newest is None or page_newest > newest):
                    newest = page_newest
                offset += len(page)
                batch.extend(records)
                if backfill:
                    batch_state = {SyncState.scan_offset: offset}
                    if newest is not None:
                        self.newest_seen = _max(self.newest_seen, newest)
                        batch_state[SyncState.newest_seen_time] = self.newest_seen
                # Pages parsed while the DB thread is busy join one transaction: a
                # commit copies every index page the batch touched to the WAL (on
                # 13 indexes, over half the cost of the inserts), so a busy writer
                # gets fewer, bigger commits instead of a growing queue. The scan
                # position is the batch's last page, committed with its rows:
                # resume stays exact.
                if writing is None or writing.done() or len(batch) >= MAX_WRITE_BATCH:
                    await flush(wait=False)
                self._progress(f"{label}: {self.result.fetched} invoices read")
                if oldest is not None:
                    frontier = oldest if frontier is None else min(frontier, oldest)
                previous_ids = page_ids
                if len(page) < take or self._cancelled():
                    break
            await flush(wait=True)
            self._check_cancel()
        finally:
            if not pending.done():
                pending.cancel()
            # Let the pages read so far commit: each batch is consistent on its own,
            # and the DB thread must be idle before the run reports and closes it.
            try:
                await flush(wait=True)
            except Exception:
                log.exception("store %s: writing the last pages failed", self.cfg.name)
        return newest

    def _state(self) -> SyncState:
        return SyncState.get_by_id(self.source)

    def _set_state(self, values: dict[Any, Any]) -> None:
        SyncState.update(values).where(SyncState.source == self.source).execute()

    async def backfill(self) -> None:
        self.collect_settled = False  # every settled invoice is "new" in a first load
        state = await self.db(self._state)
        if state.scan_end_time is None:
            state.scan_end_time, state.scan_offset = clock.now_s(), 0
            await self.db(self._set_state, {SyncState.scan_end_time: state.scan_end_time, SyncState.scan_offset: 0})
        elif state.scan_offset:
            log.info("store %s: resuming backfill at offset %d", self.cfg.name, state.scan_offset)
        self.newest_seen = state.newest_seen_time
        await self._walk(start=None, end=state.scan_end_time, offset=state.scan_offset, backfill=True)
        await self.db(
            self._set_state, {SyncState.backfill_done: True, SyncState.scan_end_time: None, SyncState.scan_offset: 0}
        )
        self.walked_from = 0

    async def incremental(self) -> None:
        newest = (await self.db(self._state)).newest_seen_time
        start = max(0, newest - self.sync_cfg.overlap) if newest is not None else None
        end = clock.now_s()
        found = await self._walk(start=start, end=end, offset=0, backfill=False)
        if found is not None and (newest is None or found > newest):
            await self.db(self._set_state, {SyncState.newest_seen_time: found})
        self.walked_from = start or 0

    # -------------------------------------------------------------- re-check

    def _still_changing(self) -> list[str]:
        """Invoices the walk did not cover that can still change state."""
        now = clock.now_s()
        query = Invoice.select(Invoice.invoice_id).where(
            (Invoice.store == self.store)
            & (Invoice.created_time < (self.walked_from or 0))
            & (Invoice.status.in_(OPEN_STATUSES) | (Invoice.monitoring_time > now))
        )
        return [row.invoice_id for row in query]

    async def recheck(self) -> None:
        queued = await self.db(pending_invoices, self.store)
        retried = [entry.invoice_id for entry in self.to_retry if entry.invoice_id]
        ids = list(dict.fromkeys([*(await self.db(self._still_changing)), *queued, *retried]))
        if not ids:
            return
        self.collect_settled = True
        single_get_methods = self.version >= SINGLE_GET_METHODS_SINCE
        gate = asyncio.Semaphore(self.sync_cfg.concurrency)

        async def one(invoice_id: str) -> Any:
            async with gate:
                try:
                    return await self.client.get_invoice(
                        self.cfg.store_id, invoice_id, include_payment_methods=single_get_methods
                    )
                except NotFoundError as exc:
                    return exc

        queued_set = set(queued)
        step = self.sync_cfg.page_size
        for begin in range(0, len(ids), step):
            self._check_cancel()
            chunk = ids[begin : begin + step]
            answers = await asyncio.gather(*(one(i) for i in chunk))
            objs, gone = [], []
            for invoice_id, answer in zip(chunk, answers):
                if isinstance(answer, NotFoundError):
                    self.result.skipped[NOT_FOUND] += 1
                    log.warning("store %s: invoice %s is %s", self.cfg.name, invoice_id, NOT_FOUND)
                    gone.append(invoice_id)
                else:
                    objs.append(answer)
            self.result.fetched += len(objs)
            records, skips = await self._parse(objs, embedded=single_get_methods)
            await self._store(records, {}, skips)
            # Queued ids are done once fetched (or known to be gone); so are listed ones the server no longer has.
            await self.db(clear_pending, self.store, [i for i in chunk if i in queued_set])
            if gone and self.to_retry:
                await self.db(retry.clear, self.store, gone)
            self._progress(f"re-check: {begin + len(chunk)} of {len(ids)} open invoices")

    async def retry_by_time(self) -> None:
        """Read again each second in which a record without a usable id was skipped."""
        for entry in self.to_retry:
            if entry.invoice_id is not None or entry.created_time is None:
                continue
            self._check_cancel()
            before = await self.db(retry.attempts_at_second, self.store, entry.created_time)
            if before is None:  # gone meanwhile
                continue
            await self._walk(start=entry.created_time, end=entry.created_time, offset=0, backfill=False)
            await self.db(retry.clear_second, self.store, entry.created_time, before)

    # -------------------------------------------------------------- apps

    async def sync_apps(self) -> None:
        try:
            bases = await self.client.list_apps(self.cfg.store_id)
        except MissingPermissionError as exc:
            note = (
                f"crowdfund apps skipped: the key lacks {exc.missing_permission or 'canmodifystoresettings'} "
                "(invoices are still complete)"
            )
            self.notes.append(note)
            log.info("store %s: %s", self.cfg.name, note)
            self._progress(note)
            return
        apps = []
        for base in bases:
            try:
                details = None
                if isinstance(base, dict) and base.get("appType") == "Crowdfund" and isinstance(base.get("id"), str):
                    details = await self.client.crowdfund_app(base["id"])
                apps.append(parse_app(base, details))
            except (RecordError, NotFoundError) as exc:
                log.warning("store %s: app skipped: %s", self.cfg.name, exc)
        await self.db(self._store_apps, apps)

    def _store_apps(self, apps: list) -> None:
        upsert_apps(self.store, apps, all_store_invoices=frozenset(self.cfg.crowdfund_all_invoices))


def _skip_of(obj: Any, reason: str) -> Skip:
    """How a record that did not parse can be read again: by its id, else by its created time."""
    invoice_id = obj.get("id") if type(obj) is dict else None
    created = obj.get("createdTime") if type(obj) is dict else None
    if type(invoice_id) is str and invoice_id:
        return Skip(invoice_id, None, reason)
    return Skip(None, created if type(created) is int and created > 0 else None, reason)


def _fresh_objects(
    page: list[Any], frontier: int | None, previous_ids: set[str]
) -> tuple[list[Any], int, set[str], int | None]:
    """The page's objects not read before in this walk, how many of them are
    identifiable (id and created time), the page's ids, and its oldest created time.

    Newest-first paging means a legitimate page holds nothing newer than the
    walk's frontier; anything newer, or on the previous page (the boundary
    shifts when invoices change), was read already. Objects without an id or
    time are kept so the parser counts them, but they never make a page "new".
    """
    fresh = []
    identifiable = 0
    ids: set[str] = set()
    oldest: int | None = None
    for obj in page:
        invoice_id = obj.get("id") if type(obj) is dict else None
        created = obj.get("createdTime") if type(obj) is dict else None
        known_id = type(invoice_id) is str and bool(invoice_id)
        known_time = type(created) is int
        if known_id:
            if invoice_id in previous_ids or invoice_id in ids:
                continue
            ids.add(invoice_id)
        if known_time:
            if frontier is not None and created > frontier:
                continue
            oldest = created if oldest is None else min(oldest, created)
        if known_id and known_time:
            identifiable += 1
        fresh.append(obj)
    return fresh, identifiable, ids, oldest


def _max(a: int | None, b: int) -> int:
    return b if a is None else max(a, b)
