"""A real Nostr relay (the ``nostr-relay`` package from the ``[test]`` extra) on loopback, for the Angor tests.

The relay is configured without its signature and age validators, so the tests
can store forged or old events in it: the client under test must catch them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import aiohttp

from cftui.angor.events import NostrEvent

CONFIG = """\
DEBUG: false
storage:
  sqlalchemy.url: sqlite+aiosqlite:///{db}
  num_concurrent_reqs: 10
  num_concurrent_adds: 4
  validators:
    - nostr_relay.validators.is_not_too_large
gunicorn:
  bind: 127.0.0.1:{port}
  workers: 1
  loglevel: warning
  reload: false
authentication:
  enabled: false
max_event_size: 65536
oldest_event: 99999999999
message_timeout: 1800
subscription_limit: 64
max_limit: 6000
logging:
  version: 1
  root: {{level: WARNING}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"nostr-relay exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nostr-relay did not start listening")


def start_relay(directory: Path, name: str) -> tuple[str, subprocess.Popen]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / f"{name}.yaml"
    config.write_text(CONFIG.format(db=directory / f"{name}.sqlite3", port=port))
    log = open(directory / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-c", "from nostr_relay.cli import main; main()", "-c", str(config), "serve", "--use-uvicorn"],
        stdout=log, stderr=subprocess.STDOUT, cwd=directory,
    )
    try:
        _wait_for_port(port, proc)
    except RuntimeError:
        proc.kill()
        raise
    return f"ws://127.0.0.1:{port}/", proc


def relays_in(tmp_path) -> Iterator:
    """The ``nostr_relays`` fixture (tests/conftest.py): ``start(n)`` -> n relay URLs, each a real relay process;
    all stopped when the generator is closed."""
    procs: list[subprocess.Popen] = []

    def start(count: int = 1) -> list[str]:
        urls = []
        for _ in range(count):
            url, proc = start_relay(tmp_path / "relays", f"relay{len(procs)}")
            procs.append(proc)
            urls.append(url)
        return urls

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def publish(url: str, events: Iterable[NostrEvent]) -> None:
    """Store ``events`` on the relay at ``url``; fail unless the relay accepts each one."""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        pending = {}
        for event in events:
            pending[event.id] = event
            await ws.send_str(json.dumps(["EVENT", event.to_json()]))
        while pending:
            message = json.loads((await asyncio.wait_for(ws.receive(), 30)).data)
            if message[0] == "OK":
                assert message[2] is True or "duplicate" in message[3], message
                pending.pop(message[1], None)
