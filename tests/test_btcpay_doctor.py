"""`cftui doctor` checks against the simulator with keys of different rights."""

from __future__ import annotations

import pytest

from cftui.btcpay.doctor import check_store, format_report, grants
from cftui.config import Secret, StoreConfig
from cftui.sim.config import SimApiKey, default_config


@pytest.fixture(scope="module")
def sim(start_module_sim):
    base = default_config(invoices=20, seed=3, now=1_780_000_000, version="2.3.0")
    store_id = base.stores[0].store_id
    keys = base.api_keys + (
        SimApiKey("view-store", (f"btcpay.store.canviewstoresettings:{store_id}",)),
        SimApiKey("other-store", ("btcpay.store.canmodifystoresettings:AnotherStore",)),
    )
    config = type(base)(**{**base.__dict__, "api_keys": keys})
    return config, start_module_sim(config).base_url


def store(config, url, key) -> StoreConfig:
    return StoreConfig(name="main", url=url, store_id=config.stores[0].store_id, api_key=Secret(key))


async def test_full_key_is_ready(sim):
    config, url = sim
    report = await check_store(store(config, url, config.api_keys[0].key))
    assert report.ok and report.reachable and report.key_valid and report.invoices_readable
    assert report.version == "2.3.0"
    assert {c.feature: c.ok for c in report.features} == {"invoices": True, "webhooks": True, "apps": True}
    assert any("older than 2.3.6" in note for note in report.notes)
    assert "ready to sync" in format_report(report)


async def test_read_only_key_works_without_optional_features(sim):
    config, url = sim
    report = await check_store(store(config, url, "view-store"))
    assert report.ok  # canviewstoresettings implies canviewinvoices
    checks = {c.feature: c for c in report.features}
    assert checks["invoices"].ok and not checks["webhooks"].ok and not checks["apps"].ok
    assert "btcpay.store.canmodifystoresettings" in checks["apps"].advice
    text = format_report(report)
    assert "miss apps" in text and "ready to sync" in text


async def test_key_scoped_to_another_store(sim):
    config, url = sim
    report = await check_store(store(config, url, "other-store"))
    assert report.key_valid and not report.ok and not report.invoices_readable
    assert not {c.feature: c.ok for c in report.features}["invoices"]
    assert any("store_id" in problem for problem in report.problems)
    assert "not ready" in format_report(report)


async def test_bad_key_and_dead_server(sim):
    config, url = sim
    report = await check_store(store(config, url, "zz-bogus-key-77"))
    assert report.reachable and not report.key_valid and not report.ok
    assert "rejected the API key" in report.problems[0] and "zz-bogus-key-77" not in report.problems[0]
    dead = await check_store(StoreConfig(name="x", url="http://127.0.0.1:9", store_id="S", api_key=Secret("k")))
    assert not dead.reachable and "Cannot reach" in dead.problems[0]


def test_grants_follow_implied_permissions_and_scope():
    assert grants(["btcpay.store.canmodifystoresettings"], "btcpay.store.canviewinvoices", "S1")
    assert grants(["btcpay.store.canmodifyinvoices:S1"], "btcpay.store.canviewinvoices", "S1")
    assert not grants(["btcpay.store.canmodifyinvoices:S2"], "btcpay.store.canviewinvoices", "S1")
    assert not grants(["btcpay.store.canviewinvoices"], "btcpay.store.webhooks.canmodifywebhooks", "S1")
    assert grants(["unrestricted"], "btcpay.store.canmodifystoresettings", "S1")
