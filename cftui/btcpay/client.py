"""An async client for the BTCPay Server Greenfield API (read side).

One instance talks to one server with one API key; a configured store gets
its client from :meth:`GreenfieldClient.for_store`, the one place that reads a
store's url, key, TLS setting and timeout::

    async with GreenfieldClient.for_store(store) as client:
        page = await client.list_invoices(store.store_id, skip=0, take=1000)

Facts it relies on (contract §0-§3, §6, §9):

* JSON is parsed with ``parse_float=Decimal``: amounts are decimal strings,
  and the few JSON numbers (crowdfund ``targetAmount``, metadata values) stay
  exact.
* ``take`` is always sent: without it the server returns every invoice.
* 429, 5xx, 408, timeouts and dropped connections are retried with
  exponential backoff and jitter, honouring ``Retry-After``, within a total
  time budget; then :class:`~cftui.errors.UnreachableError`. Everything else
  is one clear error from :mod:`cftui.btcpay.errors`.
* The API key lives in the ``Authorization`` header only; no message or log
  line contains it.

Webhook-management calls live in a separate module and reuse
:meth:`GreenfieldClient._request`.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import socket
import time
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from cftui import __version__, clock
from cftui.btcpay.errors import error_for
from cftui.btcpay.jsontypes import JsonObject, JsonValue
from cftui.config import Secret, StoreConfig
from cftui.errors import DataError, UnreachableError

log = logging.getLogger(__name__)

USER_AGENT = f"cftui/{__version__}"
# First retry after ~0.25 s, doubling up to 8 s (times a jitter factor).
BACKOFF_BASE = 0.25
BACKOFF_CAP = 8.0
# Seconds of retries before a request is reported failed, unless the caller says otherwise.
DEFAULT_RETRY_BUDGET = 60
# Version gates (contract §8): includePaymentMethods on the list / on one invoice.
EMBEDDED_METHODS_SINCE = (2, 3, 6)
SINGLE_GET_METHODS_SINCE = (2, 4, 1)


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or 500 <= status <= 599


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)  # seconds
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.now())


def parse_version(text: str | None) -> tuple[int, ...]:
    """'2.3.6' -> (2, 3, 6); '1.13.0-rc1' -> (1, 13, 0); unknown -> ()."""
    parts: list[int] = []
    for piece in (text or "").split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _bool(value: bool) -> str:
    return "true" if value else "false"


class GreenfieldClient:
    def __init__(
        self,
        base_url: str,
        api_key: Secret | None,
        *,
        verify: bool = True,
        timeout: float = 30,
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        store_name: str = "?",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.store_name = store_name
        self.retry_budget = retry_budget
        self._jitter = random.Random()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"token {api_key.reveal()}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            verify=verify,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def for_store(
        cls, store: StoreConfig, *, retry_budget: float = DEFAULT_RETRY_BUDGET, without_key: bool = False
    ) -> GreenfieldClient:
        """The client for one configured store: its url, API key, TLS setting, timeout and name.

        The key is required (a :class:`~cftui.errors.ConfigError` says how to set it), unless
        ``without_key``: the doctor asks whether the server answers at all before it checks the key.
        """
        return cls(
            store.url,
            None if without_key else store.require_api_key(),
            verify=store.verify_tls,
            timeout=store.timeout,
            retry_budget=retry_budget,
            store_name=store.name,
        )

    async def __aenter__(self) -> GreenfieldClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------ transport

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        what: str | None = None,
    ) -> JsonValue:
        """Send one request (retrying transient failures) and return the parsed JSON body.

        ``what`` describes the request in error messages ("listing invoices").
        """
        response = await self._send(method, path, params=params, json_body=json, what=what or f"{method} {path}")
        return self._decode(response, what or f"{method} {path}")

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | list[tuple[str, Any]] | None,
        json_body: Any,
        what: str,
    ) -> httpx.Response:
        started = time.monotonic()
        deadline = started + self.retry_budget
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            status: int | None = None
            try:
                response = await self._http.request(method, path, params=params, json=json_body)
            except httpx.TransportError as exc:
                if _is_certificate_error(exc):
                    # Retrying cannot fix an untrusted certificate.
                    raise UnreachableError(
                        f"The TLS certificate of BTCPay store '{self.store_name}' at {self.base_url} is not trusted.",
                        hint="Fix the server's certificate, or set verify_tls = false for a self-signed test server.",
                    ) from None
                # Timeouts, refused or dropped connections, broken responses.
                failure = _describe_transport_error(exc, self.base_url)
            else:
                status = response.status_code
                if status < 400:
                    return response
                if not is_retryable_status(status):
                    raise error_for(status, _json_or_none(response), store=self.store_name, what=what)
                failure = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            # The server's own Retry-After, when it gives one, replaces the backoff: a short
            # one is kept to (a backoff of 4-8 s would burn the budget), a long one is obeyed.
            wait = self._backoff(attempt) if retry_after is None else max(retry_after, BACKOFF_BASE)
            if wait > deadline - time.monotonic():
                raise self._gave_up(what, failure, status, retry_after, attempt, time.monotonic() - started)
            log.info("store %s: %s failed (%s); retry %d in %.2f s", self.store_name, what, failure, attempt, wait)
            await asyncio.sleep(wait)

    def _gave_up(
        self, what: str, failure: str, status: int | None, retry_after: float | None, attempts: int, elapsed: float
    ) -> UnreachableError:
        """The error once retrying must stop: what the server did, how many attempts in how long, what to do."""
        where = f"BTCPay store '{self.store_name}' at {self.base_url}"
        tried = f"{attempts} attempt{'s' if attempts > 1 else ''} in {elapsed:.1f} s"
        if retry_after is not None and retry_after > self.retry_budget - elapsed:
            answered = f"{failure} (rate limited)" if status == 429 else failure
            return UnreachableError(
                f"{where} answered {answered} while {what} and asked cftui to wait {retry_after:g} s before "
                f"retrying, more than is left of the retry budget of {self.retry_budget:g} s; "
                f"gave up after {tried}.",
                hint="The next sync tries again; raise [sync] retry_budget to wait that long.",
            )
        if status == 429:
            return UnreachableError(
                f"{where} kept answering HTTP 429 (it rate limits this API key) while {what}: {tried}.",
                hint="Lower [sync] concurrency or raise retry_budget; the next sync tries again.",
            )
        if status is not None:
            return UnreachableError(
                f"{where} kept failing ({failure}) while {what}: {tried}.",
                hint="The server has trouble of its own (see its logs); the next sync tries again.",
            )
        return UnreachableError(
            f"Cannot reach {where} while {what} ({failure}, {tried}).",
            hint="Check the url and that the server is up; the next sync tries again.",
        )

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": half fixed, half random, so retries from many
        # clients spread out but never collapse to zero wait.
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter.uniform(0, ceiling / 2)

    def _decode(self, response: httpx.Response, what: str) -> JsonValue:
        if not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise DataError(
                f"BTCPay store '{self.store_name}' sent a response that is not JSON while {what}.",
                hint="Check that the url points at BTCPay Server itself, not a proxy error page.",
            ) from None

    # ------------------------------------------------------------ server

    async def health(self) -> JsonValue:
        return await self._request("GET", "/api/v1/health", what="checking health")

    async def server_info(self) -> JsonValue:
        return await self._request("GET", "/api/v1/server/info", what="reading the server info")

    async def server_version(self) -> tuple[int, ...]:
        """The server's version as numbers; () when it does not say (then every version gate is closed)."""
        info = await self.server_info()
        text = info.get("version") if isinstance(info, dict) else None
        return parse_version(text if isinstance(text, str) else None)

    async def current_key(self) -> JsonValue:
        """``{apiKey, label, permissions: [...]}`` of the key in use."""
        return await self._request("GET", "/api/v1/api-keys/current", what="reading the API key's permissions")

    # ------------------------------------------------------------ invoices

    async def list_invoices(
        self,
        store_id: str,
        *,
        skip: int = 0,
        take: int,
        start_date: int | None = None,
        end_date: int | None = None,
        include_payment_methods: bool = False,
        include_archived: bool = True,
        text_search: str | None = None,
    ) -> list[JsonValue]:
        """One page of invoices, newest first (contract §2.1).

        ``take`` is required on purpose: the server has no default page size.
        """
        params: dict[str, Any] = {"skip": skip, "take": take, "includeArchived": _bool(include_archived)}
        if start_date is not None:
            params["startDate"] = int(start_date)
        if end_date is not None:
            params["endDate"] = int(end_date)
        if include_payment_methods:
            params["includePaymentMethods"] = "true"
        if text_search:
            params["textSearch"] = text_search
        page = await self._request(
            "GET", f"/api/v1/stores/{_q(store_id)}/invoices", params=params, what="listing invoices"
        )
        if not isinstance(page, list):
            raise DataError(
                f"BTCPay store '{self.store_name}' answered the invoice list with something other than a list."
            )
        return page

    async def get_invoice(
        self, store_id: str, invoice_id: str, *, include_payment_methods: bool = False
    ) -> JsonValue:
        """The invoice as the server sent it (:func:`cftui.btcpay.parse.parse_invoice` checks it)."""
        params = {"includePaymentMethods": "true"} if include_payment_methods else None
        return await self._request(
            "GET",
            f"/api/v1/stores/{_q(store_id)}/invoices/{_q(invoice_id)}",
            params=params,
            what=f"reading invoice {invoice_id}",
        )

    async def payment_methods(self, store_id: str, invoice_id: str) -> list[JsonValue]:
        result = await self._request(
            "GET",
            f"/api/v1/stores/{_q(store_id)}/invoices/{_q(invoice_id)}/payment-methods",
            what=f"reading the payment methods of invoice {invoice_id}",
        )
        if not isinstance(result, list):
            raise DataError(
                f"BTCPay store '{self.store_name}' answered the payment methods of invoice {invoice_id} "
                "with something other than a list."
            )
        return result

    # ------------------------------------------------------------ apps

    async def list_apps(self, store_id: str) -> list[JsonValue]:
        """Apps of the store, archived included (needs ``canmodifystoresettings``)."""
        result = await self._request("GET", f"/api/v1/stores/{_q(store_id)}/apps", what="listing apps")
        return result if isinstance(result, list) else []

    async def crowdfund_app(self, app_id: str) -> JsonValue:
        return await self._request(
            "GET", f"/api/v1/apps/crowdfund/{_q(app_id)}", what=f"reading crowdfund app {app_id}"
        )

    async def top_items(self, app_id: str, *, count: int = 100) -> list[JsonValue]:
        """What each item of an app sold, best seller first (needs ``canmodifystoresettings``)."""
        result = await self._request(
            "GET", f"/api/v1/apps/{_q(app_id)}/top-items", params={"offset": 0, "count": count},
            what=f"reading what crowdfund app {app_id} sold",
        )
        return result if isinstance(result, list) else []

    # ------------------------------------------------------------ store

    async def store(self, store_id: str) -> JsonObject:
        """The store's settings, ``defaultCurrency`` among them (needs ``canviewstoresettings``)."""
        result = await self._request("GET", f"/api/v1/stores/{_q(store_id)}", what="reading the store's settings")
        return result if isinstance(result, dict) else {}


def _json_or_none(response: httpx.Response) -> JsonValue:
    try:
        return json.loads(response.content, parse_float=Decimal) if response.content else None
    except (ValueError, RecursionError):
        return None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is anywhere in the chain of causes behind ``exc`` (httpx wraps httpcore wraps OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _is_certificate_error(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _describe_transport_error(exc: httpx.TransportError, base_url: str) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if _caused_by(exc, socket.gaierror):
        return f"the host name {urlsplit(base_url).hostname} could not be resolved (DNS)"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped mid-response"
    return f"network error: {type(exc).__name__}"
