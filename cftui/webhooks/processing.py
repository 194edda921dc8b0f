"""Acting on a verified invoice event: fetch the invoice, store it, or queue it.

A BTCPay invoice event carries no amount or status (contract §5.4), so each
one triggers a read of that invoice through the core client and an upsert,
which the dashboard notices within a second. When BTCPay cannot be reached
the invoice is queued (``PendingInvoice``) and the next sync fetches it:
nothing is lost. Events for an invoice that is already waiting to be fetched
join that fetch, so a burst of events costs one read per invoice.
"""

from __future__ import annotations

import asyncio
import logging

from cftui import clock
from cftui.btcpay.client import GreenfieldClient
from cftui.btcpay.parse import parse_invoice
from cftui.config import Config, StoreConfig
from cftui.errors import AuthError, ConfigError, DataError, UnreachableError
from cftui.store.models import database
from cftui.store.records import InvoiceRecord
from cftui.store.webhook_models import VERIFIED, WebhookDelivery
from cftui.store.writer import ensure_store, queue_invoice, upsert_invoices
from cftui.webhooks.notices import OnProcessed, ProcessedNotice
from cftui.webhooks.recorder import Recorder

log = logging.getLogger(__name__)

WORKERS = 4
# A webhook must not wait a minute of retries for a server that is down: the
# queue and the next sync cover it.
RETRY_BUDGET_S = 5


class InvoiceProcessor:
    def __init__(self, config: Config, recorder: Recorder, *, on_processed: OnProcessed | None = None) -> None:
        self._config = config
        self._recorder = recorder
        self._on_processed = on_processed
        self._waiting: dict[tuple[str, str], list[int]] = {}
        self._keys: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._workers: list[asyncio.Task] = []
        self._clients: dict[str, GreenfieldClient] = {}
        self.processed = 0
        self.queued = 0

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work(), name=f"webhook-processor-{i}") for i in range(WORKERS)]

    async def stop(self) -> None:
        """Stop at once; deliveries not processed yet stay unprocessed and are resumed on the next start."""
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def submit(self, row_id: int, store_name: str, invoice_id: str) -> None:
        key = (store_name, invoice_id)
        waiting = self._waiting.get(key)
        if waiting is not None:
            waiting.append(row_id)
            return
        self._waiting[key] = [row_id]
        self._keys.put_nowait(key)

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
            row_ids = self._waiting.pop(key)
            try:
                await self._process(self._config.store(key[0]), key[1], row_ids)
            except Exception:  # a bug must not stop the worker; the rows stay unprocessed
                log.exception("processing invoice %s of store %s failed", key[1], key[0])

    async def _process(self, store: StoreConfig, invoice_id: str, row_ids: list[int]) -> None:
        try:
            client = self._client(store)
            invoice = await client.get_invoice(store.store_id, invoice_id)
            methods = await client.payment_methods(store.store_id, invoice_id)
            record = parse_invoice(invoice, payment_methods=methods)
        except (UnreachableError, AuthError, ConfigError) as exc:
            # The sync will need the same server and key: queue it for then.
            await self._recorder.call(_queue, store, invoice_id, exc.message, row_ids)
            self.queued += 1
            self._notify(row_ids, store, invoice_id, f"queued for the next sync: {exc.message}", queued=True)
            return
        except DataError as exc:  # not found, or a record that does not fit the contract
            await self._recorder.call(_mark, row_ids, f"not stored: {exc.message}")
            self._notify(row_ids, store, invoice_id, f"not stored: {exc.message}", queued=False)
            return
        outcome = await self._recorder.call(_store, store, record, row_ids)
        self.processed += 1
        self._notify(row_ids, store, invoice_id, outcome, queued=False)

    def _client(self, store: StoreConfig) -> GreenfieldClient:
        client = self._clients.get(store.name)
        if client is None:
            client = GreenfieldClient(
                store.url,
                store.require_api_key(),
                verify=store.verify_tls,
                timeout=store.timeout,
                retry_budget=min(RETRY_BUDGET_S, self._config.sync.retry_budget),
                store_name=store.name,
            )
            self._clients[store.name] = client
        return client

    def _notify(self, row_ids: list[int], store: StoreConfig, invoice_id: str, result: str, *, queued: bool) -> None:
        log.info("webhook: invoice %s of store %s: %s", invoice_id, store.name, result)
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


def _queue(store_cfg: StoreConfig, invoice_id: str, reason: str, row_ids: list[int]) -> None:
    with database.atomic():
        queue_invoice(ensure_store(store_cfg), invoice_id, f"webhook arrived, fetch failed: {reason}")
        _mark(row_ids, f"queued for the next sync: {reason}")


def _mark(row_ids: list[int], outcome: str) -> None:
    WebhookDelivery.update(processed=True, process_result=outcome).where(WebhookDelivery.id.in_(row_ids)).execute()


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
