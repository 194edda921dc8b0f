"""``python -m cftui.sim`` runs a simulator process other processes (benchmarks) can use."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx

from cftui.cli import main


def test_foreground_server_prints_its_coordinates_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "cftui.sim", "--invoices", "300", "--stores", "2", "--seed", "5", "--version", "2.3.0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:
            if line.strip() == "ready":
                break
            lines.append(dict(field.split("=", 1) for field in line.split()))
        assert len(lines) == 2
        assert len({line["store_id"] for line in lines}) == 2
        for line in lines:
            headers = {"Authorization": f"token {line['api_key']}"}
            url = f"{line['url']}/api/v1/stores/{line['store_id']}/invoices"
            listed = httpx.get(url, params={"includeArchived": "true"}, headers=headers, timeout=30).json()
            assert len(listed) == int(line["invoices"]) == 300
        info = httpx.get(f"{lines[0]['url']}/api/v1/server/info", headers=headers).json()
        assert info["version"] == "2.3.0"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_live_standalone_simulator_delivers_to_a_webhook_registered_through_the_cli(tmp_path):
    """The newcomer's path: `python -m cftui.sim --live`, `cftui webhook register`, `cftui listen`."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "cftui.sim", "--invoices", "20", "--live", "--interval", "0.2", "--fast-retries"],
        stdout=subprocess.PIPE, text=True,
    )
    listen = None
    try:
        coordinates = dict(field.split("=", 1) for field in sim.stdout.readline().split())
        assert sim.stdout.readline().strip() == "ready"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config = tmp_path / "config.toml"
        config.write_text(
            f'[[btcpay]]\nname = "main"\nurl = "{coordinates["url"]}"\nstore_id = "{coordinates["store_id"]}"\n'
            f'api_key = "{coordinates["api_key"]}"\n\n[webhooks]\nport = {port}\n'
        )
        base = ["--config", str(config), "--db", str(tmp_path / "store.sqlite3")]
        assert (
            main([*base, "webhook", "register", "--store", "main", "--url", f"http://127.0.0.1:{port}/webhook/main"])
            == 0
        )
        assert "webhook_secret" in config.read_text()  # the secret BTCPay shows only once was kept

        listen = subprocess.Popen(
            [sys.executable, "-m", "cftui", *base, "listen"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("↳ invoice" in line and "stored" in line for line in lines):
            lines.append(listen.stdout.readline())
        delivered = [line for line in lines if " verified " in line]
        assert delivered, lines
        assert "200" in delivered[0] and "main" in delivered[0] and "invoice=" in delivered[0]
        # The receiver fetched the invoice from the simulator's API (it is up) and stored it.
        assert any("↳ invoice" in line and "stored" in line for line in lines), lines
    finally:
        for process in (listen, sim):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
