"""Runs a sync's store writes on one thread of their own.

The database does its work with the GIL released (SQLite in its C library,
PostgreSQL on the server), so while this thread commits page N the event
loop parses page N+1 and the server builds page N+2: the three overlap
instead of taking turns. One thread keeps the writes in order (page N's scan
position is never committed after page N+1's) and gives the sync a single
connection. An in-memory SQLite database cannot be shared between
connections, so for ``:memory:`` the work runs inline instead.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cftui.store import engine
from cftui.store.models import database

T = TypeVar("T")


class DbThread:
    def __init__(self) -> None:
        self._engine = engine.current()
        self._pool = None
        if self._engine.shared(database.obj):
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="cftui-sync-db")
            self._pool.submit(self._engine.tune_bulk_writer, database.obj).result()

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))

    async def close(self) -> None:
        """Close this thread's connection (peewee keeps one per thread) and the thread."""
        if self._pool is not None:
            await self(self._engine.checkpoint, database.obj)
            await self(database.close)
            self._pool.shutdown(wait=True)
            self._pool = None
