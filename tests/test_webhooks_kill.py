"""`kill -9` of a receiver in the middle of a burst, on both engines: every delivery answered 200 is stored,
claimed once, and processed once a receiver runs again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
from pg_server import free_port
from waiting import wait_for
from webhook_helpers import SECRET, STORE_ID, write_receiver_config

from cftui.store.webhook_models import VERIFIED, WebhookDelivery
from cftui.webhooks import envelope, signing
from cftui.webhooks.sample import sample_fields

SENDERS = 8


def start_listen(config, store_args, out) -> subprocess.Popen:
    """`cftui listen`, its output in the file ``out`` (a pipe nobody reads would fill and stall it)."""
    with open(out, "w") as stream:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cftui", "--config", str(config), *store_args, "listen"],
            stdout=stream, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    def listening() -> bool:
        assert proc.poll() is None, out.read_text()
        return "Listening for BTCPay webhooks on" in out.read_text()

    wait_for(listening, "`cftui listen` to listen", timeout=30)
    return proc


async def burst(url: str, killed: asyncio.Event, proc: subprocess.Popen) -> list[str]:
    """Signed deliveries from SENDERS senders until the receiver is gone; the originalDeliveryIds answered 200.
    The receiver is killed once 200 have been answered, with requests in flight."""
    answered: list[str] = []
    numbers = iter(range(10**6))
    async with aiohttp.ClientSession() as session:

        async def sender() -> None:
            while True:
                n = next(numbers)
                delivery_id = f"kill-{n}"
                body = envelope.build("InvoiceSettled", store_id=STORE_ID, webhook_id="WH1", timestamp=1_760_000_000,
                                      delivery_id=delivery_id, invoice_id=f"INV{n}",
                                      fields=sample_fields("InvoiceSettled", timestamp=1_760_000_000))  # fmt: skip
                headers = {"BTCPay-Sig": signing.sign(SECRET, body), "Content-Type": "application/json"}
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        if response.status == 200:
                            answered.append(delivery_id)
                except aiohttp.ClientError:
                    return  # the receiver is gone
                if len(answered) >= 200 and not killed.is_set():
                    killed.set()
                    os.kill(proc.pid, signal.SIGKILL)

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return answered


def test_a_receiver_killed_mid_burst_loses_no_answered_delivery(db, store_args, tmp_path):
    port = free_port()
    config = tmp_path / "config.toml"
    write_receiver_config(config, port)
    proc = start_listen(config, store_args, tmp_path / "first.out")
    killed = asyncio.Event()
    answered = asyncio.run(burst(f"http://127.0.0.1:{port}/webhook/main", killed, proc))
    assert proc.wait(10) == -signal.SIGKILL and len(answered) >= 200

    stored = dict(WebhookDelivery.select(WebhookDelivery.original_delivery_id, WebhookDelivery.verdict).tuples())
    assert all(stored.get(delivery_id) == VERIFIED for delivery_id in answered)  # a 200 is a committed row
    assert WebhookDelivery.select().count() == len(stored)  # each stored once
    # A receiver started again finishes what the killed one accepted (here: queues each invoice, the API being down).
    proc = start_listen(config, store_args, tmp_path / "second.out")
    try:
        unprocessed = WebhookDelivery.select().where((WebhookDelivery.verdict == VERIFIED) & ~WebhookDelivery.processed)
        wait_for(lambda: not unprocessed.exists(), "every accepted delivery processed", timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
