"""A team store: two `cftui daemon` processes and two dashboard readers on one PostgreSQL database at once.

Real processes throughout: the simulator serves two BTCPay stores; daemon A
receives webhooks for both and syncs both, daemon B receives and syncs the
second (so two processes sync one store at the same time, as a dashboard
beside a daemon does); each syncs again every second. Signed deliveries go to
both, some of them the same delivery to both at once. Two reader processes
do what the Overview and Webhooks tabs do meanwhile. Afterwards: every
delivery answered 200 is stored once, claimed once across the two
processes, and processed; every invoice is stored once with an exact
roll-up; each reader saw every delivery and no error; no process logged a
lock error.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import pytest
import waiting
from pg_server import free_port
from webhook_helpers import SECRET

from cftui.sim.config import default_config
from cftui.sim.generator import StoreGenerator, expected_store_totals
from cftui.store import daystats
from cftui.store.models import Invoice, InvoiceDayStat, Store
from cftui.store.webhook_models import DUPLICATE, VERIFIED, WebhookDelivery
from cftui.webhooks import envelope, signing
from cftui.webhooks.sample import sample_fields

pytestmark = pytest.mark.parametrize("engine_name", ["postgresql"])

NOW = 1_760_000_000
INVOICES = 1_500  # per store
OWN = 120  # deliveries each daemon alone receives
SHARED = 60  # deliveries both receive at once
READER = Path(__file__).with_name("team_reader.py")


class Daemon:
    """`cftui daemon` in a process of its own; its output gathered by a thread."""

    def __init__(self, config: Path, store_args: list[str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cftui", "--config", str(config), *store_args, "daemon"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def count(self, needle: str) -> int:
        return sum(needle in line for line in list(self.lines))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._reader.join(5)


def wait_for(condition, what: str) -> None:
    waiting.wait_for(condition, what, timeout=90)  # two daemons and two readers on a shared machine


def daemon_config(path: Path, url: str, stores: list[tuple[str, str]], key: str, port: int) -> Path:
    text = "".join(
        f'[[btcpay]]\nname = "{name}"\nurl = "{url}"\nstore_id = "{store_id}"\napi_key = "{key}"\n'
        f'webhook_secret = "{SECRET}"\n\n'
        for name, store_id in stores
    )
    path.write_text(text + f"[sync]\ninterval = 1\nretry_budget = 10\n\n[webhooks]\nport = {port}\n")
    return path


def delivery(store_id: str, invoice_id: str, number: int) -> bytes:
    return envelope.build(
        "InvoiceSettled", store_id=store_id, webhook_id="WH1", timestamp=NOW + number, invoice_id=invoice_id,
        metadata={"orderId": f"team-{number}"}, fields=sample_fields("InvoiceSettled", timestamp=NOW + number),
    )  # fmt: skip


async def post_all(posts: list[tuple[str, bytes]]) -> list[int]:
    """POST every (url, body) signed, 16 at a time; the HTTP statuses."""
    gate = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:

        async def one(url: str, body: bytes) -> int:
            async with gate:
                headers = {"BTCPay-Sig": signing.sign(SECRET, body), "Content-Type": "application/json"}
                async with session.post(url, data=body, headers=headers) as response:
                    return response.status

        return await asyncio.gather(*(one(url, body) for url, body in posts))


def test_two_daemons_and_two_readers_share_one_postgresql_store(db, store_target, store_args, tmp_path, start_sim):
    sim_config = default_config(invoices=INVOICES, stores=2, seed=21, now=NOW)
    (alpha, beta), key = sim_config.stores, sim_config.api_keys[0].key
    sim = start_sim(sim_config)
    ids = {
        store.store_id: sim.call(lambda s=store: [sim.sim.state.stores[s.store_id].get(i).id for i in range(300)])
        for store in (alpha, beta)
    }
    port_a, port_b = free_port(), free_port()
    stores_a = [("alpha", alpha.store_id), ("beta", beta.store_id)]
    a = Daemon(daemon_config(tmp_path / "a.toml", sim.base_url, stores_a, key, port_a), store_args)
    b = Daemon(daemon_config(tmp_path / "b.toml", sim.base_url, [("beta", beta.store_id)], key, port_b), store_args)
    stop = tmp_path / "stop-readers"
    readers = [
        subprocess.Popen([sys.executable, str(READER), store_target, str(stop), str(tmp_path / f"reader{n}.json")])
        for n in range(2)
    ]
    try:
        wait_for(lambda: a.count("Listening") and b.count("Listening"), "both daemons to listen")
        at_a, at_b = f"http://127.0.0.1:{port_a}/webhook", f"http://127.0.0.1:{port_b}/webhook"
        posts = [(f"{at_a}/alpha", delivery(alpha.store_id, ids[alpha.store_id][n], n)) for n in range(OWN)]
        posts += [(f"{at_b}/beta", delivery(beta.store_id, ids[beta.store_id][n], 1000 + n)) for n in range(OWN)]
        for n in range(SHARED):  # the same delivery to both receivers at once
            body = delivery(beta.store_id, ids[beta.store_id][OWN + n], 2000 + n)
            posts += [(f"{at_a}/beta", body), (f"{at_b}/beta", body)]
        statuses = asyncio.run(post_all(posts))
        assert statuses == [200] * len(posts)

        def settled() -> bool:  # two syncs of each store by each daemon, every claim processed
            return (a.count("sync btcpay:alpha") >= 2 and a.count("sync btcpay:beta") >= 2
                    and b.count("sync btcpay:beta") >= 2
                    and not WebhookDelivery.select().where(
                        (WebhookDelivery.verdict == VERIFIED) & ~WebhookDelivery.processed).exists())  # fmt: skip

        wait_for(settled, "the syncs and the processing")
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(60)
        codes = [a.stop(), b.stop()]
    output = "".join(a.lines + b.lines)
    assert codes == [0, 0], output[-3000:]
    assert "Stopped." in "".join(a.lines) and "Stopped." in "".join(b.lines)
    log = (tmp_path / "logs" / "cftui.log").read_text()
    for text in (output, log):
        for trouble in ("locked", "deadlock", "Traceback", "could not serialize", "could not record", "duplicate key"):
            assert trouble not in text, (trouble, text[-3000:])
    assert [line for line in output.splitlines() if line.startswith("sync ") and "error" in line.lower()] == []

    # Every delivery stored once and claimed once across both processes.
    rows = list(WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.original_delivery_id,
                                       WebhookDelivery.verdict, WebhookDelivery.processed).tuples())  # fmt: skip
    assert len(rows) == len(posts)
    verdicts: dict[str, list[str]] = {}
    for _, original, verdict, _ in rows:
        verdicts.setdefault(original, []).append(verdict)
    assert len(verdicts) == 2 * OWN + SHARED
    assert sorted(map(tuple, map(sorted, verdicts.values()))) == sorted(
        [(VERIFIED,)] * (2 * OWN) + [(DUPLICATE, VERIFIED)] * SHARED
    )
    assert all(processed for _, _, verdict, processed in rows if verdict == VERIFIED)

    # Every invoice stored once, the figures equal the simulator's, the roll-up exact.
    for name, sim_store in (("alpha", alpha), ("beta", beta)):
        store = Store.get(Store.name == name)
        invoices = Invoice.select().where(Invoice.store == store)
        truth = expected_store_totals(StoreGenerator(sim_config, sim_store))
        assert invoices.count() == len({i.invoice_id for i in invoices}) == truth["count"]
        assert sum(i.btc_paid_sats or 0 for i in invoices) == truth["btc_paid_sats"]
    rolled = set(InvoiceDayStat.select(InvoiceDayStat.store, InvoiceDayStat.day, InvoiceDayStat.status,
                                       InvoiceDayStat.currency, InvoiceDayStat.count,
                                       InvoiceDayStat.btc_paid_sats).tuples())  # fmt: skip
    daystats.rebuild()
    assert rolled == set(InvoiceDayStat.select(InvoiceDayStat.store, InvoiceDayStat.day, InvoiceDayStat.status,
                                               InvoiceDayStat.currency, InvoiceDayStat.count,
                                               InvoiceDayStat.btc_paid_sats).tuples())  # fmt: skip

    # Each reader saw every delivery through "newer than the last seen", once, and never failed.
    all_ids = sorted(row[0] for row in rows)
    for n in range(2):
        report = json.loads((tmp_path / f"reader{n}.json").read_text())
        assert report["errors"] == [] and report["polls"] > 5
        assert report["seen"] == all_ids
        assert {"webhooks", "invoices"} <= set(report["sources"])
