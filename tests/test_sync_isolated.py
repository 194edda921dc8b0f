"""A sync in a child process (on either engine): same result as in-process, events relayed, a dead child reported."""

from __future__ import annotations

import os
import signal
import threading

from cftui.config import Config, Secret, StoreConfig, SyncConfig
from cftui.sim.config import default_config
from cftui.store.models import Invoice
from cftui.sync.events import SyncFinished, SyncProgress, SyncStarted
from cftui.sync.isolated import run_sync_isolated


def _config(base_url: str, sim_config) -> Config:
    store = sim_config.stores[0]
    return Config(
        btcpay=(StoreConfig(name="main", url=base_url, store_id=store.store_id,
                            api_key=Secret(sim_config.api_keys[0].key)),),
        sync=SyncConfig(page_size=100),
    )


def test_child_process_sync_stores_everything_and_relays_events(db, store_target, tmp_path, start_sim):
    sim_config = default_config(invoices=450, stores=1, seed=3, now=1_760_000_000)
    db_path = store_target
    events = []
    sim = start_sim(sim_config)
    result = run_sync_isolated("btcpay:main", _config(sim.base_url, sim_config), db_path,
                               log_dir=tmp_path / "logs", reporter=events.append)
    assert result.ok, result.error
    assert result.new == 450
    assert Invoice.select().count() == 450  # written by the child, read by the parent
    kinds = [type(e) for e in events]
    assert kinds[0] is SyncStarted and kinds[-1] is SyncFinished and SyncProgress in kinds
    assert events[-1].result.new == 450


def test_a_killed_child_is_reported_and_the_store_stays_consistent(db, store_target, start_sim):
    sim_config = default_config(invoices=3000, stores=1, seed=4, now=1_760_000_000)
    db_path = store_target
    killed = threading.Event()

    def kill_on_first_progress(event):
        # Pages are fetched ahead of their commit: wait until one is stored (a busy machine's writer lags), or
        # the kill can land before anything is and the test would check nothing about a half-done sync.
        if (isinstance(event, SyncProgress) and event.fetched >= 300 and not killed.is_set()
                and Invoice.select().exists()):
            killed.set()
            for child in __import__("multiprocessing").active_children():
                os.kill(child.pid, signal.SIGKILL)

    sim = start_sim(sim_config)
    sim.sim.faults.update({"delay_ms": 30})  # slow pages, so the kill lands mid-sync
    result = run_sync_isolated("btcpay:main", _config(sim.base_url, sim_config), db_path,
                               reporter=kill_on_first_progress)
    assert killed.is_set()
    assert not result.ok
    assert "ended unexpectedly" in result.error
    kept = Invoice.select().count()
    assert 0 < kept < 3000
    assert kept % 100 == 0  # whole pages only: nothing half-written



def test_a_cancel_stops_a_sync_stuck_in_retries_within_seconds(db, store_target):
    import time

    db_path = store_target
    # Nothing listens on port 9 of loopback: the engine retries for its whole budget.
    store = StoreConfig(name="down", url="http://127.0.0.1:9", store_id="S", api_key=Secret("k" * 20))
    config = Config(btcpay=(store,), sync=SyncConfig(retry_budget=60))
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    result = run_sync_isolated("btcpay:down", config, db_path, cancel=cancel)
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed  # not the 60 s retry budget
    assert not result.ok
    assert "stopped" in result.error or "cancel" in result.error.lower()
