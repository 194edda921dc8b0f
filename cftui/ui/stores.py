"""The store filter every list shares (``w``): all stores, then each configured store in turn."""

from __future__ import annotations

from cftui.config import Config
from cftui.store import queries


def next_store(config: Config, current: str | None) -> str | None:
    """The store after ``current`` in the ``w`` cycle (None: every store)."""
    choices: list[str | None] = [None, *(store.name for store in config.btcpay)]
    index = choices.index(current) if current in choices else 0
    return choices[(index + 1) % len(choices)]


def store_ids(name: str | None) -> tuple[int, ...]:
    """The store-layer filter for a store name: () for every store; (-1,) matches none (a store never synced).

    Reads the store: call it in a worker.
    """
    if name is None:
        return ()
    return tuple(pk for pk, stored in queries.store_names().items() if stored == name) or (-1,)
