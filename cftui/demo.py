"""`cftui demo`: the whole product on a built-in simulator, with no account anywhere.

One loopback server (a daemon thread with its own event loop) plays every
remote party the dashboard talks to:

* two BTCPay stores through the Greenfield API, in live mode (new invoices
  every few seconds moving through their lifecycle);
* BTCPay's webhook sender, signing every invoice event and delivering it to
  the dashboard's receiver with BTCPay's retry rules;
* an Angornet Nostr relay plus the Angor indexer and esplora APIs, with
  projects of every status.

The demo keeps its own store and config file (``demo.sqlite3`` and
``demo-config.toml`` beside the user's data), recreated on each start, so it
never touches the user's data.
"""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from cftui import config as config_mod
from cftui.config import AngorConfig, Config, Secret, StoreConfig, SyncConfig, UIConfig, WebhooksConfig
from cftui.sim.angor import RELAY_PATH, AngorSimulator
from cftui.sim.config import LiveConfig, SimConfig, default_config
from cftui.sim.server import SimulatorThread
from cftui.sim.webhook_sender import attach
from cftui.sync.service import sources

DEMO_STORES = 2
DEMO_SEED = 1


def _slug(name: str) -> str:
    """'Hackerspace fund' -> 'hackerspace-fund' (store names appear in webhook URLs)."""
    return "-".join(name.lower().split())


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]  # an IP socket's address is (host, port); typeshed says Any
        return port


class Demo:
    """Start with ``with Demo(db_path=...) as demo:``; ``demo.config`` points at the simulator."""

    def __init__(self, *, db_path: Path, invoices: int = 3000, live: bool = True) -> None:
        self.db_path = db_path
        self.config_path = db_path.with_name("demo-config.toml")
        self.invoices = invoices
        self.live = live
        self._config: Config | None = None
        self._thread: SimulatorThread | None = None

    @property
    def config(self) -> Config:
        """The config pointing at the running simulator; there is none before :meth:`start`."""
        if self._config is None:
            raise RuntimeError("the demo has not started: use `with Demo(...) as demo:`")
        return self._config

    def __enter__(self) -> Demo:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sources(self) -> list[str]:
        return sources(self.config)

    def start(self) -> Config:
        sim_config = default_config(
            invoices=self.invoices,
            stores=DEMO_STORES,
            seed=DEMO_SEED,
            live=LiveConfig(interval=4.0, speedup=60) if self.live else None,
        )
        thread = SimulatorThread(sim_config)
        angor = AngorSimulator(seed=7, network="Angornet")
        angor.add_routes(thread.sim.app)
        webhook_port = _free_port()
        stores = _demo_stores(sim_config, webhook_port)
        # The sender's routes must be on the app before it starts.
        sender = attach(
            thread.sim,
            {store.store_id: store.webhook_url for store in stores},
            {store.store_id: store.webhook_secret for store in stores},
            demo=True,
        )
        # Their ids let the Webhooks tab show BTCPay's own delivery list (key b).
        webhook_ids = {webhook.store_id: webhook.id for webhook in sender.webhooks.values()}
        base_url = thread.start()
        self._thread = thread
        config = self._config = _demo_config(
            base_url, stores, webhook_ids, webhook_port, api_key=sim_config.api_keys[0].key, path=self.config_path
        )
        # A fresh store and config file each run: the simulator's clock starts now.
        for stale in (self.db_path, *self.db_path.parent.glob(self.db_path.name + "-*")):
            stale.unlink(missing_ok=True)
        self.config_path.unlink(missing_ok=True)
        config_mod.save(config, self.config_path)
        return config

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None


@dataclass(frozen=True, slots=True)
class _DemoStore:
    """One simulated BTCPay store as the demo's config names it."""

    name: str
    store_id: str
    webhook_url: str  # the dashboard's receiver, for this store
    webhook_secret: str
    all_invoices: tuple[str, ...]  # crowdfund apps counting every invoice of the store


def _demo_stores(sim_config: SimConfig, webhook_port: int) -> list[_DemoStore]:
    stores = []
    for sim_store in sim_config.stores:
        name = _slug(sim_store.name)
        stores.append(
            _DemoStore(
                name=name,
                store_id=sim_store.store_id,
                webhook_url=f"http://127.0.0.1:{webhook_port}/webhook/{name}",
                webhook_secret=secrets.token_urlsafe(16),
                # The one goal setting Greenfield does not show: the demo's config names those apps, as a user's would.
                all_invoices=tuple(app.app_id for app in sim_store.crowdfunds if app.tag_all_invoices),
            )
        )
    return stores


def _demo_config(
    base_url: str,
    stores: list[_DemoStore],
    webhook_ids: dict[str, str],
    webhook_port: int,
    *,
    api_key: str,
    path: Path,
) -> Config:
    host_port = base_url.removeprefix("http://")
    return Config(
        btcpay=tuple(
            StoreConfig(
                name=store.name,
                url=base_url,
                store_id=store.store_id,
                api_key=Secret(api_key),
                webhook_secret=Secret(store.webhook_secret),
                webhook_id=webhook_ids[store.store_id],
                crowdfund_all_invoices=store.all_invoices,
            )
            for store in stores
        ),
        # Short interval: the demo is live, and the simulator is local.
        sync=SyncConfig(interval=20, page_size=500),
        webhooks=WebhooksConfig(enabled=True, host="127.0.0.1", port=webhook_port),
        angor=AngorConfig(
            enabled=True,
            network="Angornet",
            relays=(f"ws://{host_port}{RELAY_PATH}",),
            indexer_url=base_url,
        ),
        ui=UIConfig(),
        path=path,
    )
