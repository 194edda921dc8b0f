"""Each fault switch of the simulator does what it says, from Python and over the admin endpoint."""

from __future__ import annotations

import time

import httpx
import pytest

from cftui.sim import Faults, default_config
from cftui.sim.faults import MALFORMED_KINDS

NOW = 1_780_000_000


@pytest.fixture(scope="module")
def sim(start_module_sim):
    config = default_config(invoices=400, now=NOW)
    thread = start_module_sim(config)
    client = httpx.Client(base_url=thread.base_url, headers={"Authorization": f"token {config.api_keys[0].key}"},
                          timeout=30)
    yield thread, config.stores[0].store_id, client
    client.close()


@pytest.fixture(autouse=True)
def _reset(sim):
    thread, _, _ = sim
    thread.call(thread.sim.faults.update, {"reset": True})
    yield
    thread.call(thread.sim.faults.update, {"reset": True})


def set_faults(sim, **changes):
    thread, _, _ = sim
    response = httpx.post(f"{thread.base_url}/_sim/faults", json=changes)
    assert response.status_code == 200, response.text
    return response.json()


def page(client, store_id, **params):
    return client.get(f"/api/v1/stores/{store_id}/invoices", params={"take": 50, **params})


def test_rate_limit_next_n_with_retry_after(sim):
    _, store_id, client = sim
    set_faults(sim, rate_limit_next=2, retry_after="3")
    for _ in range(2):
        limited = page(client, store_id)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "3"
    assert page(client, store_id).status_code == 200


def test_rate_limit_every_nth_request(sim):
    _, store_id, client = sim
    set_faults(sim, rate_limit_every=3)
    statuses = [page(client, store_id).status_code for _ in range(9)]
    assert statuses == [200, 200, 429] * 3


def test_server_errors(sim):
    _, store_id, client = sim
    set_faults(sim, error_next=1, error_status=503)
    failed = page(client, store_id)
    assert failed.status_code == 503 and failed.json()["code"] == "server-error"
    assert page(client, store_id).status_code == 200
    set_faults(sim, reset=True, error_every=2)
    assert [page(client, store_id).status_code for _ in range(4)] == [200, 500, 200, 500]


def test_slow_responses(sim):
    _, store_id, client = sim
    started = time.perf_counter()
    page(client, store_id)
    quick = time.perf_counter() - started
    set_faults(sim, delay_ms=400)
    started = time.perf_counter()
    assert page(client, store_id).status_code == 200
    assert time.perf_counter() - started >= 0.4 > quick


def test_dropped_connection_mid_response(sim):
    _, store_id, client = sim
    set_faults(sim, drop_next=1)
    with pytest.raises(httpx.TransportError):
        page(client, store_id).json()
    assert page(client, store_id).status_code == 200


def test_malformed_records_in_list_pages(sim):
    thread, store_id, client = sim
    clean = page(client, store_id, take=100, includeArchived="true").json()
    set_faults(sim, malformed_every=10)
    broken = page(client, store_id, take=100, includeArchived="true").json()
    assert len(broken) == len(clean) == 100
    gen = thread.sim.state.stores[store_id].gen
    kinds_seen = set()
    for good, bad in zip(clean, broken, strict=True):
        index = gen.index_of_id(good["id"])
        kind = thread.sim.faults.malformed_kind(index)
        if kind is None:
            assert bad == good
            continue
        kinds_seen.add(kind)
        if kind == "bad_amount":
            assert bad["amount"] == "abc"
        elif kind == "missing_id":
            assert "id" not in bad
        else:
            assert isinstance(bad["createdTime"], str) and isinstance(bad["archived"], str)
    assert sum(bad != good for good, bad in zip(clean, broken, strict=True)) == 10
    assert kinds_seen == set(MALFORMED_KINDS)
    # Same records broken the same way on every fetch.
    assert page(client, store_id, take=100, includeArchived="true").json() == broken


def test_ignore_skip_returns_the_same_page_forever(sim):
    _, store_id, client = sim
    first = page(client, store_id).json()
    set_faults(sim, ignore_skip=True)
    assert page(client, store_id, skip=50).json() == first
    assert page(client, store_id, skip=5000).json() == first


def test_path_prefix_limits_the_faults(sim):
    thread, store_id, client = sim
    set_faults(sim, error_every=1, path_prefix="/api/v1/stores/")
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/server/info").status_code == 200
    assert page(client, store_id).status_code == 500


def test_admin_endpoint_validates_and_resets(sim):
    thread, _, _ = sim
    url = f"{thread.base_url}/_sim/faults"
    assert httpx.post(url, json={"no_such_switch": 1}).status_code == 422
    assert httpx.post(url, json={"error_next": "two"}).status_code == 422
    assert httpx.post(url, json={"malformed_kinds": ["nonsense"]}).status_code == 422
    assert httpx.post(url, content=b"not json").status_code == 422
    state = set_faults(sim, error_next=5, delay_ms=10)
    assert state["error_next"] == 5 and state["delay_ms"] == 10
    state = set_faults(sim, reset=True)
    assert state == {**Faults().as_dict(), "requests": 0}
    assert httpx.get(url).json() == state


def test_faults_settable_from_python(sim):
    thread, store_id, client = sim
    thread.call(thread.sim.faults.update, {"rate_limit_next": 1, "retry_after": "Wed, 21 Oct 2026 07:28:00 GMT"})
    limited = page(client, store_id)
    assert limited.status_code == 429 and limited.headers["Retry-After"].endswith("GMT")
