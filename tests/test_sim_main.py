"""``python -m cftui.sim`` runs a simulator process other processes (benchmarks) can use."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx


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
