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
  in order, so the scan position never runs ahead of the stored rows
  (:mod:`cftui.sync.batches` holds that rule).
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
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cftui import clock
from cftui.btcpay.app_stats import parse_top_items
from cftui.btcpay.client import EMBEDDED_METHODS_SINCE, GreenfieldClient, parse_version
from cftui.btcpay.errors import MissingPermissionError, NotFoundError
from cftui.btcpay.fetch import NOT_FOUND, fetch_invoice_record
from cftui.btcpay.parse import RecordError, parse_app, parse_invoice
from cftui.config import StoreConfig, SyncConfig
from cftui.domain import OPEN_STATUSES, btcpay_source
from cftui.errors import DataError
from cftui.store import retry
from cftui.store.chunking import chunks
from cftui.store.models import Invoice, SkippedInvoice, Store, SyncState, database
from cftui.store.perks import replace_perks
from cftui.store.records import AppRecord, InvoiceRecord, UpsertResult
from cftui.store.retry import Skip
from cftui.store.writer import clear_pending, ensure_store, pending_invoices, upsert_apps, upsert_invoices
from cftui.sync.batches import Batch, BatchWriter, ScanPosition
from cftui.sync.dbthread import DbThread
from cftui.sync.events import Reporter, SyncResult, ignore
from cftui.sync.gc_tuning import fewer_collections
from cftui.sync.reported import CancelFlag, SyncRun, begin_state, finish_state, keep_outcome, run_reported

log = logging.getLogger(__name__)

RETRY_PER_RUN = 1000  # retry-list entries one run reads again; the rest wait for the next run
CANCELLED = "Sync cancelled; the next sync continues where this one stopped."


@dataclass(frozen=True, slots=True)
class SyncContext:
    """What one sync of one store works with, built once and passed whole."""

    cfg: StoreConfig
    sync: SyncConfig
    store: Store
    client: GreenfieldClient
    db: DbThread
    run: SyncRun  # the result, the reporter and the cancel flag
    notes: list[str]  # said in the run's recorded outcome (SyncState.last_result)

    @property
    def result(self) -> SyncResult:
        return self.run.result


async def sync_store(
    store_cfg: StoreConfig,
    sync_cfg: SyncConfig,
    *,
    reporter: Reporter = ignore,
    cancel: CancelFlag | None = None,
) -> SyncResult:
    """Sync one store into the already-open store database; never raises for sync failures."""
    source = btcpay_source(store_cfg.name)
    db = DbThread()
    notes: list[str] = []

    async def body(run: SyncRun) -> None:
        state = await db(begin_state, source)
        run.started("incremental" if state.backfill_done else "backfill")
        with fewer_collections():
            # A missing key fails here, before the store's row is written.
            async with GreenfieldClient.for_store(store_cfg, retry_budget=sync_cfg.retry_budget) as client:
                store = await db(ensure_store, store_cfg)
                context = SyncContext(store_cfg, sync_cfg, store, client, db, run, notes)
                await _StoreSync(context).run(backfill=not state.backfill_done)
            waiting = await db(retry.summary, store_cfg.name)
        run.result.unread, run.result.unread_ids = waiting.count, waiting.labels

    async def record_outcome(result: SyncResult) -> None:
        await keep_outcome(result, partial(db, finish_state, source, result, notes))
        await db.close()  # before SyncFinished: the run's connection is checkpointed and closed

    try:
        return await run_reported(
            source, body, reporter=reporter, cancel=cancel, cancelled=CANCELLED, after=record_outcome
        )
    finally:
        await db.close()  # a no-op once record_outcome closed it; else the task itself was cancelled


# ------------------------------------------------------------------ one run


class _StoreSync:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.version: tuple[int, ...] = ()
        self.collect_settled = True
        # Start of the window this run's walk covered (the re-check skips it).
        self.walked_from: int | None = None
        self.newest_seen: int | None = None
        self.to_retry: list[SkippedInvoice] = []  # the retry list as this run began
        self.listed_skips = False  # whether this run put anything on the retry list

    async def run(self, *, backfill: bool) -> None:
        await self.detect_version()
        await self.detect_store_currency()
        # What earlier runs could not read; what this run skips waits for the next one.
        self.to_retry = await self.ctx.db(retry.waiting, self.ctx.store, RETRY_PER_RUN)
        if backfill:
            await self.backfill()
        else:
            await self.incremental()
        await self.retry_by_time()
        await self.recheck()
        await self.sync_apps()

    # -------------------------------------------------------------- helpers

    @property
    def embedded_methods(self) -> bool:
        return self.version >= EMBEDDED_METHODS_SINCE

    async def detect_version(self) -> None:
        info = await self.ctx.client.server_info()
        text = info.get("version") if isinstance(info, dict) else None
        self.version = parse_version(text if isinstance(text, str) else None)
        if text and self.ctx.store.server_version != text:
            await self.ctx.db(Store.update(server_version=text).where(Store.id == self.ctx.store.id).execute)

    async def detect_store_currency(self) -> None:
        """BTCPay's ``defaultCurrency`` for the store: the dashboard converts totals into it."""
        try:
            data = await self.ctx.client.store(self.ctx.cfg.store_id)
        except (MissingPermissionError, NotFoundError):
            return  # listing invoices needs the same permission and reports it
        currency = data.get("defaultCurrency")
        if isinstance(currency, str) and currency.strip() and currency != self.ctx.store.default_currency:
            update = Store.update(default_currency=currency.strip()).where(Store.id == self.ctx.store.id)
            await self.ctx.db(update.execute)

    async def _fetch_page(self, offset: int, *, start: int | None, end: int) -> list[object]:
        return await self.ctx.client.list_invoices(
            self.ctx.cfg.store_id,
            skip=offset,
            take=self.ctx.sync.page_size,
            start_date=start,
            end_date=end,
            include_payment_methods=self.embedded_methods,
            include_archived=True,
        )

    async def _methods_for(self, ids: Sequence[str]) -> dict[str, Any]:
        """``payment-methods`` of each invoice (old servers), bounded concurrency.

        An invoice whose methods are gone (404) maps to the NotFoundError.
        """
        gate = asyncio.Semaphore(self.ctx.sync.concurrency)

        async def one(invoice_id: str) -> Any:
            async with gate:
                try:
                    return await self.ctx.client.payment_methods(self.ctx.cfg.store_id, invoice_id)
                except NotFoundError as exc:
                    return exc

        answers = await asyncio.gather(*(one(i) for i in ids))
        return dict(zip(ids, answers, strict=True))

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
                    invoice_id = obj.get("id") if type(obj) is dict else None
                    # Only a string id was asked for; any other (a list is not even hashable) is the parser's to refuse.
                    pms = methods.get(invoice_id) if type(invoice_id) is str else None
                    if isinstance(pms, NotFoundError):
                        raise RecordError(NOT_FOUND, invoice_id, "payment methods")
                records.append(parse_invoice(obj, payment_methods=pms))
            except RecordError as exc:
                self._skipped(exc, _skip_of(obj, exc.reason), skips)
        return records, skips

    def _skipped(self, exc: RecordError, skip: Skip, skips: list[Skip]) -> None:
        """Count and log a record that did not parse; it joins ``skips`` (the retry list) if it can be read again."""
        self.ctx.result.skipped[exc.reason] += 1
        if skip.retryable:
            skips.append(skip)
            log.warning("store %s: %s (kept for a retry)", self.ctx.cfg.name, exc)
        else:
            log.warning("store %s: %s (no id or created time: cannot be read again)", self.ctx.cfg.name, exc)

    def _write(self, batch: Batch, assume_new: bool) -> UpsertResult:
        """One transaction: the rows, the skipped records and the scan position that says they are in (DB thread)."""
        store = self.ctx.store
        with database.atomic():
            upserted = upsert_invoices(store, batch.records, synced_time=clock.now_s(), assume_new=assume_new)
            if batch.skips:
                retry.record(store, batch.skips)
            if self.to_retry or self.listed_skips:  # an empty list needs no clearing: none in a clean backfill
                retry.clear(store, [r.invoice_id for r in batch.records])
            if batch.position is not None:
                self._set_state(_position_values(batch.position))
        return upserted

    async def _commit(self, batch: Batch, *, assume_new: bool = False) -> UpsertResult:
        if batch.skips:
            self.listed_skips = True
        return await self.ctx.db(self._write, batch, assume_new)

    def _count(self, upserted: UpsertResult) -> None:
        result = self.ctx.result
        result.new += upserted.new
        result.updated += upserted.updated
        result.unchanged += upserted.unchanged
        if self.collect_settled:
            result.newly_settled.extend(upserted.newly_settled)

    # -------------------------------------------------------------- walks

    async def _walk(self, *, start: int | None, end: int, offset: int, backfill: bool) -> int | None:
        """Page newest-first through [start, end]; returns the newest created time stored.

        Pages are pipelined: the next one is requested before this one is parsed, and the
        previous ones commit on the DB thread meanwhile (:mod:`cftui.sync.batches`, which
        also keeps the saved scan position behind the stored rows).
        """
        take = self.ctx.sync.page_size
        cursor = _Cursor(offset)
        commit = partial(self._commit, assume_new=backfill)
        writer = BatchWriter(commit, self._count, label=f"store {self.ctx.cfg.name}")
        label = "backfill" if backfill else "new invoices"
        pending = asyncio.ensure_future(self._fetch_page(offset, start=start, end=end))
        try:
            while True:
                page = await pending
                full = len(page) >= take
                if full:  # ask for the next page now: the server builds it while we store this one
                    pending = asyncio.ensure_future(self._fetch_page(cursor.offset + len(page), start=start, end=end))
                records, skips = await self._read_page(page, cursor, full=full)
                await writer.add(records, skips, self._position(cursor) if backfill else None)
                self.ctx.run.progress(f"{label}: {self.ctx.result.fetched} invoices read")
                if not full or self.ctx.run.cancelled():
                    break
            await writer.drain()
            self.ctx.run.check_cancel()
        finally:
            pending.cancel()  # a no-op once it is done
            await writer.close()
        return cursor.newest

    async def _read_page(
        self, page: list[Any], cursor: _Cursor, *, full: bool
    ) -> tuple[list[InvoiceRecord], list[Skip]]:
        """The records of ``page`` not read before in this walk, and its misfits; moves ``cursor`` past it."""
        self.ctx.result.fetched += len(page)
        fresh, identifiable = cursor.fresh(page)
        if full and not identifiable:
            # A short last page may hold only invoices shifted in from the previous
            # page; a full one cannot. Everything stored so far stays; the walk is
            # not marked complete.
            raise DataError(
                f"BTCPay store '{self.ctx.cfg.name}' sent a page at offset {cursor.offset} with nothing new "
                "(repeated or unreadable invoices); stopped instead of looping.",
                hint="The next sync tries again; if this persists, check the server or proxy.",
            )
        records, skips = await self._parse(fresh, embedded=self.embedded_methods)
        cursor.passed(len(page), records)
        return records, skips

    def _position(self, cursor: _Cursor) -> ScanPosition:
        """Where the backfill resumes once the pages up to ``cursor`` are stored."""
        if cursor.newest is not None:
            self.newest_seen = _max(self.newest_seen, cursor.newest)
        return ScanPosition(cursor.offset, self.newest_seen)

    def _state(self) -> SyncState:
        return SyncState.get_by_id(self.ctx.run.source)

    def _set_state(self, values: dict[Any, Any]) -> None:
        SyncState.update(values).where(SyncState.source == self.ctx.run.source).execute()

    async def backfill(self) -> None:
        self.collect_settled = False  # every settled invoice is "new" in a first load
        state = await self.ctx.db(self._state)
        if state.scan_end_time is None:
            state.scan_end_time, state.scan_offset = clock.now_s(), 0
            await self.ctx.db(self._set_state, {SyncState.scan_end_time: state.scan_end_time, SyncState.scan_offset: 0})
        elif state.scan_offset:
            log.info("store %s: resuming backfill at offset %d", self.ctx.cfg.name, state.scan_offset)
        self.newest_seen = state.newest_seen_time
        await self._walk(start=None, end=state.scan_end_time, offset=state.scan_offset, backfill=True)
        await self.ctx.db(
            self._set_state, {SyncState.backfill_done: True, SyncState.scan_end_time: None, SyncState.scan_offset: 0}
        )
        self.walked_from = 0

    async def incremental(self) -> None:
        newest = (await self.ctx.db(self._state)).newest_seen_time
        start = max(0, newest - self.ctx.sync.overlap) if newest is not None else None
        end = clock.now_s()
        found = await self._walk(start=start, end=end, offset=0, backfill=False)
        if found is not None and (newest is None or found > newest):
            await self.ctx.db(self._set_state, {SyncState.newest_seen_time: found})
        self.walked_from = start or 0

    # -------------------------------------------------------------- re-check

    def _still_changing(self) -> list[str]:
        """Invoices the walk did not cover that can still change state."""
        now = clock.now_s()
        query = Invoice.select(Invoice.invoice_id).where(
            (Invoice.store == self.ctx.store)
            & (Invoice.created_time < (self.walked_from or 0))
            & (Invoice.status.in_(OPEN_STATUSES) | (Invoice.monitoring_time > now))
        )
        return [row.invoice_id for row in query]

    async def recheck(self) -> None:
        queued = await self.ctx.db(pending_invoices, self.ctx.store)
        retried = [entry.invoice_id for entry in self.to_retry if entry.invoice_id]
        ids = list(dict.fromkeys([*(await self.ctx.db(self._still_changing)), *queued, *retried]))
        if not ids:
            return
        self.collect_settled = True
        gate = asyncio.Semaphore(self.ctx.sync.concurrency)

        async def one(invoice_id: str) -> InvoiceRecord | NotFoundError | RecordError:
            async with gate:
                try:
                    return await fetch_invoice_record(self.ctx.client, self.version, self.ctx.cfg.store_id, invoice_id)
                except (NotFoundError, RecordError) as exc:
                    return exc

        queued_set = set(queued)
        done = 0
        for chunk in chunks(ids, self.ctx.sync.page_size):
            self.ctx.run.check_cancel()
            answers = await asyncio.gather(*(one(i) for i in chunk))
            records: list[InvoiceRecord] = []
            skips: list[Skip] = []
            gone: list[str] = []
            for invoice_id, answer in zip(chunk, answers, strict=True):
                if isinstance(answer, NotFoundError):
                    self.ctx.result.skipped[NOT_FOUND] += 1
                    log.warning("store %s: invoice %s is %s", self.ctx.cfg.name, invoice_id, NOT_FOUND)
                    gone.append(invoice_id)
                    continue
                self.ctx.result.fetched += 1
                if isinstance(answer, RecordError):  # asked for by id, so read again by id
                    self._skipped(answer, Skip(invoice_id, None, answer.reason), skips)
                else:
                    records.append(answer)
            self._count(await self._commit(Batch(records, skips)))
            # Queued ids are done once fetched (or known to be gone); so are listed ones the server no longer has.
            await self.ctx.db(clear_pending, self.ctx.store, [i for i in chunk if i in queued_set])
            if gone and self.to_retry:
                await self.ctx.db(retry.clear, self.ctx.store, gone)
            done += len(chunk)
            self.ctx.run.progress(f"re-check: {done} of {len(ids)} open invoices")

    async def retry_by_time(self) -> None:
        """Read again each second in which a record without a usable id was skipped."""
        for entry in self.to_retry:
            if entry.invoice_id is not None or entry.created_time is None:
                continue
            self.ctx.run.check_cancel()
            before = await self.ctx.db(retry.attempts_at_second, self.ctx.store, entry.created_time)
            if before is None:  # gone meanwhile
                continue
            await self._walk(start=entry.created_time, end=entry.created_time, offset=0, backfill=False)
            await self.ctx.db(retry.clear_second, self.ctx.store, entry.created_time, before)

    # -------------------------------------------------------------- apps

    async def sync_apps(self) -> None:
        try:
            bases = await self.ctx.client.list_apps(self.ctx.cfg.store_id)
        except MissingPermissionError as exc:
            note = (
                f"crowdfund apps skipped: the key lacks {exc.missing_permission or 'canmodifystoresettings'} "
                "(invoices are still complete)"
            )
            self.ctx.notes.append(note)
            log.info("store %s: %s", self.ctx.cfg.name, note)
            self.ctx.run.progress(note)
            return
        apps = []
        for base in bases:
            try:
                details = None
                if isinstance(base, dict) and base.get("appType") == "Crowdfund" and isinstance(base.get("id"), str):
                    details = await self.ctx.client.crowdfund_app(base["id"])
                apps.append(parse_app(base, details))
            except (RecordError, NotFoundError) as exc:
                log.warning("store %s: app skipped: %s", self.ctx.cfg.name, exc)
        await self.ctx.db(self._store_apps, apps)
        for app in apps:
            if app.app_type == "Crowdfund":
                await self._sync_perks(app.app_id)

    def _store_apps(self, apps: list[AppRecord]) -> None:
        upsert_apps(self.ctx.store, apps, all_store_invoices=frozenset(self.ctx.cfg.crowdfund_all_invoices))

    async def _sync_perks(self, app_id: str) -> None:
        """What each perk of a crowdfund sold, as BTCPay counts it (top-items)."""
        try:
            items = await self.ctx.client.top_items(app_id)
        except (MissingPermissionError, NotFoundError) as exc:
            log.info("store %s: perks of app %s skipped: %s", self.ctx.cfg.name, app_id, exc)
            return
        perks, skipped = parse_top_items(items)
        if skipped:
            self.ctx.result.skipped["top-items entry that does not fit the contract"] += skipped
        await self.ctx.db(replace_perks, self.ctx.store, app_id, perks)


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
        raw_id = obj.get("id") if type(obj) is dict else None
        raw_created = obj.get("createdTime") if type(obj) is dict else None
        invoice_id = raw_id if type(raw_id) is str and raw_id else None
        created = raw_created if type(raw_created) is int else None  # not a bool
        if invoice_id is not None:
            if invoice_id in previous_ids or invoice_id in ids:
                continue
            ids.add(invoice_id)
        if created is not None:
            if frontier is not None and created > frontier:
                continue
            oldest = created if oldest is None else min(oldest, created)
        if invoice_id is not None and created is not None:
            identifiable += 1
        fresh.append(obj)
    return fresh, identifiable, ids, oldest


def _max(a: int | None, b: int) -> int:
    return b if a is None else max(a, b)


@dataclass(slots=True)
class _Cursor:
    """How far a walk has come, and what it needs to tell a new page from one read before."""

    offset: int  # of the next page
    frontier: int | None = None  # the oldest created time passed so far
    previous_ids: set[str] = field(default_factory=set)  # the ids on the previous page
    newest: int | None = None  # the newest created time stored

    def fresh(self, page: list[Any]) -> tuple[list[Any], int]:
        """The objects of ``page`` not read before, and how many of them are identifiable."""
        fresh, identifiable, self.previous_ids, oldest = _fresh_objects(page, self.frontier, self.previous_ids)
        if oldest is not None:
            self.frontier = oldest if self.frontier is None else min(self.frontier, oldest)
        return fresh, identifiable

    def passed(self, page_size: int, records: Sequence[InvoiceRecord]) -> None:
        self.offset += page_size
        page_newest = max((r.created_time for r in records), default=None)
        if page_newest is not None:
            self.newest = _max(self.newest, page_newest)


def _position_values(position: ScanPosition) -> dict[Any, Any]:
    values: dict[Any, Any] = {SyncState.scan_offset: position.offset}
    if position.newest_seen is not None:
        values[SyncState.newest_seen_time] = position.newest_seen
    return values
