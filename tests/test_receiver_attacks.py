"""Attacks on a real `cftui listen` subprocess while BTCPay keeps delivering (review D1, D2, D4, D9, D12).

The receiver runs on a store of each engine (SQLite, PostgreSQL), with its
file-descriptor limit lowered to 256 (as a service at the usual 1,024 limit,
only smaller), ``read_timeout = 2`` and ``rate_limit = 20``. Each test runs
one kind of attack and, the whole time, a prober in its own thread posts a
signed delivery every 0.1 s from 127.0.0.1, the address everything shares
behind the README's SSH tunnel. Every test then checks the same things:

* every probe was answered 200 within 1 s (a correctness bound, not a benchmark),
* every probe is in the store as verified: none lost,
* stderr holds no traceback, and stdout and the log hold no raw control character.

The load is kept modest (a few hundred connections, a few hundred requests) so
the suite stays reliable on a small shared machine.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from waiting import wait_for, wait_for_async
from webhook_helpers import SECRET, signed, write_receiver_config

from cftui.store.db import open_database
from cftui.store.webhook_models import VERIFIED, WebhookDelivery
from cftui.webhooks import signing

FD_LIMIT = 256  # the receiver's own limit: the slowloris below opens more connections than that
ANSWER_WITHIN = 1.0  # seconds, for every valid delivery during an attack
PROBE_EVERY = 0.1
BAD_SIG = "sha256=" + "0" * 64
ESC_BODY = (
    b'{"deliveryId":"d\\u001b]52;c;cHduZWQ=\\u0007","webhookId":"w","originalDeliveryId":"d","isRedelivery":false,'
    b'"type":"Invoice\\u001b]0;OWNED\\u0007Settled","timestamp":1,"storeId":"x","invoiceId":"i"}'
)
ESC_PATH = "/webhook/%1b%5b2J%0a2026-12-05%2006:52:23,599%20WARNING%20cftui.forged:%20FAKE"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lower_fd_limit() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@dataclass
class Listener:
    proc: subprocess.Popen
    port: int
    store: str  # what --db or --db-url names
    stdout: Path
    stderr: Path
    log_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/health")
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()


@pytest.fixture
def listener(tmp_path, store_target, store_args):
    port = free_port()
    config = write_receiver_config(tmp_path / "config.toml", port, webhooks="read_timeout = 2\nrate_limit = 20\n")
    out, err, log_dir = tmp_path / "listen.out", tmp_path / "listen.err", tmp_path / "logs"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CFTUI_LOG_DIR": str(log_dir)}
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cftui", "--config", str(config), *store_args, "listen"],
            stdout=stdout, stderr=stderr, env=env, preexec_fn=_lower_fd_limit,
        )
    running = Listener(proc, port, store_target, out, err, log_dir)

    def listening() -> bool:
        assert proc.poll() is None, err.read_text()
        return "Listening for BTCPay webhooks" in out.read_text()

    wait_for(listening, "`cftui listen` to listen")
    yield running
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Prober:
    """Posts a signed delivery every PROBE_EVERY seconds, on a new connection each, until stopped."""

    port: int
    results: list[tuple[str, int | str, float]] = field(default_factory=list)  # delivery id, status, seconds
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._run, name="prober", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        number = 0
        while not self._stop.wait(PROBE_EVERY):
            number += 1
            body, sig = signed(invoice_id=f"PROBE{number}")
            self.results.append((json.loads(body)["deliveryId"], *self._post(body, sig)))

    def _post(self, body: bytes, sig: str) -> tuple[int | str, float]:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("POST", "/webhook/main", body, {"BTCPay-Sig": sig, "Content-Type": "application/json"})
            status: int | str = connection.getresponse().status
        except OSError as exc:
            status = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        return status, time.monotonic() - started


def check_after(listener: Listener, prober: Prober) -> dict:
    """The checks every attack ends with (see the module doc); returns /health for more."""
    assert len(prober.results) >= 10, prober.results
    late = [(status, round(seconds, 3)) for _, status, seconds in prober.results
            if status != 200 or seconds > ANSWER_WITHIN]
    assert not late, f"{len(late)} of {len(prober.results)} valid deliveries not answered 200 within 1 s: {late[:10]}"
    health = listener.health()
    listener.proc.send_signal(signal.SIGTERM)
    assert listener.proc.wait(20) == 0
    db = open_database(listener.store)
    try:
        stored = set(WebhookDelivery.select(WebhookDelivery.delivery_id).where(
            WebhookDelivery.verdict == VERIFIED).scalars())  # fmt: skip
    finally:
        db.close()
    assert {delivery for delivery, _, _ in prober.results} <= stored  # none lost
    err = listener.stderr.read_text()
    assert "Traceback" not in err and "Error handling request" not in err, err[-2000:]
    for shown in (listener.stdout.read_text(), *(p.read_text() for p in listener.log_dir.glob("cftui.log*"))):
        raw = sorted({hex(ord(c)) for c in shown if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0})
        assert not raw, raw
    return health


# ---------------------------------------------------------------- attack tools


async def raw_request(port: int, data: bytes, *, source: str = "127.0.0.1", wait: float = 10) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    except ConnectionError:
        return b""
    finally:
        writer.close()


def post_bytes(path: str, body: bytes, signature: str | None) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if signature:
        head += f"BTCPay-Sig: {signature}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def status_of(answer: bytes) -> int | None:
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


ATTACK_SECONDS = 4.0  # each attack keeps going this long, so the prober measures during it


async def for_a_while(make_round, seconds: float = ATTACK_SECONDS) -> list:
    """Run ``make_round()`` (a coroutine returning a list) again and again for ``seconds``; all answers."""
    answers: list = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        answers += await make_round()
    return answers


async def gather_limited(coros, limit: int = 20) -> list:
    gate = asyncio.Semaphore(limit)

    async def one(coro):
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def slowloris(port: int, count: int, seconds: float, sources: list[str]) -> int:
    """Hold ``count`` connections open for ``seconds``, dripping header bytes; reopen each one the server closes."""
    opened = 0
    stop = time.monotonic() + seconds

    async def hold(source: str) -> None:
        nonlocal opened
        while time.monotonic() < stop:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            except OSError:  # out of descriptors: the attacker's own back-off
                await asyncio.sleep(0.5)
                continue
            opened += 1
            try:
                writer.write(b"POST /webhook/main HTTP/1.1\r\n")
                while time.monotonic() < stop and not reader.at_eof():
                    try:
                        await asyncio.wait_for(reader.read(1), 1.0)
                    except TimeoutError:
                        writer.write(b"X-Drip: 1\r\n")  # a header line a second: never a complete request
            except OSError:
                pass
            finally:
                writer.close()
            await asyncio.sleep(0.5 * random.random())  # reopen, as slowloris does, without a busy loop

    await asyncio.gather(*(hold(sources[i % len(sources)]) for i in range(count)))
    return opened


@pytest.fixture(autouse=True)
def enough_descriptors_here():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard >= 1024, "the attacks need 1,024 descriptors in the test process"
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---------------------------------------------------------------- the attacks


def test_slowloris_beyond_the_fd_limit(listener):
    """400 slow-header connections, more than the receiver's 256 descriptors, from 127.0.0.1 and four others."""
    sources = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    with Prober(listener.port) as prober:
        opened = asyncio.run(slowloris(listener.port, 400, 6.0, sources))
    health = check_after(listener, prober)
    connections = health["connections"]
    assert opened > 400  # the server kept closing them, and they kept coming back
    assert connections["limit"] == FD_LIMIT - 64
    assert connections["closed_to_make_room"] > 0  # made room for the probes, again and again


def test_idle_connections_beyond_the_fd_limit(listener):
    """300 connections that send nothing at all: each is cut after read_timeout or makes room."""

    async def attack() -> None:
        idle = [await asyncio.open_connection("127.0.0.1", listener.port, local_addr=("127.0.0.6", 0))
                for _ in range(300)]
        # Every one: room made, or read_timeout passed (within a few of them).
        await wait_for_async(lambda: all(reader.at_eof() for reader, _ in idle), "all 300 closed", timeout=10)
        for _, writer in idle:
            writer.close()

    with Prober(listener.port) as prober:
        asyncio.run(attack())
    check_after(listener, prober)


MALFORMED = (
    b"G\x01T /webhook/main HTTP/1.1\r\nHost: x\r\n\r\n",
    b"FOO /\x1b[2J HTTP/1.1\r\n\r\n",
    b"POST /webhook/" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",
    "POST /webhook/caf\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    b"POST /webhook/main HTTP/1.1\r\nX-Big: " + b"b" * 60_000 + b"\r\n\r\n",
)


def test_escapes_nesting_and_malformed_http(listener):
    deep = b"[" * 5000 + b"]" * 5000
    port = listener.port

    async def attack() -> dict[str, list]:
        return {
            "escapes": await gather_limited(
                [raw_request(port, post_bytes("/webhook/main", ESC_BODY, "sha256=00"), source="127.0.0.7"),
                 raw_request(port, post_bytes(ESC_PATH, b"{}", None), source="127.0.0.8")]),
            "deep signed": await gather_limited(
                [raw_request(port, post_bytes("/webhook/main", deep, signing.sign(SECRET, deep)), source="127.0.0.9")]),
            "deep unsigned": await for_a_while(lambda: gather_limited(
                [raw_request(port, post_bytes("/webhook/main", deep, BAD_SIG), source="127.0.0.10")
                 for _ in range(10)]), ATTACK_SECONDS / 2),
            "malformed": await for_a_while(lambda: gather_limited(
                [raw_request(port, request, source="127.0.0.11") for request in MALFORMED * 2]), ATTACK_SECONDS / 2),
        }

    with Prober(port) as prober:
        answers = asyncio.run(attack())
    statuses = {name: [status_of(a) for a in found] for name, found in answers.items()}
    assert statuses["escapes"] == [401, 404]
    assert statuses["deep signed"] == [400]
    deep_unsigned = statuses["deep unsigned"]
    assert deep_unsigned[:20] == [401] * 20 and set(deep_unsigned[20:]) == {429}  # rate_limit = 20
    malformed = statuses["malformed"]
    assert set(malformed[:20]) <= {400, None} and set(malformed[20:]) <= {429, None} and 429 in malformed
    check_after(listener, prober)
    out = listener.stdout.read_text()
    assert "Invoice\\x1b]0;OWNED\\x07Settled" in out and "delivery=d\\x1b]52;c;cHduZWQ=\\x07" in out
    assert "/webhook/\\x1b[2J\\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE" in out
    log = "".join(p.read_text() for p in listener.log_dir.glob("cftui.log*"))
    assert "/webhook/\\x1b[2J\\n2026-12-05 06:52:23,599 WARNING cftui.forged: FAKE" in log
    assert not any(line.startswith("2026-12-05 06:52:23,599") for line in log.splitlines())


def test_bad_signature_flood_from_the_tunnel_address(listener):
    """Forged deliveries from 127.0.0.1, BTCPay's own address behind an SSH tunnel, 10 at a time."""
    body = b'{"deliveryId":"x"}'

    async def attack() -> list:
        return await for_a_while(lambda: gather_limited(
            [raw_request(listener.port, post_bytes("/webhook/main", body, BAD_SIG)) for _ in range(20)], limit=10))

    with Prober(listener.port) as prober:
        statuses = [status_of(a) for a in asyncio.run(attack())]
    assert len(statuses) >= 200 and statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    health = check_after(listener, prober)
    assert health["counts"]["rejected_by_verdict"]["rate_limited"] == len(statuses) - 20
