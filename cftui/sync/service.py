"""One entry point for every sync source, for the CLI, the dashboard and the daemon.

Sources are named ``btcpay:<store name>`` and ``angor``. :func:`run_sync`
blocks (it runs the async engine with ``asyncio.run``), so a Textual thread
worker or the CLI can call it; :func:`run_sync_async` is for callers already
on an event loop (the headless daemon). Both use the store database that the
caller opened, and report through the same :class:`~cftui.sync.events` types.
"""

from __future__ import annotations

import asyncio

from cftui.config import Config
from cftui.domain import ANGOR_SOURCE, btcpay_source, source_store
from cftui.errors import ConfigError
from cftui.sync.events import Reporter, SyncResult, ignore
from cftui.sync.reported import CancelFlag


def sources(config: Config) -> list[str]:
    """Every source the config enables, BTCPay stores first."""
    names = [btcpay_source(store.name) for store in config.btcpay]
    if config.angor.enabled:
        names.append(ANGOR_SOURCE)
    return names


async def run_sync_async(
    source: str,
    config: Config,
    *,
    reporter: Reporter = ignore,
    cancel: CancelFlag | None = None,
) -> SyncResult:
    """Sync ``source`` once. Sync failures come back in ``SyncResult.error``;
    an unknown source name is a :class:`~cftui.errors.ConfigError`."""
    store_name = source_store(source)
    if store_name is not None:
        from cftui.sync.engine import sync_store

        return await sync_store(config.store(store_name), config.sync, reporter=reporter, cancel=cancel)
    if source == ANGOR_SOURCE:
        # Imported lazily: the Angor stack (websockets, secp256k1) loads only when used.
        from cftui.sync.angor import sync_angor

        return await sync_angor(config.angor, reporter=reporter, cancel=cancel)
    known = ", ".join(sources(config)) or "none configured"
    raise ConfigError(f"Unknown sync source '{source}' (sources: {known}).")


def run_sync(
    source: str,
    config: Config,
    *,
    reporter: Reporter = ignore,
    cancel: CancelFlag | None = None,
) -> SyncResult:
    """Blocking :func:`run_sync_async`, on a fresh event loop (call it from a worker thread)."""
    return asyncio.run(run_sync_async(source, config, reporter=reporter, cancel=cancel))
