"""The webhook receiver: an aiohttp server on the host's event loop.

``POST /webhook/<store name>`` (or ``POST /webhook`` when exactly one store
is configured) is checked in this order, cheapest first, and answered:

* unknown path or store -> 404; other methods -> 405
* ``Content-Length`` over ``max_body_bytes``, or a body that grows past it -> 413 (not read further)
* a client that has not sent its whole body within ``read_timeout`` -> 408, connection closed
* missing or wrong ``BTCPay-Sig`` over the raw bytes -> 401
* not JSON (nested too deeply included), or envelope fields missing -> 400
* otherwise the delivery is committed to the store, then answered 200 at
  once; the slow part (fetching the invoice) runs after, in the background.

An address over the rejection limit gets 429 for every request that would
be rejected, malformed HTTP included, and the unverified body is not even
described. A delivery whose signature verifies is never refused by the
limit: behind an SSH tunnel BTCPay and everyone else share 127.0.0.1.
Connections are bounded in time and number (:mod:`cftui.webhooks.connections`).

Every request is recorded (see :mod:`cftui.webhooks.recorder`). A delivery
is acted on once per ``originalDeliveryId``, enforced by a unique index, so
redeliveries and the same delivery on many connections are recorded as
``duplicate``. ``GET /health`` reports uptime and counts for monitoring.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from cftui import clock
from cftui.config import Config, StoreConfig
from cftui.domain import (
    ACCEPTED_VERDICTS,
    BAD_SIGNATURE,
    DUPLICATE,
    MALFORMED,
    RATE_LIMITED,
    TOO_LARGE,
    UNKNOWN_STORE,
    VERIFIED,
    Rejection,
    Verdict,
)
from cftui.errors import ConfigError
from cftui.printable import printable
from cftui.webhooks import connections, envelope, signing
from cftui.webhooks.delivery_row import REJECTED_BODY_BYTES, DeliveryRow
from cftui.webhooks.notices import OnDelivery, OnProcessed
from cftui.webhooks.processing import InvoiceProcessor
from cftui.webhooks.ratelimit import WINDOW_S, RejectionLimiter
from cftui.webhooks.recorder import Recorded, Recorder

log = logging.getLogger(__name__)

PATH_PREFIX = "/webhook"
_SKIPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_encode_json = json.JSONEncoder(ensure_ascii=False).encode
LIMITED_REASON = "too many rejected requests from this address in the last minute"
MAX_REASON_CHARS = 300  # aiohttp quotes the offending line in its error: keep the start of it


class _Rejected(Exception):
    """A request refused: the HTTP status it is answered with, its verdict and one line saying why."""

    def __init__(self, status: int, verdict: Rejection, reason: str) -> None:
        super().__init__(reason)
        self.status, self.verdict, self.reason = status, verdict, reason


@dataclass(slots=True)
class _Intake:
    """What is learnt of a request while it is checked; its row is built once its verdict is known."""

    received_ms: int
    remote: str
    method: str
    path: str
    headers: str
    signature: str | None
    body_size: int
    store_name: str | None = None
    body: bytes | None = None
    event: envelope.Envelope | None = None

    @classmethod
    def of(cls, request: web.BaseRequest, received: float) -> _Intake:
        """What is known before the body is read."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIPPED_HEADERS}
        headers_json = _encode_json(headers)
        if len(headers_json) > REJECTED_BODY_BYTES:
            headers_json = _encode_json({"_truncated": headers_json[:REJECTED_BODY_BYTES]})
        return cls(
            received_ms=int(received * 1000),
            remote=request.remote or "?",
            method=request.method,
            path=request.path[:1000],
            headers=headers_json,
            signature=request.headers.get(signing.HEADER),  # multidict lookup ignores case
            body_size=request.content_length or 0,
        )

    @classmethod
    def malformed(cls, remote: str, received: float) -> _Intake:
        """A request aiohttp could not parse: only who sent it and when are known."""
        return cls(int(received * 1000), remote, method="?", path="?", headers="{}", signature=None, body_size=0)

    def row(self, verdict: Verdict, reason: str | None, http_status: int, *, result: str | None = None) -> DeliveryRow:
        """The request's row: processed already when ``result`` says what its commit did."""
        return DeliveryRow(
            received_ms=self.received_ms,
            remote=self.remote,
            method=self.method,
            path=self.path,
            headers=self.headers,
            signature=self.signature,
            store_name=self.store_name,
            body=self.body,
            body_size=self.body_size,
            verdict=verdict,
            reason=reason,
            http_status=http_status,
            event=self.event,
            processed=result is not None,
            process_result=result,
        )

    def describe(self, body: bytes) -> None:
        """Best effort: what an unverified body claims to be, so the log can show it (never acted on)."""
        if len(body) > 65_536:
            return
        try:
            self.event = envelope.parse(body)
        except envelope.EnvelopeError:
            pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url(base_url: str, store_name: str) -> str:
    return f"{base_url.rstrip('/')}{PATH_PREFIX}/{store_name}"


class WebhookReceiver:
    """Start with ``await receiver.start()`` (returns the base URL); stop with ``await receiver.stop()``.

    It needs the store opened first (``cftui.store.db.open_database``).
    ``on_delivery`` is called on the event loop for every recorded request,
    ``on_processed`` when an invoice behind a delivery was stored or queued.
    """

    def __init__(
        self,
        config: Config,
        *,
        on_delivery: OnDelivery | None = None,
        on_processed: OnProcessed | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.config = config
        self.settings = config.webhooks
        self.host = host if host is not None else self.settings.host
        self.port = port if port is not None else self.settings.port
        self._on_delivery = on_delivery
        self._stores = {store.name: store for store in config.btcpay}
        self._recorder = Recorder(rejected_retention=self.settings.rejected_retention)
        self._processor = InvoiceProcessor(config, self._recorder, on_processed=on_processed)
        self._limiter = RejectionLimiter(self.settings.rate_limit)
        self._runner: web.ServerRunner | None = None
        self._server: connections.GuardedServer | None = None
        self._background: set[asyncio.Task[None]] = set()  # recording malformed requests, answered already
        self._started = 0.0
        self.counts: Counter[Verdict] = Counter()
        self.url: str | None = None

    async def start(self) -> str:
        if not is_loopback(self.host):
            log.warning("webhook receiver bound to %s, which is not a loopback address", self.host)
        for store in self.config.btcpay:
            if not store.webhook_secret:
                log.warning("store %s has no webhook_secret: its deliveries will be rejected (401)", store.name)
        self._recorder.start()
        self._server = connections.GuardedServer(
            self._handle,
            header_timeout=self.settings.read_timeout,
            on_bad_request=self._bad_request,
            max_connections=connections.connection_cap(connections.raise_fd_limit()),
            access_log=None,
            # Never drain a body we refused to read: close the connection instead.
            lingering_time=0,
        )
        self._runner = web.ServerRunner(self._server, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            await self._recorder.stop()
            raise ConfigError(
                f"Cannot listen for webhooks on {self.host}:{self.port}: {exc.strerror}.",
                hint="Pick another port under [webhooks] (or --port), or stop what uses it.",
            ) from None
        addresses = self._runner.addresses
        bound_port = addresses[0][1] if addresses else self.port
        shown_host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown_host}:{bound_port}"
        self._started = clock.now()
        self._processor.start()
        resumed = await self._processor.resume()
        if resumed:
            log.info("resuming %d webhook deliveries accepted but not processed before", resumed)
        log.info("webhook receiver listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._processor.stop()
        await self._recorder.stop()

    @property
    def processor(self) -> InvoiceProcessor:
        return self._processor

    # ------------------------------------------------------------ routing

    def _store_for(self, path: str) -> StoreConfig | None:
        if path in (PATH_PREFIX, PATH_PREFIX + "/"):
            return next(iter(self._stores.values())) if len(self._stores) == 1 else None
        if path.startswith(PATH_PREFIX + "/"):
            return self._stores.get(path[len(PATH_PREFIX) + 1 :])
        return None

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        conn = request.protocol if isinstance(request.protocol, connections.Connection) else None
        if conn is not None:
            conn.request_started()
        try:
            if request.path == "/health":
                if request.method not in ("GET", "HEAD"):
                    return web.Response(status=405, headers={"Allow": "GET"})
                return web.json_response(self.health())
            received = clock.now()
            intake = _Intake.of(request, received)
            # Checked now, applied only to a request that would be rejected anyway (see the module doc).
            limited = self._limiter.is_limited(intake.remote, received)
            try:
                store, event = await self._verify(request, intake, limited)
            except _Rejected as rejected:
                return await self._reject(intake, _Rejected(429, RATE_LIMITED, LIMITED_REASON) if limited else rejected)
            return await self._accept(intake, store, event)
        finally:
            if conn is not None:
                conn.request_done()

    async def _verify(
        self, request: web.BaseRequest, intake: _Intake, limited: bool
    ) -> tuple[StoreConfig, envelope.Envelope]:
        """The store and envelope of a delivery whose signature holds, or :class:`_Rejected`."""
        store = self._store_for(request.path)
        if store is None:
            raise _Rejected(404, UNKNOWN_STORE, self._unknown_store_reason(request.path))
        intake.store_name = store.name
        if request.method != "POST":
            raise _Rejected(405, MALFORMED, f"method {request.method} not allowed (POST only)")
        body = await self._read_body(request, intake)
        if isinstance(request.protocol, connections.Connection):
            request.protocol.body_read()
        intake.body, intake.body_size = body, len(body)
        secret = store.webhook_secret.reveal() if store.webhook_secret else None
        if secret is None:
            raise _Rejected(401, BAD_SIGNATURE, f"store '{store.name}' has no webhook_secret configured")
        problem = signing.check(secret, body, intake.signature)
        if problem is not None:
            if not limited:
                intake.describe(body)
            raise _Rejected(401, BAD_SIGNATURE, problem)
        try:
            event = envelope.parse(body)
        except envelope.EnvelopeError as exc:
            raise _Rejected(400, MALFORMED, str(exc)) from None
        intake.event = event
        if event.store_id is not None and event.store_id != store.store_id:
            raise _Rejected(400, MALFORMED, f"storeId {event.store_id} is not the id of store '{store.name}'")
        return store, event

    async def _accept(self, intake: _Intake, store: StoreConfig, event: envelope.Envelope) -> web.StreamResponse:
        plan = self._processor.plan(store, event)
        try:
            recorded = await self._recorder.record(intake.row(VERIFIED, None, 200, result=plan.result), plan.queue)
        except Exception:  # the store could not be written: a 5xx makes BTCPay retry later
            log.exception("could not record a verified delivery; answered 503")
            return web.Response(status=503, text="store unavailable: try again later")
        self.counts[recorded.verdict] += 1
        if recorded.verdict == VERIFIED:
            self._processor.accepted(recorded.id, store, plan)
        self._notify(recorded)
        text = "duplicate: already received" if recorded.verdict == DUPLICATE else "ok"
        return web.Response(status=200, text=text)

    def _unknown_store_reason(self, path: str) -> str:
        if not path.startswith(PATH_PREFIX):
            return f"no webhook URL at {path}"
        if path in (PATH_PREFIX, PATH_PREFIX + "/"):
            return f"{PATH_PREFIX} needs a store name when {len(self._stores)} stores are configured"
        return f"no store named '{path[len(PATH_PREFIX) + 1:]}'"

    async def _read_body(self, request: web.BaseRequest, intake: _Intake) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.content_length
        if declared is not None and declared > limit:
            intake.body_size = declared
            raise _Rejected(413, TOO_LARGE, f"body of {declared} bytes is over the {limit}-byte limit")
        content = request.content
        if declared is not None and content.is_eof():
            # The whole body came with the headers (the usual case): no waiting, no timer.
            return content.read_nowait()
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.settings.read_timeout):
                while chunk := await request.content.readany():
                    size += len(chunk)
                    if size > limit:
                        intake.body_size = size
                        raise _Rejected(413, TOO_LARGE, f"body grew past the {limit}-byte limit")
                    chunks.append(chunk)
        except TimeoutError:
            intake.body, intake.body_size = b"".join(chunks), size
            raise _Rejected(
                408, MALFORMED, f"client sent {size} bytes of its body, then stalled for {self.settings.read_timeout} s"
            ) from None
        except (ConnectionError, OSError) as exc:  # aiohttp payload errors are OSErrors
            intake.body, intake.body_size = b"".join(chunks), size
            raise _Rejected(400, MALFORMED, f"connection closed before the body was complete ({exc})") from None
        return b"".join(chunks)

    async def _reject(self, intake: _Intake, rejected: _Rejected) -> web.StreamResponse:
        await self._record_rejection(self._count_rejection(intake, rejected))
        headers = {"Allow": "POST"} if rejected.status == 405 else None
        if rejected.status == 429:
            headers = {"Retry-After": str(int(WINDOW_S))}
        # A body left unread closes the connection (lingering_time=0).
        return web.Response(status=rejected.status, text=f"{rejected.verdict}: {rejected.reason}", headers=headers)

    def _count_rejection(self, intake: _Intake, rejected: _Rejected) -> DeliveryRow:
        """The rejected request's row, once counted and logged."""
        self._limiter.note_rejection(intake.remote, clock.now())
        self.counts[rejected.verdict] += 1
        log.info("webhook rejected (%d %s) from %s %s: %s", rejected.status, rejected.verdict, intake.remote,
                 intake.path, rejected.reason)  # fmt: skip
        return intake.row(rejected.verdict, rejected.reason, rejected.status)

    async def _record_rejection(self, row: DeliveryRow) -> None:
        try:
            recorded = await self._recorder.record(row)
        except Exception as exc:  # the store is full or gone: the answer stands, the log says why
            log.warning("could not record a rejected webhook request (%s: %s)", type(exc).__name__, exc)
            return
        self._notify(recorded)

    def _bad_request(self, remote: str, exc: HttpProcessingError) -> tuple[int, str]:
        """Malformed HTTP, which aiohttp refused before any handler ran: answered, counted, recorded."""
        received = clock.now()
        reason = f"malformed HTTP request: {exc.message or type(exc).__name__}"[:MAX_REASON_CHARS]
        rejected = _Rejected(exc.code if 400 <= exc.code < 500 else 400, MALFORMED, reason)
        if self._limiter.is_limited(remote, received):
            rejected = _Rejected(429, RATE_LIMITED, LIMITED_REASON)
        row = self._count_rejection(_Intake.malformed(remote, received), rejected)
        task = asyncio.get_running_loop().create_task(self._record_rejection(row))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return rejected.status, f"{rejected.verdict}: {printable(rejected.reason)}"

    def _notify(self, recorded: Recorded) -> None:
        if self._on_delivery is None:
            return
        try:
            self._on_delivery(recorded.row.notice(recorded.id))
        except Exception:  # the host's display must not break the receiver
            log.exception("on_delivery callback failed")

    def health(self) -> dict[str, Any]:
        accepted = sum(self.counts[v] for v in ACCEPTED_VERDICTS)
        return {
            "status": "ok",
            "uptime_s": int(clock.now() - self._started) if self._started else 0,
            "started": clock.iso(self._started) if self._started else None,
            "stores": sorted(self._stores),
            "counts": {
                "accepted": accepted,
                "verified": self.counts[VERIFIED],
                "duplicate": self.counts[DUPLICATE],
                "rejected": sum(self.counts.values()) - accepted,
                "rejected_by_verdict": {v: n for v, n in sorted(self.counts.items()) if v not in ACCEPTED_VERDICTS},
                "invoices_stored": self._processor.processed,
                "invoices_queued": self._processor.queued,
            },
            "connections": self._connection_counts(),
        }

    def _connection_counts(self) -> dict[str, int]:
        server = self._server
        return {
            "open": server.open_connections if server else 0,
            "limit": server.max_connections if server else 0,
            "cut_at_header_deadline": server.timed_out if server else 0,
            "closed_to_make_room": server.evicted if server else 0,
        }
