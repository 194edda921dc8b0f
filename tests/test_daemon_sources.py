"""`cftui daemon` syncs each source on its own schedule: a stuck one never stalls another (review D3)."""

from __future__ import annotations

import asyncio
import time

from hostile_relays import hostile_relay_thread

from cftui.config import AngorConfig, Config, Secret, StoreConfig, SyncConfig, WebhooksConfig
from cftui.sim.config import default_config
from cftui.webhooks.daemon import run_daemon

ANGOR_TIMEOUT = 3
ANGOR_DEADLINE = ANGOR_TIMEOUT * 10  # seconds a relay may hold one Angor sync (cftui.angor.nostr)


def test_btcpay_keeps_syncing_while_angor_is_stuck_on_a_flooding_relay(db, store_target, tmp_path, start_sim):
    sim_config = default_config(invoices=30, stores=1, seed=3, now=1_760_000_000)
    synced: list[tuple[str, float]] = []

    sim = start_sim(sim_config)
    with hostile_relay_thread("flood") as relay:
        store = sim_config.stores[0]
        config = Config(
            btcpay=(StoreConfig(name="main", url=sim.base_url, store_id=store.store_id,
                                api_key=Secret(sim_config.api_keys[0].key)),),
            sync=SyncConfig(interval=1),
            webhooks=WebhooksConfig(port=0),
            # The relay holds the Angor sync until its deadline, timeout × 10 = 30 s.
            angor=AngorConfig(enabled=True, network="Angornet", relays=(relay,), indexer_url="http://127.0.0.1:9",
                              timeout=ANGOR_TIMEOUT),
        )

        async def main() -> None:
            stop = asyncio.Event()
            started = time.monotonic()

            def on_sync(result) -> None:
                synced.append((result.source, time.monotonic() - started))
                if sum(1 for source, _ in synced if source == "btcpay:main") >= 4:
                    stop.set()

            daemon = asyncio.create_task(run_daemon(config, stop, db_path=store_target, log_dir=tmp_path / "logs",
                                                    on_sync=on_sync))
            try:
                await asyncio.wait_for(stop.wait(), ANGOR_DEADLINE)
            finally:
                stop.set()
                await asyncio.wait_for(daemon, 15)  # and the daemon stops the stuck Angor sync promptly

        asyncio.run(main())

    # Four BTCPay syncs ended while the one Angor sync was still held by the relay: no wall-clock bound (a loaded
    # machine spawns each sync's child process slowly), but the order of events, which a daemon that ran the
    # sources one after another could not produce.
    btcpay = [at for source, at in synced if source == "btcpay:main"]
    assert len(btcpay) >= 4, synced
    assert all(source != "angor" or at > btcpay[3] for source, at in synced), synced  # Angor was stuck meanwhile
