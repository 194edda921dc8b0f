"""The Greenfield client over real loopback HTTP: errors, retries, exact JSON.

A small aiohttp server plays scripted answers (one per request) so each
failure mode is exact; the simulator-based tests cover the full API.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from scripted_server import scripted_server

from cftui.btcpay.client import GreenfieldClient, parse_retry_after, parse_version
from cftui.btcpay.errors import MissingPermissionError, NotFoundError, ValidationError
from cftui.config import Secret, StoreConfig
from cftui.errors import AuthError, ConfigError, UnreachableError

KEY = Secret("k3y-very-secret-value")


@pytest.fixture
async def server():
    async with scripted_server() as scripted:
        yield scripted


def client(url: str, **kwargs) -> GreenfieldClient:
    kwargs.setdefault("retry_budget", 10)
    return GreenfieldClient(url, KEY, store_name="main", **kwargs)


async def test_headers_params_and_exact_json(server):
    server.script = [(200, '[{"id": "a", "n": 1.10, "amount": "5.00"}]', {})]
    async with client(server.url) as c:
        page = await c.list_invoices("S1", skip=0, take=50, end_date=1_700_000_000)
    assert page == [{"id": "a", "n": Decimal("1.10"), "amount": "5.00"}]
    request = server.requests[0]
    assert request.headers["Authorization"] == "token k3y-very-secret-value"
    assert request.headers["User-Agent"].startswith("cftui/")
    assert request.path == "/api/v1/stores/S1/invoices"
    assert dict(request.query) == {"skip": "0", "take": "50", "includeArchived": "true", "endDate": "1700000000"}


async def test_401_is_one_clear_sentence_without_the_key(server):
    server.script = [(401, '{"code":"unauthenticated","message":"ApiKey authentication failed"}', {})]
    async with client(server.url) as c:
        with pytest.raises(AuthError) as caught:
            await c.server_info()
    text = str(caught.value)
    assert "rejected the API key for store 'main' (unauthenticated)" in text and "api_key" in text
    assert KEY.reveal() not in text


async def test_403_names_the_missing_permission_and_store(server):
    body = ('{"code":"missing-permission","message":"Insufficient API Permissions. Please use an API key with '
            'permission \\"btcpay.store.canviewinvoices\\"","missingPermission":"btcpay.store.canviewinvoices"}')
    server.script = [(403, body, {})]
    async with client(server.url) as c:
        with pytest.raises(MissingPermissionError) as caught:
            await c.list_invoices("S1", take=10)
    assert caught.value.missing_permission == "btcpay.store.canviewinvoices"
    assert "btcpay.store.canviewinvoices" in str(caught.value) and "'main'" in str(caught.value)
    assert "API Keys" in str(caught.value)


async def test_404_and_422(server):
    server.script = [
        (404, '{"code":"invoice-not-found","message":"The invoice was not found"}', {}),
        (422, '[{"path":"startDate","message":"Invalid unix timestamp"},'
              '{"path":"endDate","message":"Invalid unix timestamp"}]', {}),
    ]
    async with client(server.url) as c:
        with pytest.raises(NotFoundError, match="invoice-not-found"):
            await c.get_invoice("S1", "nope")
        with pytest.raises(ValidationError) as caught:
            await c.list_invoices("S1", take=10)
    assert caught.value.errors == [("startDate", "Invalid unix timestamp"), ("endDate", "Invalid unix timestamp")]
    assert "startDate: Invalid unix timestamp; endDate: Invalid unix timestamp" in str(caught.value)


async def test_429_retry_after_is_honoured(server):
    server.script = [(429, "", {"Retry-After": "1"}), (200, '{"version": "2.4.1"}', {})]
    async with client(server.url) as c:
        assert await c.server_version() == (2, 4, 1)
    assert len(server.requests) == 2
    assert server.times[1] - server.times[0] >= 0.95


async def test_5xx_and_dropped_connections_are_retried(server):
    server.script = [(500, "{}", {}), "drop", (503, "", {}), (200, '{"synchronized": true}', {})]
    async with client(server.url) as c:
        assert await c.health() == {"synchronized": True}
    assert len(server.requests) == 4


async def test_for_store_takes_url_key_and_name_from_the_store_config(server, monkeypatch):
    monkeypatch.setenv("SHOP_KEY", "key-from-the-env")
    store = StoreConfig(name="shop", url=server.url + "/", store_id="S1", api_key_env="SHOP_KEY")
    server.script = [(404, '{"code": "invoice-not-found", "message": "Invoice not found"}', {})]
    async with GreenfieldClient.for_store(store, retry_budget=3) as c:
        assert (c.base_url, c.retry_budget) == (server.url, 3)
        with pytest.raises(NotFoundError) as caught:
            await c.get_invoice("S1", "inv1")
    assert "'shop'" in str(caught.value)
    assert server.requests[0].headers["Authorization"] == "token key-from-the-env"


async def test_for_store_needs_a_key_unless_told_to_go_without(server):
    store = StoreConfig(name="shop", url=server.url, store_id="S1")
    with pytest.raises(ConfigError, match="Store 'shop' has no API key"):
        GreenfieldClient.for_store(store)
    server.script = [(200, '{"synchronized": true}', {})]
    async with GreenfieldClient.for_store(store, without_key=True) as c:
        assert await c.health() == {"synchronized": True}
    assert "Authorization" not in server.requests[0].headers


async def test_slow_answers_time_out_then_retry(server):
    server.script = [("slow", 2.0), (200, '{"version": "2.3.0"}', {})]
    async with client(server.url, timeout=0.3) as c:
        assert await c.server_version() == (2, 3, 0)


async def test_retry_budget_ends_in_unreachable(server):
    server.script = [(500, "{}", {})] * 50
    started = time.monotonic()
    async with client(server.url, retry_budget=1.5) as c:
        with pytest.raises(UnreachableError) as caught:
            await c.list_invoices("S1", take=10)
    assert time.monotonic() - started < 3
    assert "HTTP 500" in str(caught.value) and "'main'" in str(caught.value)
    assert KEY.reveal() not in str(caught.value)


async def test_retry_after_beyond_the_budget_gives_up_at_once(server):
    server.script = [(429, "", {"Retry-After": "3600"})]
    started = time.monotonic()
    async with client(server.url, retry_budget=30) as c:
        with pytest.raises(UnreachableError, match="HTTP 429"):
            await c.server_info()
    assert time.monotonic() - started < 1


async def test_refused_connection_is_unreachable():
    async with GreenfieldClient("http://127.0.0.1:9", KEY, store_name="main", retry_budget=0.5) as c:
        with pytest.raises(UnreachableError, match="connection refused"):
            await c.health()


def test_retry_after_and_version_parsing():
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_version("1.13.0-rc1") == (1, 13, 0)
    assert parse_version("2.3.6") >= (2, 3, 6) > parse_version("2.3.5")
    assert parse_version(None) == ()


@pytest.mark.parametrize("body", ['{"version": 2}', '{"version": null}', '["2.4.1"]', '{}'])
async def test_a_server_version_that_is_not_text_reads_as_unknown(server, body):
    # The webhook receiver asks this to choose how to read an invoice: a server answering a version
    # number must not crash it (an unknown version takes the way every server supports).
    server.script = [(200, body, {})]
    async with client(server.url) as c:
        assert await c.server_version() == ()
