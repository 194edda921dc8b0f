"""A backfill killed with SIGKILL mid-page leaves a consistent store and resumes.

The sync runs in a real child process (through ``cftui.sync.service.run_sync``)
against the simulator in this process; the simulator answers slowly so the
kill lands in the middle of the backfill.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from waiting import wait_for

from cftui.config import Config, Secret, StoreConfig, SyncConfig
from cftui.errors import ConfigError
from cftui.sim.config import default_config
from cftui.sim.generator import StoreGenerator, expected_store_totals
from cftui.store import daystats
from cftui.store.models import Invoice, InvoiceDayStat, SyncState
from cftui.sync.engine import sync_store
from cftui.sync.service import run_sync, sources

COUNT = 2500
CHILD = textwrap.dedent(
    """
    import sys
    from cftui.config import Config, Secret, StoreConfig, SyncConfig
    from cftui.store.db import open_database
    from cftui.sync.service import run_sync

    path, url, store_id, key = sys.argv[1:5]
    open_database(path)
    store = StoreConfig(name="main", url=url, store_id=store_id, api_key=Secret(key))
    run_sync("btcpay:main", Config(btcpay=(store,), sync=SyncConfig(page_size=50)))
    """
)


def rollup() -> set:
    return set(InvoiceDayStat.select(
        InvoiceDayStat.day, InvoiceDayStat.status, InvoiceDayStat.additional_status, InvoiceDayStat.currency,
        InvoiceDayStat.count, InvoiceDayStat.amount_e8, InvoiceDayStat.paid_e8, InvoiceDayStat.btc_paid_sats,
    ).tuples())


def test_sigkill_mid_backfill_then_resume(db, store_target, start_sim):
    config = default_config(invoices=COUNT, seed=5, now=1_780_000_000)
    store_id, key = config.stores[0].store_id, config.api_keys[0].key
    sim = start_sim(config)
    sim.call(sim.sim.faults.update, {"delay_ms": 60})
    child = subprocess.Popen([sys.executable, "-c", CHILD, store_target, sim.base_url, store_id, key])
    try:

        def past_500() -> bool:
            assert child.poll() is None, "the child finished before it could be killed"
            state = SyncState.get_or_none(SyncState.source == "btcpay:main")
            return state is not None and state.scan_offset >= 500

        wait_for(past_500, "the backfill to commit 500 invoices", timeout=60)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    # Consistent: exactly the committed pages are stored, roll-up included.
    state = SyncState.get_by_id("btcpay:main")
    stored = Invoice.select().count()
    assert not state.backfill_done and state.running and 500 <= stored == state.scan_offset < COUNT
    killed_rollup = rollup()
    daystats.rebuild()
    assert rollup() == killed_rollup

    sim.call(sim.sim.faults.update, {"delay_ms": 0})
    cfg = StoreConfig(name="main", url=sim.base_url, store_id=store_id, api_key=Secret(key))
    result = asyncio.run(sync_store(cfg, SyncConfig(page_size=50)))
    assert result.ok, result.error
    assert (result.new, result.unchanged) == (COUNT - stored, 0)  # resumed at the next page: nothing re-read
    want = expected_store_totals(StoreGenerator(config, config.stores[0]))
    assert Invoice.select().count() == COUNT
    assert sum(r.btc_paid_sats for r in Invoice.select(Invoice.btc_paid_sats)) == want["btc_paid_sats"]
    state = SyncState.get_by_id("btcpay:main")
    assert state.backfill_done and not state.running and state.scan_end_time is None


def test_sources_and_unknown_source():
    store = StoreConfig(name="main", url="http://127.0.0.1:1", store_id="S", api_key=Secret("k"))
    config = Config(btcpay=(store,))
    assert sources(config) == ["btcpay:main"]
    with pytest.raises(ConfigError, match="Unknown sync source 'nope'"):
        run_sync("nope", config)
    with pytest.raises(ConfigError, match="No store named 'other'"):
        run_sync("btcpay:other", config)
