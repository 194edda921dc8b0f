"""The webhook commands as a user runs them: `listen` (a real subprocess), `send`, `replay`,
`export deliveries`, `register` and `deliveries` (against the simulator)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
from waiting import wait_for
from webhook_helpers import SECRET, write_receiver_config

from cftui import config as config_mod
from cftui.cli import main
from cftui.sim.webhook_sender import install


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def setup(tmp_path, store_target, store_args):
    port = free_port()
    cfg = tmp_path / "config.toml"
    write_receiver_config(cfg, port, webhooks="read_timeout = 2\n")
    return {"config": cfg, "db": store_target, "store_args": store_args, "port": port, "tmp": tmp_path}


def cli(setup, *args) -> int:
    return main(["--config", str(setup["config"]), *setup["store_args"], *args])


@pytest.fixture
def listening(setup):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cftui", "--config", str(setup["config"]), *setup["store_args"], "listen"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    first = proc.stdout.readline()
    assert first.startswith("Listening for BTCPay webhooks on"), first
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def read_until(proc, needle: str, timeout: float = 10) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not in {lines}")


def test_listen_prints_each_delivery_and_stops_cleanly_on_sigterm(setup, listening, capsys):
    assert cli(setup, "webhook", "send", "--store", "main", "--type", "InvoiceSettled", "--invoice", "INV9") == 0
    assert "HTTP 200 ok" in capsys.readouterr().out
    line = read_until(listening, "InvoiceSettled")[-1]
    assert "200" in line and "verified" in line and "invoice=INV9" in line and "main" in line
    # The API is down (port 9): the invoice is queued for the next sync, and listen says so.
    assert "queued for the next sync" in read_until(listening, "↳ invoice INV9")[-1]

    assert cli(setup, "webhook", "send", "--store", "main", "--bad-signature") == 0  # 401 is what was asked for
    assert "HTTP 401" in capsys.readouterr().out
    assert "bad_signature" in read_until(listening, "bad_signature")[-1]

    listening.send_signal(signal.SIGTERM)
    rest = listening.communicate(timeout=10)[0]
    assert listening.returncode == 0 and "Stopped." in rest


def test_send_fails_clearly_when_nothing_listens(setup, capsys):
    assert cli(setup, "webhook", "send", "--store", "main") == 5
    assert "Could not deliver InvoiceSettled" in capsys.readouterr().err


def test_replay_sends_the_recorded_bytes_again_and_export_lists_both(setup, listening, capsys):
    assert cli(setup, "webhook", "send", "--store", "main", "--type", "PayoutCreated") == 0
    read_until(listening, "PayoutCreated")
    from cftui.store.db import open_database
    from cftui.store.webhook_models import WebhookDelivery

    open_database(setup["db"])  # the listen process writes it; read it here
    first = WebhookDelivery.get()
    assert cli(setup, "webhook", "replay", first.delivery_id) == 0
    assert "duplicate" in capsys.readouterr().out
    read_until(listening, "duplicate")
    second = WebhookDelivery.select().order_by(WebhookDelivery.id.desc()).get()
    assert bytes(second.body) == bytes(first.body) and second.signature == first.signature
    assert cli(setup, "webhook", "replay", "no-such-delivery") == 2  # a bad argument: usage

    capsys.readouterr()
    assert cli(setup, "export", "deliveries", "--format", "csv", "-o", "-") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["verdict"] for r in rows] == ["verified", "duplicate"]
    assert rows[0]["processed"] == "true" and rows[1]["processed"] == "false"
    assert rows[0]["delivery_id"] == rows[1]["original_delivery_id"] == first.delivery_id
    assert rows[0]["type"] == "PayoutCreated" and rows[0]["store"] == "main"
    assert rows[0]["received"].endswith("Z") and rows[0]["received"][10] == "T"
    for field in ("is_redelivery", "invoice_id", "reason"):
        assert field in rows[0]

    out = setup["tmp"] / "deliveries.json"
    assert cli(setup, "export", "deliveries", "--format", "json", "-o", str(out)) == 0
    exported = json.loads(out.read_text())
    assert [r["verdict"] for r in exported] == ["verified", "duplicate"]
    assert exported[0]["processed"] is True and exported[0]["is_redelivery"] is False


def test_register_and_deliveries_against_the_simulator(setup, capsys, start_sim):
    senders = []  # its routes (the management API) can only be added before the simulator serves
    sim_thread = start_sim(invoices=10, now=1_760_000_000,
                           before_start=lambda sim: senders.append(install(sim, retry_delays=(0.05,))))
    [sender], url = senders, sim_thread.base_url
    store = sim_thread.sim.config.stores[0]
    setup["config"].write_text(
        f'[[btcpay]]\nname = "main"\nurl = "{url}"\nstore_id = "{store.store_id}"\n'
        f'api_key = "{sim_thread.sim.config.api_keys[0].key}"\n\n[webhooks]\nport = {setup["port"]}\n'
    )
    target = f"http://127.0.0.1:{setup['port']}/webhook/main"
    assert cli(setup, "webhook", "register", "--store", "main", "--url", target, "--event", "InvoiceCreated") == 0
    out = capsys.readouterr().out
    [webhook] = sender.webhooks.values()
    assert webhook.url == target and webhook.specific_events == ("InvoiceCreated",)
    assert webhook.secret not in out  # shown never, saved once
    saved = config_mod.load(setup["config"]).store("main")
    assert saved.webhook_secret.reveal() == webhook.secret and saved.webhook_id == webhook.id
    assert stat.S_IMODE(setup["config"].stat().st_mode) == 0o600

    # Nothing listens yet: BTCPay's list shows a failed delivery this receiver never saw.
    from cftui.sim import lifecycle

    sim_thread.call(lifecycle.create_invoice, sim_thread.sim.state, store.store_id, amount_minor=100)
    wait_for(lambda: len(sender.deliveries[webhook.id]) >= 2, "the delivery and its retry")
    assert cli(setup, "webhook", "deliveries", "--store", "main") == 0
    shown = capsys.readouterr().out
    assert "Failed" in shown and "NEVER RECEIVED" in shown and "2 never reached this receiver" in shown


def test_daemon_receives_syncs_and_stops_cleanly_on_sigterm(setup, start_sim):
    sim_thread = start_sim(invoices=25, now=1_760_000_000)
    url = sim_thread.base_url
    store = sim_thread.sim.config.stores[0]
    setup["config"].write_text(
        f'[[btcpay]]\nname = "main"\nurl = "{url}"\nstore_id = "{store.store_id}"\n'
        f'api_key = "{sim_thread.sim.config.api_keys[0].key}"\nwebhook_secret = "{SECRET}"\n\n'
        f'[sync]\ninterval = 3600\n\n[webhooks]\nport = {setup["port"]}\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cftui", "--config", str(setup["config"]), *setup["store_args"], "daemon"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout.readline().startswith("Listening for BTCPay webhooks on")
        assert "new 25" in read_until(proc, "sync btcpay:main")[-1]  # the first sync runs at once
        invoice = sim_thread.call(lambda: sim_thread.sim.state.stores[store.store_id].get(3))
        assert cli(setup, "webhook", "send", "--store", "main", "--invoice", invoice.id) == 0
        assert "stored" in read_until(proc, f"↳ invoice {invoice.id}")[-1]
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=20)[0]
        assert proc.returncode == 0 and "Stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
