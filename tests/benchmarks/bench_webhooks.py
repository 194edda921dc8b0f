"""Webhook receiver benchmark: 32 concurrent senders for 10 s against `cftui listen`.

Measured in the same run, with the same client and the same signed bodies:

* baseline: a bare aiohttp server (a separate process) whose handler reads
  the body and answers 200, doing no other work;
* `cftui listen` (a real subprocess): each delivery is signature-checked,
  parsed, committed to SQLite (group commit) before its 200, and its invoice
  is then fetched in the background (here the API is down, so it is queued).

Figures: deliveries/s answered 200 (and, for cftui, verified and persisted),
p50/p99 latency, deliveries lost (200 but not in the store: must be 0).
Target: at least half the baseline's throughput, p99 under 50 ms.

On a small shared machine a burst of other work during one 10-second run
moves its figure by 10-20%, so the two are measured in alternating rounds
(bare, listen, bare, listen, ...); every round is printed, and the targets
are judged on the median round.

A second test does the same with two `cftui listen` processes on one
PostgreSQL database (16 senders each), the team setup: every delivery goes
through the same unique claim index and the same id lock, so the two
receivers' commits take turns on the server.

Run: ``pytest tests/benchmarks/bench_webhooks.py -s`` (BENCH_WEBHOOK_SECONDS to change 10 s,
BENCH_WEBHOOK_ROUNDS to change 3 rounds).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiohttp

from cftui.webhooks import signing
from cftui.webhooks.sample import sample_delivery

SENDERS = 32
SECONDS = float(os.environ.get("BENCH_WEBHOOK_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "3"))
STORE_ID = "9CiNzKoANXxmk5ayZngSXrHTiVvvgCrwrpFQd4m2K776"
SECRET = "3U9yDVf8QyxPZm3mqa8rQz"
INVOICES = 64  # deliveries cycle over these, as a busy store's events do

BARE_SERVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web

    async def handle(request):
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook/main", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None,
                print=lambda *a: print("ready", flush=True))
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on port {port}")


def make_bodies(count: int) -> list[tuple[bytes, str]]:
    bodies = []
    for i in range(count):
        body = sample_delivery("InvoiceSettled", store_id=STORE_ID, webhook_id="WHbench", timestamp=1_760_000_000 + i,
                               invoice_id=f"INV{i % INVOICES:04d}")
        bodies.append((body, signing.sign(SECRET, body)))
    return bodies


async def load(
    url: str, bodies: list[tuple[bytes, str]], seconds: float, *, reuse: bool = False, senders: int = SENDERS
) -> dict:
    """SENDERS coroutines on keep-alive connections, each sending the next body until time is up.

    Each body is sent once, unless ``reuse`` (the bare handler does not care about duplicates,
    and may go faster than there are bodies).
    """
    latencies: list[float] = []
    accepted: list[bytes] = []
    failures = 0
    cursor = itertools.cycle(range(len(bodies))) if reuse else iter(range(len(bodies)))
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        stop_at = time.perf_counter() + seconds

        async def sender() -> None:
            nonlocal failures
            while time.perf_counter() < stop_at:
                body, sig = bodies[next(cursor)]
                started = time.perf_counter()
                async with session.post(url, data=body, headers={"BTCPay-Sig": sig,
                                                                 "Content-Type": "application/json"}) as response:
                    await response.read()
                    status = response.status
                latencies.append(time.perf_counter() - started)
                if status == 200:
                    accepted.append(body)
                else:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "ok": len(accepted),
        "failures": failures,
        "per_s": len(accepted) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "accepted": accepted,
    }


def run_bare(bodies) -> dict:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_ready(port)
        return asyncio.run(load(f"http://127.0.0.1:{port}/webhook/main", bodies, SECONDS, reuse=True))
    finally:
        proc.terminate()
        proc.wait(10)


class Listen:
    """`cftui listen` in a process of its own, on the store ``store_args`` point at."""

    def __init__(self, tmp: Path, name: str, store_args: list[str]) -> None:
        self.port = free_port()
        self.out = tmp / f"{name}.out"
        config = tmp / f"{name}.toml"
        config.write_text(
            f'[[btcpay]]\nname = "main"\nurl = "http://127.0.0.1:9"\nstore_id = "{STORE_ID}"\napi_key = "k"\n'
            f'webhook_secret = "{SECRET}"\n\n[sync]\nretry_budget = 1\n\n[webhooks]\nport = {self.port}\n'
        )
        env = {**os.environ, "CFTUI_LOG_DIR": str(tmp / "logs")}
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cftui", "--config", str(config), *store_args, "listen"],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        wait_ready(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook/main"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) == 0, self.out.read_text()[-2000:]


def checked(result: dict, stored: dict[bytes, str]) -> dict:
    """``result`` with how many deliveries are verified rows, and how many answered 200 are not (lost)."""
    result["verified"] = sum(1 for v in stored.values() if v == "verified")
    result["lost"] = sum(1 for body in result["accepted"] if stored.get(body) != "verified")
    return result


def run_listen(bodies, tmp: Path) -> dict:
    db = tmp / "store.sqlite3"
    listen = Listen(tmp, "listen", ["--db", str(db)])
    try:
        result = asyncio.run(load(listen.url, bodies, SECONDS))
    finally:
        listen.stop()
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT body, verdict FROM webhook_delivery").fetchall())
    return checked(result, stored)


def run_two_listens(bodies, tmp: Path, url: str) -> dict:
    """Two receivers on one PostgreSQL store, half the senders and half the bodies each, at the same time."""
    import psycopg

    from cftui.store.db import open_database

    open_database(url).close()  # the schema exists before both receivers start
    listens = [Listen(tmp, f"listen{n}", ["--db-url", url]) for n in range(2)]
    halves = [bodies[0::2], bodies[1::2]]

    async def both() -> list[dict]:
        return await asyncio.gather(*(load(listen.url, half, SECONDS, senders=SENDERS // 2)
                                      for listen, half in zip(listens, halves, strict=True)))  # fmt: skip

    try:
        parts = asyncio.run(both())
    finally:
        for listen in listens:
            listen.stop()
    latencies_p50 = statistics.mean(p["p50_ms"] for p in parts)
    result = {
        "ok": sum(p["ok"] for p in parts), "failures": sum(p["failures"] for p in parts),
        "per_s": sum(p["per_s"] for p in parts), "p50_ms": latencies_p50, "p99_ms": max(p["p99_ms"] for p in parts),
        "accepted": [body for p in parts for body in p["accepted"]], "each": [p["per_s"] for p in parts],
    }  # fmt: skip
    with psycopg.connect(url) as conn:
        stored = {bytes(b): v for b, v in conn.execute("SELECT body, verdict FROM webhook_delivery").fetchall()}
    return checked(result, stored)


def alternating_rounds(tmp_path: Path, bodies, label: str, run_cftui) -> tuple[float, dict, dict]:
    """ROUNDS rounds of (bare handler, ``run_cftui(bodies, workdir, number)``); every round printed and checked
    (every 200 is a verified row on disk: correctness is not load-dependent); the median round by ratio."""
    rounds = []
    for number in range(1, ROUNDS + 1):
        bare = run_bare(bodies)
        workdir = tmp_path / f"round{number}"
        workdir.mkdir()
        result = run_cftui(bodies, workdir, number)
        ratio = result["per_s"] / bare["per_s"]
        rounds.append((ratio, bare, result))
        split = f" ({' + '.join(f'{x:.0f}' for x in result['each'])})" if "each" in result else ""
        print(f"  round {number}: bare aiohttp (200, no work) {bare['per_s']:6.0f}/s "
              f"p50 {bare['p50_ms']:4.1f} ms p99 {bare['p99_ms']:4.1f} ms | "
              f"{label} {result['per_s']:6.0f}/s{split} "
              f"p50 {result['p50_ms']:4.1f} ms p99 {result['p99_ms']:4.1f} ms | ratio {ratio:.2f}")
        print(f"           {result['verified']} verified rows; lost {result['lost']}; "
              f"non-200 answers {result['failures']}")
        assert result["lost"] == 0 and result["failures"] == 0
        assert result["verified"] == result["ok"] > 0
    return sorted(rounds, key=lambda r: r[0])[len(rounds) // 2]


def test_webhook_receiver_throughput(tmp_path):
    bodies = make_bodies(int(SECONDS * 12_000))
    print()
    print(f"webhooks: {SENDERS} senders × {SECONDS:g} s, same signed bodies, same client, {ROUNDS} alternating rounds")
    ratio, bare, listen = alternating_rounds(
        tmp_path, bodies, "cftui listen (verified+persisted)", lambda b, workdir, n: run_listen(b, workdir)
    )
    print(f"  median round: ratio {ratio:.2f} of the bare handler, p99 {listen['p99_ms']:.1f} ms")
    print(f"  targets: throughput >= 0.5 of bare: {'met' if ratio >= 0.5 else 'MISSED'}; "
          f"p99 < 50 ms: {'met' if listen['p99_ms'] < 50 else 'MISSED'}"
          f" (both depend on the CPU left over on this machine; the figures above are the record)")


def test_two_receivers_on_one_postgresql_store(tmp_path, bench_pg):
    bodies = make_bodies(int(SECONDS * 12_000))
    print()
    print(f"webhooks on PostgreSQL ({bench_pg.described}): two `cftui listen` on one database, "
          f"{SENDERS // 2} senders each × {SECONDS:g} s, against the bare handler with {SENDERS}; {ROUNDS} rounds")
    ratio, bare, two = alternating_rounds(
        tmp_path, bodies, "two receivers, one PostgreSQL (verified+persisted)",
        lambda b, workdir, n: run_two_listens(b, workdir, bench_pg.schema(f"bench_webhooks_{n}")),
    )  # fmt: skip
    print(f"  median round: {two['per_s']:.0f}/s, ratio {ratio:.2f} of the bare handler, p99 {two['p99_ms']:.1f} ms")
