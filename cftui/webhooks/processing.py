"""Acting on a verified invoice event: fetch the invoice, store it, or queue it.

A BTCPay invoice event carries no amount or status (contract §5.4), so each
one triggers a read of that invoice through the core client and an upsert,
which the dashboard notices within a second. When BTCPay cannot be reached
the invoice is queued (``PendingInvoice``) and the next sync fetches it:
nothing is lost. Events for an invoice that is already waiting to be fetched
join that fetch, so a burst of events costs one read per invoice. Once a
store's API has failed, its invoices are queued without trying again for
:data:`~cftui.webhooks.outages.DOWN_PAUSE_S`, each in the same commit as its delivery (see
:meth:`InvoiceProcessor.plan`), so a burst of webhooks during an outage
costs no network round trips, no retry waits and no second write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

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
from cftui.store.writer import ensure_store, upsert_invoices
from cftui.webhooks.envelope import Envelope
from cftui.webhooks.notices import OnProcessed, ProcessedNotice
from cftui.webhooks.outages import Batch, Outages, Rows
from cftui.webhooks.recorder import QUEUE_CHUNK, QueuedInvoice, Recorder, queue_invoices_query

log = logging.getLogger(__name__)

WORKERS = 4
# A webhook must not wait a minute of retries for a server that is down: the
# queue and the next sync cover it.
RETRY_BUDGET_S = 5


@dataclass(frozen=True, slots=True)
class Plan:
    """What accepting a verified delivery involves, decided before its row is written."""

    invoice_id: str | None = None  # the invoice it names, fetched once the row is written (unless queued)
    result: str | None = None  # the row's process_result when its own commit is the whole of its processing
    queue: QueuedInvoice | None = None  # the invoice, queued in that commit because the store's API is down
    down: str | None = None  # why the store's API is down


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


class _Waiting:
    """Invoices waiting to be fetched, each with the rows that named it: one fetch serves them all."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], list[int]] = {}
        self._keys: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def add(self, store_name: str, invoice_id: str, row_id: int) -> None:
        key = (store_name, invoice_id)
        rows = self._rows.get(key)
        if rows is None:
            self._rows[key] = [row_id]
            self._keys.put_nowait(key)
        else:
            rows.append(row_id)

    async def next(self) -> tuple[str, str, list[int]]:
        """The next invoice to fetch: store name, invoice id, rows."""
        while True:
            key = await self._keys.get()
            rows = self._rows.pop(key, None)
            if rows is not None:  # else taken by take_store() already
                return key[0], key[1], rows

    def take_store(self, store_name: str) -> Rows:
        """Every invoice of the store waiting now, taken out of the queue."""
        keys = [key for key in self._rows if key[0] == store_name]
        return {key[1]: self._rows.pop(key) for key in keys}


class InvoiceProcessor:
    def __init__(self, config: Config, recorder: Recorder, *, on_processed: OnProcessed | None = None) -> None:
        self._config = config
        self._recorder = recorder
        self._on_processed = on_processed
        self._waiting = _Waiting()
        self._workers: list[asyncio.Task[None]] = []
        self._apis: dict[str, _StoreApi] = {}
        self._outages = Outages(self._queue_batch, self._announce_batch)
        self.processed = 0
        self.queued = 0

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work(), name=f"webhook-processor-{i}") for i in range(WORKERS)]

    async def stop(self) -> None:
        """Stop at once; deliveries not processed yet stay unprocessed and are resumed on the next start."""
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, self._outages.stop(), return_exceptions=True)
        self._workers = []
        for api in self._apis.values():
            await api.client.aclose()
        self._apis.clear()

    def plan(self, store: StoreConfig, event: Envelope) -> Plan:
        """What the verified delivery of ``event`` involves; call :meth:`accepted` once its row won the claim."""
        if not event.is_invoice_event or event.invoice_id is None:
            if not event.is_known:
                log.info("webhook: unknown event type %s from store %s (answered 200)", event.type, store.name)
                return Plan(result=f"unknown event type {event.type}: ignored")
            return Plan(result=f"no action for {event.type}")  # the claim itself is the whole of processing
        reason = self._outages.reason(store.name)
        if reason is None:
            return Plan(invoice_id=event.invoice_id)
        # The store's API failed moments ago: queue the invoice in this delivery's own commit.
        queue = QueuedInvoice(store, event.invoice_id, _pending_reason(reason))
        return Plan(invoice_id=event.invoice_id, result=_queued_result(reason), queue=queue, down=reason)

    def accepted(self, row_id: int, store: StoreConfig, plan: Plan) -> None:
        """The delivery's row ``row_id`` was written as planned and won its claim: fetch, or announce the queueing."""
        if plan.invoice_id is None:
            return
        if plan.down is not None:
            # Queued already: told to the host with the others of the moment, one notice per invoice.
            self._outages.to_announce.add(store.name, plan.invoice_id, [row_id], plan.down)
        else:
            self.submit(row_id, store.name, plan.invoice_id)

    def submit(self, row_id: int, store_name: str, invoice_id: str) -> None:
        """Fetch the invoice of a delivery row that is not processed yet (or queue it while its store is down)."""
        reason = self._outages.reason(store_name)
        if reason is not None:
            self._outages.to_queue.add(store_name, invoice_id, [row_id], reason)
        else:
            self._waiting.add(store_name, invoice_id, row_id)

    async def resume(self) -> int:
        """Submit verified invoice deliveries a previous run accepted but did not process."""
        names = [store.name for store in self._config.btcpay]
        rows = await self._recorder.call(_unprocessed, names)
        for row_id, store_name, invoice_id in rows:
            self.submit(row_id, store_name, invoice_id)
        return len(rows)

    async def _work(self) -> None:
        while True:
            store_name, invoice_id, row_ids = await self._waiting.next()
            try:
                await self._process(self._config.store(store_name), invoice_id, row_ids)
            except Exception:  # a bug must not stop the worker; the rows stay unprocessed
                log.exception("processing invoice %s of store %s failed", invoice_id, store_name)

    async def _process(self, store: StoreConfig, invoice_id: str, row_ids: list[int]) -> None:
        try:
            record = await self._api(store).fetch(invoice_id)
        except (UnreachableError, AuthError, ConfigError) as exc:
            # The sync will need the same server and key: queue it for then.
            self._outages.down(store.name, exc.message)
            await self._queue_batch(store.name, Batch(exc.message, {invoice_id: row_ids}))
            return
        except DataError as exc:  # not found, or a record that does not fit the contract
            result = f"not stored: {exc.message}"
            await self._recorder.call(_mark, row_ids, result)
            log.info("webhook: invoice %s of store %s %s", invoice_id, store.name, result)
            self._notify(row_ids, store.name, invoice_id, result, queued=False)
            return
        self._outages.up(store.name)
        outcome = await self._recorder.call(_store, store, record, row_ids)
        self.processed += 1
        log.info("webhook: invoice %s of store %s: %s", invoice_id, store.name, outcome)
        self._notify(row_ids, store.name, invoice_id, outcome, queued=False)

    async def _queue_batch(self, store_name: str, batch: Batch) -> None:
        """Queue ``batch`` and every other invoice of the store waiting now, in one write."""
        for invoice_id, row_ids in self._waiting.take_store(store_name).items():
            batch.rows.setdefault(invoice_id, []).extend(row_ids)
        await self._recorder.call(_queue, self._config.store(store_name), batch.rows, batch.reason)
        await self._announce_batch(store_name, batch)

    async def _announce_batch(self, store_name: str, batch: Batch) -> None:
        """Tell the host about a batch of queued invoices, one notice per invoice."""
        self.queued += len(batch.rows)
        log.info("webhook: %d invoice(s) of store %s queued for the next sync: %s", len(batch.rows), store_name,
                 batch.reason)  # fmt: skip
        result = _queued_result(batch.reason)
        for invoice_id, row_ids in batch.rows.items():
            self._notify(row_ids, store_name, invoice_id, result, queued=True)

    def _api(self, store: StoreConfig) -> _StoreApi:
        api = self._apis.get(store.name)
        if api is None:
            client = GreenfieldClient.for_store(store, retry_budget=min(RETRY_BUDGET_S, self._config.sync.retry_budget))
            api = self._apis[store.name] = _StoreApi(client, store.store_id)
        return api

    def _notify(self, row_ids: list[int], store_name: str, invoice_id: str, result: str, *, queued: bool) -> None:
        if self._on_processed is not None:
            self._on_processed(ProcessedNotice(tuple(row_ids), store_name, invoice_id, result, queued))


# ---------------------------------------------------------------- writes (run on the writer thread)


def _store(store_cfg: StoreConfig, record: InvoiceRecord, row_ids: list[int]) -> str:
    with database.atomic():
        result = upsert_invoices(ensure_store(store_cfg), [record], synced_time=clock.now_s())
        change = "new" if result.new else "updated" if result.updated else "unchanged"
        outcome = f"{record.status}, stored ({change})"
        _mark(row_ids, outcome)
    return outcome


def _queue(store_cfg: StoreConfig, rows: Rows, reason: str) -> None:
    with database.atomic():
        store_pk = ensure_store(store_cfg).id
        now, pending = clock.now_s(), _pending_reason(reason)
        for chunk in chunks([(store_pk, invoice_id, pending, now) for invoice_id in rows], QUEUE_CHUNK):
            queue_invoices_query(chunk).execute()
        _mark([row_id for row_ids in rows.values() for row_id in row_ids], _queued_result(reason))


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
    # The stubs type .tuples() as the query itself; its rows are these three columns, the last two non-null here.
    return list(cast("Iterable[tuple[int, str, str]]", query))
