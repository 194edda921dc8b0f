"""Invoices skipped as malformed are kept in a retry list that later syncs re-read, and shown (review D5).

The simulator serves every 50th invoice of its list pages broken (``/_sim/faults``
``malformed_every``), in three ways in turn: a bad amount and wrong types (the id
is still there: re-fetched by id) and a missing id (re-read by its created time).
"""

from __future__ import annotations

import asyncio

import pytest
from test_sync_engine import NOW, frozen_clock  # noqa: F401 - fixture: our clock and the simulator's agree
from waiting import wait_for

from cftui import clock
from cftui.cli import main
from cftui.config import Secret, StoreConfig, SyncConfig
from cftui.sim.config import default_config
from cftui.sim.generator import StoreGenerator, expected_store_totals
from cftui.store.models import Invoice, SkippedInvoice
from cftui.sync.engine import sync_store

COUNT = 1000
EVERY = 50


@pytest.fixture
def sim(start_sim):
    config = default_config(invoices=COUNT, seed=11, now=NOW)
    return config, start_sim(config)


def sync(config, thread):
    cfg = StoreConfig(name="main", url=thread.base_url, store_id=config.stores[0].store_id,
                      api_key=Secret(config.api_keys[0].key))
    return asyncio.run(sync_store(cfg, SyncConfig(page_size=200, retry_budget=10)))


def retry_list() -> list[tuple[str | None, int | None, int]]:
    return sorted(((r.invoice_id, r.created_time, r.attempts) for r in SkippedInvoice.select()),
                  key=lambda row: (row[0] or "", row[1] or 0))


def test_skipped_invoices_are_kept_re_read_and_shown(sim, db, store_args, tmp_path, capsys):
    config, thread = sim
    thread.call(thread.sim.faults.update, {"malformed_every": EVERY})

    first = sync(config, thread)
    assert first.ok and first.skipped_total == COUNT // EVERY
    kept = retry_list()
    by_id = [row for row in kept if row[0] is not None]
    by_time = [row for row in kept if row[0] is None]
    assert len(kept) == COUNT // EVERY and by_id and by_time and all(t is not None for _, t, _ in by_time)
    assert Invoice.select().count() == COUNT - COUNT // EVERY
    assert first.unread == COUNT // EVERY

    # doctor names them: how many, and which.
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[btcpay]]\nname = "main"\nurl = "{thread.base_url}"\nstore_id = "{config.stores[0].store_id}"\n'
                   f'api_key = "{config.api_keys[0].key}"\n', encoding="utf-8")
    cfg.chmod(0o600)
    assert main(["--config", str(cfg), *store_args, "doctor"]) == 0
    out = capsys.readouterr().out
    assert f"{COUNT // EVERY} invoices could not be read" in out
    assert all(invoice_id in out for invoice_id, _, _ in by_id[:5])
    assert clock.iso(by_time[0][1]) in out

    # The next sync re-reads them: by id at once (the single-invoice answer is whole), by time while the
    # list still breaks them.
    second = sync(config, thread)
    assert second.ok
    assert [(i, t) for i, t, _ in retry_list()] == [(None, t) for _, t, _ in by_time]
    assert all(attempts >= 2 for _, _, attempts in retry_list())  # the walk's overlap may meet some twice
    assert Invoice.select().count() == COUNT - len(by_time)

    thread.call(thread.sim.faults.update, {"reset": True})
    third = sync(config, thread)
    assert third.ok and third.unread == 0
    assert retry_list() == []
    want = expected_store_totals(StoreGenerator(config, config.stores[0]))
    assert Invoice.select().count() == want["count"] == COUNT


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_two_syncs_listing_the_same_skip_at_once_keep_one_row(db):
    """Two syncs of one store (a daemon's and a dashboard's) meet the same broken record: one row, two attempts,
    no error. (SQLite's single write lock gives this for free; on PostgreSQL the store's lock does.)"""
    import threading

    from cftui.store import retry
    from cftui.store.models import database
    from cftui.store.retry import Skip
    from cftui.store.writer import ensure_store

    store = ensure_store(StoreConfig(name="main", url="http://127.0.0.1:9", store_id="S"))
    skip = Skip("INV1", 1_760_000_000, "amount is not a decimal")
    listed, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def sync(hold: bool) -> None:
        try:
            with database.atomic():
                retry.record(store, [skip])
                if hold:
                    listed.set()
                    go_on.wait(10)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            database.close()

    first = threading.Thread(target=sync, args=(True,))
    first.start()
    assert listed.wait(10)
    second = threading.Thread(target=sync, args=(False,))
    second.start()
    waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    wait_for(lambda: db.execute_sql(waiting).fetchone()[0], "the second sync to wait on the first's lock")
    go_on.set()
    first.join(10)
    second.join(10)
    assert errors == []
    assert [(r.invoice_id, r.attempts) for r in SkippedInvoice.select()] == [("INV1", 2)]
