"""Webhooks in the simulator, delivered with BTCPay's rules (contract §5.1-§5.3).

* One queue per webhook, sent strictly in order: while a delivery is being
  retried, later events for that webhook wait (head-of-line blocking).
* Retried after 10 s, 1 min, then 10 min ×6 (compressed in demo mode) on HTTP
  5xx, 408, 429 or no answer (network error, timeout); never on another 4xx
  or a 3xx (v2.3.4+). Each retry is a new delivery: a new ``deliveryId``,
  ``isRedelivery: true``, the same ``originalDeliveryId`` and ``timestamp``.
* Bodies are built and signed exactly as BTCPay's (``cftui.webhooks``).
* The management API (create/list/get/update/delete webhooks, deliveries,
  the raw request body, redeliver) is served beside the simulator's routes.
* ``mishaps`` (the demo): now and then a first attempt is lost on the way
  (BTCPay lists it as failed, it never arrives, a redelivery follows) or is
  signed with a stale secret (the receiver refuses it; a 401 is not retried),
  so the dashboard's rejected and "never received" views have something to show.

The demo wires this to the dashboard's receiver with :func:`attach`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from cftui import clock
from cftui.sim.auth import CAN_MODIFY_WEBHOOKS
from cftui.sim.config import base58_like, digest
from cftui.sim.events import SimEvent
from cftui.sim.jsontypes import JsonObject
from cftui.sim.server import ApiError, Simulator, json_response, not_found
from cftui.webhooks import envelope, signing
from cftui.webhooks.sending import post_delivery

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[float, ...] = (10, 60, 600, 600, 600, 600, 600, 600)
DEMO_RETRY_DELAYS: tuple[float, ...] = (1, 3, 10, 10, 10, 10, 10, 10)
DEMO_MISHAPS = 15  # one lost and one wrongly signed first attempt in every 15
LOST = "connection reset by peer (simulated)"
SEND_TIMEOUT = 100  # .NET HttpClient's default; BTCPay sets none


def is_retryable(status: int | None) -> bool:
    """BTCPay v2.3.4+: retry on no answer, 5xx, 408 and 429 only."""
    return status is None or status >= 500 or status in (408, 429)


@dataclass
class SimWebhook:
    id: str
    store_id: str
    url: str
    secret: str
    enabled: bool = True
    automatic_redelivery: bool = True
    everything: bool = True
    specific_events: tuple[str, ...] = ()

    def wants(self, event_type: str) -> bool:
        # Exact, case-sensitive match (WebhookDataExtensions.AuthorizedWebhookEvents.Match).
        return self.enabled and (self.everything or event_type in self.specific_events)

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "enabled": self.enabled,
            "automaticRedelivery": self.automatic_redelivery,
            "url": self.url,
            "authorizedEvents": {"everything": self.everything, "specificEvents": list(self.specific_events)},
        }
        if with_secret:
            data["secret"] = self.secret
        return data


@dataclass(frozen=True)
class _Event:
    """What a delivery (and every retry of it) is built from."""

    type: str
    store_id: str
    invoice_id: str
    timestamp: int
    metadata: JsonObject = field(default_factory=dict)
    fields: JsonObject = field(default_factory=dict)
    original_delivery_id: str | None = None  # set for a manual redelivery


@dataclass
class SimDelivery:
    id: str
    webhook_id: str
    timestamp: int  # when the event was created
    body: bytes
    event: _Event = field(repr=False)
    delivery_time: int | None = None
    http_code: int | None = None
    error_message: str | None = None
    status: str = "Failed"  # Failed | HttpError | HttpSuccess

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "deliveryTime": self.delivery_time,
            "httpCode": self.http_code,
            "errorMessage": self.error_message,
            "status": self.status,
        }


class WebhookSender:
    def __init__(self, sim: Simulator, *, retry_delays: Sequence[float] = RETRY_DELAYS, mishaps: int = 0) -> None:
        self.sim = sim
        self.retry_delays = tuple(retry_delays)
        self.mishaps = mishaps
        self._first_attempts = itertools.count()
        self.webhooks: dict[str, SimWebhook] = {}
        self.deliveries: dict[str, list[SimDelivery]] = {}  # webhook id -> oldest first
        self._queues: dict[str, asyncio.Queue[tuple[_Event, str | None]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count()

    # ------------------------------------------------------------ webhooks

    def add_webhook(
        self,
        store_id: str,
        url: str,
        *,
        secret: str | None = None,
        events: Sequence[str] = (),
        enabled: bool = True,
        automatic_redelivery: bool = True,
    ) -> SimWebhook:
        webhook = SimWebhook(
            id=self._new_id("webhook"),
            store_id=store_id,
            url=url,
            # BTCPay generates Base58 of 16 random bytes when no secret is given.
            secret=secret or base58_like(secrets.token_bytes(16), 22),
            enabled=enabled,
            automatic_redelivery=automatic_redelivery,
            everything=not events,
            specific_events=tuple(events),
        )
        self.webhooks[webhook.id] = webhook
        self.deliveries[webhook.id] = []
        return webhook

    def remove_webhook(self, webhook_id: str) -> None:
        self.webhooks.pop(webhook_id, None)
        task = self._workers.pop(webhook_id, None)
        if task is not None:
            task.cancel()  # pending deliveries of a deleted webhook are dropped, as in BTCPay
        self._queues.pop(webhook_id, None)

    def _new_id(self, kind: str) -> str:
        return base58_like(digest(kind, self.sim.config.seed, next(self._ids)), 22)

    # ------------------------------------------------------------ sending

    def on_event(self, event: SimEvent) -> None:
        """The simulator's listener: queue a delivery on every webhook that wants the event."""
        queued = _Event(event.type, event.store_id, event.invoice_id, event.timestamp or clock.now_s(),
                        dict(event.metadata), dict(event.extra))
        for webhook in list(self.webhooks.values()):
            if webhook.store_id == event.store_id and webhook.wants(event.type):
                self._enqueue(webhook, queued)

    def redeliver(self, webhook_id: str, delivery_id: str) -> str:
        """Send a recorded delivery again as a new delivery; returns the new id (sent asynchronously)."""
        old = next(d for d in self.deliveries[webhook_id] if d.id == delivery_id)
        original = json.loads(old.body)["originalDeliveryId"]
        new_id = self._new_id("delivery")
        self._enqueue(self.webhooks[webhook_id], replace(old.event, original_delivery_id=original), delivery_id=new_id)
        return new_id

    def _enqueue(self, webhook: SimWebhook, event: _Event, *, delivery_id: str | None = None) -> None:
        queue = self._queues.get(webhook.id)
        if queue is None:
            queue = self._queues[webhook.id] = asyncio.Queue()
            self._workers[webhook.id] = asyncio.create_task(self._work(webhook.id), name=f"sim-webhook-{webhook.id}")
        queue.put_nowait((event, delivery_id))

    async def _work(self, webhook_id: str) -> None:
        queue = self._queues[webhook_id]
        while True:
            event, delivery_id = await queue.get()
            try:
                await self._deliver(webhook_id, event, delivery_id)
            except Exception:  # a bug in one delivery must not stop the webhook's queue
                log.exception("simulated webhook delivery failed")

    def _mishap(self) -> str | None:
        """For a first attempt in demo mode: "lost", "stale secret" or None (most of them)."""
        if not self.mishaps:
            return None
        n = next(self._first_attempts) % self.mishaps
        return {self.mishaps - 1: "lost", self.mishaps // 2: "stale secret"}.get(n)

    async def _deliver(self, webhook_id: str, event: _Event, delivery_id: str | None) -> None:
        original = event.original_delivery_id
        mishap = self._mishap()
        for delay in (None, *self.retry_delays):
            if delay is not None:
                await asyncio.sleep(delay)
            webhook = self.webhooks.get(webhook_id)
            if webhook is None or not webhook.wants(event.type):
                return  # disabled, deleted or no longer authorized: dropped
            delivery = await self._send_once(webhook, event, delivery_id or self._new_id("delivery"), original,
                                             mishap=mishap)
            mishap = None
            delivery_id = None
            original = original or delivery.id
            if delivery.status == "HttpSuccess" or not is_retryable(delivery.http_code):
                return
            if not webhook.automatic_redelivery:
                return

    async def _send_once(self, webhook: SimWebhook, event: _Event, delivery_id: str, original: str | None, *,
                         mishap: str | None = None) -> SimDelivery:
        body = envelope.build(
            event.type,
            store_id=event.store_id,
            webhook_id=webhook.id,
            timestamp=event.timestamp,
            delivery_id=delivery_id,
            original_delivery_id=original,
            invoice_id=event.invoice_id,
            metadata=event.metadata,
            fields=event.fields,
        )
        delivery = SimDelivery(id=delivery_id, webhook_id=webhook.id, timestamp=event.timestamp, body=body,
                               event=event, delivery_time=clock.now_s())
        self.deliveries[webhook.id].append(delivery)
        if mishap == "lost":
            delivery.error_message = LOST  # status stays Failed: retried, as BTCPay retries no answer
            return delivery
        if self._session is None:
            self._session = aiohttp.ClientSession()
        secret = webhook.secret + "-before-rotation" if mishap == "stale secret" else webhook.secret
        result = await post_delivery(
            self._session, webhook.url, body, signing.sign(secret, body),
            timeout=SEND_TIMEOUT, user_agent=f"BTCPayServer/{self.sim.config.version}",
        )
        delivery.http_code = result.status
        if result.ok:
            delivery.status = "HttpSuccess"
        elif result.status is None:
            delivery.status, delivery.error_message = "Failed", result.text
        else:
            delivery.status, delivery.error_message = "HttpError", f"HTTP {result.status}"
        return delivery

    async def close(self) -> None:
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------ management API

    def add_routes(self, router: web.UrlDispatcher) -> None:
        base = "/api/v1/stores/{storeId}/webhooks"
        router.add_post(base, self._create)
        router.add_get(base, self._list)
        router.add_get(base + "/{webhookId}", self._get)
        router.add_put(base + "/{webhookId}", self._update)
        router.add_delete(base + "/{webhookId}", self._delete)
        router.add_get(base + "/{webhookId}/deliveries", self._deliveries)
        router.add_get(base + "/{webhookId}/deliveries/{deliveryId}", self._delivery)
        router.add_get(base + "/{webhookId}/deliveries/{deliveryId}/request", self._request_body)
        router.add_post(base + "/{webhookId}/deliveries/{deliveryId}/redeliver", self._redeliver)

    def _store_id(self, request: web.Request) -> str:
        store_id = request.match_info["storeId"]
        self.sim.require(request, CAN_MODIFY_WEBHOOKS, store_id)
        return store_id

    def _webhook(self, request: web.Request) -> SimWebhook:
        store_id = self._store_id(request)
        webhook = self.webhooks.get(request.match_info["webhookId"])
        if webhook is None or webhook.store_id != store_id:
            raise not_found("webhook-not-found", "The webhook was not found")
        return webhook

    def _delivery_of(self, request: web.Request) -> SimDelivery:
        webhook = self._webhook(request)
        wanted = request.match_info["deliveryId"]
        for delivery in self.deliveries[webhook.id]:
            if delivery.id == wanted:
                return delivery
        raise not_found("webhookdelivery-not-found", "The webhook delivery was not found")

    async def _create(self, request: web.Request) -> web.Response:
        store_id = self._store_id(request)
        data = await _webhook_body(request)
        events = data["authorizedEvents"]
        webhook = self.add_webhook(
            store_id, data["url"], secret=data.get("secret") or None,
            events=() if events["everything"] else events["specificEvents"],
            enabled=data["enabled"], automatic_redelivery=data["automaticRedelivery"],
        )
        return json_response(webhook.to_json(with_secret=True))

    async def _list(self, request: web.Request) -> web.Response:
        store_id = self._store_id(request)
        return json_response([w.to_json() for w in self.webhooks.values() if w.store_id == store_id])

    async def _get(self, request: web.Request) -> web.Response:
        return json_response(self._webhook(request).to_json())

    async def _update(self, request: web.Request) -> web.Response:
        webhook = self._webhook(request)
        data = await _webhook_body(request)
        webhook.url, webhook.enabled = data["url"], data["enabled"]
        webhook.automatic_redelivery = data["automaticRedelivery"]
        webhook.everything = data["authorizedEvents"]["everything"]
        webhook.specific_events = tuple(data["authorizedEvents"]["specificEvents"])
        if data.get("secret"):  # null or empty keeps the old secret
            webhook.secret = data["secret"]
        return json_response(webhook.to_json())

    async def _delete(self, request: web.Request) -> web.Response:
        self.remove_webhook(self._webhook(request).id)
        return web.Response(status=200)

    async def _deliveries(self, request: web.Request) -> web.Response:
        webhook = self._webhook(request)
        newest_first = list(reversed(self.deliveries[webhook.id]))
        count = request.query.get("count")
        if count is not None:
            if not count.isdigit():
                raise ApiError(422, [{"path": "count", "message": f"The value '{count}' is not valid."}])
            newest_first = newest_first[: int(count)]
        return json_response([d.to_json() for d in newest_first])

    async def _delivery(self, request: web.Request) -> web.Response:
        return json_response(self._delivery_of(request).to_json())

    async def _request_body(self, request: web.Request) -> web.Response:
        return web.Response(body=self._delivery_of(request).body, content_type="application/json")

    async def _redeliver(self, request: web.Request) -> web.Response:
        delivery = self._delivery_of(request)
        return json_response(self.redeliver(delivery.webhook_id, delivery.id))


async def _webhook_body(request: web.Request) -> dict[str, Any]:
    """A create/update body with BTCPay's defaults applied; 422 as BTCPay answers a bad one."""
    try:
        data = await request.json()
    except ValueError:
        raise ApiError(422, [{"path": "", "message": "Invalid JSON"}]) from None
    if not isinstance(data, dict):
        raise ApiError(422, [{"path": "", "message": "Invalid JSON"}])
    url = data.get("url")
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ApiError(422, [{"path": "url", "message": "Invalid Url"}])
    events = data.get("authorizedEvents") or {}
    return {
        "url": url,
        "enabled": data.get("enabled", True) is not False,
        "automaticRedelivery": data.get("automaticRedelivery", True) is not False,
        "authorizedEvents": {
            "everything": events.get("everything", True) is not False,
            "specificEvents": [e for e in events.get("specificEvents") or [] if isinstance(e, str)],
        },
        "secret": data.get("secret") if isinstance(data.get("secret"), str) else None,
    }


def install(sim: Simulator, *, demo: bool = False, retry_delays: Sequence[float] | None = None,
            mishaps: int | None = None) -> WebhookSender:
    """Give ``sim`` webhooks: the sender listens to its invoice events; the routes are added if it has not started.

    ``demo``: quick retries and, unless ``mishaps`` says otherwise, a lost or stale-signed delivery now and then.
    """
    sender = WebhookSender(sim, retry_delays=retry_delays or (DEMO_RETRY_DELAYS if demo else RETRY_DELAYS),
                           mishaps=(DEMO_MISHAPS if demo else 0) if mishaps is None else mishaps)
    sim.add_listener(sender.on_event)
    if not sim.app.frozen:
        sender.add_routes(sim.app.router)

        async def close(app: web.Application) -> None:
            await sender.close()

        sim.app.on_cleanup.append(close)
    return sender


def attach(
    sim: Simulator,
    url_for_store: dict[str, str],
    secret_for_store: dict[str, str],
    *,
    demo: bool = True,
) -> WebhookSender:
    """One webhook per store (store id -> receiver URL, signed with its secret), delivering every event.

    Call before ``sim.start()`` to also serve the management API; call on the
    simulator's loop if it is running (``SimulatorThread.call(attach, ...)``).
    After a start, stop the sender with ``await sender.close()``.
    """
    sender = install(sim, demo=demo)
    for store_id, url in url_for_store.items():
        sender.add_webhook(store_id, url, secret=secret_for_store[store_id])
    return sender
