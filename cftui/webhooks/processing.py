"""Acting on a verified invoice event: fetch the invoice, store it, or queue it.

A BTCPay invoice event carries no amount or status (contract §5.4), so each
one triggers a read of that invoice through the core client and an upsert,
which the dashboard notices within a second. When BTCPay cannot be reached
the invoice is queued (``PendingInvoice``) and the next sync fetches it:
nothing is lost. Events for an invoice that is already waiting to be fetched
join that fetch, so a burst of events costs one read per invoice. Once a
store's API has failed, its invoices are queued without trying again for
:data:`DOWN_PAUSE_S`, each in the same commit as its delivery (see
:meth:`InvoiceProcessor.queue_now`), so a burst of webhooks during an outage
costs no network round trips, no retry waits and no second write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from cftui import clock
from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.fetch import fetch_invoice_record
from cftui.config import Config, StoreConfig
from cftui.domain import VERIFIED
from cftui.errors import AuthError, ConfigError, DataError, UnreachableError
from cftui.store.chunking import IN_LIST_LIMIT, chunks
from cftui.store.models import database
from cftui.store.records import InvoiceRecord
from cftui.store.webhook_models import WebhookDelivery
from cftui.store.writer import ensure_store, queue_invoice, upsert_invoices
from cftui.webhooks.notices import OnProcessed, ProcessedNotice
from cftui.webhooks.recorder import QueuedInvoice, Recorder

log = logging.getLogger(__name__)

WORKERS = 4
# A webhook must not wait a minute of retries for a server that is down: the
# queue and the next sync cover it.
RETRY_BUDGET_S = 5
DOWN_PAUSE_S = 30
# While a store is down, wait this long to gather a batch before queueing it.
DOWN_BATCH_WAIT_S = 0.25


@dataclass(slots=True)
class _Announcement:
    result: str
    row_ids: list[int]


class _StoreApi:
    """One store's client and, once read, its server's version, which decides how an invoice is read."""

    def __init__(self, client: GreenfieldClient, store_id: str) -> None:
        self.client = client
        self.store_id = store_id
        # Read once per client: an upgrade while the receiver runs keeps the older way, which stays correct.
        self.version: tuple[int, ...] | None = None

    async def fetch(self, invoice_id: str) -> InvoiceRecord:
        if self.version is None:
            self.version = await self.client.server_version()
        return await fetch_invoice_record(self.client, self.version, self.store_id, invoice_id)


class InvoiceProcessor:
    def __init__(self, config: Config, recorder: Recorder, *, on_processed: OnProcessed | None = None) -> None:
        self._config = config
        self._recorder = recorder
        self._on_processed = on_processed
        self._waiting: dict[tuple[str, str], list[int]] = {}
        self._keys: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._workers: list[asyncio.Task] = []
        self._apis: dict[str, _StoreApi] = {}
        self._down: dict[str, tuple[float, str]] = {}  # store name -> (until, monotonic; why)
        # While a store is down: invoice -> rows waiting to be queued together, and the task that will.
        self._down_batches: dict[str, dict[str, list[int]]] = {}
        # While a store is down: invoice -> rows queued in their deliveries' own commits (and the result), still
        # to be announced in one notice per invoice, and the task that will.
        self._announcements: dict[str, dict[str, _Announcement]] = {}
        self._announcers: dict[str, asyncio.Task] = {}
        self._flushers: dict[str, asyncio.Task] = {}
        self.processed = 0
        self.queued = 0

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work(), name=f"webhook-processor-{i}") for i in range(WORKERS)]

    async def stop(self) -> None:
        """Stop at once; deliveries not processed yet stay unprocessed and are resumed on the next start."""
        tasks = [*self._workers, *self._flushers.values(), *self._announcers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers = []
        self._flushers.clear()
        self._announcers.clear()
        for api in self._apis.values():
            await api.client.aclose()
        self._apis.clear()

    def queue_now(self, store: StoreConfig, invoice_id: str) -> tuple[QueuedInvoice, str] | None:
        """While the store's API is down: what to queue with the delivery, and its ``process_result``.

        None when the invoice should be fetched (then :meth:`submit` the claimed row).
        """
        reason = self._down_reason(store.name)
        if reason is None:
            return None
        return QueuedInvoice(store, invoice_id, _pending_reason(reason)), _queued_result(reason)

    def announce_queued(self, row_id: int, queued: QueuedInvoice, result: str) -> None:
        """A delivery was queued in its own commit (:meth:`queue_now`): tell the host, with the others of the moment."""
        store_name = queued.store.name
        waiting = self._announcements.setdefault(store_name, {})
        announcement = waiting.get(queued.invoice_id)
        if announcement is None:
            waiting[queued.invoice_id] = _Announcement(result, [row_id])
        else:
            announcement.result = result  # the latest reason stands for the batch
            announcement.row_ids.append(row_id)
        if store_name not in self._announcers:
            self._announcers[store_name] = asyncio.create_task(self._announce(store_name))

    def submit(self, row_id: int, store_name: str, invoice_id: str) -> None:
        reason = self._down_reason(store_name)
        if reason is not None:
            self._queue_later(store_name, invoice_id, [row_id], reason)
            return
        key = (store_name, invoice_id)
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.append(row_id)
            return
        self._waiting[key] = [row_id]
        self._keys.put_nowait(key)

    def _down_reason(self, store_name: str) -> str | None:
        """Why the store's API is not tried now (it failed moments ago), or None."""
        down = self._down.get(store_name)
        if down is None:
            return None
        if time.monotonic() < down[0]:
            return down[1]
        del self._down[store_name]  # time to try the API again
        return None

    async def resume(self) -> int:
        """Submit verified invoice deliveries a previous run accepted but did not process."""
        names = [store.name for store in self._config.btcpay]
        rows = await self._recorder.call(_unprocessed, names)
        for row_id, store_name, invoice_id in rows:
            self.submit(row_id, store_name, invoice_id)
        return len(rows)

    async def _work(self) -> None:
        while True:
            key = await self._keys.get()
            row_ids = self._waiting.pop(key, None)
            if row_ids is None:  # already handled in a batch
                continue
            try:
                await self._process(self._config.store(key[0]), key[1], row_ids)
            except Exception:  # a bug must not stop the worker; the rows stay unprocessed
                log.exception("processing invoice %s of store %s failed", key[1], key[0])

    def _queue_later(self, store_name: str, invoice_id: str, row_ids: list[int], reason: str) -> None:
        """Gather rows of a store that is down; one task queues them all after a short wait."""
        self._down_batches.setdefault(store_name, {}).setdefault(invoice_id, []).extend(row_ids)
        if store_name not in self._flushers:
            self._flushers[store_name] = asyncio.create_task(self._flush_down(store_name, reason))

    async def _flush_down(self, store_name: str, reason: str) -> None:
        try:
            await asyncio.sleep(DOWN_BATCH_WAIT_S)
            batch = self._down_batches.pop(store_name, {})
            await self._queue_all(self._config.store(store_name), batch, reason)
        except Exception:  # the rows stay unprocessed and are resumed on the next start
            log.exception("queueing invoices of store %s failed", store_name)
        finally:
            self._flushers.pop(store_name, None)

    async def _announce(self, store_name: str) -> None:
        try:
            await asyncio.sleep(DOWN_BATCH_WAIT_S)
        finally:
            self._announcers.pop(store_name, None)
        waiting = self._announcements.pop(store_name, {})
        store = self._config.store(store_name)
        self.queued += len(waiting)
        log.info("webhook: %d invoice(s) of store %s queued for the next sync", len(waiting), store_name)
        for invoice_id, announcement in waiting.items():
            self._notify(announcement.row_ids, store, invoice_id, announcement.result, queued=True)

    async def _queue_all(self, store: StoreConfig, batch: dict[str, list[int]], reason: str) -> None:
        """Queue ``batch`` and every other invoice of the store waiting now, in one write."""
        for other in [k for k in self._waiting if k[0] == store.name]:
            batch.setdefault(other[1], []).extend(self._waiting.pop(other))
        await self._recorder.call(_queue, store, batch, reason)
        self.queued += len(batch)
        log.info("webhook: %d invoice(s) of store %s queued for the next sync: %s", len(batch), store.name, reason)
        for invoice_id, row_ids in batch.items():
            self._notify(row_ids, store, invoice_id, _queued_result(reason), queued=True)

    async def _process(self, store: StoreConfig, invoice_id: str, row_ids: list[int]) -> None:
        try:
            record = await self._api(store).fetch(invoice_id)
        except (UnreachableError, AuthError, ConfigError) as exc:
            # The sync will need the same server and key: queue it for then.
            self._down[store.name] = (time.monotonic() + DOWN_PAUSE_S, exc.message)
            await self._queue_all(store, {invoice_id: row_ids}, exc.message)
            return
        except DataError as exc:  # not found, or a record that does not fit the contract
            await self._recorder.call(_mark, row_ids, f"not stored: {exc.message}")
            log.info("webhook: invoice %s of store %s not stored: %s", invoice_id, store.name, exc.message)
            self._notify(row_ids, store, invoice_id, f"not stored: {exc.message}", queued=False)
            return
        self._down.pop(store.name, None)
        outcome = await self._recorder.call(_store, store, record, row_ids)
        self.processed += 1
        log.info("webhook: invoice %s of store %s: %s", invoice_id, store.name, outcome)
        self._notify(row_ids, store, invoice_id, outcome, queued=False)

    def _api(self, store: StoreConfig) -> _StoreApi:
        api = self._apis.get(store.name)
        if api is None:
            client = GreenfieldClient.for_store(store, retry_budget=min(RETRY_BUDGET_S, self._config.sync.retry_budget))
            api = self._apis[store.name] = _StoreApi(client, store.store_id)
        return api

    def _notify(self, row_ids: list[int], store: StoreConfig, invoice_id: str, result: str, *, queued: bool) -> None:
        if self._on_processed is not None:
            self._on_processed(ProcessedNotice(tuple(row_ids), store.name, invoice_id, result, queued))


# ---------------------------------------------------------------- writes (run on the writer thread)


def _store(store_cfg: StoreConfig, record: InvoiceRecord, row_ids: list[int]) -> str:
    with database.atomic():
        result = upsert_invoices(ensure_store(store_cfg), [record], synced_time=clock.now_s())
        change = "new" if result.new else "updated" if result.updated else "unchanged"
        outcome = f"{record.status}, stored ({change})"
        _mark(row_ids, outcome)
    return outcome


def _queue(store_cfg: StoreConfig, batch: dict[str, list[int]], reason: str) -> None:
    with database.atomic():
        store = ensure_store(store_cfg)
        for invoice_id in batch:
            queue_invoice(store, invoice_id, _pending_reason(reason))
        _mark([row_id for row_ids in batch.values() for row_id in row_ids], _queued_result(reason))


def _pending_reason(reason: str) -> str:
    """The ``PendingInvoice.reason`` of an invoice queued because the API failed with ``reason``."""
    return f"webhook arrived, fetch failed: {reason}"


def _queued_result(reason: str) -> str:
    """The ``process_result`` of a delivery whose invoice was queued."""
    return f"queued for the next sync: {reason}"


def _mark(row_ids: list[int], outcome: str) -> None:
    for chunk in chunks(row_ids, IN_LIST_LIMIT):
        WebhookDelivery.update(processed=True, process_result=outcome).where(WebhookDelivery.id.in_(chunk)).execute()


def _unprocessed(store_names: list[str]) -> list[tuple[int, str, str]]:
    query = (
        WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.store_name, WebhookDelivery.invoice_id)
        .where(
            (WebhookDelivery.verdict == VERIFIED)
            & ~WebhookDelivery.processed
            & WebhookDelivery.invoice_id.is_null(False)
            & WebhookDelivery.store_name.in_(store_names)
        )
        .order_by(WebhookDelivery.id)
        .tuples()
    )
    return list(query)
