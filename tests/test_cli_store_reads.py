"""The CLI reads the store through store query functions, never the models (the layers contract forbids
them): `webhook send` names the store's newest invoice, `webhook replay` finds a delivery by its row
(``#2``) or by BTCPay's delivery id. A real HTTP server on loopback catches what is sent."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from store_samples import fill
from webhook_helpers import SECRET, STORE_ID

from cftui.cli import main
from cftui.domain import DUPLICATE, VERIFIED
from cftui.store import queries, webhook_queries
from cftui.store.db import open_database
from cftui.store.webhook_models import WebhookDelivery


class Catcher:
    """An aiohttp server on its own thread that answers 200 and keeps each body and signature."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str | None]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), request.headers.get("BTCPay-Sig")))
        return web.Response(text="ok")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> Catcher:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    with Catcher() as running:
        yield running


@pytest.fixture
def paths(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "{STORE_ID}"\n'
        f'api_key = "k"\nwebhook_secret = "{SECRET}"\n'
    )
    config.chmod(0o600)
    return {"config": config, "db": tmp_path / "store.sqlite3"}


def cli(paths, *args: str) -> int:
    return main(["--config", str(paths["config"]), "--db", str(paths["db"]), *args])


def test_newest_invoice_id_is_the_newest_of_that_store_only(paths):
    open_database(paths["db"])
    samples = fill(60)
    newest = {
        store: max((s for s in samples if s.store == store), key=lambda s: (s.created_time, s.pk)).invoice_id
        for store in (1, 2)
    }
    assert newest[1] != newest[2]
    assert queries.newest_invoice_id("main") == newest[1]
    assert queries.newest_invoice_id("side") == newest[2]
    assert queries.newest_invoice_id("nosuch") is None


def test_webhook_send_names_the_newest_stored_invoice(paths, catcher):
    open_database(paths["db"])
    samples = fill(60)
    newest = max((s for s in samples if s.store == 1), key=lambda s: (s.created_time, s.pk)).invoice_id
    assert cli(paths, "webhook", "send", "--store", "main", "--type", "InvoiceSettled", "--url", catcher.url) == 0
    [(body, signature)] = catcher.received
    assert json.loads(body)["invoiceId"] == newest and signature


def _record(delivery_id: str, body: bytes, received_ms: int, verdict: str) -> int:
    return WebhookDelivery.insert(
        received_ms=received_ms, remote="127.0.0.1", path="/webhook/main", store_name="main", headers="{}",
        signature=f"sha256={delivery_id}-{received_ms}", body=body, body_size=len(body), verdict=verdict,
        http_status=200, delivery_id=delivery_id, original_delivery_id=delivery_id, event_type="InvoiceSettled",
    ).execute()  # fmt: skip


def test_replay_finds_a_delivery_by_row_or_by_its_first_recording(paths, catcher, capsys):
    open_database(paths["db"])
    first = _record("d1", b'{"n": 1}', 1_000, VERIFIED)
    again = _record("d1", b'{"n": 2}', 2_000, DUPLICATE)  # the same delivery recorded again later (a replay)
    assert webhook_queries.first_delivery("d1").line.id == first
    assert webhook_queries.delivery(again).body == b'{"n": 2}'
    assert webhook_queries.first_delivery("nope") is None and webhook_queries.delivery(99) is None

    assert cli(paths, "webhook", "replay", "d1", "--url", catcher.url) == 0
    assert cli(paths, "webhook", "replay", f"#{again}", "--url", catcher.url) == 0
    assert catcher.received == [(b'{"n": 1}', "sha256=d1-1000"), (b'{"n": 2}', "sha256=d1-2000")]
    assert "replay of #2 (InvoiceSettled, 8 bytes)" in capsys.readouterr().out
    assert cli(paths, "webhook", "replay", "#99", "--url", catcher.url) == 2
    assert "No recorded delivery #99" in capsys.readouterr().err
