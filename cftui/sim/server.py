"""The simulated BTCPay Greenfield server (aiohttp, loopback).

    sim = Simulator(default_config(invoices=5000))
    base_url = await sim.start()          # port 0: any free port
    ...
    await sim.stop()

or, from synchronous code (the demo, sync tests), on its own loop and thread:

    with SimulatorThread(config) as thread:   # .start() -> base_url, .stop()
        thread.call(lifecycle.expire, thread.sim.state, invoice)

Other areas add routes before start through ``sim.app.router`` and reuse
``sim.require(request, permission, store_id)`` for BTCPay's auth rules.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from cftui.sim import app_stats
from cftui.sim.auth import (
    CAN_MODIFY_STORE,
    CAN_VIEW_INVOICES,
    CAN_VIEW_STORE,
    KeyRing,
    missing_permission_body,
)
from cftui.sim.config import SimApiKey, SimConfig
from cftui.sim.events import Listener
from cftui.sim.faults import Faults, break_record
from cftui.sim.generator import SimInvoice
from cftui.sim.jsontypes import JsonObject
from cftui.sim.query import parse_query, select, version_tuple
from cftui.sim.render import (
    api_key_json,
    app_json,
    crowdfund_json,
    invoice_json,
    invoice_text,
    payment_methods_text,
    server_info_json,
    store_json,
)
from cftui.sim.state import SimState

log = logging.getLogger(__name__)
T = TypeVar("T")

# Invoices per write when a list response is streamed (no take, or a big one).
STREAM_CHUNK = 1000
_encode = json.JSONEncoder(separators=(",", ":")).encode


def json_bytes(data: Any) -> bytes:
    return _encode(data).encode()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json_bytes(data), status=status, content_type="application/json")


class ApiError(web.HTTPException):
    """A Greenfield error response (JSON body); raise it from any handler."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        super().__init__(text=_encode(body), content_type="application/json", headers=headers)


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, {"code": code, "message": message})


class Simulator:
    def __init__(self, config: SimConfig, *, faults: Faults | None = None) -> None:
        self.config = config
        self.faults = faults or Faults()
        self.keys = KeyRing(config.api_keys)
        # The real URL is known once the port is bound; start() fills it in.
        self.state = SimState(config, config.public_url or "http://127.0.0.1")
        self.base_url: str | None = None
        self.app = web.Application(middlewares=[self._faults_middleware])
        self._runner: web.AppRunner | None = None
        self._live: Any = None
        self._add_routes()

    # -- lifecycle -----------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self.state.set_base_url(self.config.public_url or self.base_url)
        if self.config.live is not None:
            from cftui.sim.live import LiveMode

            self._live = LiveMode(self.state, self.config.live)
            self._live.start()
        return self.base_url

    async def stop(self) -> None:
        if self._live is not None:
            await self._live.stop()
            self._live = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add_listener(self, listener: Listener) -> None:
        """``listener(SimEvent)`` is called on the server's loop for every invoice change."""
        self.state.add_listener(listener)

    # -- auth -----------------------------------------------------------------
    def authenticate(self, request: web.Request) -> SimApiKey:
        header = request.headers.get("Authorization")
        key = self.keys.lookup(header)
        if key is None:
            message = (
                "ApiKey authentication failed: Unknown API Key"
                if header
                else "Authentication is required for accessing this endpoint"
            )
            raise ApiError(401, {"code": "unauthenticated", "message": message})
        return key

    def require(self, request: web.Request, permission: str, store_id: str | None = None) -> SimApiKey:
        """The caller's key if it holds ``permission`` (on ``store_id``); else 401/403 as BTCPay answers."""
        key = self.authenticate(request)
        # An unknown store is indistinguishable from a store the key cannot see.
        if store_id is not None and store_id not in self.state.stores:
            raise ApiError(403, missing_permission_body(permission))
        if not self.keys.allows(key, permission, store_id):
            raise ApiError(403, missing_permission_body(permission))
        return key

    # -- routes ---------------------------------------------------------------
    def _add_routes(self) -> None:
        r = self.app.router
        r.add_get("/api/v1/health", self._health)
        r.add_get("/api/v1/server/info", self._server_info)
        r.add_get("/api/v1/api-keys/current", self._current_key)
        r.add_get("/api/v1/stores", self._stores)
        r.add_get("/api/v1/stores/{storeId}", self._store)
        r.add_get("/api/v1/stores/{storeId}/invoices", self._invoices)
        r.add_get("/api/v1/stores/{storeId}/invoices/{invoiceId}", self._invoice)
        r.add_get("/api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods", self._payment_methods)
        r.add_get("/api/v1/invoices/{invoiceId}", self._invoice)
        r.add_get("/api/v1/invoices/{invoiceId}/payment-methods", self._payment_methods)
        r.add_get("/api/v1/stores/{storeId}/apps", self._apps)
        r.add_get("/api/v1/apps/crowdfund/{appId}", self._crowdfund)
        app_stats.add_routes(self)  # /api/v1/apps/{appId}/top-items
        r.add_get("/_sim/faults", self._get_faults)
        r.add_post("/_sim/faults", self._set_faults)
        r.add_get("/_sim/info", self._info)

    @web.middleware
    async def _faults_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        faults = self.faults
        action = faults.next_action(request.path)
        if faults.delay_ms and request.path.startswith(faults.path_prefix):
            await asyncio.sleep(faults.delay_ms / 1000)
        if action == "rate_limit":
            body = {"code": "too-many-requests", "message": "Rate limited (simulated)"}
            raise ApiError(429, body, headers={"Retry-After": faults.retry_after})
        if action == "error":
            body = {"code": "server-error", "message": "Simulated server error"}
            raise ApiError(faults.error_status, body)
        if action == "drop":
            return await _drop_connection(request)
        return await handler(request)

    async def _health(self, request: web.Request) -> web.Response:
        return json_response({"synchronized": True})

    async def _server_info(self, request: web.Request) -> web.Response:
        self.authenticate(request)
        return json_response(server_info_json(self.config))

    async def _current_key(self, request: web.Request) -> web.Response:
        return json_response(api_key_json(self.authenticate(request)))

    async def _stores(self, request: web.Request) -> web.Response:
        key = self.require(request, CAN_VIEW_STORE)
        visible = [
            store_json(s.store)
            for s in self.state.stores.values()
            if self.keys.allows(key, CAN_VIEW_STORE, s.store.store_id)
        ]
        return json_response(visible)

    async def _store(self, request: web.Request) -> web.Response:
        store_id = request.match_info["storeId"]
        self.require(request, CAN_VIEW_STORE, store_id)
        return json_response(store_json(self.state.stores[store_id].store))

    def _located_invoice(self, request: web.Request) -> SimInvoice:
        """The invoice a store-scoped or store-less route names (contract §2.3 for the error codes)."""
        invoice_id = request.match_info["invoiceId"]
        store_id = request.match_info.get("storeId")
        if store_id is None:
            if version_tuple(self.config.version) < (2, 4, 0):
                raise web.HTTPNotFound()
            found = self.state.find_invoice(invoice_id)
            # The scope lookup fails first on the store-less route: 403, not 404.
            self.require(request, CAN_VIEW_INVOICES, found.store_id if found else "")
            assert found is not None
            return found
        self.require(request, CAN_VIEW_INVOICES, store_id)
        found = self.state.stores[store_id].find(invoice_id)
        if found is None:
            raise not_found("invoice-not-found", "The invoice was not found")
        return found

    async def _invoices(self, request: web.Request) -> web.StreamResponse:
        store_id = request.match_info["storeId"]
        self.require(request, CAN_VIEW_INVOICES, store_id)
        query = parse_query(request.query, self.config.version)
        if isinstance(query, list):
            return json_response(query, status=422)
        if self.faults.ignore_skip:
            query = dataclasses.replace(query, skip=0)
        chunks = self._encoded(select(self.state.stores[store_id], query), query.include_payment_methods)
        first = list(itertools.islice(chunks, STREAM_CHUNK))
        if len(first) < STREAM_CHUNK:
            return web.Response(body=b"[" + b",".join(first) + b"]", content_type="application/json")
        # No take (or a huge one): BTCPay answers everything; stream it rather than build it.
        response = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"[" + b",".join(first))
        while batch := list(itertools.islice(chunks, STREAM_CHUNK)):
            await response.write(b"," + b",".join(batch))
        await response.write(b"]")
        await response.write_eof()
        return response

    def _encoded(self, invoices: Iterator[SimInvoice], payment_methods: bool) -> Iterator[bytes]:
        base_url = self.state.base_url
        faults = self.faults
        for invoice in invoices:
            kind = faults.malformed_kind(invoice.index)
            if kind is None:
                yield invoice_text(invoice, base_url, payment_methods=payment_methods).encode()
            else:
                record = break_record(invoice_json(invoice, base_url, payment_methods=payment_methods), kind)
                yield json_bytes(record)

    async def _invoice(self, request: web.Request) -> web.Response:
        invoice = self._located_invoice(request)
        # includePaymentMethods is honoured on the single GET since 2.4.1.
        wanted = request.query.get("includePaymentMethods", "").lower() == "true"
        with_methods = wanted and version_tuple(self.config.version) >= (2, 4, 1)
        text = invoice_text(invoice, self.state.base_url, payment_methods=with_methods)
        return web.Response(text=text, content_type="application/json")

    async def _payment_methods(self, request: web.Request) -> web.Response:
        invoice = self._located_invoice(request)
        errors = []
        flags = {}
        for name, default in (("onlyAccountedPayments", True), ("includeSensitive", False)):
            raw = request.query.get(name)
            if raw is None or raw == "":
                flags[name] = default
            elif raw.lower() in ("true", "false"):
                flags[name] = raw.lower() == "true"
            else:
                errors.append({"path": name, "message": f"The value '{raw}' is not valid."})
        if errors:
            return json_response(errors, status=422)
        if flags["includeSensitive"]:
            self.require(request, CAN_MODIFY_STORE, invoice.store_id)
        derivation = f"xpub-simulated-{invoice.store_id[:12]}" if flags["includeSensitive"] else None
        text = payment_methods_text(
            invoice, only_accounted=flags["onlyAccountedPayments"], account_derivation=derivation
        )
        return web.Response(text=text, content_type="application/json")

    async def _apps(self, request: web.Request) -> web.Response:
        store_id = request.match_info["storeId"]
        self.require(request, CAN_MODIFY_STORE, store_id)
        store = self.state.stores[store_id].store
        return json_response([app_json(store, app) for app in store.crowdfunds])

    async def _crowdfund(self, request: web.Request) -> web.Response:
        self.authenticate(request)
        app_id = request.match_info["appId"]
        for store_state in self.state.stores.values():
            app = store_state.gen.app(app_id)
            if app is not None:
                data = crowdfund_json(store_state.store, app)
                return web.Response(body=_with_number(data, "targetAmount"), content_type="application/json")
        raise not_found("app-not-found", "The app was not found")

    # -- admin (not part of BTCPay) --------------------------------------------
    async def _get_faults(self, request: web.Request) -> web.Response:
        return json_response(self.faults.as_dict())

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object of fault switches")
            self.faults.update(changes)
        except ValueError as error:
            return json_response([{"path": "", "message": str(error)}], status=422)
        return json_response(self.faults.as_dict())

    async def _info(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "version": self.config.version,
                "stores": [
                    {"id": s.store.store_id, "name": s.store.name, "invoices": s.total}
                    for s in self.state.stores.values()
                ],
            }
        )


def _with_number(data: JsonObject, key: str) -> bytes:
    """JSON bytes where ``data[key]`` (a Decimal or None) is written as a JSON number, exactly."""
    value = data[key]
    if value is None:
        return json_bytes(data)
    marker = "\x00number\x00"
    text = _encode(dict(data, **{key: marker}))
    return text.replace(_encode(marker), str(value), 1).encode()


async def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Promise a body, send part of it, then close the socket (a proxy or server dying mid-response)."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = 100_000
    await response.prepare(request)
    await response.write(b'[{"id":"')
    if request.transport is not None:
        request.transport.abort()
    return response


class SimulatorThread:
    """A :class:`Simulator` on its own event loop in a daemon thread."""

    def __init__(self, config: SimConfig, *, faults: Faults | None = None, host: str = "127.0.0.1", port: int = 0):
        self.sim = Simulator(config, faults=faults)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    def start(self, timeout: float = 30) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.base_url = loop.run_until_complete(self.sim.start(self._host, self._port))
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.sim.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="cftui-sim", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("the simulator did not start in time")
        if failure:
            raise failure[0]
        assert self.base_url is not None
        return self.base_url

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the simulator's loop (state is not thread-safe) and return its result."""
        assert self._loop is not None, "start() the simulator first"

        async def invoke() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
        self._loop = self._thread = None

    def __enter__(self) -> SimulatorThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["ApiError", "Simulator", "SimulatorThread", "json_bytes", "json_response", "not_found"]
