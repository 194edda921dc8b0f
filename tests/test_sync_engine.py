"""The sync engine end to end: real HTTP to the simulator, a real store (SQLite and PostgreSQL).

Expected figures come from the simulator's generator (``expected_store_totals``),
never hard-coded; the simulator's clock and ours are frozen at the same time.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from decimal import Decimal

import pytest
from peewee import fn

from cftui import clock
from cftui.config import Secret, StoreConfig, SyncConfig
from cftui.money import E8
from cftui.sim import lifecycle
from cftui.sim.config import SimApiKey, default_config
from cftui.sim.faults import Faults
from cftui.sim.generator import StoreGenerator, expected_crowdfund, expected_store_totals
from cftui.store import daystats, queries
from cftui.store.models import CrowdfundApp, Invoice, InvoiceDayStat, InvoicePaymentMethod, Payment, SyncState
from cftui.store.writer import ensure_store, pending_invoices, queue_invoice
from cftui.sync.engine import sync_store
from cftui.sync.events import SyncFinished, SyncProgress, SyncStarted

NOW = 1_780_000_000
COUNT = 2500


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def sim_config(*, invoices=COUNT, version="2.4.1", extra_keys=()):
    config = default_config(invoices=invoices, seed=11, now=NOW, version=version)
    return dataclasses.replace(config, api_keys=config.api_keys + tuple(extra_keys))


@pytest.fixture
def sim(start_sim):
    config = sim_config()
    return config, start_sim(config)


def store_cfg(config, url, key=None) -> StoreConfig:
    return StoreConfig(
        name="main", url=url, store_id=config.stores[0].store_id, api_key=Secret(key or config.api_keys[0].key)
    )


def run(cfg: StoreConfig, **sync) -> object:
    sync.setdefault("page_size", 200)
    sync.setdefault("retry_budget", 20)
    return asyncio.run(sync_store(cfg, SyncConfig(**sync)))


def stored_totals() -> dict:
    by_status = dict(Invoice.select(Invoice.status, fn.COUNT(Invoice.id)).group_by(Invoice.status).tuples())
    paid = {
        currency: Decimal(total) / E8
        for currency, total in Invoice.select(Invoice.currency, fn.SUM(Invoice.paid_e8))
        .group_by(Invoice.currency).tuples()
    }
    return {
        "count": Invoice.select().count(),
        "archived": Invoice.select().where(Invoice.archived == True).count(),  # noqa: E712
        "by_status": by_status,
        "btc_paid_sats": Invoice.select(fn.SUM(Invoice.btc_paid_sats)).scalar(),
        "paid_by_currency": paid,
    }


def rollup() -> set:
    return set(InvoiceDayStat.select(
        InvoiceDayStat.day, InvoiceDayStat.status, InvoiceDayStat.additional_status, InvoiceDayStat.currency,
        InvoiceDayStat.count, InvoiceDayStat.amount_e8, InvoiceDayStat.paid_e8, InvoiceDayStat.btc_paid_sats,
    ).tuples())


def assert_rollup_exact():
    incremental = rollup()
    daystats.rebuild()
    assert rollup() == incremental


def expected(config) -> dict:
    return expected_store_totals(StoreGenerator(config, config.stores[0]))


def test_backfill_exact_totals_then_idempotent(sim, db):
    config, thread = sim
    events = []
    cfg = store_cfg(config, thread.base_url)
    result = asyncio.run(sync_store(cfg, SyncConfig(page_size=200), reporter=events.append))
    assert result.ok, result.error
    assert (result.fetched, result.new, result.skipped_total) == (COUNT, COUNT, 0)
    want = expected(config)
    assert want["archived"] > 0  # archived invoices exist and must be included
    checked = ("count", "archived", "by_status", "btc_paid_sats", "paid_by_currency")
    assert stored_totals() == {k: want[k] for k in checked}
    gen = StoreGenerator(config, config.stores[0])
    crowdfund = Counter(gen.invoice(i).app_id for i in range(COUNT) if gen.invoice(i).app_id)
    assert dict(Invoice.select(Invoice.app_id, fn.COUNT(Invoice.id)).where(Invoice.app_id.is_null(False))
                .group_by(Invoice.app_id).tuples()) == dict(crowdfund)
    assert CrowdfundApp.select().count() == len(config.stores[0].crowdfunds)
    assert_rollup_exact()
    assert isinstance(events[0], SyncStarted) and events[0].mode == "backfill"
    assert any(isinstance(e, SyncProgress) for e in events) and isinstance(events[-1], SyncFinished)
    state = SyncState.get_by_id("btcpay:main")
    assert state.backfill_done and not state.running and state.last_success_time == NOW

    again = run(cfg)
    assert again.ok, again.error
    assert (again.new, again.updated) == (0, 0)
    assert stored_totals()["count"] == COUNT


def test_lightning_msat_payments_and_long_rates_are_stored_exactly(sim, db):
    """B1, B2: the default data's msat values, msat fee tweaks and 28-digit rates keep their invoices,
    and every payment's text is stored as the server wrote it."""
    config, thread = sim
    result = run(store_cfg(config, thread.base_url))
    assert result.ok, result.error
    assert (result.new, result.skipped_total) == (COUNT, 0)
    gen = StoreGenerator(config, config.stores[0])
    stored = {(i, p): (v, vm, f, fm) for i, p, v, vm, f, fm in Payment.select(
        Invoice.invoice_id, Payment.payment_id, Payment.value, Payment.value_msat, Payment.fee, Payment.fee_msat,
    ).join(Invoice).tuples()}
    rates = dict(InvoicePaymentMethod.select(Invoice.invoice_id, InvoicePaymentMethod.rate).join(Invoice)
                 .where(InvoicePaymentMethod.method == "BTC-LN").tuples())
    msat_values = long_rates = 0
    for i in range(COUNT):
        invoice = gen.invoice(i)
        assert rates[invoice.id] == invoice.rate
        long_rates += len(invoice.rate.partition(".")[2]) > 8
        for payment in (p for p in invoice.payments if p.accounted):
            value, value_msat, _, fee_msat = stored[(invoice.id, payment.id)]
            assert (value, value_msat, fee_msat) == (payment.value_text(), payment.msat, payment.fee_msat)
            msat_values += payment.msat % 1000 != 0
    assert msat_values >= 20 and long_rates >= 100


def test_crowdfund_progress_equals_the_servers_own_crowdfund_page(sim, db):
    """B3: settled, pending and contributors of every app, as BTCPay's page computes them from the
    same invoices (the simulator works them out from its own facts: msat and rates)."""
    config, thread = sim
    apps = config.stores[0].crowdfunds
    every_invoice = tuple(app.app_id for app in apps if app.tag_all_invoices)
    assert every_invoice and any(app.reset_every != "Never" for app in apps) and any(a.enforce_target for a in apps)
    cfg = dataclasses.replace(store_cfg(config, thread.base_url), crowdfund_all_invoices=every_invoice)
    assert run(cfg).ok
    gen = StoreGenerator(config, config.stores[0])
    progress = {p.app_id: p for p in queries.crowdfund_progress()}
    for app in apps:
        want = expected_crowdfund(gen, app)
        got = progress[app.app_id]
        assert got.contributions == want["contributions"], app.title
        # As the page shows them, to the currency's places (Math.Round: half to even), they are equal.
        for figure in ("settled", "pending"):
            assert got.shown(getattr(got, figure)) == got.shown(want[figure]), (app.title, figure)
        assert got.shown(got.raised) == got.shown(want["settled"] + want["pending"]), app.title
        # Unrounded, each invoice's figure is kept to 28 places (a .NET decimal's finest): no more apart than that.
        bound = Decimal(want["invoices"]) * Decimal("0.5e-28")
        assert abs(got.settled - want["settled"]) <= bound and abs(got.pending - want["pending"]) <= bound
    # What cftui showed before: the prices of the app's Settled invoices. BTCPay's page differs.
    first = apps[0]
    prices = sum(Decimal(gen.invoice(i).amount) for i in range(COUNT)
                 if gen.invoice(i).app_id == first.app_id and gen.invoice(i).status == "Settled")
    assert progress[first.app_id].settled != prices


def test_old_server_reads_payment_methods_per_invoice(db, start_sim):
    config = sim_config(invoices=600, version="2.3.0")
    result = run(store_cfg(config, start_sim(config).base_url), concurrency=4)
    assert result.ok, result.error
    want = expected(config)
    got = stored_totals()
    assert (got["count"], got["btc_paid_sats"], got["by_status"]) == (600, want["btc_paid_sats"], want["by_status"])
    assert Payment.select().count() > 0


def test_transient_failures_are_retried(sim, db):
    config, thread = sim
    thread.call(thread.sim.faults.update, {
        "rate_limit_next": 2, "retry_after": "1", "error_next": 2, "drop_every": 7, "delay_ms": 20,
    })
    result = run(store_cfg(config, thread.base_url))
    assert result.ok, result.error
    assert stored_totals()["btc_paid_sats"] == expected(config)["btc_paid_sats"]
    faults = thread.call(thread.sim.faults.as_dict)
    assert (faults["rate_limit_next"], faults["error_next"]) == (0, 0)  # every injected failure was met
    assert result.duration >= 2  # two Retry-After: 1 answers were honoured


def test_malformed_records_are_skipped_and_counted(sim, db):
    config, thread = sim
    thread.call(thread.sim.faults.update, {"malformed_every": 100})
    result = run(store_cfg(config, thread.base_url))
    assert result.ok, result.error
    broken = COUNT // 100
    assert result.skipped_total == broken
    assert set(result.skipped) <= {"amount is not a decimal", "missing id", "createdTime is not a unix time"}
    assert Invoice.select().count() == COUNT - broken
    assert_rollup_exact()


def test_a_server_repeating_one_page_does_not_loop(sim, db):
    config, thread = sim
    thread.call(thread.sim.faults.update, {"ignore_skip": True})
    result = run(store_cfg(config, thread.base_url))
    assert result.error and "nothing new" in result.error
    assert Invoice.select().count() == 200  # the first page is kept
    assert not SyncState.get_by_id("btcpay:main").backfill_done


def test_invoices_arriving_during_the_scan(sim, db):
    config, thread = sim
    store_id = config.stores[0].store_id
    state = thread.sim.state
    arrived = []

    def add_invoices(event):
        # New invoices land at the head of the list while we page: offsets shift.
        if isinstance(event, SyncProgress) and len(arrived) < 20:
            for _ in range(3):
                arrived.append(thread.call(lifecycle.create_invoice, state, store_id, amount_minor=1500).id)

    cfg = store_cfg(config, thread.base_url)
    result = asyncio.run(sync_store(cfg, SyncConfig(page_size=200), reporter=add_invoices))
    assert result.ok, result.error
    assert result.new == COUNT  # every generated invoice once, none twice
    later = run(cfg)
    assert later.ok and later.new == len(arrived)
    assert Invoice.select().count() == COUNT + len(arrived)
    assert_rollup_exact()


def test_incremental_run_sees_live_changes(sim, db):
    config, thread = sim
    store_id = config.stores[0].store_id
    state = thread.sim.state
    cfg = store_cfg(config, thread.base_url)
    assert run(cfg).ok
    # An invoice paid on-chain (Processing), then a newer one moves the window past it.
    paid = thread.call(lifecycle.create_invoice, state, store_id, amount_minor=2500)
    thread.call(lifecycle.receive_payment, state, paid, lifecycle.ONCHAIN, paid.due_sats)
    first = run(cfg)
    assert (first.new, Invoice.get(Invoice.invoice_id == paid.id).status) == (1, "Processing")
    clock.freeze(NOW + 2 * 86_400)
    newer = thread.call(lifecycle.create_invoice, state, store_id, amount_minor=990)
    assert run(cfg).new == 1
    # Now the paid invoice is outside the incremental window: only the re-check can see it settle.
    thread.call(lifecycle.confirm, state, paid)
    # An old final invoice changes too; a webhook queued it while the API was down.
    old = thread.call(state.stores[store_id].get, 10)
    thread.call(lifecycle.mark, state, old, "Invalid")
    queue_invoice(ensure_store(cfg), old.id, "webhook while the API was down")
    result = run(cfg)
    assert result.ok, result.error
    assert (result.new, result.updated) == (0, 2)
    assert result.newly_settled == [paid.id]
    row = Invoice.get(Invoice.invoice_id == paid.id)
    assert (row.status, row.btc_paid_sats) == ("Settled", paid.due_sats)
    assert Invoice.get(Invoice.invoice_id == old.id).additional_status == "Marked"
    assert pending_invoices(ensure_store(cfg)) == []
    assert Invoice.get(Invoice.invoice_id == newer.id).amount == "9.90"
    assert_rollup_exact()


def test_bad_key_and_missing_permissions(db, start_sim):
    config = default_config(invoices=50, seed=11, now=NOW)
    store_id = config.stores[0].store_id
    keys = (
        SimApiKey("invoices-only", (f"btcpay.store.canviewinvoices:{store_id}",)),
        SimApiKey("other-store", ("btcpay.store.canviewinvoices:SomeOtherStore",)),
    )
    config = sim_config(invoices=50, extra_keys=keys)
    url = start_sim(config).base_url
    bad = run(store_cfg(config, url, key="not-a-key"))
    assert "rejected the API key for store 'main' (unauthenticated)" in bad.error
    assert "not-a-key" not in bad.error
    other = run(store_cfg(config, url, key="other-store"))
    assert "btcpay.store.canviewinvoices" in other.error and "'main'" in other.error
    limited = run(store_cfg(config, url, key="invoices-only"))
    assert limited.ok and limited.new == 50
    note = SyncState.get_by_id("btcpay:main").last_result
    assert "crowdfund apps skipped" in note and "canmodifystoresettings" in note
    assert SyncState.get_by_id("btcpay:main").last_error is None


def test_unreachable_server_is_a_result_not_a_crash(db):
    cfg = StoreConfig(name="main", url="http://127.0.0.1:9", store_id="S", api_key=Secret("k"))
    result = run(cfg, retry_budget=1)
    assert result.error and "Cannot reach BTCPay store 'main'" in result.error
    state = SyncState.get_by_id("btcpay:main")
    assert state.last_error == result.error and not state.running and state.last_error_time == NOW


def test_the_store_currency_and_each_perk_sold_are_read(sim, db):
    from cftui.store.models import CrowdfundPerk, Store

    config, thread = sim
    assert run(store_cfg(config, thread.base_url)).ok
    assert Store.get(Store.name == "main").default_currency == config.stores[0].default_currency == "USD"
    # BTCPay counts an app's Processing and Settled invoices per item code: so must the stored perks.
    paid = (
        Invoice.select(Invoice.app_id, Invoice.item_code, fn.COUNT(Invoice.id), fn.SUM(Invoice.amount_e8))
        .where(Invoice.status.in_(["Processing", "Settled"]), Invoice.app_id.is_null(False))
        .group_by(Invoice.app_id, Invoice.item_code)
        .tuples()
    )
    want = {(app, code): (count, total) for app, code, count, total in paid}
    stored = {(p.app_id, p.item_code): (p.sales_count, p.total_e8) for p in CrowdfundPerk.select()}
    assert stored == want and len(stored) >= 3
    ranks = [p.sales_count for p in CrowdfundPerk.select().where(CrowdfundPerk.app_id == next(iter(want))[0])
             .order_by(CrowdfundPerk.rank)]
    assert ranks == sorted(ranks, reverse=True)


def test_an_old_servers_record_whose_id_is_not_a_string_is_skipped(db, monkeypatch, start_sim):
    """Payment methods are looked up by invoice id (servers before 2.4): an id that is a JSON list must
    make its record a skipped misfit, not end the sync."""
    monkeypatch.setattr("cftui.sim.server.break_record", lambda record, kind: {**record, "id": [record["id"]]})
    config = sim_config(invoices=300, version="2.3.0")
    thread = start_sim(config, faults=Faults(malformed_every=100))
    result = run(store_cfg(config, thread.base_url), concurrency=4)
    assert result.ok, result.error
    assert result.skipped_total == 3
    assert Invoice.select().count() == 300 - 3
