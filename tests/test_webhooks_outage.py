"""While a store's API is down, every delivery submitted for it is queued, even one that arrives mid-write."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from webhook_helpers import make_config

from cftui.webhooks.notices import ProcessedNotice
from cftui.webhooks.processing import InvoiceProcessor


class GatedWriter:
    """Stands in for the recorder's writer thread: writes nothing, and holds a write while the gate is shut."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.writing = asyncio.Event()

    async def call(self, fn: Callable[..., Any], *args: Any) -> None:
        self.writing.set()
        await self.gate.wait()


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_delivery_submitted_while_a_down_batch_is_written_is_queued_too():
    notices: list[ProcessedNotice] = []
    writer = GatedWriter()
    processor = InvoiceProcessor(make_config(), writer, on_processed=notices.append)  # its API is down (port 9)
    processor.start()
    try:
        processor.submit(1, "main", "A")  # the fetch fails: the store is marked down, A is queued
        await wait_for(lambda: any(n.invoice_id == "A" for n in notices))
        writer.gate.clear()
        writer.writing.clear()
        processor.submit(2, "main", "B")  # gathered, then written after a short wait: held at the gate
        await asyncio.wait_for(writer.writing.wait(), 5)
        processor.submit(3, "main", "C")  # arrives while B's batch is being written
        writer.gate.set()

        await wait_for(lambda: {"B", "C"} <= {n.invoice_id for n in notices})
        assert all(n.queued for n in notices)
        assert sorted(row for n in notices for row in n.delivery_ids) == [1, 2, 3]
    finally:
        await processor.stop()
